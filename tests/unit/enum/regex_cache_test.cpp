#include "sipline/enum/regex_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipline/enum/naptr_rules.hpp"

namespace sipline::e164 {
namespace {

Naptr rec(std::uint16_t order, std::uint16_t pref, std::string flags, std::string services, std::string regexp,
          std::string replacement = "") {
  return Naptr{order, pref, std::move(flags), std::move(services), std::move(regexp), std::move(replacement)};
}

struct RuleCase {
  std::string number;
  std::vector<Naptr> records;
};

// The record sets of naptr_rules_test.cpp.
std::vector<RuleCase> rule_cases() {
  std::vector<RuleCase> cases = {
      {"+441632960083",
       {rec(10, 100, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
        rec(10, 101, "u", "E2U+h323", "!^.*$!h323:info@example.com!"),
        rec(10, 102, "u", "E2U+msg", "!^.*$!mailto:info@example.com!")}},
      {"+442079460148", {rec(100, 10, "u", "E2U+sip", "!^\\+44(.*)$!sip:\\1@example.net!")}},
      {"+81312345678",
       {rec(200, 1, "u", "E2U+sip", "!^.*$!sip:later-order@example.com!"),
        rec(100, 20, "u", "E2U+tel", "!^(.*)$!tel:\\1!"),
        rec(100, 10, "u", "E2U+sip", "!^.*$!sip:first@example.com!"),
        rec(100, 15, "u", "E2U+pstn:tel", "!^(.*)$!tel:\\1;npdi!")}},
      {"+81312345678",
       {rec(10, 1, "u", "E2U+sip", "!^\\+1(.*)$!sip:\\1@us.example!"),
        rec(10, 2, "u", "E2U+email:mailto", "!^.*$!mailto:a@example.com!"),
        rec(20, 1, "u", "E2U+sip", "!^\\+81(.*)$!sip:\\1@jp.example!")}},
      {"+4930123456", {rec(1, 1, "U", "sip+E2U", "!^.*$!sip:legacy@example.com!")}},
      {"+4930123456",
       {rec(1, 1, "u", "E2U+sip", "!^(.*$!sip:a@b!"), rec(1, 2, "u", "E2U+sip", "!^.*$!sip:good@example.com!")}},
      {"+4930123456",
       {rec(10, 10, "", "", "", "enum.example.net."),
        rec(10, 20, "", "E2U+sip", "!^\\+(.*)$!\\1.private.example!"),
        rec(10, 30, "u", "E2U+sip", "!^.*$!sip:direct@example.com!")}},
      {"+4930123456",
       {rec(10, 10, "", "", "", "enum.example.net"), rec(20, 10, "u", "E2U+sip", "!^.*$!sip:later@example.com!")}},
      {"+4930123456",
       {rec(1, 1, "u", "E2U+sip", "!^.*$!sip:both@example.com!", "example.com"),
        rec(1, 2, "u", "E2U+sip", "", ""), rec(1, 3, "s", "E2U+sip", "", "_sip._udp.example.com"),
        rec(1, 4, "u", "E2U+sip", "", "example.com"), rec(1, 5, "u", "E2U+sip", "!^.*$!tel:+1234!"),
        rec(1, 6, "u", "E2U+tel", "!^.*$!sip:a@b!"), rec(1, 7, "u", "E2U+sip", "!^.*$!sip:with space@b!"),
        rec(1, 8, "", "E2U+h323", "", "example.com")}},
      {"+4930123456",
       {rec(1, 1, "u", "E2U+sip", "!^.*$!sips:secure@example.com!"),
        rec(1, 2, "u", "E2U+pstn:sip", "!^\\+(.*)$!sip:+\\1;npdi@gw.example;user=phone!")}},
      {"+81312345678", {rec(100, 10, "u", "E2U+sip", "!^\\+81(.*)$!sip:0\\1@jp.example!")}},
  };
  std::vector<Naptr> many(70, rec(1, 1, "u", "E2U+h323", "!^.*$!h323:a@b!"));
  many.back() = rec(1, 1, "u", "E2U+sip", "!^.*$!sip:late@example.com!");
  cases.push_back({"+4930123456", std::move(many)});
  return cases;
}

// The (subject, REGEXP) pairs of naptr_rules_test.cpp, good and bad.
std::vector<std::pair<std::string, std::string>> regexp_cases() {
  return {
      {"+4930123456", "#^\\+49(.*)$#sip:\\1@de.example#"},
      {"+4930123456", "/^\\+49(30)(.*)$/sip:\\2@\\1.example/"},
      {"+4930123456", "!^.*$!sip:a\\!b@example.com!"},
      {"+1|2", "|^\\+1\\|(.)$|sip:\\1@x|"},
      {"+1", "!^.*$!sip:a\\\\b@x!"},
      {"urn:cid:199606121851.1@bar.example.com", "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i"},
      {"URN:CID:x@BAR.example.com", "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i"},
      {"URN:CID:x@BAR.example.com", "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!"},
      {"+4930123456", ""},
      {"+4930123456", "!^.*$!sip:a@b"},
      {"+4930123456", "1^.*$1sip:a@b1"},
      {"+4930123456", "\\^.*$\\sip:a@b\\"},
      {"+4930123456", "i^.*$isip:a@b i"},
      {"+4930123456", "!^(.*$!sip:a@b!"},
      {"+4930123456", "!^.*$!sip:a@b!x"},
      {"+4930123456", "!^(.*)$!sip:\\2@b!"},
      {"+4930123456", "!^(.)\\1$!sip:a@b!"},
      {"+4930123456", "!^.{1000}$!sip:a@b!"},
      {"+4930123456", "!^.*$!sip:a\x01@b!"},
      {std::string(65, '1'), "!^.*$!sip:a@b!"},
  };
}

void expect_same(const RuleResult& a, const RuleResult& b, const std::string& what) {
  EXPECT_EQ(a.targets, b.targets) << what;
  EXPECT_EQ(a.next, b.next) << what;
  ASSERT_EQ(a.skipped.size(), b.skipped.size()) << what;
  for (std::size_t i = 0; i < a.skipped.size(); ++i) {
    EXPECT_EQ(a.skipped[i].index, b.skipped[i].index) << what;
    EXPECT_EQ(a.skipped[i].error.code(), b.skipped[i].error.code()) << what;
    EXPECT_EQ(a.skipped[i].error.message(), b.skipped[i].error.message()) << what;
  }
}

void expect_same(const base::Result<std::string>& a, const base::Result<std::string>& b, const std::string& what) {
  ASSERT_EQ(a.has_value(), b.has_value()) << what;
  if (a) {
    EXPECT_EQ(*a, *b) << what;
  } else {
    EXPECT_EQ(a.error().code(), b.error().code()) << what;
    EXPECT_EQ(a.error().message(), b.error().message()) << what;
  }
}

TEST(RegexCache, RulesGiveTheSameResultsWithAndWithoutTheCache) {
  RegexCache cache;
  // Twice: the first pass compiles, the second finds every ERE in the cache.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& c : rule_cases()) {
      const auto number = E164::parse(c.number);
      ASSERT_TRUE(number) << c.number;
      const std::string what = c.number + " pass " + std::to_string(pass);
      expect_same(apply_naptr_rules(*number, c.records, cache), apply_naptr_rules(*number, c.records), what);
    }
  }
  EXPECT_GT(cache.stats().hits, 0u);
  EXPECT_EQ(cache.stats().misses, cache.size());
}

TEST(RegexCache, RegexpsGiveTheSameResultsAndErrorsWithAndWithoutTheCache) {
  RegexCache cache;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [subject, regexp] : regexp_cases()) {
      expect_same(apply_regexp(subject, regexp, cache), apply_regexp(subject, regexp), regexp);
    }
  }
}

TEST(RegexCache, KeysOnTheCaseFlag) {
  RegexCache cache;
  EXPECT_EQ(apply_regexp("URN:X", "!^urn:(.*)$!\\1!i", cache), "X");
  auto sensitive = apply_regexp("URN:X", "!^urn:(.*)$!\\1!", cache);
  ASSERT_FALSE(sensitive);
  EXPECT_TRUE(sensitive.error().is(EnumError::no_match));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(RegexCache, SameEreWithOtherReplacementsIsCompiledOnce) {
  RegexCache cache;
  EXPECT_EQ(apply_regexp("+4930123456", "!^\\+(.*)$!sip:\\1@a.example!", cache), "sip:4930123456@a.example");
  EXPECT_EQ(apply_regexp("+4930123456", "#^\\+(.*)$#sip:\\1@b.example#", cache), "sip:4930123456@b.example");
  EXPECT_EQ(apply_regexp("+81312345678", "!^\\+(.*)$!tel:+\\1!", cache), "tel:+81312345678");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().hits, 2u);
}

TEST(RegexCache, EvictsTheLeastRecentlyUsed) {
  RegexCache cache(2);
  EXPECT_EQ(cache.capacity(), 2u);
  EXPECT_EQ(apply_regexp("+1", "!^(.*)$!sip:a\\1@x!", cache), "sip:a+1@x");  // A
  EXPECT_EQ(apply_regexp("+1", "!^\\+(.*)$!sip:b\\1@x!", cache), "sip:b1@x");  // B
  EXPECT_EQ(apply_regexp("+1", "!^(.*)$!sip:a\\1@x!", cache), "sip:a+1@x");  // A again: B is now oldest
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(apply_regexp("+1", "!^\\+1(.*)$!sip:c\\1@x!", cache), "sip:c@x");  // C evicts B
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats().misses, 3u);

  EXPECT_EQ(apply_regexp("+1", "!^(.*)$!sip:a\\1@x!", cache), "sip:a+1@x");  // A is still there
  EXPECT_EQ(cache.stats().misses, 3u);
  EXPECT_EQ(apply_regexp("+1", "!^\\+(.*)$!sip:b\\1@x!", cache), "sip:b1@x");  // B is compiled again, evicts C
  EXPECT_EQ(cache.stats().misses, 4u);
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(RegexCache, ManyPatternsStayWithinCapacity) {
  RegexCache cache(8);
  for (int i = 0; i < 100; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(apply_regexp("+1" + n, "!^\\+1(" + n + ")$!sip:\\1@x!", cache), "sip:" + n + "@x");
    EXPECT_LE(cache.size(), 8u);
  }
  EXPECT_EQ(cache.stats().evictions, 92u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RegexCache, ZeroCapacityKeepsOne) {
  RegexCache cache(0);
  EXPECT_EQ(cache.capacity(), 1u);
  EXPECT_EQ(apply_regexp("+1", "!^(.*)$!sip:\\1@x!", cache), "sip:+1@x");
  EXPECT_EQ(apply_regexp("+1", "!^\\+(.*)$!sip:\\1@x!", cache), "sip:1@x");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(RegexCache, AnEreThatDoesNotCompileStaysAnError) {
  RegexCache cache;
  const auto uncached = apply_regexp("+4930123456", "!^(.*$!sip:a@b!");
  ASSERT_FALSE(uncached);
  for (int i = 0; i < 3; ++i) {
    const auto r = apply_regexp("+4930123456", "!^(.*$!sip:a@b!", cache);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(EnumError::bad_regexp)) << r.error().message();
    EXPECT_EQ(r.error().message(), uncached.error().message());
  }
  // Compiled once, then remembered as invalid.
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.size(), 1u);
  // Its eviction does not disturb a good entry next to it.
  RegexCache small(1);
  EXPECT_FALSE(apply_regexp("+1", "!^(.*$!sip:a@b!", small));
  EXPECT_EQ(apply_regexp("+1", "!^(.*)$!sip:\\1@x!", small), "sip:+1@x");
  EXPECT_FALSE(apply_regexp("+1", "!^(.*$!sip:a@b!", small));
  EXPECT_EQ(small.stats().evictions, 2u);
}

TEST(RegexCache, RefusedBeforeCompilingIsNotCached) {
  RegexCache cache;
  EXPECT_FALSE(apply_regexp("+1", "!^(.)\\1$!sip:a@b!", cache));  // back reference in the ERE
  EXPECT_FALSE(apply_regexp("+1", "!^.{1000}$!sip:a@b!", cache));  // bound too large
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.stats().misses, 0u);
}

}  // namespace
}  // namespace sipline::e164
