// sipp (sip-tester) as the far end: it calls a phone and sends RFC 4733 DTMF
// from a pcap, and it answers a phone's call and echoes its RTP back.
#include <filesystem>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";


TEST_F(GatewayTest, SippCallsAPhoneAndItsRfc4733DigitIsPlayedToThePhone) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(std::filesystem::exists("/usr/share/sip-tester/dtmf_2833_1.pcap"));
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  Sipp sipp(gw.peer_dir("sipp"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_pcap.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "201";
  so.timeout_s = 30;
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();

  // Watch the phone during the call: it must answer and hear the digit.
  bool connected = false;
  std::string heard;
  poll_until(
      [&] {
        const Json l = gw.line(1);
        if (l.is_object()) {
          connected = connected || l.value("state", "") == "connected";
          const std::string digits = l["phone"].value("heard_digits", "");
          if (digits.size() > heard.size()) heard = digits;
        }
        return !sipp.process().running();
      },
      40s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(connected) << "line 1 never reached connected";
  const Json l = gw.line(1);
  if (l.is_object()) {
    const std::string digits = l["phone"].value("heard_digits", "");
    if (digits.size() > heard.size()) heard = digits;
  }
  EXPECT_NE(heard.find('1'), std::string::npos) << "phone heard digits '" << heard << "'";
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

TEST_F(GatewayTest, PhoneCallsSippAndHearsItsOwnToneEchoedBack) {
  if (!require_tool("sipp")) return;
  Sipp uas(gw.peer_dir("sipp-uas"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uas_answer.xml";
  so.timeout_s = 60;
  so.extra = {"-rtp_echo"};
  ASSERT_TRUE(uas.start(so)) << uas.process().error();

  GatewayOptions options;
  options.dial_plan.push_back({"5XXX", "sip:$digits@127.0.0.1:" + std::to_string(uas.sip_port())});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(is_ok(gw.phone(1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.lines().dump();
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "5000#"}})));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 15s)) << gw.lines().dump() << "\n" << uas.diagnostics();

  const Json calls = gw.calls();
  ASSERT_TRUE(is_ok(calls));
  ASSERT_EQ(calls["calls"].size(), 1u) << calls.dump();
  EXPECT_EQ(calls["calls"][0].value("direction", ""), "outbound");
  EXPECT_NE(calls["calls"][0].value("remote", "").find("5000@127.0.0.1:" + std::to_string(uas.sip_port())),
            std::string::npos)
      << calls.dump();

  // Before the phone plays anything there is no 1000 Hz on the line...
  ASSERT_TRUE(is_ok(gw.phone(1, "listen", {{"hz", 1000}})));
  std::this_thread::sleep_for(500ms);
  EXPECT_LT(gw.line(1)["phone"].value("listen_ratio", 1.0), 0.2) << gw.line(1).dump();
  // ... then it comes back from sipp's RTP echo.
  ASSERT_TRUE(is_ok(gw.phone(1, "tone", {{"hz", 1000}, {"hz2", 0}, {"level_dbfs", -10}})));
  const auto echoed = gw.wait_listen_ratio(1, 0.5, 5s);
  EXPECT_TRUE(echoed.sustained) << "1000 Hz readings: " << echoed.history;
  const Json during = gw.calls();
  ASSERT_EQ(during["calls"].size(), 1u) << during.dump();
  EXPECT_GT(during["calls"][0]["rtp"].value("sent", 0), 0) << during.dump();
  EXPECT_GT(during["calls"][0]["rtp"].value("received", 0), 0) << during.dump();

  ASSERT_TRUE(is_ok(gw.phone(1, "stop")));
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(1, "idle", 5s)) << gw.lines().dump();
  ASSERT_TRUE(uas.wait(10s)) << "sipp did not end (no BYE?)\n" << uas.diagnostics();
  EXPECT_EQ(uas.process().exit_code(), 0) << uas.diagnostics();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

}  // namespace
}  // namespace sipline::test
