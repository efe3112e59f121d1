#pragma once
// Builds NAPTR RDATA by hand for the enum unit tests.
#include <cstdint>
#include <string_view>
#include <vector>

namespace sipline::e164::testing {

using Bytes = std::vector<std::uint8_t>;

inline void put_u16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}

inline void put_string(Bytes& b, std::string_view s) {
  b.push_back(static_cast<std::uint8_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

// "sip.example.com" -> 3sip7example3com0; "" -> root.
inline void put_name(Bytes& b, std::string_view name) {
  while (!name.empty()) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    put_string(b, label);
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  b.push_back(0);
}

inline Bytes naptr_rdata(std::uint16_t order, std::uint16_t pref, std::string_view flags, std::string_view services,
                         std::string_view regexp, std::string_view replacement) {
  Bytes b;
  put_u16(b, order);
  put_u16(b, pref);
  put_string(b, flags);
  put_string(b, services);
  put_string(b, regexp);
  put_name(b, replacement);
  return b;
}

}  // namespace sipline::e164::testing
