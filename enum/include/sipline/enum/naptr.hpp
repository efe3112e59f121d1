#pragma once
// NAPTR resource records (RFC 3403 §4.1) from DNS wire format.
//
// RDATA: ORDER u16, PREFERENCE u16, FLAGS, SERVICES, REGEXP as
// <character-string>s (RFC 1035 §3.3: a length octet then that many octets),
// REPLACEMENT as a <domain-name>. RFC 3403 §4.1 and RFC 3597 §4 say the
// replacement is not compressed; a compression pointer is still followed when
// the caller passes the whole DNS message (pointers are offsets in it), and
// refused otherwise. Every read is bounds-checked, pointer chains are capped,
// names are capped at 255 octets (RFC 1035 §3.1); nothing reads outside the
// spans given. Bytes after the replacement are an error.
//
// The replacement is returned in presentation form without the final dot
// ("sip.example.com"); the root "." (no replacement) is the empty string.
// Octets other than letters, digits, '-' and '_' in a label are escaped as
// "\DDD", a literal '.' or '\' as "\." or "\\" (RFC 1035 §5.1).
//
// Pure functions: any thread.
#include <cstdint>
#include <span>
#include <string>

#include "sipline/base/result.hpp"
#include "sipline/enum/error.hpp"

namespace sipline::e164 {

struct Naptr {
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  std::string flags;        // e.g. "u"; raw octets
  std::string services;     // e.g. "E2U+sip"; raw octets
  std::string regexp;       // e.g. "!^.*$!sip:info@example.com!"; raw octets
  std::string replacement;  // "" for the root "."
  friend bool operator==(const Naptr&, const Naptr&) = default;
};

// Errors: truncated (a field runs past the RDATA), bad_name (reserved label
// type, name over 255 octets, pointer without a message, out of range, or
// looping), trailing_data.
base::Result<Naptr> parse_naptr_rdata(std::span<const std::uint8_t> rdata,
                                      std::span<const std::uint8_t> message = {});

}  // namespace sipline::e164
