#include "sipline/enum/dns_message.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "dns_wire.hpp"

namespace sipline::e164 {

namespace {

constexpr std::size_t kHeaderLength = 12;
constexpr std::size_t kRrFixedLength = 10;  // TYPE, CLASS, TTL, RDLENGTH
constexpr std::uint16_t kFlagQr = 0x8000;
constexpr std::uint16_t kFlagTc = 0x0200;
constexpr std::uint16_t kRcodeMask = 0x000F;

// One resource record as found in a section; the RDATA stays in the message.
struct Record {
  std::string owner;
  std::uint16_t type = 0;
  std::uint16_t rclass = 0;
  std::uint32_t ttl = 0;  // top bit already cleared to 0 (RFC 2181 §8)
  std::size_t rdata_offset = 0;
  std::size_t rdata_length = 0;
};

std::uint16_t get_u16(std::span<const std::uint8_t> m, std::size_t pos) {
  return static_cast<std::uint16_t>((m[pos] << 8) | m[pos + 1]);
}

std::uint32_t get_u32(std::span<const std::uint8_t> m, std::size_t pos) {
  return (static_cast<std::uint32_t>(m[pos]) << 24) | (static_cast<std::uint32_t>(m[pos + 1]) << 16) |
         (static_cast<std::uint32_t>(m[pos + 2]) << 8) | static_cast<std::uint32_t>(m[pos + 3]);
}

// RFC 2181 §8: a TTL with the most significant bit set is taken as zero.
std::uint32_t clamp_ttl(std::uint32_t raw) { return (raw & 0x80000000U) != 0 ? 0 : raw; }

base::Error bad_message(const std::string& what) { return base::Error(EnumError::bad_message, what); }

// Reads `count` records of one section starting at `pos`; keeps the first
// kMaxAnswerRecords in `out` (when given), walks over the rest. Returns the
// position after the section.
base::Result<std::size_t> read_section(std::span<const std::uint8_t> message, std::size_t pos, std::size_t count,
                                       const char* section, std::vector<Record>* out) {
  for (std::size_t i = 0; i < count; ++i) {
    Record rr;
    auto used = wire::read_name(message, pos, message, rr.owner, section);
    if (!used) {
      return base::fail(bad_message(std::string(section) + " record " + std::to_string(i) + ": " +
                                    used.error().message()));
    }
    pos = *used;
    if (message.size() - pos < kRrFixedLength) {
      return base::fail(bad_message(std::string(section) + " record " + std::to_string(i) +
                                    " ends inside TYPE/CLASS/TTL/RDLENGTH"));
    }
    rr.type = get_u16(message, pos);
    rr.rclass = get_u16(message, pos + 2);
    rr.ttl = clamp_ttl(get_u32(message, pos + 4));
    rr.rdata_length = get_u16(message, pos + 8);
    pos += kRrFixedLength;
    if (message.size() - pos < rr.rdata_length) {
      return base::fail(bad_message(std::string(section) + " record " + std::to_string(i) + " RDLENGTH " +
                                    std::to_string(rr.rdata_length) + " runs past the message (" +
                                    std::to_string(message.size() - pos) + " octets left)"));
    }
    rr.rdata_offset = pos;
    pos += rr.rdata_length;
    if (out != nullptr && i < kMaxAnswerRecords) out->push_back(std::move(rr));
  }
  return pos;
}

std::span<const std::uint8_t> rdata_of(std::span<const std::uint8_t> message, const Record& rr) {
  return message.subspan(rr.rdata_offset, rr.rdata_length);
}

// Follows the CNAME chain from `name` through `answers` (RFC 1034 §3.6.2).
// Updates `name` to the end of the chain and `ttl` to the smallest TTL of the
// CNAMEs followed.
base::Result<void> follow_cnames(std::span<const std::uint8_t> message, const std::vector<Record>& answers,
                                 std::string& name, std::uint32_t& ttl) {
  std::vector<std::string> visited{name};
  while (true) {
    const auto it = std::find_if(answers.begin(), answers.end(), [&](const Record& rr) {
      return rr.type == kTypeCname && rr.rclass == kClassIn && wire::same_name(rr.owner, name);
    });
    if (it == answers.end()) return {};
    if (visited.size() > kMaxCnameChain) {
      return base::fail(EnumError::cname_loop,
                        "CNAME chain from " + visited.front() + " is longer than " + std::to_string(kMaxCnameChain));
    }
    const auto rdata = rdata_of(message, *it);
    std::string target;
    auto used = wire::read_name(rdata, 0, message, target, "CNAME target");
    if (!used) return base::fail(bad_message("CNAME of " + it->owner + ": " + used.error().message()));
    if (*used != rdata.size()) return base::fail(bad_message("CNAME of " + it->owner + " has octets after the name"));
    for (const auto& seen : visited) {
      if (wire::same_name(seen, target)) {
        return base::fail(EnumError::cname_loop, "CNAME chain from " + visited.front() + " loops at " + target);
      }
    }
    ttl = std::min(ttl, it->ttl);
    visited.push_back(target);
    name = std::move(target);
  }
}

// RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM) of the first
// well-formed SOA of class IN in the authority section.
std::optional<std::uint32_t> negative_ttl(std::span<const std::uint8_t> message,
                                          const std::vector<Record>& authority) {
  for (const auto& rr : authority) {
    if (rr.type != kTypeSoa || rr.rclass != kClassIn) continue;
    const auto rdata = rdata_of(message, rr);
    std::string mname;
    std::string rname;
    auto m = wire::read_name(rdata, 0, message, mname, "SOA MNAME");
    if (!m) continue;
    auto r = wire::read_name(rdata, *m, message, rname, "SOA RNAME");
    if (!r) continue;
    // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM: five 32-bit fields.
    if (rdata.size() - *r != 20) continue;
    const std::uint32_t minimum = clamp_ttl(get_u32(rdata, *r + 16));
    return std::min(rr.ttl, minimum);
  }
  return std::nullopt;
}

}  // namespace

base::Result<NaptrResponse> parse_naptr_response(std::span<const std::uint8_t> message, std::string_view qname) {
  if (message.size() < kHeaderLength) {
    return base::fail(bad_message("DNS header is truncated (" + std::to_string(message.size()) + " octets)"));
  }
  const std::uint16_t flags = get_u16(message, 2);
  const std::uint16_t qdcount = get_u16(message, 4);
  const std::uint16_t ancount = get_u16(message, 6);
  const std::uint16_t nscount = get_u16(message, 8);
  if ((flags & kFlagQr) == 0) return base::fail(bad_message("DNS message is a query, not a response (QR not set)"));
  if (qdcount != 1) return base::fail(bad_message("DNS response has QDCOUNT " + std::to_string(qdcount) + ", not 1"));

  NaptrResponse out;
  out.rcode = static_cast<std::uint8_t>(flags & kRcodeMask);
  out.truncated = (flags & kFlagTc) != 0;

  // Question section (RFC 1035 §4.1.2).
  std::string question;
  auto used = wire::read_name(message, kHeaderLength, message, question, "question");
  if (!used) return base::fail(bad_message("QNAME: " + used.error().message()));
  std::size_t pos = *used;
  if (message.size() - pos < 4) return base::fail(bad_message("question ends inside QTYPE/QCLASS"));
  const std::uint16_t qtype = get_u16(message, pos);
  const std::uint16_t qclass = get_u16(message, pos + 2);
  pos += 4;
  if (!wire::same_name(question, qname)) {
    return base::fail(EnumError::question_mismatch,
                      "response is for " + question + ", not " + std::string(qname));
  }
  if (qtype != kTypeNaptr || qclass != kClassIn) {
    return base::fail(EnumError::question_mismatch, "response is for QTYPE " + std::to_string(qtype) + " QCLASS " +
                                                        std::to_string(qclass) + ", not NAPTR IN");
  }

  std::vector<Record> answers;
  std::vector<Record> authority;
  answers.reserve(std::min<std::size_t>(ancount, kMaxAnswerRecords));
  auto after_answers = read_section(message, pos, ancount, "answer", &answers);
  if (!after_answers) return tl::unexpected(after_answers.error());
  auto after_authority = read_section(message, *after_answers, nscount, "authority", &authority);
  if (!after_authority) return tl::unexpected(after_authority.error());
  // The additional section is not needed and not read.

  std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
  out.canonical_name = std::string(qname);
  if (!out.canonical_name.empty() && out.canonical_name.back() == '.') out.canonical_name.pop_back();
  auto chain = follow_cnames(message, answers, out.canonical_name, ttl);
  if (!chain) return tl::unexpected(chain.error());

  bool any_naptr = false;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const Record& rr = answers[i];
    if (rr.type != kTypeNaptr || rr.rclass != kClassIn || !wire::same_name(rr.owner, out.canonical_name)) continue;
    any_naptr = true;
    auto naptr = parse_naptr_rdata(rdata_of(message, rr), message);
    if (!naptr) {
      out.errors.push_back({.index = i, .error = naptr.error()});
      continue;
    }
    ttl = std::min(ttl, rr.ttl);
    out.records.push_back(std::move(*naptr));
  }
  out.ttl = out.records.empty() ? 0 : ttl;

  const bool nxdomain = out.rcode == static_cast<std::uint8_t>(Rcode::nxdomain);
  const bool nodata = out.rcode == static_cast<std::uint8_t>(Rcode::noerror) && !any_naptr;
  if (nxdomain || nodata) out.negative_ttl = negative_ttl(message, authority);
  return out;
}

}  // namespace sipline::e164
