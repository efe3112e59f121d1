#pragma once
// Internal to the enum library: reading DNS wire format (RFC 1035 §3.1, §4.1.4).
// Every read is bounds-checked; names are capped at 255 octets and pointer
// chains at kMaxPointers. Pure functions: any thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sipline/base/result.hpp"
#include "sipline/enum/error.hpp"

namespace sipline::e164::wire {

inline constexpr std::size_t kMaxNameLength = 255;  // RFC 1035 §3.1, wire octets
inline constexpr int kMaxPointers = 32;

// Reads the domain name at `pos` of `data` into `out` in presentation form,
// without the final dot (the root is ""); octets other than letters, digits,
// '-' and '_' are escaped as "\DDD", '.' and '\' as "\." and "\\".
// Compression pointers are offsets into `message`; when `message` is empty a
// pointer is an error. `what` names the field in error messages ("NAPTR
// replacement"). Returns the octets consumed in `data` (up to and including
// the first pointer, if any). Errors: truncated, bad_name.
base::Result<std::size_t> read_name(std::span<const std::uint8_t> data, std::size_t pos,
                                    std::span<const std::uint8_t> message, std::string& out,
                                    const char* what);

// Case-insensitive (ASCII) comparison of two names in presentation form,
// ignoring one trailing dot on either.
bool same_name(std::string_view a, std::string_view b);

}  // namespace sipline::e164::wire
