// What an analog phone does with its hook switch, and what the line tells it
// back: rotary (pulse) dialing, hook flash, the disconnect signals (line
// reversal, an open loop for answering machines), re-origination and the
// receiver off-hook howler. The simulated phones really break their loop
// (60 ms breaks at 10 pulses per second, a timed flash) and the gateway reads
// it the way a line card does; what the phone gets back is checked by
// listening to it and by its loop current and polarity.
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"

namespace sipline::test {
namespace {

constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;

// Dial tone again (US: 350 + 440 Hz).
void expect_dial_tone(GatewayUnderTest& gw, int phone) {
  ASSERT_TRUE(is_ok(gw.phone(phone, "listen", {{"hz", 350}})));
  const auto heard = gw.wait_listen_ratio(phone, 0.3, 3s);
  EXPECT_TRUE(heard.sustained) << "350 Hz ratio readings: " << heard.history;
}

TEST_F(GatewayTest, RotaryDialedNumberRingsThePhoneAndFlashesAreRecallNotHangUp) {
  GatewayOptions options;
  // A rotary 0 takes 1 s of pulses after the dial's 0.7 s pause: longer
  // than the harness's quick 1.5 s interdigit timeout, as on a real line.
  options.interdigit_timeout_ms = 4000;
  ASSERT_TRUE(start_gateway(options));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();

  // Two digits pulsed, then a flash: the digits are forgotten and dial tone comes back.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "20"}, {"pulse", true}})));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialing", 5s)) << gw.describe();
  std::this_thread::sleep_for(2500ms);  // both digits out (1.2 s of pulses, 0.7 s pauses)
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "flash")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  EXPECT_EQ(gw.line(kPhone1).value("flashes", 0), 1) << gw.line(kPhone1).dump();
  expect_dial_tone(gw, kPhone1);

  // 202 by rotary dial: 2 + 10 + 2 pulses. Had the first "20" been kept,
  // 20202 would match nothing and give reorder.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "202"}, {"pulse", true}})));
  ASSERT_TRUE(gw.wait_line_state(kPhone2, "ringing", 10s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 5s)) << gw.describe();

  // A flash in the call is counted and leaves the call up; no pulse digit
  // was taken for a hang-up on the way.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "flash")));
  EXPECT_TRUE(poll_until([&] { return gw.line(kPhone1).value("flashes", 0) == 2; }, 3s)) << gw.line(kPhone1).dump();
  std::this_thread::sleep_for(1500ms);  // longer than any hang-up would take to be read
  EXPECT_EQ(gw.line_state(kPhone1), "connected") << gw.describe();
  EXPECT_EQ(gw.line_state(kPhone2), "connected") << gw.describe();

  // A real hang-up ends the call.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.describe();
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "disconnected", 5s)) << gw.describe();
}

TEST_F(GatewayTest, FarEndHangingUpReversesTheLineOpensTheLoopAndGivesFreshDialTone) {
  GatewayOptions options;
  options.phones[0].extra_toml = "polarity_on_answer = true\nreoriginate = true\n";
  options.phones[1].auto_answer_ms = 400;
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "202"}})));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 15s)) << gw.describe();
  // Answered: the line reverses (answer supervision for the phone).
  EXPECT_TRUE(poll_until([&] { return gw.line(kPhone1)["phone"].value("polarity_reversed", false); }, 3s))
      << gw.line(kPhone1).dump();
  const Json before = gw.line(kPhone1)["phone"];
  EXPECT_TRUE(before.value("battery", false)) << before.dump();

  // The far end hangs up: polarity back to normal, the loop opened for the
  // US profile's 800 ms, then dial tone for a new call.
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "onhook")));
  EXPECT_TRUE(poll_until([&] { return gw.line(kPhone1)["phone"].value("battery_drops", 0) >= 1; }, 5s))
      << gw.line(kPhone1).dump();
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 5s)) << gw.describe();
  const Json after = gw.line(kPhone1)["phone"];
  EXPECT_FALSE(after.value("polarity_reversed", true)) << after.dump();
  EXPECT_EQ(after.value("polarity_changes", 0) - before.value("polarity_changes", 0), 1) << after.dump();
  EXPECT_EQ(after.value("battery_drops", 0), 1) << after.dump();
  EXPECT_TRUE(after.value("battery", false)) << after.dump();
  expect_dial_tone(gw, kPhone1);

  // And the new call goes through.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "202"}})));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "connected", 15s)) << gw.describe();
}

TEST_F(GatewayTest, PhoneLeftOffHookGetsReorderThenTheHowler) {
  GatewayOptions options;
  options.lines_extra_toml = "first_digit_timeout_ms = 1000\nhowler_after_ms = 1500\nhowler_ms = 60000\n";
  ASSERT_TRUE(start_gateway(options));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "disconnected", 4s)) << gw.describe();
  // Reorder first (480 + 620 Hz) ...
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 620}})));
  const auto reorder = gw.wait_listen_ratio(kPhone1, 0.2, 2s, 2);
  EXPECT_TRUE(reorder.sustained) << "620 Hz ratio readings: " << reorder.history;
  // ... then the receiver off-hook tone (1400 + 2060 Hz, 0.1 s on/off).
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 1400}})));
  const auto howler = gw.wait_listen_ratio(kPhone1, 0.2, 4s);
  EXPECT_TRUE(howler.sustained) << "1400 Hz ratio readings: " << howler.history;
  // Hanging up silences it.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.describe();
}

// Out through the PSTN and back: phone 1 dials the number of the gateway's
// second exchange line over its first; the simulated exchange rings that
// line with caller ID, the gateway forwards the call to phone 2, and the two
// phones talk through both FXO lines and the exchange.
TEST_F(GatewayTest, PhoneCallsTheOtherPhoneThroughTheExchangeAndBothTalk) {
  GatewayOptions options;
  options.interdigit_timeout_ms = 4000;
  PhoneSpec line1{"fxo1", "5550100", -1};
  line1.kind = "fxo";
  line1.forward_to = "sip:201@127.0.0.1:{sip_port}";
  PhoneSpec line2{"fxo2", "5550200", -1};
  line2.kind = "fxo";
  line2.forward_to = "sip:202@127.0.0.1:{sip_port}";
  options.phones.push_back(line1);
  options.phones.push_back(line2);
  options.dial_plan = {{"2XX", "sip:$digits@127.0.0.1:{sip_port}"},
                       {.pattern = "555XXXX", .target = "", .steps = {"fxo:fxo1"}, .allow = {"lines"}}};
  ASSERT_TRUE(start_gateway(options));
  constexpr int kLine1 = 3, kLine2 = 4;

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "5550200"}})));
  // Line 1 dials, the exchange rings line 2 with line 1's number, which is
  // forwarded to phone 2 and shown on its display.
  ASSERT_TRUE(gw.wait_line_state(kPhone2, "ringing", 20s)) << gw.describe();
  EXPECT_TRUE(poll_until([&] { return gw.line(kPhone2)["phone"]["caller_id"].value("number", "") == "5550100"; }, 8s))
      << gw.line(kPhone2).dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 10s)) << gw.describe();
  EXPECT_EQ(gw.line_state(kLine1), "connected") << gw.describe();
  EXPECT_EQ(gw.line_state(kLine2), "connected") << gw.describe();

  // Two-way audio across both lines and the exchange.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 1209}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "listen", {{"hz", 697}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "tone", {{"hz", 1209}, {"hz2", 0}, {"level_dbfs", -10}})));
  const auto at_phone1 = gw.wait_listen_ratio(kPhone1, 0.5, 5s);
  const auto at_phone2 = gw.wait_listen_ratio(kPhone2, 0.5, 5s);
  EXPECT_TRUE(at_phone1.sustained) << "phone 1 listening for phone 2's 1209 Hz: " << at_phone1.history;
  EXPECT_TRUE(at_phone2.sustained) << "phone 2 listening for phone 1's 697 Hz: " << at_phone2.history;

  // Phone 1 hangs up: line 1 is released, the exchange clears line 2, and
  // phone 2 is told the far end left.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "disconnected", 8s)) << gw.describe();
  EXPECT_TRUE(gw.wait_line_state(kLine1, "idle", 3s)) << gw.describe();
  EXPECT_TRUE(gw.wait_line_state(kLine2, "idle", 3s)) << gw.describe();
}

}  // namespace
}  // namespace sipline::test

namespace sipline::test {
namespace {

// `siplinectl lines` meters each line's levels after the port's gains. Phone
// 1 (tx_gain_db -6, rx_gain_db +3) is off hook on dial tone (US: 350 + 440 Hz
// at -13 dBm0 each, -10 dBm0 together) and sends a 1 kHz tone at -10 dBFS
// (RMS against full scale: -3.8 dBm0, as 0 dBm0 is a sine of peak 22800, RMS
// 16122). Phone 2 is idle: silence both ways.
TEST_F(GatewayTest, LinesShowTheLevelsEachWayAfterThePortsGains) {
  GatewayOptions options;
  options.phones[0].extra_toml = "tx_gain_db = -6\nrx_gain_db = 3\necho_cancel = false";
  ASSERT_TRUE(start_gateway(options));
  ASSERT_TRUE(is_ok(gw.phone(1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(1, "tone", {{"hz", 1000}, {"level_dbfs", -10.0}})));
  std::this_thread::sleep_for(600ms);  // the meters average ~100 ms, published every 100 ms
  const Json phone1 = gw.line(1);
  const double tx = phone1.value("level_tx_dbm0", 0.0), rx = phone1.value("level_rx_dbm0", 0.0);
  EXPECT_NEAR(tx, 20 * std::log10(32767 * std::pow(10, -10 / 20.0) / (22800 / std::sqrt(2.0))) - 6, 1.0)
      << phone1.dump();
  EXPECT_NEAR(rx, -10 + 3, 1.0) << phone1.dump();
  EXPECT_EQ(phone1.value("echo_canceller", ""), "off") << phone1.dump();
  const Json phone2 = gw.line(2);
  EXPECT_LE(phone2.value("level_tx_dbm0", 0.0), -90) << phone2.dump();
  EXPECT_LE(phone2.value("level_rx_dbm0", 0.0), -90) << phone2.dump();
  EXPECT_EQ(phone2.value("echo_canceller", ""), "sipline") << phone2.dump();
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
}

}  // namespace
}  // namespace sipline::test
