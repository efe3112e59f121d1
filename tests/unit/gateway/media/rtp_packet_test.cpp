#include "media/rtp_packet.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::media {
namespace {

std::vector<std::uint8_t> packet(std::vector<std::uint8_t> bytes) { return bytes; }

TEST(RtpPacket, SerializesAndParsesEveryHeaderField) {
  RtpHeader h;
  h.marker = true;
  h.payload_type = 8;
  h.sequence = 0xfffe;
  h.timestamp = 0xdeadbeef;
  h.ssrc = 0x01020304;
  h.csrc_count = 2;
  h.csrc[0] = 0xaabbccdd;
  h.csrc[1] = 7;
  const std::uint8_t payload[] = {1, 2, 3, 4, 5};
  std::uint8_t buf[64];
  auto n = write_rtp(h, payload, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 12u + 8u + 5u);
  EXPECT_EQ(buf[0], 0x82);  // V=2, CC=2
  EXPECT_EQ(buf[1], 0x88);  // M, PT 8

  auto v = parse_rtp(std::span<const std::uint8_t>(buf, *n));
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_TRUE(v->header.marker);
  EXPECT_EQ(v->header.payload_type, 8);
  EXPECT_EQ(v->header.sequence, 0xfffe);
  EXPECT_EQ(v->header.timestamp, 0xdeadbeefu);
  EXPECT_EQ(v->header.ssrc, 0x01020304u);
  ASSERT_EQ(v->header.csrc_count, 2);
  EXPECT_EQ(v->header.csrc[0], 0xaabbccddu);
  EXPECT_EQ(v->header.csrc[1], 7u);
  ASSERT_EQ(v->payload.size(), 5u);
  EXPECT_EQ(v->payload[4], 5);
}

TEST(RtpPacket, SkipsHeaderExtensionAndPadding) {
  // V=2 P X CC=0, PT 0, extension of one word, payload 2 bytes, 3 padding bytes.
  auto p = packet({0xb0, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 9,
                   0xbe, 0xde, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
                   0xaa, 0xbb, 0x00, 0x00, 0x03});
  auto v = parse_rtp(p);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_TRUE(v->header.extension);
  EXPECT_TRUE(v->header.padding);
  EXPECT_EQ(v->extension_profile, 0xbede);
  EXPECT_EQ(v->extension.size(), 4u);
  EXPECT_EQ(v->padding_size, 3u);
  ASSERT_EQ(v->payload.size(), 2u);
  EXPECT_EQ(v->payload[0], 0xaa);
}

TEST(RtpPacket, RejectsMalformedPackets) {
  EXPECT_TRUE(parse_rtp(packet({0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})).error().is(RtpError::too_short));
  EXPECT_TRUE(parse_rtp(packet({0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1})).error().is(RtpError::bad_version));
  // CC = 3 but no CSRC words
  EXPECT_TRUE(parse_rtp(packet({0x83, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1})).error().is(RtpError::bad_csrc));
  // X set, extension says 2 words, only 1 present
  EXPECT_TRUE(parse_rtp(packet({0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4}))
                  .error().is(RtpError::bad_extension));
  // P set, padding count larger than the packet body
  EXPECT_TRUE(parse_rtp(packet({0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 9})).error().is(RtpError::bad_padding));
  // P set, padding count zero
  EXPECT_TRUE(parse_rtp(packet({0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0})).error().is(RtpError::bad_padding));
}

TEST(RtpPacket, RefusesToWriteIntoATooSmallBuffer) {
  RtpHeader h;
  const std::uint8_t payload[160] = {};
  std::uint8_t buf[100];
  EXPECT_TRUE(write_rtp(h, payload, buf).error().is(RtpError::buffer_too_small));
}

TEST(TelephoneEvent, RoundTripsEventEndBitVolumeAndDuration) {
  TelephoneEvent e{.event = 11, .end = true, .volume = 10, .duration = 1280};
  std::array<std::uint8_t, kTelephoneEventSize> buf;
  write_telephone_event(e, buf);
  EXPECT_EQ(buf[0], 11);
  EXPECT_EQ(buf[1], 0x8a);
  EXPECT_EQ(buf[2], 0x05);
  EXPECT_EQ(buf[3], 0x00);
  auto p = parse_telephone_event(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->event, 11);
  EXPECT_TRUE(p->end);
  EXPECT_EQ(p->volume, 10);
  EXPECT_EQ(p->duration, 1280);
}

TEST(TelephoneEvent, RejectsShortPayloadAndMapsDigits) {
  const std::uint8_t three[3] = {1, 2, 3};
  EXPECT_FALSE(parse_telephone_event(three));
  EXPECT_EQ(dtmf_digit_to_event('0'), 0);
  EXPECT_EQ(dtmf_digit_to_event('*'), 10);
  EXPECT_EQ(dtmf_digit_to_event('#'), 11);
  EXPECT_EQ(dtmf_digit_to_event('d'), 15);
  EXPECT_EQ(dtmf_digit_to_event('x'), -1);
  EXPECT_EQ(dtmf_event_to_digit(12), 'A');
  EXPECT_EQ(dtmf_event_to_digit(9), '9');
  EXPECT_EQ(dtmf_event_to_digit(16), 0);  // flash is not a DTMF digit
}

}  // namespace
}  // namespace sipline::gateway::media
