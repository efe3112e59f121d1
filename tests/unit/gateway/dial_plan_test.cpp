#include "route/dial_plan.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::route {
namespace {

DialPlan plan(std::vector<DialRule> rules) {
  auto p = DialPlan::create(std::move(rules));
  EXPECT_TRUE(p) << p.error().message();
  return p ? *p : DialPlan{};
}

MatchKind kind(const DialPlan& p, std::string_view digits) { return p.match(digits).kind; }

TEST(DialPlan, XMatchesAnyDigitZOneToNineNTwoToNine) {
  auto x = plan({{"X", "sip:x@h"}});
  for (char d = '0'; d <= '9'; ++d) EXPECT_EQ(kind(x, std::string(1, d)), MatchKind::complete) << d;
  EXPECT_EQ(kind(x, "*"), MatchKind::none);

  auto z = plan({{"Z", "sip:z@h"}});
  EXPECT_EQ(kind(z, "0"), MatchKind::none);
  EXPECT_EQ(kind(z, "1"), MatchKind::complete);
  EXPECT_EQ(kind(z, "9"), MatchKind::complete);

  auto n = plan({{"N", "sip:n@h"}});
  EXPECT_EQ(kind(n, "0"), MatchKind::none);
  EXPECT_EQ(kind(n, "1"), MatchKind::none);
  EXPECT_EQ(kind(n, "2"), MatchKind::complete);
  EXPECT_EQ(kind(n, "9"), MatchKind::complete);
}

TEST(DialPlan, SetsAndRangesMatchTheirMembersOnly) {
  auto p = plan({{"[135-7]X", "sip:$digits@h"}});
  EXPECT_EQ(kind(p, "10"), MatchKind::complete);
  EXPECT_EQ(kind(p, "30"), MatchKind::complete);
  EXPECT_EQ(kind(p, "50"), MatchKind::complete);
  EXPECT_EQ(kind(p, "60"), MatchKind::complete);
  EXPECT_EQ(kind(p, "70"), MatchKind::complete);
  EXPECT_EQ(kind(p, "20"), MatchKind::none);
  EXPECT_EQ(kind(p, "40"), MatchKind::none);
  EXPECT_EQ(kind(p, "80"), MatchKind::none);
  EXPECT_EQ(kind(p, "7"), MatchKind::partial);
}

TEST(DialPlan, DotNeedsAtLeastOneMoreCharacter) {
  auto p = plan({{"9.", "sip:$digits@h"}});
  EXPECT_EQ(kind(p, "9"), MatchKind::partial);
  EXPECT_EQ(kind(p, "91"), MatchKind::ambiguous);
  EXPECT_EQ(kind(p, "9123456"), MatchKind::ambiguous);
  EXPECT_EQ(kind(p, "8"), MatchKind::none);
}

TEST(DialPlan, BangMatchesZeroOrMoreCharacters) {
  auto p = plan({{"9!", "sip:$digits@h"}});
  EXPECT_EQ(kind(p, "9"), MatchKind::ambiguous);
  EXPECT_EQ(kind(p, "912"), MatchKind::ambiguous);
  EXPECT_EQ(kind(p, "1"), MatchKind::none);
}

TEST(DialPlan, StarHashAndPlusAreLiterals) {
  auto p = plan({{"*72X", "sip:fwd@h"}, {"#", "sip:hash@h"}, {"+X.", "sip:$digits@h"}});
  EXPECT_EQ(kind(p, "*"), MatchKind::partial);
  EXPECT_EQ(kind(p, "*72"), MatchKind::partial);
  auto m = p.match("*725");
  EXPECT_EQ(m.kind, MatchKind::complete);
  EXPECT_EQ(m.rule, 0u);
  EXPECT_EQ(kind(p, "172"), MatchKind::none);
  EXPECT_EQ(p.match("#").target, "sip:hash@h");
  EXPECT_EQ(p.match("#").kind, MatchKind::complete);
  EXPECT_EQ(p.match("+4930").target, "sip:+4930@h");
  EXPECT_EQ(kind(p, "4"), MatchKind::none);  // '+' is not optional
}

TEST(DialPlan, LeadingUnderscoreIsIgnoredAndLowercaseLettersWork) {
  auto p = plan({{"_2xx", "sip:$digits@h"}});
  EXPECT_EQ(kind(p, "201"), MatchKind::complete);
  EXPECT_EQ(kind(p, "_201"), MatchKind::none);
}

TEST(DialPlan, TellsPartialAmbiguousAndComplete) {
  auto p = plan({{"2XX", "sip:$digits@local"}, {"2XXX.", "sip:$digits@far"}});
  EXPECT_EQ(kind(p, ""), MatchKind::partial);
  EXPECT_EQ(kind(p, "2"), MatchKind::partial);
  EXPECT_EQ(kind(p, "20"), MatchKind::partial);
  auto m = p.match("201");
  EXPECT_EQ(m.kind, MatchKind::ambiguous);  // 2XXX. could still match a longer string
  EXPECT_EQ(m.target, "sip:201@local");
  EXPECT_EQ(kind(p, "2012"), MatchKind::partial);
  auto longer = p.match("20123");
  EXPECT_EQ(longer.kind, MatchKind::ambiguous);
  EXPECT_EQ(longer.rule, 1u);
  EXPECT_EQ(longer.target, "sip:20123@far");
  EXPECT_EQ(kind(p, "3"), MatchKind::none);
  EXPECT_EQ(kind(p, "2a"), MatchKind::none);

  auto fixed = plan({{"2XX", "sip:$digits@local"}});
  EXPECT_EQ(kind(fixed, "201"), MatchKind::complete);
  EXPECT_EQ(kind(fixed, "2011"), MatchKind::none);
}

TEST(DialPlan, FirstMatchingRuleWins) {
  auto p = plan({{"911", "sip:emergency@pstn"}, {"9XX", "sip:$digits@other"}});
  auto m = p.match("911");
  EXPECT_EQ(m.kind, MatchKind::complete);
  EXPECT_EQ(m.rule, 0u);
  EXPECT_EQ(m.target, "sip:emergency@pstn");
  EXPECT_EQ(p.match("912").target, "sip:912@other");
  EXPECT_EQ(p.match("912").rule, 1u);

  auto reversed = plan({{"9XX", "sip:$digits@other"}, {"911", "sip:emergency@pstn"}});
  EXPECT_EQ(reversed.match("911").target, "sip:911@other");
}

TEST(DialPlan, SubstitutesEveryDigitsVariable) {
  auto p = plan({{"X.", "sips:$digits@gw;user=$digits"}});
  EXPECT_EQ(p.match("0123").target, "sips:0123@gw;user=0123");
  auto none = plan({{"0", "sip:operator@gw"}});
  EXPECT_EQ(none.match("0").target, "sip:operator@gw");
}

void expect_bad_pattern(const std::string& pattern, const std::string& why) {
  auto p = DialPlan::create({{pattern, "sip:$digits@h"}});
  ASSERT_FALSE(p) << pattern;
  EXPECT_TRUE(p.error().is(DialPlanError::bad_pattern)) << pattern;
  EXPECT_NE(p.error().message().find(why), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("\"" + pattern + "\""), std::string::npos) << p.error().message();
}

TEST(DialPlan, RejectsInvalidPatternsWithAReason) {
  expect_bad_pattern("", "empty pattern");
  expect_bad_pattern("_", "empty pattern");
  expect_bad_pattern("[5-", "no upper end");
  expect_bad_pattern("[5", "without a closing ']'");
  expect_bad_pattern("[]", "empty set");
  expect_bad_pattern("[9-1]", "reversed");
  expect_bad_pattern("2Y", "character 'Y'");
  expect_bad_pattern("[a]", "character 'a'");
}

TEST(DialPlan, RejectsTargetsThatAreNotSipUris) {
  auto http = DialPlan::create({{"2XX", "http://example.org/$digits"}});
  ASSERT_FALSE(http);
  EXPECT_TRUE(http.error().is(DialPlanError::bad_target));
  EXPECT_NE(http.error().message().find("sip:"), std::string::npos);

  auto var = DialPlan::create({{"2XX", "sip:$number@h"}});
  ASSERT_FALSE(var);
  EXPECT_TRUE(var.error().is(DialPlanError::bad_target));

  // One bad rule rejects the whole plan.
  auto mixed = DialPlan::create({{"2XX", "sip:$digits@h"}, {"[", "sip:$digits@h"}});
  EXPECT_FALSE(mixed);
}

TEST(DialPlan, EmptyPlanMatchesNothing) {
  DialPlan p;
  EXPECT_EQ(p.match("").kind, MatchKind::none);
  EXPECT_EQ(p.match("201").kind, MatchKind::none);
}

}  // namespace
}  // namespace sipline::gateway::route
