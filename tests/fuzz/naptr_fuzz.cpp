// libFuzzer target for NAPTR RDATA parsing (RFC 3403 §4.1) and ENUM rule
// application (RFC 3402, RFC 6116; enum/include/sipline/enum/naptr*.hpp).
// Input: a sequence of records, each a big-endian u16 length then that many
// octets of RDATA; the whole input serves as the DNS message for compression
// pointers. The input as text is also tried as a REGEXP field and as a tel:
// URI.
// Checks, besides memory safety and termination:
//  - a parsed replacement does not start with an empty label and fits
//    255 wire octets (at most 4 text octets per wire octet);
//  - targets and next lookups come from one ORDER, sorted by PREFERENCE;
//  - every target URI is non-empty, at most kMaxUriLength, has the scheme of
//    its service; no more results and skips than records.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/enum/e164.hpp"
#include "sipline/enum/naptr.hpp"
#include "sipline/enum/naptr_rules.hpp"
#include "sipline/enum/tel_uri.hpp"

namespace {

using namespace sipline::e164;

void check(const RuleResult& r, std::size_t records) {
  if (r.targets.size() + r.next.size() + r.skipped.size() > records) std::abort();
  bool have_order = false;
  std::uint16_t order = 0;
  std::uint16_t last_pref = 0;
  for (const auto& t : r.targets) {
    if (have_order && t.order != order) std::abort();
    if (have_order && t.preference < last_pref) std::abort();
    have_order = true;
    order = t.order;
    last_pref = t.preference;
    if (t.uri.empty() || t.uri.size() > kMaxUriLength) std::abort();
    const auto colon = t.uri.find(':');
    if (colon == std::string::npos) std::abort();
    std::string scheme = t.uri.substr(0, colon);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool tel = t.service == "E2U+tel" || t.service == "E2U+pstn:tel";
    if (tel ? scheme != "tel" : (scheme != "sip" && scheme != "sips")) std::abort();
  }
  for (const auto& n : r.next) {
    if (have_order && n.order != order) std::abort();
    if (n.domain.empty() || n.domain.back() == '.') std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> message(data, size);
  std::vector<Naptr> records;
  std::size_t pos = 0;
  while (pos + 2 <= size && records.size() < 100) {
    const std::size_t len = static_cast<std::size_t>((data[pos] << 8) | data[pos + 1]);
    pos += 2;
    const std::size_t n = len < size - pos ? len : size - pos;
    auto rec = parse_naptr_rdata(message.subspan(pos, n), message);
    if (rec) {
      if (rec->replacement.size() > 4 * 255) std::abort();
      // A literal '.' in a label is escaped, so no label starts the name empty.
      if (!rec->replacement.empty() && rec->replacement.front() == '.') std::abort();
      if (rec->flags.size() > 255 || rec->services.size() > 255 || rec->regexp.size() > 255) std::abort();
      records.push_back(std::move(*rec));
    } else if (rec.error().message().empty()) {
      std::abort();
    }
    pos += n;
  }
  static const E164 kJapan = *E164::parse("+81312345678");
  static const E164 kUk = *E164::parse("+442079460148");
  check(apply_naptr_rules(kJapan, records), records.size());
  check(apply_naptr_rules(kUk, records), records.size());

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 300) {
    auto rewritten = apply_regexp(kJapan.str(), text);
    if (rewritten && rewritten->size() > kMaxUriLength) std::abort();
  }
  if (auto tel = parse_tel_uri(text)) {
    if (tel->number.empty()) std::abort();
    if (!tel->global && tel->phone_context.empty()) std::abort();
    if (auto e = to_e164(*tel); e && (e->digits().empty() || e->digits().size() > kMaxDigits)) std::abort();
  }
  return 0;
}
