#include "route/cidr.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace sipline::gateway::route {
namespace {

int parse_ip(std::string_view text, unsigned char out[16]) {
  if (text.size() > 64) return 0;
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) return AF_INET;
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) return AF_INET6;
  return 0;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(bytes)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  const auto slash = text.find('/');
  c.family_ = parse_ip(text.substr(0, slash), c.net_);
  if (c.family_ == 0) return std::nullopt;
  const int max = c.family_ == AF_INET ? 32 : 128;
  c.prefix_ = max;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    c.prefix_ = std::stoi(std::string(bits));
    if (c.prefix_ > max) return std::nullopt;
  }
  return c;
}

bool Cidr::contains(std::string_view address) const {
  unsigned char addr[16] = {};
  const int family = parse_ip(address, addr);
  return family != 0 && family == family_ && prefix_equal(addr, net_, prefix_);
}

}  // namespace sipline::gateway::route
