// The E-model (ITU-T G.107, simplified planning form) behind the call
// quality estimate. Reference values are worked by hand from the formulas in
// media/call_quality.hpp:
//   R = 93.2 - Id - Ie,eff
//   Id = 0.024 Ta + 0.11 (Ta - 177.3) for Ta > 177.3 ms
//   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl), G.711: Ie = 0, Bpl = 25.1
//   MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)
#include "media/call_quality.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::media {
namespace {

constexpr double kEps = 1e-3;

TEST(EModel, NoLossAndNoDelayGivesTheDefaultR) {
  EXPECT_NEAR(r_factor({}), 93.2, kEps);
  // 1 + 0.035 * 93.2 + 7e-6 * 93.2 * 33.2 * 6.8 = 1 + 3.262 + 0.147286
  EXPECT_NEAR(mos_from_r(93.2), 4.409286, 1e-5);
  EXPECT_NEAR(mos_from_r(r_factor({})), 4.41, 0.005);
}

TEST(EModel, DelayImpairmentIsLinearThenSteeperAfter177Ms) {
  EXPECT_NEAR(delay_impairment(0), 0.0, kEps);
  EXPECT_NEAR(delay_impairment(100), 2.4, kEps);            // 0.024 * 100
  EXPECT_NEAR(delay_impairment(177.3), 4.2552, kEps);       // the knee
  EXPECT_NEAR(delay_impairment(200), 7.297, kEps);          // 4.8 + 0.11 * 22.7
  EXPECT_NEAR(delay_impairment(400), 34.097, kEps);         // 9.6 + 0.11 * 222.7
  EXPECT_NEAR(delay_impairment(-5), 0.0, kEps);
}

TEST(EModel, RAtKnownLossAndDelayPoints) {
  // Ta 100 ms, no loss: 93.2 - 2.4 = 90.8; MOS 1 + 3.178 + 7e-6 * 90.8 * 30.8 * 9.2 = 4.358101
  EXPECT_NEAR(r_factor({.one_way_delay_ms = 100}), 90.8, kEps);
  EXPECT_NEAR(mos_from_r(90.8), 4.358101, 1e-5);
  // Ta 200 ms: 93.2 - 7.297 = 85.903
  EXPECT_NEAR(r_factor({.one_way_delay_ms = 200}), 85.903, kEps);
  // 1 % loss: Ie,eff = 95 / 26.1 = 3.639847; R = 89.560153
  EXPECT_NEAR(effective_equipment_impairment(0, 1, 1, 25.1), 3.639847, 1e-5);
  EXPECT_NEAR(r_factor({.loss_percent = 1}), 89.560153, kEps);
  // 5 % loss: Ie,eff = 475 / 30.1 = 15.780731; R = 77.419269
  EXPECT_NEAR(r_factor({.loss_percent = 5}), 77.419269, kEps);
  // Ta 200 ms and 2 % loss: 93.2 - 7.297 - 190 / 27.1 (7.011070) = 78.891930
  EXPECT_NEAR(r_factor({.one_way_delay_ms = 200, .loss_percent = 2}), 78.891930, kEps);
  // Bursty loss, BurstR 2 at 5 %: Ie,eff = 475 / 27.6 = 17.210145; R = 75.989855
  EXPECT_NEAR(r_factor({.loss_percent = 5, .burst_ratio = 2}), 75.989855, kEps);
  // Another codec: Ie 11, Bpl 19 (G.729A-like), 2 %: 11 + 84 * 2 / 21 = 19; R = 74.2
  EXPECT_NEAR(r_factor({.loss_percent = 2, .ie = 11, .bpl = 19}), 74.2, kEps);
}

TEST(EModel, RFallsAsLossOrDelayGrows) {
  double previous = r_factor({});
  for (double loss = 0.5; loss <= 60; loss += 0.5) {
    const double r = r_factor({.loss_percent = loss});
    EXPECT_LT(r, previous) << "loss " << loss;
    previous = r;
  }
  previous = r_factor({});
  for (double delay = 10; delay <= 600; delay += 10) {
    const double r = r_factor({.one_way_delay_ms = delay});
    EXPECT_LT(r, previous) << "delay " << delay;
    previous = r;
  }
  // MOS never falls as R rises.
  for (double r = 1; r <= 100; r += 1) EXPECT_GE(mos_from_r(r), mos_from_r(r - 1)) << "R " << r;
}

TEST(EModel, ClampsRAndMos) {
  EXPECT_DOUBLE_EQ(mos_from_r(-10), 1.0);
  EXPECT_DOUBLE_EQ(mos_from_r(0), 1.0);
  EXPECT_DOUBLE_EQ(mos_from_r(3), 1.0);  // the polynomial's dip (0.9889) is held at 1
  EXPECT_NEAR(mos_from_r(10), 1.035, 1e-9);  // 1 + 0.35 + 7e-6 * 10 * -50 * 90 = 1.035
  EXPECT_DOUBLE_EQ(mos_from_r(100), 4.5);
  EXPECT_DOUBLE_EQ(mos_from_r(140), 4.5);
  // 100 % loss and 1 s delay: 93.2 - 114.497 - 75.939 < 0 -> 0, MOS 1.
  EXPECT_DOUBLE_EQ(r_factor({.one_way_delay_ms = 1000, .loss_percent = 100}), 0.0);
  EXPECT_DOUBLE_EQ(mos_from_r(r_factor({.one_way_delay_ms = 1000, .loss_percent = 100})), 1.0);
  // A large advantage factor cannot lift R past 100.
  EXPECT_DOUBLE_EQ(r_factor({.advantage = 20}), 100.0);
  // Loss beyond 100 % counts as 100 %, below 0 as none.
  EXPECT_DOUBLE_EQ(r_factor({.loss_percent = 150}), r_factor({.loss_percent = 100}));
  EXPECT_DOUBLE_EQ(r_factor({.loss_percent = -3}), r_factor({}));
}

TEST(CallQuality, EstimatesDelayFromRttJitterBufferAndPacketisation) {
  StreamStats s;
  s.packets_received = 1000;
  s.rtt_ms = 40;
  s.playout_delay_ms = 60;
  // Ta = 40 / 2 + 60 + 20 = 100 ms -> R 90.8
  CallQuality q = assess(s);
  EXPECT_TRUE(q.rtt_known);
  EXPECT_NEAR(q.one_way_delay_ms, 100.0, kEps);
  EXPECT_NEAR(q.r_factor, 90.8, kEps);
  EXPECT_NEAR(q.mos, 4.358101, 1e-5);
  // An explicit jitter buffer delay overrides the stream's: 20 + 100 + 20 = 140 -> 93.2 - 3.36
  EXPECT_NEAR(assess(s, 100).r_factor, 89.84, kEps);

  // Unknown RTT counts as 0: Ta = 60 + 20 = 80 -> 93.2 - 1.92
  s.rtt_ms = -1;
  q = assess(s);
  EXPECT_FALSE(q.rtt_known);
  EXPECT_NEAR(q.one_way_delay_ms, 80.0, kEps);
  EXPECT_NEAR(q.r_factor, 91.28, kEps);
}

TEST(CallQuality, TakesTheWorseOfOurLossAndTheFarEnds) {
  StreamStats s;
  s.rtt_ms = 40;
  s.playout_delay_ms = 60;  // Ta 100 ms: Id 2.4
  s.packets_received = 950;
  s.packets_lost = 50;      // 5 % received lost
  s.remote_loss_percent = 1;
  CallQuality q = assess(s);
  EXPECT_NEAR(q.loss_percent, 5.0, kEps);
  EXPECT_NEAR(q.r_factor, 93.2 - 2.4 - 15.780731, kEps);  // 75.019269
  // The far end reports 8 %: 760 / 33.1 = 22.960725
  s.remote_loss_percent = 8;
  q = assess(s);
  EXPECT_NEAR(q.r_factor, 93.2 - 2.4 - 22.960725, kEps);  // 67.839275
}

TEST(CallQuality, LogFieldsSayUnknownRttAndCarryMos) {
  StreamStats s;
  s.packets_sent = 300;
  s.packets_received = 298;
  s.packets_lost = 2;
  s.playout_delay_ms = 60;
  const std::string unknown = quality_log_fields(s);
  EXPECT_NE(unknown.find("sent=300 received=298 lost=2 loss_percent=0.67"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("rtt_ms=unknown"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find(" mos="), std::string::npos) << unknown;
  s.rtt_ms = 12.34;
  const std::string known = quality_log_fields(s, "a_");
  EXPECT_NE(known.find("a_rtt_ms=12.3 "), std::string::npos) << known;
  EXPECT_NE(known.find("a_r_factor="), std::string::npos) << known;
  EXPECT_EQ(known.find(" mos="), std::string::npos) << known;  // every key has the prefix
}

}  // namespace
}  // namespace sipline::gateway::media
