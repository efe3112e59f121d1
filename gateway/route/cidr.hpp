#pragma once
// Cidr: an IPv4 or IPv6 address range ("10.0.0.0/8", "2001:db8::/32", or a
// single address "::1"), for dial-plan `allow` lists and auth.trusted.
// Thread: any; immutable after parse().
#include <optional>
#include <string_view>

namespace sipline::gateway::route {

class Cidr {
 public:
  // nullopt when `text` is not an address or address/prefix of its family.
  static std::optional<Cidr> parse(std::string_view text);
  // Whether `address` (an IP literal, no port or brackets) is in the range.
  // Anything that is not an IP literal is not.
  bool contains(std::string_view address) const;

 private:
  int family_ = 0;               // AF_INET / AF_INET6
  unsigned char net_[16] = {};
  int prefix_ = 0;
};

}  // namespace sipline::gateway::route
