#include "sipline/enum/tel_uri.hpp"

#include <gtest/gtest.h>

namespace sipline::e164 {
namespace {

TEST(TelUri, ParsesGlobalNumberWithoutSeparators) {
  auto t = parse_tel_uri("tel:+1-201-555-0123");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_TRUE(t->global);
  EXPECT_EQ(t->number, "+12015550123");
  EXPECT_TRUE(t->phone_context.empty());
  EXPECT_TRUE(t->params.empty());
  auto e = to_e164(*t);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->str(), "+12015550123");
}

TEST(TelUri, SchemeIsCaseInsensitive) {
  auto t = parse_tel_uri("TEL:+81.3.1234.5678");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->number, "+81312345678");
}

TEST(TelUri, LocalNumberWithDomainContextHasNoE164) {
  auto t = parse_tel_uri("tel:7042;phone-context=example.com");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_FALSE(t->global);
  EXPECT_EQ(t->number, "7042");
  EXPECT_EQ(t->phone_context, "example.com");
  auto e = to_e164(*t);
  ASSERT_FALSE(e);
  EXPECT_TRUE(e.error().is(EnumError::not_global));
}

TEST(TelUri, LocalNumberWithGlobalPrefixContextBecomesE164) {
  auto t = parse_tel_uri("tel:863-1234;phone-context=+1-914-555");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->number, "8631234");
  EXPECT_EQ(t->phone_context, "+1914555");
  auto e = to_e164(*t);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->str(), "+19145558631234");
}

TEST(TelUri, KeepsParametersInOrder) {
  auto t = parse_tel_uri("tel:+1-201-555-0123;ext=1234;isub=abc%20d;Foo=Bar;flag");
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_EQ(t->params.size(), 4u);
  EXPECT_EQ(t->params[0], (TelParam{"ext", "1234"}));
  EXPECT_EQ(t->params[1], (TelParam{"isub", "abc%20d"}));
  EXPECT_EQ(t->params[2], (TelParam{"foo", "Bar"}));
  EXPECT_EQ(t->params[3], (TelParam{"flag", ""}));
  EXPECT_EQ(t->param("EXT"), "1234");
  EXPECT_FALSE(t->param("missing"));
}

TEST(TelUri, LocalNumberMayHaveStarHashAndHex) {
  auto t = parse_tel_uri("tel:*67#a;phone-context=example.com");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->number, "*67#A");
  auto e = to_e164(*parse_tel_uri("tel:*67;phone-context=+1"));
  ASSERT_FALSE(e);
  EXPECT_TRUE(e.error().is(EnumError::bad_character));
}

TEST(TelUri, RejectsLocalNumberWithoutPhoneContext) {
  auto t = parse_tel_uri("tel:7042");
  ASSERT_FALSE(t);
  EXPECT_TRUE(t.error().is(EnumError::missing_phone_context));
  EXPECT_NE(t.error().message().find("phone-context"), std::string::npos);
}

TEST(TelUri, RejectsMalformedInput) {
  struct Case {
    const char* uri;
    EnumError code;
  };
  const Case cases[] = {
      {"", EnumError::empty},
      {"sip:+12015550123@example.com", EnumError::not_a_tel_uri},
      {"tel:", EnumError::empty},
      {"tel:+", EnumError::empty},
      {"tel:+1 201 555 0123", EnumError::bad_character},
      {"tel:+1-201-555-0123x", EnumError::bad_character},
      {"tel:70g2;phone-context=example.com", EnumError::bad_character},
      {"tel:+12015550123;ext=12a", EnumError::bad_character},
      {"tel:+12015550123;ext=1;ext=2", EnumError::duplicate_parameter},
      {"tel:+12015550123;", EnumError::malformed},
      {"tel:+12015550123;foo=", EnumError::malformed},
      {"tel:+12015550123;fo o=1", EnumError::bad_character},
      {"tel:+12015550123;foo=a\"b", EnumError::bad_character},
      {"tel:+12015550123;phone-context=+1", EnumError::malformed},
      {"tel:7042;phone-context=-bad-.com", EnumError::malformed},
      {"tel:7042;phone-context=+1-9x", EnumError::bad_character},
  };
  for (const auto& c : cases) {
    auto t = parse_tel_uri(c.uri);
    ASSERT_FALSE(t) << c.uri;
    EXPECT_EQ(t.error().code(), static_cast<int>(c.code)) << c.uri << ": " << t.error().message();
    EXPECT_FALSE(t.error().message().empty());
  }
}

TEST(TelUri, ErrorMessageNamesThePosition) {
  auto t = parse_tel_uri("tel:+1-201-555-0x23");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message().find("'x'"), std::string::npos) << t.error().message();
  EXPECT_NE(t.error().message().find("position 17"), std::string::npos) << t.error().message();
}

}  // namespace
}  // namespace sipline::e164
