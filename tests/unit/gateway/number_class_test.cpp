// Toll classes of called numbers (route/number_class.hpp) and the router's
// refusal of international and premium numbers to callers without the
// permission, whatever the dial plan allows.
#include "route/number_class.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::route {
namespace {

std::optional<e164::E164> e(const char* plus) { return *e164::E164::parse(plus); }

TEST(NumberClass, ClassifiesByCountryCodeAndPrefixLists) {
  const auto us = *e164::builtin_plan("US");
  const TollPrefixes toll = default_toll_prefixes("US");
  EXPECT_EQ(classify(e("+12025550150"), us, toll), NumberClass::national);
  EXPECT_EQ(classify(e("+442071234567"), us, toll), NumberClass::international);
  EXPECT_EQ(classify(e("+18765550100"), us, toll), NumberClass::international) << "Jamaica is +1 but abroad";
  EXPECT_EQ(classify(e("+19005550100"), us, toll), NumberClass::premium);
  EXPECT_EQ(classify(std::nullopt, us, toll), NumberClass::national) << "extensions and short codes";

  const auto uk = *e164::builtin_plan("UK");
  const TollPrefixes uk_toll = default_toll_prefixes("UK");
  EXPECT_EQ(classify(e("+449098790000"), uk, uk_toll), NumberClass::premium);
  EXPECT_EQ(classify(e("+442071234567"), uk, uk_toll), NumberClass::national);
  EXPECT_EQ(classify(e("+12025550150"), uk, uk_toll), NumberClass::international);
  // A premium number abroad counts as premium (the stricter class).
  EXPECT_EQ(classify(e("+19005550100"), uk, {.international = {}, .premium = {"+1900"}}), NumberClass::premium);
}

TEST(NumberClass, PermissionsGrantClassesOneByOne) {
  Permissions p;
  EXPECT_TRUE(permits(p, NumberClass::national));
  EXPECT_FALSE(permits(p, NumberClass::international));
  EXPECT_TRUE(add_permission(p, "international"));
  EXPECT_TRUE(permits(p, NumberClass::international));
  EXPECT_FALSE(permits(p, NumberClass::premium)) << "international does not include premium";
  EXPECT_TRUE(add_permission(p, "premium"));
  EXPECT_TRUE(permits(p, NumberClass::premium));
  EXPECT_FALSE(add_permission(p, "national"));
  EXPECT_FALSE(add_permission(p, "everything"));
}

TEST(NumberClass, EveryBuiltInCountryHasPremiumPrefixes) {
  for (const char* region : {"US", "UK", "DE", "FR", "JP"}) {
    const TollPrefixes t = default_toll_prefixes(region);
    EXPECT_FALSE(t.premium.empty()) << region;
    for (const auto& p : t.premium) EXPECT_TRUE(p.starts_with("+" + e164::builtin_plan(region)->country_code)) << p;
  }
  EXPECT_TRUE(default_toll_prefixes("XX").premium.empty());
}

}  // namespace
}  // namespace sipline::gateway::route
