#pragma once
namespace sipline::gateway {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace sipline::gateway
