// Country profiles as the phone meets them: lines.country picks the dial tone
// and the ring cadence. The ring cadence is sampled from the simulated phone's
// ring-voltage flag through the control socket, so it is the cadence the line
// really applies, not a table lookup.
#include <algorithm>
#include <chrono>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"

namespace sipline::test {
namespace {

constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;


// One run of equal readings of the ringing flag.
struct Run {
  bool ringing = false;
  long ms = 0;
};

struct Cadence {
  std::vector<Run> runs;  // every run seen, first and last ones partial
  std::string trace;      // "on 1003 / off 1998 / ..." for failure messages
};

// Samples phone `index`'s "ringing" flag every 100 ms for `duration` and cuts
// the readings into runs. A run's length is measured between the steady-clock
// times of the first reading of that run and of the next run (100 ms resolution).
Cadence sample_ringing(GatewayUnderTest& gw, int index, std::chrono::milliseconds duration) {
  using Clock = std::chrono::steady_clock;
  struct Reading {
    Clock::time_point at;
    bool ringing;
  };
  std::vector<Reading> readings;
  const auto start = Clock::now();
  auto next = start;
  while (Clock::now() - start < duration) {
    const Json l = gw.line(index);
    const bool ringing = l.is_object() && l.contains("phone") && l["phone"].value("ringing", false);
    readings.push_back({Clock::now(), ringing});
    next += 100ms;
    std::this_thread::sleep_until(next);
  }
  Cadence c;
  std::size_t first = 0;
  for (std::size_t i = 1; i <= readings.size(); ++i) {
    if (i == readings.size() || readings[i].ringing != readings[first].ringing) {
      const auto end = i == readings.size() ? readings.back().at : readings[i].at;
      c.runs.push_back(
          {readings[first].ringing, std::chrono::duration_cast<std::chrono::milliseconds>(end - readings[first].at).count()});
      first = i;
    }
  }
  std::ostringstream t;
  for (const auto& r : c.runs) t << (r.ringing ? "on " : "off ") << r.ms << " / ";
  c.trace = t.str();
  return c;
}

// Phone 1 calls phone 2 (which does not answer); checks the complete on and off
// runs of phone 2's ring (not the first and last, which the sampling window cuts).
void expect_ring_cadence(GatewayUnderTest& gw, long on_ms, long off_ms, std::chrono::milliseconds window) {
  constexpr long kTolerance = 250;
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "202"}})));
  // Sampling starts before the first ring, so the first on-run is complete too.
  const Cadence c = sample_ringing(gw, kPhone2, window);
  EXPECT_EQ(gw.line_state(kPhone2), "ringing") << gw.describe();
  ASSERT_GE(c.runs.size(), 4u) << "ring runs: " << c.trace;
  EXPECT_FALSE(c.runs.front().ringing) << "phone 2 rang before the call was placed? " << c.trace;
  int full_on = 0;
  int full_off = 0;
  for (std::size_t i = 1; i + 1 < c.runs.size(); ++i) {
    const Run& r = c.runs[i];
    if (r.ringing) {
      ++full_on;
      EXPECT_NEAR(r.ms, on_ms, kTolerance) << "ring on-time, run " << i << ": " << c.trace;
    } else {
      ++full_off;
      EXPECT_NEAR(r.ms, off_ms, kTolerance) << "ring off-time, run " << i << ": " << c.trace;
    }
  }
  EXPECT_GE(full_on, 1) << c.trace;
  EXPECT_GE(full_off, 1) << c.trace;

  // The caller gives up: phone 2 stops ringing.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "idle", 5s)) << gw.describe();
  EXPECT_TRUE(poll_until([&] { return !gw.line(kPhone2)["phone"].value("ringing", true); }, 3s)) << gw.describe();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.describe();
}

TEST_F(GatewayTest, JapaneseLinesGive400HzDialToneAndRingOneSecondInThree) {
  GatewayOptions options;
  options.country = "JP";
  // Without caller ID: NTT's CAR signal would come first (e2e caller_id_test
  // measures the cadence after it).
  options.phones[1].caller_id = "none";
  ASSERT_TRUE(start_gateway(options));

  // NTT dial tone: 400 Hz continuous, a single frequency, so it carries nearly all the power.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 400}})));
  const auto dial_tone = gw.wait_listen_ratio(kPhone1, 0.7, 3s);
  EXPECT_TRUE(dial_tone.sustained) << "400 Hz ratio readings: " << dial_tone.history;
  // Not the US dial tone.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 350}})));
  std::this_thread::sleep_for(400ms);
  EXPECT_LT(gw.line(kPhone1)["phone"].value("listen_ratio", 1.0), 0.1) << gw.line(kPhone1).dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.describe();

  // JP ring: 1 s on, 2 s off.
  expect_ring_cadence(gw, 1000, 2000, 4500ms);
}

TEST_F(GatewayTest, UsLinesRingTwoSecondsInSix) {
  ASSERT_TRUE(start_gateway());  // country "US" by default
  expect_ring_cadence(gw, 2000, 4000, 7500ms);
}

}  // namespace
}  // namespace sipline::test
