#pragma once
// Checked reading of a control request's typed fields (ctl/commands.cpp).
// nlohmann's value<int>() turns a float such as 1e300 into an int with a
// plain cast, which is undefined behaviour; an integer beyond int's range
// wraps. A client's request must not do either.
// Thread: any; pure.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace sipline::gateway::ctl {

// request[key] as an int; `fallback` when the key is absent. Anything but an
// integer in int's range throws std::invalid_argument, which the control
// server answers as a bad request.
inline int int_param(const nlohmann::json& request, const std::string& key, int fallback) {
  const auto it = request.find(key);
  if (it == request.end()) return fallback;
  constexpr auto lo = std::numeric_limits<int>::min();
  constexpr auto hi = std::numeric_limits<int>::max();
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(hi)) return static_cast<int>(v);
  } else if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v >= lo && v <= hi) return static_cast<int>(v);
  }
  throw std::invalid_argument("'" + key + "' must be an integer from " + std::to_string(lo) + " to " +
                              std::to_string(hi));
}

}  // namespace sipline::gateway::ctl
