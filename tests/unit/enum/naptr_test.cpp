#include "sipline/enum/naptr.hpp"

#include <gtest/gtest.h>

#include "unit/enum/naptr_wire.hpp"

namespace sipline::e164 {
namespace {

using testing::Bytes;
using testing::naptr_rdata;

TEST(NaptrRdata, ParsesEnumRecordWithRootReplacement) {
  const Bytes b = naptr_rdata(100, 10, "u", "E2U+sip", "!^.*$!sip:info@example.com!", "");
  auto n = parse_naptr_rdata(b);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->order, 100);
  EXPECT_EQ(n->preference, 10);
  EXPECT_EQ(n->flags, "u");
  EXPECT_EQ(n->services, "E2U+sip");
  EXPECT_EQ(n->regexp, "!^.*$!sip:info@example.com!");
  EXPECT_EQ(n->replacement, "");
}

TEST(NaptrRdata, ParsesReplacementDomain) {
  const Bytes b = naptr_rdata(0xffff, 0x1234, "", "", "", "_sip._udp.example.com");
  auto n = parse_naptr_rdata(b);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->order, 0xffff);
  EXPECT_EQ(n->preference, 0x1234);
  EXPECT_EQ(n->replacement, "_sip._udp.example.com");
}

TEST(NaptrRdata, EscapesOddOctetsInReplacement) {
  Bytes b = naptr_rdata(1, 1, "", "", "", "");
  b.pop_back();  // root
  const std::uint8_t label[] = {4, 'a', '.', '\\', 0x07, 0};
  b.insert(b.end(), std::begin(label), std::end(label));
  auto n = parse_naptr_rdata(b);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->replacement, "a\\.\\\\\\007");
}

TEST(NaptrRdata, RejectsEveryTruncation) {
  const Bytes full = naptr_rdata(10, 20, "u", "E2U+sip", "!^.*$!sip:a@b!", "example.com");
  ASSERT_TRUE(parse_naptr_rdata(full));
  for (std::size_t len = 0; len < full.size(); ++len) {
    auto n = parse_naptr_rdata(std::span(full.data(), len));
    ASSERT_FALSE(n) << "length " << len;
    EXPECT_TRUE(n.error().is(EnumError::truncated)) << len << ": " << n.error().message();
  }
}

TEST(NaptrRdata, RejectsLengthRunningPastTheEnd) {
  Bytes b;
  testing::put_u16(b, 1);
  testing::put_u16(b, 1);
  b.push_back(200);  // flags claims 200 octets
  b.push_back('u');
  auto n = parse_naptr_rdata(b);
  ASSERT_FALSE(n);
  EXPECT_TRUE(n.error().is(EnumError::truncated));
  EXPECT_NE(n.error().message().find("FLAGS"), std::string::npos) << n.error().message();
}

TEST(NaptrRdata, RejectsTrailingOctets) {
  Bytes b = naptr_rdata(1, 1, "u", "E2U+sip", "!^.*$!sip:a@b!", "");
  b.push_back(0);
  auto n = parse_naptr_rdata(b);
  ASSERT_FALSE(n);
  EXPECT_TRUE(n.error().is(EnumError::trailing_data));
}

TEST(NaptrRdata, RejectsReservedLabelTypeAndOverlongName) {
  Bytes b = naptr_rdata(1, 1, "", "", "", "");
  b.back() = 0x40;
  b.push_back(0);
  auto reserved = parse_naptr_rdata(b);
  ASSERT_FALSE(reserved);
  EXPECT_TRUE(reserved.error().is(EnumError::bad_name));

  Bytes longname = naptr_rdata(1, 1, "", "", "", "");
  longname.pop_back();
  for (int i = 0; i < 5; ++i) {
    longname.push_back(63);
    longname.insert(longname.end(), 63, 'a');
  }
  longname.push_back(0);
  auto overlong = parse_naptr_rdata(longname);
  ASSERT_FALSE(overlong);
  EXPECT_TRUE(overlong.error().is(EnumError::bad_name));
}

TEST(NaptrRdata, CompressionPointerNeedsTheMessage) {
  // Message: 12 octets of header, then "example.com" at offset 12.
  Bytes message(12, 0);
  testing::put_name(message, "example.com");
  const std::size_t rdata_at = message.size();
  Bytes rdata = naptr_rdata(1, 2, "", "E2U+sip", "", "");
  rdata.back() = 3;  // label "sip" then a pointer to offset 12
  rdata.insert(rdata.end(), {'s', 'i', 'p', 0xC0, 12});
  message.insert(message.end(), rdata.begin(), rdata.end());
  const auto in_message = std::span<const std::uint8_t>(message).subspan(rdata_at);

  auto alone = parse_naptr_rdata(in_message);
  ASSERT_FALSE(alone);
  EXPECT_TRUE(alone.error().is(EnumError::bad_name));

  auto with = parse_naptr_rdata(in_message, message);
  ASSERT_TRUE(with) << with.error().message();
  EXPECT_EQ(with->replacement, "sip.example.com");
}

TEST(NaptrRdata, RejectsPointerLoopsAndOutOfRangePointers) {
  Bytes message(12, 0);
  const std::size_t loop_at = message.size();
  message.insert(message.end(), {0xC0, static_cast<std::uint8_t>(loop_at)});  // points at itself
  Bytes rdata = naptr_rdata(1, 2, "", "", "", "");
  rdata.back() = 0xC0;
  rdata.push_back(static_cast<std::uint8_t>(loop_at));
  auto loop = parse_naptr_rdata(rdata, message);
  ASSERT_FALSE(loop);
  EXPECT_TRUE(loop.error().is(EnumError::bad_name));

  Bytes far = naptr_rdata(1, 2, "", "", "", "");
  far.back() = 0xC3;
  far.push_back(0xff);
  auto out = parse_naptr_rdata(far, message);
  ASSERT_FALSE(out);
  EXPECT_TRUE(out.error().is(EnumError::bad_name));

  Bytes half = naptr_rdata(1, 2, "", "", "", "");
  half.back() = 0xC0;
  auto truncated = parse_naptr_rdata(half, message);
  ASSERT_FALSE(truncated);
  EXPECT_TRUE(truncated.error().is(EnumError::truncated));
}

TEST(NaptrRdata, KeepsMaximalCharacterStrings) {
  const std::string big(255, 'x');
  const Bytes b = naptr_rdata(1, 1, "", "", big, "");
  auto n = parse_naptr_rdata(b);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->regexp, big);
}

}  // namespace
}  // namespace sipline::e164
