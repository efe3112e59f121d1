#pragma once
// Private to gateway/auth: the OpenSSL EVP calls and encodings that digest.cpp
// needs (hex digests, HMAC-SHA256, getrandom, constant-time compare).
// Thread: any (no shared state).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/digest.hpp"

namespace sipline::gateway::auth::detail {

// Lowercase hex of H(data), H = MD5 or SHA-256 (base_hash of the algorithm).
std::string hex_hash(DigestAlgorithm algorithm, std::string_view data);
// HMAC-SHA256(key, data), 32 bytes.
std::vector<std::uint8_t> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
// Fills `out` from getrandom(); false when the kernel gives no randomness.
bool random_bytes(std::span<std::uint8_t> out);
// Equality of two byte strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sipline::gateway::auth::detail
