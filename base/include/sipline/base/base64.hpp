#pragma once
// Base64 (RFC 4648): the standard alphabet with '=' padding (§4; SDES keys in
// SDP a=crypto, RFC 4568) and the URL-safe alphabet without padding (§5;
// digest nonces). Decoding is strict: only the alphabet's characters, padding
// exactly where the alphabet requires it, and zero leftover bits (one
// canonical text per value), so two texts never decode to the same bytes.
// Thread: any; pure functions.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipline::base {

enum class Base64 { standard, url };  // standard: "+/" and '=' padding; url: "-_", no padding

std::string base64_encode(std::span<const std::uint8_t> data, Base64 alphabet);
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, Base64 alphabet);

}  // namespace sipline::base
