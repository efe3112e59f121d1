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


// --- steps, allow lists and callers -----------------------------------------

Caller line_caller(std::string port) { return Caller{.line = true, .port = std::move(port), .address = {}, .user = {}, .permissions = {}}; }
Caller sip_caller(std::string address) { return Caller{.line = false, .port = {}, .address = std::move(address), .user = {}, .permissions = {}}; }

DialRule rule_with_steps(std::vector<std::string> steps, std::vector<std::string> allow = {}) {
  return DialRule("X.", "", std::move(steps), std::move(allow));
}

void expect_bad_step(const std::string& step, DialPlanError code, const std::string& why) {
  auto p = DialPlan::create({rule_with_steps({step})});
  ASSERT_FALSE(p) << step;
  EXPECT_TRUE(p.error().is(code)) << step << ": " << p.error().message();
  EXPECT_NE(p.error().message().find(why), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("\"" + step + "\""), std::string::npos) << p.error().message();
}

TEST(DialPlanSteps, ParsesEveryValidForm) {
  auto p = plan({rule_with_steps({"enum", "trunk:carrier", "sip:$e164@h;user=phone", "sips:$digits@h",
                                  "reject", "reject 404", "reject 400", "reject 699"})});
  const auto& s = p.steps(0);
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[0].kind, StepKind::enum_lookup);
  EXPECT_EQ(s[1].kind, StepKind::trunk);
  EXPECT_EQ(s[1].arg, "carrier");
  EXPECT_EQ(s[2].kind, StepKind::sip);
  EXPECT_EQ(s[2].arg, "sip:$e164@h;user=phone");
  EXPECT_EQ(s[3].kind, StepKind::sip);
  EXPECT_EQ(s[3].arg, "sips:$digits@h");
  EXPECT_EQ(s[4].kind, StepKind::reject);
  EXPECT_EQ(s[4].status, 403);  // the default
  EXPECT_EQ(s[5].kind, StepKind::reject);
  EXPECT_EQ(s[5].status, 404);
  EXPECT_EQ(s[6].status, 400);
  EXPECT_EQ(s[7].status, 699);
}

TEST(DialPlanSteps, TargetComesFirstThenTheSteps) {
  auto p = plan({DialRule("2XX", "sip:$digits@local", {"enum", "reject 480"})});
  const auto& s = p.steps(0);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].kind, StepKind::sip);
  EXPECT_EQ(s[0].arg, "sip:$digits@local");
  EXPECT_EQ(s[1].kind, StepKind::enum_lookup);
  EXPECT_EQ(s[2].kind, StepKind::reject);
  EXPECT_EQ(s[2].status, 480);
  EXPECT_EQ(p.match("201").target, "sip:201@local");

  // A rule with steps only: match() names its first sip step, if any.
  auto steps_only = plan({DialRule("2XX", "", {"enum", "sip:$digits@second"})});
  EXPECT_EQ(steps_only.match("201").target, "sip:201@second");
  auto no_sip = plan({DialRule("2XX", "", {"enum"})});
  EXPECT_EQ(no_sip.match("201").kind, MatchKind::complete);
  EXPECT_EQ(no_sip.match("201").target, "");
}

TEST(DialPlanSteps, FxoStepNamesItsPort) {
  auto p = plan({rule_with_steps({"enum", "fxo:landline"})});
  ASSERT_EQ(p.steps(0).size(), 2u);
  EXPECT_EQ(p.steps(0)[1].kind, StepKind::fxo);
  EXPECT_EQ(p.steps(0)[1].arg, "landline");
}

TEST(DialPlanSteps, UserStepKeepsItsNameTemplate) {
  auto p = plan({rule_with_steps({"user:alice", "user:$digits"})});
  ASSERT_EQ(p.steps(0).size(), 2u);
  EXPECT_EQ(p.steps(0)[0].kind, StepKind::user);
  EXPECT_EQ(p.steps(0)[0].arg, "alice");
  EXPECT_EQ(p.steps(0)[1].arg, "$digits");
}

TEST(DialPlanSteps, RejectsBadStepsWithAReason) {
  expect_bad_step("trunk:", DialPlanError::bad_step, "trunk name is missing");
  expect_bad_step("user:", DialPlanError::bad_step, "plain token");
  expect_bad_step("user:al ice", DialPlanError::bad_step, "plain token");
  expect_bad_step("user:a@b", DialPlanError::bad_step, "plain token");
  expect_bad_step("reject 99", DialPlanError::bad_step, "400-699");
  expect_bad_step("reject 700", DialPlanError::bad_step, "400-699");
  expect_bad_step("reject 399", DialPlanError::bad_step, "400-699");
  expect_bad_step("reject abc", DialPlanError::bad_step, "400-699");
  expect_bad_step("reject ", DialPlanError::bad_step, "400-699");
  expect_bad_step("reject 99999999999", DialPlanError::bad_step, "400-699");
  expect_bad_step("fxo:", DialPlanError::bad_step, "FXO port");
  expect_bad_step("foo", DialPlanError::bad_step, "expected enum");
  expect_bad_step("", DialPlanError::bad_step, "expected enum");
  expect_bad_step("ENUM", DialPlanError::bad_step, "expected enum");
  expect_bad_step("tel:+12025550150", DialPlanError::bad_step, "expected enum");
  expect_bad_step("sip:$number@h", DialPlanError::bad_step, "$digits or $e164");
}

TEST(DialPlanSteps, ARuleNeedsATargetOrSteps) {
  auto p = DialPlan::create({DialRule("2XX", "")});
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().is(DialPlanError::bad_step));
  EXPECT_NE(p.error().message().find("needs a target or steps"), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("\"2XX\""), std::string::npos) << p.error().message();
  EXPECT_TRUE(DialPlan::create({DialRule("2XX", "sip:$digits@h")}));
  EXPECT_TRUE(DialPlan::create({DialRule("2XX", "", {"reject"})}));
}

void expect_bad_allow(const std::string& entry) {
  auto p = DialPlan::create({rule_with_steps({"enum"}, {entry})});
  ASSERT_FALSE(p) << entry;
  EXPECT_TRUE(p.error().is(DialPlanError::bad_allow)) << entry << ": " << p.error().message();
}

TEST(DialPlanAllow, ParsesCidrsAddressesPortNamesLinesAndSip) {
  EXPECT_TRUE(DialPlan::create({rule_with_steps({"enum"}, {"127.0.0.0/8", "10.1.2.3", "0.0.0.0/0", "192.168.4.0/22",
                                                           "2001:db8::/32", "::1", "::/0", "fe80::/10",
                                                           "fxs1", "kitchen", "lines", "sip"})}));
}

TEST(DialPlanAllow, RejectsBadCidrsAndEmptyEntries) {
  expect_bad_allow("10.0.0.0/33");
  expect_bad_allow("::/129");
  expect_bad_allow("10.0.0.0/");
  expect_bad_allow("10.0.0.0/x");
  expect_bad_allow("10.0.0.0/-1");
  expect_bad_allow("10.0.0.0/8/8");
  expect_bad_allow("10.0.0.0/0008");
  expect_bad_allow("300.1.1.1");
  expect_bad_allow("10.0.0");
  expect_bad_allow("2001:db8:::/32");
  expect_bad_allow("[::1]");
  expect_bad_allow("/8");
  expect_bad_allow("");
  auto p = DialPlan::create({rule_with_steps({"enum"}, {"10.0.0.0/33"})});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("\"10.0.0.0/33\""), std::string::npos) << p.error().message();
}

TEST(DialPlanAllow, DefaultAdmitsEveryLineAndNoSipCaller) {
  auto p = plan({rule_with_steps({"enum"})});
  EXPECT_TRUE(p.admits(0, line_caller("fxs1")));
  EXPECT_TRUE(p.admits(0, line_caller("fxs2")));
  EXPECT_FALSE(p.admits(0, sip_caller("127.0.0.1")));
  EXPECT_FALSE(p.admits(0, sip_caller("::1")));
  EXPECT_FALSE(p.admits(1, line_caller("fxs1")));  // no such rule
}

TEST(DialPlanAllow, PortNameAdmitsThatLineOnly) {
  auto p = plan({rule_with_steps({"enum"}, {"kitchen"})});
  EXPECT_TRUE(p.admits(0, line_caller("kitchen")));
  EXPECT_FALSE(p.admits(0, line_caller("hall")));
  EXPECT_FALSE(p.admits(0, sip_caller("127.0.0.1")));
  // A SIP caller is not a port, even with the same name in `port`.
  EXPECT_FALSE(p.admits(0, Caller{.line = false, .port = "kitchen", .address = "127.0.0.1", .user = {}, .permissions = {}}));
}

TEST(DialPlanAllow, UsersAdmitsAuthenticatedSipCallersAndUserNamesOneOfThem) {
  auto p = plan({rule_with_steps({"enum"}, {"users"}), rule_with_steps({"enum"}, {"user:bob"})});
  const Caller alice{.line = false, .port = {}, .address = "192.0.2.7", .user = "alice", .permissions = {}};
  const Caller bob{.line = false, .port = {}, .address = "192.0.2.8", .user = "bob", .permissions = {}};
  EXPECT_TRUE(p.admits(0, alice));
  EXPECT_TRUE(p.admits(0, bob));
  EXPECT_FALSE(p.admits(0, sip_caller("127.0.0.1")));  // trusted by address, but no user
  EXPECT_FALSE(p.admits(0, line_caller("fxs1")));
  EXPECT_FALSE(p.admits(1, alice));
  EXPECT_TRUE(p.admits(1, bob));
  expect_bad_allow("user:");
}

TEST(DialPlanAllow, SipAdmitsEverySipCallerAndNoLine) {
  auto p = plan({rule_with_steps({"enum"}, {"sip"})});
  EXPECT_TRUE(p.admits(0, sip_caller("127.0.0.1")));
  EXPECT_TRUE(p.admits(0, sip_caller("2001:db8::1")));
  EXPECT_TRUE(p.admits(0, sip_caller("")));
  EXPECT_FALSE(p.admits(0, line_caller("fxs1")));
}

TEST(DialPlanAllow, CidrAdmitsSipCallersInsideThePrefix) {
  auto v4 = plan({rule_with_steps({"enum"}, {"192.168.4.0/22"})});
  EXPECT_TRUE(v4.admits(0, sip_caller("192.168.4.0")));
  EXPECT_TRUE(v4.admits(0, sip_caller("192.168.7.255")));
  EXPECT_FALSE(v4.admits(0, sip_caller("192.168.8.0")));
  EXPECT_FALSE(v4.admits(0, sip_caller("192.168.3.255")));
  EXPECT_FALSE(v4.admits(0, sip_caller("::1")));        // another family
  EXPECT_FALSE(v4.admits(0, sip_caller("garbage")));
  EXPECT_FALSE(v4.admits(0, line_caller("fxs1")));      // lines are not admitted by addresses

  auto host = plan({rule_with_steps({"enum"}, {"10.1.2.3"})});  // no prefix: the one address
  EXPECT_TRUE(host.admits(0, sip_caller("10.1.2.3")));
  EXPECT_FALSE(host.admits(0, sip_caller("10.1.2.4")));

  auto everyone = plan({rule_with_steps({"enum"}, {"0.0.0.0/0"})});
  EXPECT_TRUE(everyone.admits(0, sip_caller("203.0.113.9")));
  EXPECT_FALSE(everyone.admits(0, sip_caller("2001:db8::1")));

  auto v6 = plan({rule_with_steps({"enum"}, {"2001:db8::/32"})});
  EXPECT_TRUE(v6.admits(0, sip_caller("2001:db8::1")));
  EXPECT_TRUE(v6.admits(0, sip_caller("2001:db8:ffff:ffff::1")));
  EXPECT_FALSE(v6.admits(0, sip_caller("2001:db9::1")));
  EXPECT_FALSE(v6.admits(0, sip_caller("127.0.0.1")));

  auto odd = plan({rule_with_steps({"enum"}, {"fe80::/10"})});
  EXPECT_TRUE(odd.admits(0, sip_caller("febf::1")));
  EXPECT_FALSE(odd.admits(0, sip_caller("fec0::1")));

  auto loop6 = plan({rule_with_steps({"enum"}, {"::1"})});
  EXPECT_TRUE(loop6.admits(0, sip_caller("::1")));
  EXPECT_TRUE(loop6.admits(0, sip_caller("0:0:0:0:0:0:0:1")));
  EXPECT_FALSE(loop6.admits(0, sip_caller("::2")));
}

TEST(DialPlanAllow, AnyEntryOfTheListAdmits) {
  auto p = plan({rule_with_steps({"enum"}, {"kitchen", "127.0.0.0/8", "::1"})});
  EXPECT_TRUE(p.admits(0, line_caller("kitchen")));
  EXPECT_FALSE(p.admits(0, line_caller("hall")));
  EXPECT_TRUE(p.admits(0, sip_caller("127.0.0.53")));
  EXPECT_TRUE(p.admits(0, sip_caller("::1")));
  EXPECT_FALSE(p.admits(0, sip_caller("10.0.0.1")));
}

TEST(DialPlanAllow, MatchWithACallerSkipsRulesThatDoNotAdmitIt) {
  auto p = plan({DialRule("9.", "", {"trunk:pstn"}, {"lines"}),
                 DialRule("2XX", "sip:$digits@local", {}, {"lines", "sip"})});
  const Caller phone = line_caller("fxs1");
  const Caller sip = sip_caller("192.0.2.1");

  auto by_phone = p.match("912", phone);
  EXPECT_EQ(by_phone.kind, MatchKind::ambiguous);
  EXPECT_EQ(by_phone.rule, 0u);
  EXPECT_FALSE(by_phone.denied);

  auto by_sip = p.match("912", sip);
  EXPECT_EQ(by_sip.kind, MatchKind::none);
  EXPECT_TRUE(by_sip.denied);

  // Only a rule matching the whole string sets `denied`.
  auto partial = p.match("9", sip);
  EXPECT_EQ(partial.kind, MatchKind::none);
  EXPECT_FALSE(partial.denied);

  auto local = p.match("201", sip);
  EXPECT_EQ(local.kind, MatchKind::complete);
  EXPECT_EQ(local.rule, 1u);
  EXPECT_EQ(local.target, "sip:201@local");
  EXPECT_FALSE(local.denied);

  // Without a caller every rule counts.
  EXPECT_EQ(p.match("912").kind, MatchKind::ambiguous);
  EXPECT_FALSE(p.match("912").denied);

  auto nothing = p.match("555", sip);
  EXPECT_EQ(nothing.kind, MatchKind::none);
  EXPECT_FALSE(nothing.denied);
}

TEST(DialPlanAllow, DeniedIsSetEvenWhenALaterRuleAdmitsTheCaller) {
  auto p = plan({DialRule("911", "", {"trunk:pstn"}, {"kitchen"}),
                 DialRule("9XX", "", {"reject 404"}, {"lines"})});
  auto hall = p.match("911", line_caller("hall"));
  EXPECT_EQ(hall.kind, MatchKind::complete);
  EXPECT_EQ(hall.rule, 1u);
  EXPECT_TRUE(hall.denied);
  auto kitchen = p.match("911", line_caller("kitchen"));
  EXPECT_EQ(kitchen.rule, 0u);
  EXPECT_FALSE(kitchen.denied);
}

TEST(DialPlanAllow, RulesThatDoNotAdmitTheCallerDoNotMakeItWait) {
  // The SIP caller can only use 2XX; 2XXX. (lines only) must not make 201 ambiguous.
  auto p = plan({DialRule("2XX", "sip:$digits@local", {}, {"sip"}), DialRule("2XXX.", "sip:$digits@far", {}, {"lines"})});
  EXPECT_EQ(p.match("201", sip_caller("127.0.0.1")).kind, MatchKind::complete);
  EXPECT_EQ(p.match("201", line_caller("fxs1")).kind, MatchKind::partial);
}

TEST(DialPlanSubstitute, FillsDigitsAndE164) {
  EXPECT_EQ(substitute("sip:$digits@h", "0312345678", "+81312345678"), "sip:0312345678@h");
  EXPECT_EQ(substitute("sip:$e164@h;user=phone", "0312345678", "+81312345678"), "sip:+81312345678@h;user=phone");
  EXPECT_EQ(substitute("sip:$e164@h?X-Dialed=$digits", "011", "+1"), "sip:+1@h?X-Dialed=011");
  EXPECT_EQ(substitute("sip:$digits$digits@h", "12", "+1"), "sip:1212@h");
  EXPECT_EQ(substitute("sip:operator@h", "0", "+1"), "sip:operator@h");
  EXPECT_EQ(substitute("", "1", "+1"), "");
  // A '$' that starts neither variable is kept.
  EXPECT_EQ(substitute("sip:a$b@h", "1", "+1"), "sip:a$b@h");
  EXPECT_EQ(substitute("sip:x@h$", "1", "+1"), "sip:x@h$");
  EXPECT_EQ(substitute("sip:$digit@h", "1", "+1"), "sip:$digit@h");
  EXPECT_EQ(substitute("sip:$$e164@h", "1", "+1"), "sip:$+1@h");
  // The values are not re-scanned.
  EXPECT_EQ(substitute("sip:$digits@h", "$e164", "+1"), "sip:$e164@h");
}

}  // namespace
}  // namespace sipline::gateway::route
