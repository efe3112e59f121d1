#include "sipline/enum/e164.hpp"

#include <gtest/gtest.h>

namespace sipline::e164 {
namespace {

NumberingPlan plan(std::string_view region) {
  auto p = builtin_plan(region);
  EXPECT_TRUE(p.has_value()) << region;
  return p.value_or(NumberingPlan{});
}

std::string norm(std::string_view dialed, std::string_view region) {
  auto r = normalise(dialed, plan(region));
  return r ? r->str() : "error: " + r.error().message();
}

TEST(E164Normalise, KeepsAnInternationalNumberWithPlusAndSeparators) {
  EXPECT_EQ(norm("+81 3-1234-5678", "JP"), "+81312345678");
  EXPECT_EQ(norm("+1 (212) 555.0100", "DE"), "+12125550100");
}

TEST(E164Normalise, JapanNationalAndInternationalPrefixes) {
  EXPECT_EQ(norm("0312345678", "JP"), "+81312345678");
  EXPECT_EQ(norm("03-1234-5678", "JP"), "+81312345678");
  EXPECT_EQ(norm("010 1 212 555 0100", "JP"), "+12125550100");
}

TEST(E164Normalise, NanpNationalAndInternationalPrefixes) {
  EXPECT_EQ(norm("1 (212) 555-0100", "US"), "+12125550100");
  EXPECT_EQ(norm("212-555-0100", "US"), "+12125550100");
  EXPECT_EQ(norm("011 81 3 1234 5678", "US"), "+81312345678");
  EXPECT_EQ(norm("011 44 20 7946 0018", "nanp"), "+442079460018");
}

TEST(E164Normalise, GermanyUkFrance) {
  EXPECT_EQ(norm("030 1234567", "DE"), "+49301234567");
  EXPECT_EQ(norm("0049 30 1234567", "DE"), "+49301234567");
  EXPECT_EQ(norm("020 7946 0018", "UK"), "+442079460018");
  EXPECT_EQ(norm("00 33 1 23 45 67 89", "GB"), "+33123456789");
  EXPECT_EQ(norm("01 23 45 67 89", "FR"), "+33123456789");
  EXPECT_EQ(norm("0081312345678", "FR"), "+81312345678");
}

TEST(E164Normalise, UnknownRegionHasNoBuiltinPlan) {
  EXPECT_FALSE(builtin_plan("XX").has_value());
  EXPECT_TRUE(builtin_plan("jp").has_value());
}

TEST(E164Normalise, RejectsEmptyLettersTooLongTooShort) {
  const auto jp = plan("JP");
  auto empty = normalise("", jp);
  ASSERT_FALSE(empty);
  EXPECT_TRUE(empty.error().is(EnumError::empty));
  auto seps = normalise(" - ( ) ", jp);
  ASSERT_FALSE(seps);
  EXPECT_TRUE(seps.error().is(EnumError::empty));
  auto letters = normalise("0120-FLOWERS", jp);
  ASSERT_FALSE(letters);
  EXPECT_TRUE(letters.error().is(EnumError::bad_character));
  EXPECT_NE(letters.error().message().find("'F'"), std::string::npos);
  auto star = normalise("*67 212 555 0100", plan("US"));
  ASSERT_FALSE(star);
  EXPECT_TRUE(star.error().is(EnumError::bad_character));
  auto plus_inside = normalise("81+312345678", jp);
  ASSERT_FALSE(plus_inside);
  EXPECT_TRUE(plus_inside.error().is(EnumError::bad_character));
  auto long_number = normalise("+1234567890123456", jp);  // 16 digits
  ASSERT_FALSE(long_number);
  EXPECT_TRUE(long_number.error().is(EnumError::too_long));
  auto long_national = normalise("0 1234 5678 9012 34", jp);  // 81 + 14 digits
  ASSERT_FALSE(long_national);
  EXPECT_TRUE(long_national.error().is(EnumError::too_long));
  auto short_number = normalise("110", jp);
  ASSERT_FALSE(short_number);
  EXPECT_TRUE(short_number.error().is(EnumError::too_short));
  auto zero_cc = normalise("+0312345678", jp);
  ASSERT_FALSE(zero_cc);
  EXPECT_TRUE(zero_cc.error().is(EnumError::bad_country_code));
}

TEST(E164Normalise, FifteenDigitsIsTheLimit) {
  auto ok = normalise("+123456789012345", plan("DE"));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->digits().size(), 15u);
}

TEST(E164, FromDigitsAndParseValidate) {
  EXPECT_TRUE(E164::from_digits("1"));
  EXPECT_FALSE(E164::from_digits(""));
  EXPECT_FALSE(E164::from_digits("12a"));
  EXPECT_FALSE(E164::from_digits("0123"));
  EXPECT_FALSE(E164::parse("81312345678"));
  auto n = E164::parse("+81312345678");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->digits(), "81312345678");
  EXPECT_EQ(*n, *E164::from_digits("81312345678"));
}

TEST(EnumDomain, ReversesDigitsUnderE164Arpa) {
  auto n = E164::parse("+81312345678");
  ASSERT_TRUE(n);
  EXPECT_EQ(to_enum_domain(*n), "8.7.6.5.4.3.2.1.3.1.8.e164.arpa");
  EXPECT_EQ(to_enum_domain(*n, "e164.arpa"), "8.7.6.5.4.3.2.1.3.1.8.e164.arpa");
}

TEST(EnumDomain, Rfc6116Example) {
  // RFC 6116 §2.4: +44-20-7946-0148 -> 8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa
  auto n = E164::parse("+442079460148");
  ASSERT_TRUE(n);
  EXPECT_EQ(to_enum_domain(*n), "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa");
}

TEST(EnumDomain, AnySuffixWithDotsTrimmed) {
  auto n = E164::parse("+4930123");
  ASSERT_TRUE(n);
  EXPECT_EQ(to_enum_domain(*n, "e164.example.net."), "3.2.1.0.3.9.4.e164.example.net");
  EXPECT_EQ(to_enum_domain(*n, ".priv"), "3.2.1.0.3.9.4.priv");
  EXPECT_EQ(to_enum_domain(*n, ""), "3.2.1.0.3.9.4");
}

}  // namespace
}  // namespace sipline::e164
