#include "route/cidr.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::route {
namespace {

TEST(Cidr, ContainsAddressesInsideItsPrefixOfItsFamilyOnly) {
  auto lan = Cidr::parse("192.168.4.0/22");
  ASSERT_TRUE(lan);
  EXPECT_TRUE(lan->contains("192.168.4.1"));
  EXPECT_TRUE(lan->contains("192.168.7.255"));
  EXPECT_FALSE(lan->contains("192.168.8.0"));
  EXPECT_FALSE(lan->contains("::ffff:192.168.4.1"));  // another family
  EXPECT_FALSE(lan->contains("192.168.4.1:5060"));     // not a bare literal
  EXPECT_FALSE(lan->contains(""));
  auto one = Cidr::parse("::1");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains("::1"));
  EXPECT_FALSE(one->contains("::2"));
  auto all = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("203.0.113.9"));
  auto odd = Cidr::parse("10.0.0.0/9");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains("10.127.255.255"));
  EXPECT_FALSE(odd->contains("10.128.0.0"));
}

TEST(Cidr, RefusesWhatIsNotAnAddressOrPrefix) {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0.0/0008",
                          "10.0.0", "[::1]", "host.example", "10.0.0.0/8/8"})
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
}

}  // namespace
}  // namespace sipline::gateway::route
