// SrtpContext against libsrtp2 itself: what one side protects the other
// unprotects, tampering and replays are refused, and the suite's tag sizes
// are the ones RFC 4568 / RFC 7714 define. No sockets: packets are buffers.
#include "media/srtp.hpp"

#include <array>
#include <cstring>

#include <gtest/gtest.h>

#include "media/rtcp.hpp"
#include "media/rtp_packet.hpp"

namespace sipline::gateway::media {
namespace {

struct Packet {
  std::array<std::uint8_t, 512> buf{};
  std::size_t length = 0;
};

Packet rtp_packet(std::uint16_t seq, std::uint32_t ssrc, std::uint8_t fill) {
  Packet p;
  RtpHeader h;
  h.payload_type = 0;
  h.sequence = seq;
  h.timestamp = 160u * seq;
  h.ssrc = ssrc;
  std::array<std::uint8_t, 160> payload;
  payload.fill(fill);
  auto n = write_rtp(h, payload, p.buf);
  EXPECT_TRUE(n);
  p.length = n ? *n : 0;
  return p;
}

// Two ends of one SRTP call: a's local key is b's remote key and back.
struct Pair {
  std::unique_ptr<SrtpContext> a, b;
};
Pair make_pair(SrtpSuite suite, std::uint32_t ssrc_a, std::uint32_t ssrc_b) {
  const std::string ka = make_srtp_key(suite), kb = make_srtp_key(suite);
  auto a = SrtpContext::create({suite, ka, kb}, ssrc_a);
  auto b = SrtpContext::create({suite, kb, ka}, ssrc_b);
  EXPECT_TRUE(a && b);
  return {a ? std::move(*a) : nullptr, b ? std::move(*b) : nullptr};
}

class SrtpSuites : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(SrtpSuites, WhatOneSideProtectsTheOtherReads) {
  auto [a, b] = make_pair(GetParam(), 0x1111, 0x2222);
  ASSERT_TRUE(a && b);
  const std::size_t tag = GetParam() == SrtpSuite::aes_cm_128_hmac_sha1_32 ? 4 : GetParam() == SrtpSuite::aead_aes_128_gcm ? 16 : 10;
  for (std::uint16_t seq = 100; seq < 110; ++seq) {
    Packet p = rtp_packet(seq, 0x1111, 0x55);
    const Packet plain = p;
    ASSERT_TRUE(a->protect_rtp(p.buf, p.length));
    EXPECT_EQ(p.length, plain.length + tag);
    // The payload no longer shows: not one run of the 0x55 fill survives.
    EXPECT_EQ(std::memcmp(p.buf.data() + 12, plain.buf.data() + 12, 16) == 0, false);
    ASSERT_TRUE(b->unprotect_rtp(p.buf, p.length));
    ASSERT_EQ(p.length, plain.length);
    EXPECT_EQ(std::memcmp(p.buf.data(), plain.buf.data(), p.length), 0);
  }
}

TEST_P(SrtpSuites, TamperedReplayedAndForeignPacketsAreRefused) {
  auto [a, b] = make_pair(GetParam(), 0x1111, 0x2222);
  ASSERT_TRUE(a && b);
  Packet p = rtp_packet(7, 0x1111, 0x33);
  ASSERT_TRUE(a->protect_rtp(p.buf, p.length));
  Packet tampered = p;
  tampered.buf[20] ^= 0x01;
  EXPECT_FALSE(b->unprotect_rtp(tampered.buf, tampered.length));
  Packet copy = p;
  EXPECT_TRUE(b->unprotect_rtp(p.buf, p.length));
  EXPECT_FALSE(b->unprotect_rtp(copy.buf, copy.length)) << "a replay must fail";
  // Plain RTP at an SRTP stream (a peer that ignored the crypto) is refused too.
  Packet plain = rtp_packet(8, 0x1111, 0x33);
  EXPECT_FALSE(b->unprotect_rtp(plain.buf, plain.length));
  // A packet from a third party with its own key.
  auto [c, unused] = make_pair(GetParam(), 0x1111, 0x3333);
  Packet foreign = rtp_packet(9, 0x1111, 0x33);
  ASSERT_TRUE(c->protect_rtp(foreign.buf, foreign.length));
  EXPECT_FALSE(b->unprotect_rtp(foreign.buf, foreign.length));
}

TEST_P(SrtpSuites, RtcpTravelsAsSrtcp) {
  auto [a, b] = make_pair(GetParam(), 0x1111, 0x2222);
  ASSERT_TRUE(a && b);
  RtcpReport r;
  r.ssrc = 0x1111;
  r.sender = false;
  Packet p;
  auto n = build_rtcp_report(r, "sipline-test", p.buf);
  ASSERT_TRUE(n);
  p.length = *n;
  const Packet plain = p;
  ASSERT_TRUE(a->protect_rtcp(p.buf, p.length));
  EXPECT_GT(p.length, plain.length + 4);  // E flag + SRTCP index, then the tag
  ASSERT_TRUE(b->unprotect_rtcp(p.buf, p.length));
  ASSERT_EQ(p.length, plain.length);
  EXPECT_EQ(std::memcmp(p.buf.data(), plain.buf.data(), p.length), 0);
  auto parsed = parse_rtcp(std::span<const std::uint8_t>(p.buf.data(), p.length));
  EXPECT_TRUE(parsed);
}

INSTANTIATE_TEST_SUITE_P(All, SrtpSuites,
                         ::testing::Values(SrtpSuite::aes_cm_128_hmac_sha1_80, SrtpSuite::aes_cm_128_hmac_sha1_32,
                                           SrtpSuite::aead_aes_128_gcm),
                         [](const auto& info) { return std::string(srtp_suite_name(info.param)); });

TEST(Srtp, NamesAndKeyLengths) {
  EXPECT_EQ(srtp_suite_from_name("AES_CM_128_HMAC_SHA1_80"), SrtpSuite::aes_cm_128_hmac_sha1_80);
  EXPECT_EQ(srtp_suite_from_name("AEAD_AES_128_GCM"), SrtpSuite::aead_aes_128_gcm);
  EXPECT_FALSE(srtp_suite_from_name("F8_128_HMAC_SHA1_80"));
  EXPECT_EQ(srtp_key_length(SrtpSuite::aes_cm_128_hmac_sha1_32), 30u);
  EXPECT_EQ(srtp_key_length(SrtpSuite::aead_aes_128_gcm), 28u);
  EXPECT_EQ(srtp_policy_from_name("mandatory"), SrtpPolicy::mandatory);
  EXPECT_FALSE(srtp_policy_from_name("required"));
  EXPECT_NE(make_srtp_key(SrtpSuite::aes_cm_128_hmac_sha1_80), make_srtp_key(SrtpSuite::aes_cm_128_hmac_sha1_80));
}

TEST(Srtp, KeysOfTheWrongLengthAreRefused) {
  auto ctx = SrtpContext::create({SrtpSuite::aes_cm_128_hmac_sha1_80, std::string(28, 'k'), std::string(30, 'k')}, 1);
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().message().find("wrong length"), std::string::npos);
}

TEST(Srtp, NoRoomForTheTagMeansNoPacket) {
  auto [a, b] = make_pair(SrtpSuite::aes_cm_128_hmac_sha1_80, 1, 2);
  Packet p = rtp_packet(1, 1, 0);
  std::size_t length = p.length;
  EXPECT_FALSE(a->protect_rtp(std::span(p.buf).first(p.length + 4), length));
  EXPECT_EQ(length, p.length);
}

}  // namespace
}  // namespace sipline::gateway::media
