#pragma once
// DNS response messages (RFC 1035 §4.1) carrying NAPTR answers.
//
// parse_naptr_response() reads a whole response to a NAPTR query for `qname`
// and returns what ENUM needs of it:
//  - the RCODE and the TC bit;
//  - the NAPTR records owned by `qname`, or, when the answer section has a
//    CNAME chain starting at `qname` (RFC 1034 §3.6.2), by the end of that
//    chain (canonical_name); chains longer than kMaxCnameChain or looping are
//    an error (cname_loop);
//  - the TTL to cache a positive answer for: the smallest TTL of the NAPTRs
//    used and of the CNAMEs followed;
//  - for NXDOMAIN and NODATA (NOERROR with no NAPTR at the canonical name),
//    the negative TTL of RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of the SOA in
//    the authority section, or nullopt when there is none (then the caller
//    must not cache the answer, §5);
//  - NAPTR RRs whose RDATA does not parse are skipped and listed in `errors`
//    (with their index in the answer section); records of other types and
//    owners are ignored.
// TTLs with the top bit set are taken as 0 (RFC 2181 §8).
// Errors (the whole message unusable): bad_message (header or a section runs
// past the end, QR not set, QDCOUNT not 1), question_mismatch (QNAME, QTYPE or
// QCLASS differs; names compare case-insensitively), cname_loop.
// At most kMaxAnswerRecords records per section are looked at.
//
// Pure functions: any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/result.hpp"
#include "sipline/enum/error.hpp"
#include "sipline/enum/naptr.hpp"

namespace sipline::e164 {

inline constexpr std::uint16_t kTypeNaptr = 35;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::size_t kMaxCnameChain = 8;
inline constexpr std::size_t kMaxAnswerRecords = 256;

enum class Rcode : std::uint8_t { noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5 };

struct RecordError {
  std::size_t index = 0;  // position in the answer section
  base::Error error;
};

struct NaptrResponse {
  std::uint8_t rcode = 0;               // compare with Rcode values; others kept as received
  bool truncated = false;               // TC bit
  std::string canonical_name;           // qname, or the end of its CNAME chain
  std::vector<Naptr> records;           // in answer-section order
  std::uint32_t ttl = 0;                // positive answers: min TTL of the records and CNAMEs used
  std::optional<std::uint32_t> negative_ttl;  // NXDOMAIN/NODATA with an SOA: RFC 2308 §5
  std::vector<RecordError> errors;      // NAPTR RRs skipped
};

base::Result<NaptrResponse> parse_naptr_response(std::span<const std::uint8_t> message, std::string_view qname);

}  // namespace sipline::e164
