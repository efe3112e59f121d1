#include "sipline/base/base64.hpp"

#include <gtest/gtest.h>

namespace sipline::base {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// RFC 4648 §10 test vectors.
TEST(Base64, EncodesTheRfcVectorsWithPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, text] : vectors) {
    EXPECT_EQ(base64_encode(bytes(plain), Base64::standard), text);
    auto back = base64_decode(text, Base64::standard);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, bytes(plain));
  }
}

TEST(Base64, UrlAlphabetHasNoPadding) {
  const std::vector<std::uint8_t> data{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64_encode(data, Base64::standard), "+/+/");
  EXPECT_EQ(base64_encode(data, Base64::url), "-_-_");
  EXPECT_EQ(base64_encode(bytes("f"), Base64::url), "Zg");
  EXPECT_EQ(*base64_decode("-_-_", Base64::url), data);
  EXPECT_EQ(*base64_decode("Zg", Base64::url), bytes("f"));
}

TEST(Base64, RejectsWhatIsNotCanonical) {
  EXPECT_FALSE(base64_decode("Zg", Base64::standard));     // padding missing
  EXPECT_FALSE(base64_decode("Zh==", Base64::standard));   // leftover bits set
  EXPECT_FALSE(base64_decode("Zm9v!A==", Base64::standard));
  EXPECT_FALSE(base64_decode("-_-_", Base64::standard));   // url characters
  EXPECT_FALSE(base64_decode("+/+/", Base64::url));        // standard characters
  EXPECT_FALSE(base64_decode("Zg==", Base64::url));        // padding in url form
  EXPECT_FALSE(base64_decode("Z", Base64::url));           // a lone character
  EXPECT_FALSE(base64_decode("Z===", Base64::standard));
}

TEST(Base64, RoundTripsEveryLength) {
  std::vector<std::uint8_t> data;
  for (int n = 0; n < 64; ++n) {
    for (auto alphabet : {Base64::standard, Base64::url}) {
      auto back = base64_decode(base64_encode(data, alphabet), alphabet);
      ASSERT_TRUE(back) << n;
      EXPECT_EQ(*back, data);
    }
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

}  // namespace
}  // namespace sipline::base
