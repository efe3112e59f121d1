// libFuzzer target for DNS responses to an ENUM NAPTR query
// (enum/include/sipline/enum/dns_message.hpp) and the rules applied to what
// they carry (naptr_rules.hpp). Input: a whole DNS message, as c-ares would
// hand it over, answering the question kQname.
// Checks, besides memory safety and termination:
//  - a parsed response has at most kMaxAnswerRecords records and skips, no
//    negative TTL unless NXDOMAIN or NOERROR without records, TTLs below 2^31
//    (RFC 2181 §8), a canonical name within 255 wire octets
//    (4 text octets per wire octet at most);
//  - a response without records has TTL 0;
//  - every failure carries a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "sipline/enum/dns_message.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/naptr_rules.hpp"

namespace {

using namespace sipline::e164;

constexpr std::string_view kQname = "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = parse_naptr_response(std::span<const std::uint8_t>(data, size), kQname);
  if (!r) {
    if (r.error().message().empty()) std::abort();
    return 0;
  }
  if (r->records.size() + r->errors.size() > kMaxAnswerRecords) std::abort();
  if (r->ttl > 0x7FFFFFFFU) std::abort();
  if (r->records.empty() && r->ttl != 0) std::abort();
  if (r->negative_ttl) {
    if (*r->negative_ttl > 0x7FFFFFFFU) std::abort();
    const bool nxdomain = r->rcode == static_cast<std::uint8_t>(Rcode::nxdomain);
    const bool nodata = r->rcode == static_cast<std::uint8_t>(Rcode::noerror) && r->records.empty();
    if (!nxdomain && !nodata) std::abort();
  }
  if (r->canonical_name.size() > 4 * 255) std::abort();
  for (const auto& e : r->errors) {
    if (e.index >= kMaxAnswerRecords || e.error.message().empty()) std::abort();
  }
  static const E164 kNumber = *E164::parse("+442079460148");
  const RuleResult rules = apply_naptr_rules(kNumber, r->records);
  if (rules.targets.size() + rules.next.size() + rules.skipped.size() > r->records.size()) std::abort();
  return 0;
}
