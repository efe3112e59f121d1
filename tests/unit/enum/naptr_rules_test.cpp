#include "sipline/enum/naptr_rules.hpp"

#include <gtest/gtest.h>

#include "sipline/enum/naptr.hpp"
#include "unit/enum/naptr_wire.hpp"

namespace sipline::e164 {
namespace {

E164 number(std::string_view s) {
  auto n = E164::parse(s);
  EXPECT_TRUE(n) << s;
  return n.value_or(*E164::from_digits("1"));
}

Naptr rec(std::uint16_t order, std::uint16_t pref, std::string flags, std::string services, std::string regexp,
          std::string replacement = "") {
  return Naptr{order, pref, std::move(flags), std::move(services), std::move(regexp), std::move(replacement)};
}

std::vector<std::string> uris(const RuleResult& r) {
  std::vector<std::string> out;
  for (const auto& t : r.targets) out.push_back(t.uri);
  return out;
}

bool skipped_with(const RuleResult& r, std::size_t index, EnumError code) {
  for (const auto& s : r.skipped) {
    if (s.index == index && s.error.is(code)) return true;
  }
  return false;
}

TEST(NaptrRules, Rfc6116ExampleGivesTheSipUriAndIgnoresOtherServices) {
  // RFC 6116 §3.2.1 (zone 3.8.0.0.6.9.2.3.6.1.4.4.e164.arpa).
  const std::vector<Naptr> records = {
      rec(10, 100, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
      rec(10, 101, "u", "E2U+h323", "!^.*$!h323:info@example.com!"),
      rec(10, 102, "u", "E2U+msg", "!^.*$!mailto:info@example.com!"),
  };
  const RuleResult r = apply_naptr_rules(number("+441632960083"), records);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0], (Target{"sip:info@example.com", "E2U+sip", 10, 100}));
  EXPECT_TRUE(r.next.empty());
  EXPECT_TRUE(skipped_with(r, 1, EnumError::unknown_service));
  EXPECT_TRUE(skipped_with(r, 2, EnumError::unknown_service));
}

TEST(NaptrRules, BackReferenceRewritesTheNumber) {
  const std::vector<Naptr> records = {rec(100, 10, "u", "E2U+sip", "!^\\+44(.*)$!sip:\\1@example.net!")};
  const RuleResult r = apply_naptr_rules(number("+442079460148"), records);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:2079460148@example.net"}));
}

TEST(NaptrRules, SortsByOrderThenPreferenceAndKeepsOneOrderOnly) {
  const std::vector<Naptr> records = {
      rec(200, 1, "u", "E2U+sip", "!^.*$!sip:later-order@example.com!"),
      rec(100, 20, "u", "E2U+tel", "!^(.*)$!tel:\\1!"),
      rec(100, 10, "u", "E2U+sip", "!^.*$!sip:first@example.com!"),
      rec(100, 15, "u", "E2U+pstn:tel", "!^(.*)$!tel:\\1;npdi!"),
  };
  const RuleResult r = apply_naptr_rules(number("+81312345678"), records);
  ASSERT_EQ(r.targets.size(), 3u);
  EXPECT_EQ(r.targets[0], (Target{"sip:first@example.com", "E2U+sip", 100, 10}));
  EXPECT_EQ(r.targets[1], (Target{"tel:+81312345678;npdi", "E2U+pstn:tel", 100, 15}));
  EXPECT_EQ(r.targets[2], (Target{"tel:+81312345678", "E2U+tel", 100, 20}));
}

TEST(NaptrRules, FallsToTheNextOrderWhenNothingInTheFirstMatches) {
  const std::vector<Naptr> records = {
      rec(10, 1, "u", "E2U+sip", "!^\\+1(.*)$!sip:\\1@us.example!"),  // does not match +81
      rec(10, 2, "u", "E2U+email:mailto", "!^.*$!mailto:a@example.com!"),
      rec(20, 1, "u", "E2U+sip", "!^\\+81(.*)$!sip:\\1@jp.example!"),
  };
  const RuleResult r = apply_naptr_rules(number("+81312345678"), records);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:312345678@jp.example"}));
  EXPECT_TRUE(skipped_with(r, 0, EnumError::no_match));
  EXPECT_TRUE(skipped_with(r, 1, EnumError::unknown_service));
}

TEST(NaptrRules, ServicesMatchCaseInsensitivelyIncludingLegacyForm) {
  EXPECT_EQ(match_enum_service("e2u+SIP"), "E2U+sip");
  EXPECT_EQ(match_enum_service("E2U+Tel"), "E2U+tel");
  EXPECT_EQ(match_enum_service("E2U+PSTN:TEL"), "E2U+pstn:tel");
  EXPECT_EQ(match_enum_service("e2u+pstn:sip"), "E2U+pstn:sip");
  EXPECT_EQ(match_enum_service("SIP+e2u"), "E2U+sip");
  EXPECT_EQ(match_enum_service("E2U+voice:tel+sip"), "E2U+sip");
  EXPECT_FALSE(match_enum_service("E2U+h323"));
  EXPECT_FALSE(match_enum_service("E2U+sipx"));
  EXPECT_FALSE(match_enum_service("E2U"));
  EXPECT_FALSE(match_enum_service(""));
  EXPECT_FALSE(match_enum_service("http+I2R"));

  const std::vector<Naptr> records = {rec(1, 1, "U", "sip+E2U", "!^.*$!sip:legacy@example.com!")};
  EXPECT_EQ(uris(apply_naptr_rules(number("+4930123456"), records)),
            (std::vector<std::string>{"sip:legacy@example.com"}));
}

TEST(NaptrRules, AnyDelimiterAndEscapedDelimiter) {
  EXPECT_EQ(apply_regexp("+4930123456", "#^\\+49(.*)$#sip:\\1@de.example#"), "sip:30123456@de.example");
  EXPECT_EQ(apply_regexp("+4930123456", "/^\\+49(30)(.*)$/sip:\\2@\\1.example/"), "sip:123456@30.example");
  // "\!" stands for the delimiter in the replacement.
  EXPECT_EQ(apply_regexp("+4930123456", "!^.*$!sip:a\\!b@example.com!"), "sip:a!b@example.com");
  // '|' as delimiter: "\|" is then a literal '|' in the ERE.
  EXPECT_EQ(apply_regexp("+1|2", "|^\\+1\\|(.)$|sip:\\1@x|"), "sip:2@x");
  // "\\" is a backslash.
  EXPECT_EQ(apply_regexp("+1", "!^.*$!sip:a\\\\b@x!"), "sip:a\\b@x");
}

TEST(NaptrRules, CaseInsensitiveFlag) {
  // RFC 3403 §6.2 style rule with the "i" flag and a back reference.
  EXPECT_EQ(apply_regexp("urn:cid:199606121851.1@bar.example.com", "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i"),
            "example.com");
  EXPECT_EQ(apply_regexp("URN:CID:x@BAR.example.com", "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i"), "example.com");
  auto sensitive = apply_regexp("URN:CID:x@BAR.example.com", "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!");
  ASSERT_FALSE(sensitive);
  EXPECT_TRUE(sensitive.error().is(EnumError::no_match));
}

TEST(NaptrRules, BadRegexpsAreRejected) {
  const char* bad[] = {
      "",                            // empty
      "!^.*$!sip:a@b",               // two delimiters
      "1^.*$1sip:a@b1",              // digit delimiter
      "\\^.*$\\sip:a@b\\",           // backslash delimiter
      "i^.*$isip:a@b i",             // flag delimiter
      "!^(.*$!sip:a@b!",             // does not compile
      "!^.*$!sip:a@b!x",             // unknown flag
      "!^(.*)$!sip:\\2@b!",          // group 2 does not exist
      "!^(.)\\1$!sip:a@b!",          // back reference in the ERE
      "!^.{1000}$!sip:a@b!",         // huge bound
      "!^.*$!sip:a\x01@b!",          // control character
      "!^\\+1(5+++++++++++++++++++++++++)$!sip:a@b!",  // each '+' doubles regcomp's tree (fuzz_naptr: 2 GB)
      "!^((((.{32}){32}){32}){32})$!sip:a@b!",           // nested bounds multiply: 32^4 copies
      "!^\\+81()++++++++++3(.*)$!sip:a@b!",               // regcomp's epsilon closures: > 10 s (fuzz_naptr)
      "!^(()+)+$!sip:a@b!",                              // repeated empty group
      "!^(1*)+$!sip:a@b!",                               // repeated operand that can be empty
      "!^(1|)*$!sip:a@b!",                               // an empty alternative
      "!^(^)*1$!sip:a@b!",                               // an anchor matches no character
      "!^1*?$!sip:a@b!",                                 // stacked repetitions
      "!^1{2}{3}$!sip:a@b!",                             // stacked bounds
  };
  for (const char* re : bad) {
    auto r = apply_regexp("+4930123456", re);
    ASSERT_FALSE(r) << re;
    EXPECT_TRUE(r.error().is(EnumError::bad_regexp)) << re << ": " << r.error().message();
  }
  const std::vector<Naptr> records = {rec(1, 1, "u", "E2U+sip", "!^(.*$!sip:a@b!"),
                                      rec(1, 2, "u", "E2U+sip", "!^.*$!sip:good@example.com!")};
  const RuleResult r = apply_naptr_rules(number("+4930123456"), records);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:good@example.com"}));
  EXPECT_TRUE(skipped_with(r, 0, EnumError::bad_regexp));
}

TEST(NaptrRules, OrdinaryRepetitionsAreAccepted) {
  EXPECT_EQ(apply_regexp("+4930123456", "!^\\+49([0-9]{2})([0-9]{1,32})$!sip:\\2@\\1.example!"), "sip:123456@30.example");
  EXPECT_EQ(apply_regexp("+4930123456", "!^\\+4(9+)(.+)?$!sip:\\2@x!"), "sip:30123456@x");
  EXPECT_EQ(apply_regexp("+4930123456", "!^[+]*[[:digit:]]{2}(3[]0-9]+)$!sip:\\1@x!"), "sip:30123456@x");
  EXPECT_EQ(apply_regexp("+12", "!^\\+((1{2,}|1)(2){1})$!sip:\\1@x!"), "sip:12@x");
}

TEST(NaptrRules, NonTerminalRecordGivesTheNextDomain) {
  const std::vector<Naptr> records = {
      rec(10, 10, "", "", "", "enum.example.net."),
      rec(10, 20, "", "E2U+sip", "!^\\+(.*)$!\\1.private.example!"),
      rec(10, 30, "u", "E2U+sip", "!^.*$!sip:direct@example.com!"),
  };
  const RuleResult r = apply_naptr_rules(number("+4930123456"), records);
  ASSERT_EQ(r.next.size(), 2u);
  EXPECT_EQ(r.next[0], (NextLookup{"enum.example.net", 10, 10}));
  EXPECT_EQ(r.next[1], (NextLookup{"4930123456.private.example", 10, 20}));
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:direct@example.com"}));
}

TEST(NaptrRules, NonTerminalInFirstOrderStopsLaterOrders) {
  const std::vector<Naptr> records = {rec(10, 10, "", "", "", "enum.example.net"),
                                      rec(20, 10, "u", "E2U+sip", "!^.*$!sip:later@example.com!")};
  const RuleResult r = apply_naptr_rules(number("+4930123456"), records);
  EXPECT_TRUE(r.targets.empty());
  ASSERT_EQ(r.next.size(), 1u);
  EXPECT_EQ(r.next[0].domain, "enum.example.net");
}

TEST(NaptrRules, InvalidRecordsAreSkipped) {
  const std::vector<Naptr> records = {
      rec(1, 1, "u", "E2U+sip", "!^.*$!sip:both@example.com!", "example.com"),  // regexp and replacement
      rec(1, 2, "u", "E2U+sip", "", ""),                                         // neither
      rec(1, 3, "s", "E2U+sip", "", "_sip._udp.example.com"),                    // SRV flag: not ENUM
      rec(1, 4, "u", "E2U+sip", "", "example.com"),                              // terminal without regexp
      rec(1, 5, "u", "E2U+sip", "!^.*$!tel:+1234!"),                             // wrong scheme for sip
      rec(1, 6, "u", "E2U+tel", "!^.*$!sip:a@b!"),                               // wrong scheme for tel
      rec(1, 7, "u", "E2U+sip", "!^.*$!sip:with space@b!"),                      // not a URI
      rec(1, 8, "", "E2U+h323", "", "example.com"),                              // unknown non-terminal
  };
  const RuleResult r = apply_naptr_rules(number("+4930123456"), records);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_TRUE(r.next.empty());
  EXPECT_TRUE(skipped_with(r, 0, EnumError::invalid_record));
  EXPECT_TRUE(skipped_with(r, 1, EnumError::invalid_record));
  EXPECT_TRUE(skipped_with(r, 2, EnumError::bad_flags));
  EXPECT_TRUE(skipped_with(r, 3, EnumError::invalid_record));
  EXPECT_TRUE(skipped_with(r, 4, EnumError::bad_uri));
  EXPECT_TRUE(skipped_with(r, 5, EnumError::bad_uri));
  EXPECT_TRUE(skipped_with(r, 6, EnumError::bad_uri));
  EXPECT_TRUE(skipped_with(r, 7, EnumError::unknown_service));
  EXPECT_EQ(r.skipped.size(), records.size());
}

TEST(NaptrRules, SipsAndPstnSipGiveSipUris) {
  const std::vector<Naptr> records = {rec(1, 1, "u", "E2U+sip", "!^.*$!sips:secure@example.com!"),
                                      rec(1, 2, "u", "E2U+pstn:sip", "!^\\+(.*)$!sip:+\\1;npdi@gw.example;user=phone!")};
  const RuleResult r = apply_naptr_rules(number("+4930123456"), records);
  EXPECT_EQ(uris(r),
            (std::vector<std::string>{"sips:secure@example.com", "sip:+4930123456;npdi@gw.example;user=phone"}));
  EXPECT_EQ(r.targets[1].service, "E2U+pstn:sip");
}

TEST(NaptrRules, ParsedFromWireThenApplied) {
  const auto wire = testing::naptr_rdata(100, 10, "u", "E2U+sip", "!^\\+81(.*)$!sip:0\\1@jp.example!", "");
  auto n = parse_naptr_rdata(wire);
  ASSERT_TRUE(n) << n.error().message();
  const RuleResult r = apply_naptr_rules(number("+81312345678"), std::span(&*n, 1));
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:0312345678@jp.example"}));
}

TEST(NaptrRules, OnlyTheFirst64RecordsAreLookedAt) {
  std::vector<Naptr> records(70, rec(1, 1, "u", "E2U+h323", "!^.*$!h323:a@b!"));
  records.back() = rec(1, 1, "u", "E2U+sip", "!^.*$!sip:late@example.com!");
  const RuleResult r = apply_naptr_rules(number("+4930123456"), records);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_TRUE(skipped_with(r, 69, EnumError::invalid_record));
}

}  // namespace
}  // namespace sipline::e164
