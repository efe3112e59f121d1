#pragma once
// ENUM rule application (RFC 3402 §4, RFC 3403 §4.1, RFC 6116 §3).
//
// apply_naptr_rules() takes the E.164 number (its application unique string,
// the AUS, is "+<digits>", RFC 6116 §3.2) and the NAPTR records of one domain,
// and returns where the number lives:
//  - records are sorted by ORDER, then PREFERENCE (stable);
//  - SERVICES is matched case-insensitively: "E2U+sip", "E2U+tel",
//    "E2U+pstn:tel", "E2U+pstn:sip" (RFC 4769) and the legacy "sip+E2U";
//    in "E2U+a+b" the first known enumservice counts. Unknown services are
//    ignored (listed in `skipped` with unknown_service);
//  - FLAGS "u" (any case) is terminal: REGEXP rewrites the AUS into a URI,
//    which must have the scheme of the service (sip/sips for sip, tel for
//    tel); empty FLAGS is non-terminal: REPLACEMENT, or REGEXP's output, is a
//    domain to look up next (NextLookup); its SERVICES may be empty;
//  - a record with both REGEXP and REPLACEMENT, or neither, is invalid
//    (RFC 3403 §4.1) and skipped;
//  - REGEXP is "<delim> ERE <delim> replacement <delim> [i]" with any
//    delimiter other than a digit, 'i' or '\' (RFC 3402 §3.2); "\<delim>"
//    stands for the delimiter; the ERE is POSIX extended (regcomp REG_EXTENDED,
//    REG_ICASE with "i"); "\1".."\9" in the replacement are back references,
//    "\\" a backslash;
//  - once records of one ORDER give a result, records of higher ORDER are not
//    used (RFC 3403 §4.1).
// Limits: at most kMaxRecords records are looked at; a REGEXP longer than 255
// octets, with control characters, with back references in the ERE, or with
// a {} bound above kMaxRegexBound, with a repetition right after another
// ("a++") or of what can match the empty string ("(a*)+", "()+"), or with
// nested repetitions that glibc's regcomp would expand to more than
// kMaxRegexNodes nodes (it copies the operand per repeat) is refused
// (bad_regexp): glibc's matcher is exponential with the first ones, its
// compiler with the others. Rewrites longer than kMaxUriLength are refused.
//
// Without a RegexCache these are pure functions: any thread (regcomp state is
// local to each call). With one (regex_cache.hpp) each ERE is compiled once
// and kept; results and errors are the same; the cache's owner's thread only.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/result.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/error.hpp"
#include "sipline/enum/naptr.hpp"
#include "sipline/enum/regex_cache.hpp"

namespace sipline::e164 {

inline constexpr std::size_t kMaxRecords = 64;
inline constexpr std::size_t kMaxRegexpLength = 255;
inline constexpr std::size_t kMaxAusLength = 64;
inline constexpr std::size_t kMaxUriLength = 512;
inline constexpr int kMaxRegexBound = 32;
inline constexpr std::size_t kMaxRegexNodes = 4096;

// A terminal result: call `uri`.
struct Target {
  std::string uri;      // "sip:info@example.com"
  std::string service;  // canonical: "E2U+sip", "E2U+tel", "E2U+pstn:tel", "E2U+pstn:sip"
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  friend bool operator==(const Target&, const Target&) = default;
};

// A non-terminal result: look up NAPTRs of `domain` next (the resolver bounds
// how deep it follows these).
struct NextLookup {
  std::string domain;
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  friend bool operator==(const NextLookup&, const NextLookup&) = default;
};

struct SkippedRecord {
  std::size_t index = 0;  // position in the input span
  base::Error error;
};

struct RuleResult {
  std::vector<Target> targets;   // in ORDER, PREFERENCE order
  std::vector<NextLookup> next;  // in ORDER, PREFERENCE order
  std::vector<SkippedRecord> skipped;
};

RuleResult apply_naptr_rules(const E164& number, std::span<const Naptr> records);
RuleResult apply_naptr_rules(const E164& number, std::span<const Naptr> records, RegexCache& cache);

// The canonical ENUM service named by a SERVICES field, or nullopt when none
// we handle: "e2u+SIP" -> "E2U+sip", "sip+E2U" -> "E2U+sip".
std::optional<std::string> match_enum_service(std::string_view services);

// Applies one REGEXP field to a string. Errors: bad_regexp, no_match,
// bad_uri (rewrite too long).
base::Result<std::string> apply_regexp(std::string_view aus, std::string_view regexp);
base::Result<std::string> apply_regexp(std::string_view aus, std::string_view regexp, RegexCache& cache);

}  // namespace sipline::e164
