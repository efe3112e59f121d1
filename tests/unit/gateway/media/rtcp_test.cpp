#include "media/rtcp.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::media {
namespace {

TEST(Rtcp, BuildsAndParsesASenderReportWithCname) {
  RtcpReport r;
  r.sender = true;
  r.ssrc = 0x11223344;
  r.sender_info = {.ntp_timestamp = 0xe0000000'80000000ull, .rtp_timestamp = 160000, .packet_count = 1000,
                   .octet_count = 160000};
  r.block_count = 1;
  r.blocks[0] = {.ssrc = 0x55667788, .fraction_lost = 64, .cumulative_lost = -3, .extended_highest_seq = 0x1ffff,
                 .jitter = 42, .lsr = 0x12345678, .dlsr = 65536};
  std::uint8_t buf[256];
  auto n = build_rtcp_report(r, "sipline@example", buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n % 4, 0u);
  EXPECT_EQ(buf[1], 200);  // SR first

  auto c = parse_rtcp(std::span<const std::uint8_t>(buf, *n));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->report.sender);
  EXPECT_EQ(c->report.ssrc, 0x11223344u);
  EXPECT_EQ(c->report.sender_info.ntp_timestamp, 0xe0000000'80000000ull);
  EXPECT_EQ(c->report.sender_info.rtp_timestamp, 160000u);
  EXPECT_EQ(c->report.sender_info.packet_count, 1000u);
  EXPECT_EQ(c->report.sender_info.octet_count, 160000u);
  ASSERT_EQ(c->report.block_count, 1u);
  const ReportBlock& b = c->report.blocks[0];
  EXPECT_EQ(b.ssrc, 0x55667788u);
  EXPECT_EQ(b.fraction_lost, 64);
  EXPECT_EQ(b.cumulative_lost, -3);
  EXPECT_EQ(b.extended_highest_seq, 0x1ffffu);
  EXPECT_EQ(b.jitter, 42u);
  EXPECT_EQ(b.lsr, 0x12345678u);
  EXPECT_EQ(b.dlsr, 65536u);
  ASSERT_TRUE(c->has_cname);
  EXPECT_EQ(c->cname_view(), "sipline@example");
  EXPECT_EQ(c->cname_ssrc, 0x11223344u);
}

TEST(Rtcp, BuildsAReceiverReportWithoutBlocks) {
  RtcpReport r;
  r.ssrc = 7;
  std::uint8_t buf[64];
  auto n = build_rtcp_report(r, "abcd", buf);  // CNAME fills the chunk exactly: a full null word follows
  ASSERT_TRUE(n);
  EXPECT_EQ(buf[1], 201);
  EXPECT_EQ(*n, 8u + 4u + 12u);
  auto c = parse_rtcp(std::span<const std::uint8_t>(buf, *n));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->report.sender);
  EXPECT_EQ(c->report.block_count, 0u);
  EXPECT_EQ(c->cname_view(), "abcd");
}

TEST(Rtcp, ParsesACompoundWithByeAndUnknownPackets) {
  RtcpReport r;
  r.ssrc = 9;
  std::vector<std::uint8_t> buf(64);
  auto n = build_rtcp_report(r, "x", buf);
  ASSERT_TRUE(n);
  buf.resize(*n);
  const std::uint8_t app[] = {0x80, 204, 0x00, 0x02, 0, 0, 0, 9, 'n', 'a', 'm', 'e'};
  const std::uint8_t bye[] = {0x81, 203, 0x00, 0x01, 0, 0, 0, 9};
  buf.insert(buf.end(), std::begin(app), std::end(app));
  buf.insert(buf.end(), std::begin(bye), std::end(bye));
  auto c = parse_rtcp(buf);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->has_bye);
  EXPECT_EQ(c->cname_view(), "x");
}

TEST(Rtcp, RejectsInvalidCompounds) {
  // does not start with SR/RR
  const std::uint8_t sdes_first[] = {0x81, 202, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_TRUE(parse_rtcp(sdes_first).error().is(RtcpError::not_report));
  // wrong version
  const std::uint8_t v1[] = {0x40, 201, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_TRUE(parse_rtcp(v1).error().is(RtcpError::bad_version));
  // length beyond the datagram
  const std::uint8_t long_len[] = {0x80, 201, 0x00, 0x05, 0, 0, 0, 1};
  EXPECT_TRUE(parse_rtcp(long_len).error().is(RtcpError::bad_length));
  // RR claims one report block but has none
  const std::uint8_t missing_block[] = {0x81, 201, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_TRUE(parse_rtcp(missing_block).error().is(RtcpError::bad_length));
  // trailing bytes that are not a whole packet
  const std::uint8_t trailing[] = {0x80, 201, 0x00, 0x01, 0, 0, 0, 1, 0x80, 202};
  EXPECT_TRUE(parse_rtcp(trailing).error().is(RtcpError::bad_length));
}

TEST(RtpReceiverStats, KeepsANewSourceOnProbationUntilTwoSequentialPackets) {
  RtpReceiverStats s;
  EXPECT_FALSE(s.update_seq(100));
  EXPECT_FALSE(s.valid());
  EXPECT_TRUE(s.update_seq(101));
  EXPECT_TRUE(s.valid());
  EXPECT_EQ(s.expected(), 1);
  EXPECT_EQ(s.cumulative_lost(), 0);
}

TEST(RtpReceiverStats, CountsLossAndFractionLostPerInterval) {
  RtpReceiverStats s;
  s.update_seq(0);
  for (std::uint16_t q = 1; q <= 100; ++q)
    if (q % 10 != 0) s.update_seq(q);  // every tenth lost: 10, 20 ... 100 (100 is the last: counted as not seen)
  // received 1..99 minus 10..90 (9 lost) ; the highest seen is 99
  EXPECT_EQ(s.extended_max(), 99u);
  EXPECT_EQ(s.expected(), 99);
  EXPECT_EQ(s.cumulative_lost(), 9);
  ReportBlock b;
  s.fill_report_block(b);
  EXPECT_EQ(b.cumulative_lost, 9);
  EXPECT_EQ(b.fraction_lost, (9 * 256) / 99);
  EXPECT_EQ(b.extended_highest_seq, 99u);
  // Next interval without loss.
  for (std::uint16_t q = 100; q < 150; ++q) s.update_seq(q);
  s.fill_report_block(b);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 9);
}

TEST(RtpReceiverStats, ExtendsTheSequenceAcrossWraparound) {
  RtpReceiverStats s;
  std::uint16_t q = 65530;
  for (int i = 0; i < 20; ++i) s.update_seq(q++);
  EXPECT_EQ(s.extended_max(), (1u << 16) + 13u);
  EXPECT_EQ(s.cumulative_lost(), 0);
}

TEST(RtpReceiverStats, RestartsAfterAConfirmedLargeJump) {
  RtpReceiverStats s;
  for (std::uint16_t q = 0; q < 10; ++q) s.update_seq(q);
  EXPECT_FALSE(s.update_seq(40000));  // a stray
  EXPECT_TRUE(s.update_seq(40001));   // confirmed: the sender restarted
  EXPECT_EQ(s.cumulative_lost(), 0);
  EXPECT_EQ(s.extended_max(), 40001u);
}

TEST(RtpReceiverStats, JitterIsZeroForPerfectlyTimedPacketsAndGrowsWithVariation) {
  RtpReceiverStats even;
  for (std::uint32_t i = 0; i < 50; ++i) even.update_jitter(i * 160, 5000 + i * 160);
  EXPECT_EQ(even.jitter(), 0u);

  RtpReceiverStats uneven;
  for (std::uint32_t i = 0; i < 200; ++i) uneven.update_jitter(i * 160, 5000 + i * 160 + (i % 2 ? 80 : 0));
  // |D| = 80 every packet: J converges to 80 (A.8).
  EXPECT_NEAR(static_cast<double>(uneven.jitter()), 80.0, 2.0);
}

// --- Round-trip time and the far end's view (RFC 3550 §6.4.1) ---

TEST(RtcpRoundTrip, MatchesTheRfc3550Example) {
  // §6.4.1's figure: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000
  // (46853.125 s), DLSR = 0x0005:4000 (5.250 s) -> 0x0006:2000 (6.125 s).
  EXPECT_EQ(rtcp_round_trip_units(0xb7108000u, 0xb7052000u, 0x00054000u), 0x00062000);
}

TEST(RtcpRoundTrip, IsUnknownWithoutLsrOrWhenNegative) {
  EXPECT_EQ(rtcp_round_trip_units(0xb7108000u, 0, 0), -1);                       // no SR from us seen yet
  EXPECT_EQ(rtcp_round_trip_units(0x00010000u, 0x00008000u, 0x00010000u), -1);  // DLSR too large
  EXPECT_EQ(rtcp_round_trip_units(0x00800000u, 0x00010000u, 0), -1);            // over 60 s: stale LSR
}

TEST(RtcpRoundTrip, WrapsWithTheMiddle32Bits) {
  // A just past the wrap: 0x1000 - 0xffffff00 = 0x1100, minus DLSR 0x100 = 0x1000 = 62.5 ms.
  EXPECT_EQ(rtcp_round_trip_units(0x00001000u, 0xffffff00u, 0x100u), 0x1000);
}

TEST(RtcpRoundTrip, NtpFromUnixTime) {
  EXPECT_EQ(ntp_from_unix(0, 0), 2208988800ull << 32);
  EXPECT_EQ(ntp_from_unix(1, 500000000), ((2208988801ull) << 32) | 0x80000000ull);
  // The middle 32 bits: the low 16 of the seconds, the high 16 of the fraction.
  EXPECT_EQ(ntp_middle32(ntp_from_unix(1, 500000000)),
            static_cast<std::uint32_t>(((2208988801ull & 0xffff) << 16) | 0x8000));
}

TEST(FarEndView, TakesRttLossAndJitterFromAReceiverReportAboutUs) {
  // The far end's RR: it last had our SR at 0x1234:5678 and held it 0.5 s.
  RtcpReport rr;
  rr.ssrc = 0xabcdef01;
  rr.block_count = 1;
  rr.blocks[0] = {.ssrc = 0x11223344, .fraction_lost = 64, .cumulative_lost = 20, .extended_highest_seq = 1000,
                  .jitter = 80, .lsr = 0x12345678, .dlsr = 0x8000};
  std::uint8_t buf[128];
  auto n = build_rtcp_report(rr, "far", buf);
  ASSERT_TRUE(n.has_value());
  auto c = parse_rtcp(std::span<const std::uint8_t>(buf, *n));
  ASSERT_TRUE(c.has_value());

  // It arrives 0.5 s + 40 ms (2621.44 units: 0x0a3d) after our SR.
  FarEndView view;
  EXPECT_FALSE(view.rtt_known());
  EXPECT_EQ(view.rtt_ms(), -1);
  const std::uint32_t arrival = 0x12345678u + 0x8000u + 0x0a3du;
  view.on_report_block(c->report.blocks[0], arrival, 400);
  ASSERT_TRUE(view.rtt_known());
  EXPECT_NEAR(view.rtt_ms(), 0x0a3d * 1000.0 / 65536.0, 1e-9);  // 39.993 ms
  EXPECT_NEAR(view.rtt_ms(), 40.0, 0.02);
  EXPECT_DOUBLE_EQ(view.fraction_lost(), 0.25);
  EXPECT_EQ(view.cumulative_lost(), 20);
  EXPECT_DOUBLE_EQ(view.loss_percent(), 5.0);   // 20 of 400 sent
  EXPECT_DOUBLE_EQ(view.jitter_ms(), 10.0);     // 80 units at 8 kHz
  EXPECT_EQ(view.reports(), 1u);

  // A second report, 20 ms of round trip (1310.72 units: 0x051f): last and average.
  ReportBlock b = c->report.blocks[0];
  b.lsr = 0x22000000;
  b.dlsr = 0x10000;  // held 1 s
  view.on_report_block(b, 0x22000000u + 0x10000u + 0x051fu, 600);
  EXPECT_NEAR(view.rtt_ms(), 0x051f * 1000.0 / 65536.0, 1e-9);
  EXPECT_NEAR(view.rtt_average_ms(), (0x0a3d + 0x051f) * 1000.0 / 65536.0 / 2, 1e-9);

  // A report without LSR keeps the last RTT and still updates loss and jitter.
  b.lsr = 0;
  b.dlsr = 0;
  b.fraction_lost = 0;
  b.cumulative_lost = -2;  // duplicates
  b.jitter = 16;
  view.on_report_block(b, 0x30000000u, 800);
  EXPECT_NEAR(view.rtt_ms(), 0x051f * 1000.0 / 65536.0, 1e-9);
  EXPECT_EQ(view.cumulative_lost(), -2);
  EXPECT_DOUBLE_EQ(view.loss_percent(), 0.0);
  EXPECT_DOUBLE_EQ(view.jitter_ms(), 2.0);
  EXPECT_EQ(view.reports(), 3u);
}

}  // namespace
}  // namespace sipline::gateway::media
