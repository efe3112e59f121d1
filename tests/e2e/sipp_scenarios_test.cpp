// sipp scenarios for the call flows around the basic call: CANCEL while
// ringing, no answer (480), SIP over TCP, a late offer (INVITE without SDP),
// SIGTERM ending a call with BYE, and a busy phone (486). Each scenario file in
// tests/fixtures/sipp/ checks the SIP side; the test checks the phone side
// through the control socket.
#include <signal.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
constexpr int kPhone1 = 1;


// A sipp UAC against the gateway: `scenario` to `service`, one call.
SippOptions uac(GatewayUnderTest& gw, const std::string& scenario, const std::string& service = "201") {
  SippOptions so;
  so.scenario_file = kFixtures + "/" + scenario;
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = service;
  so.timeout_s = 30;
  return so;
}

bool phone_ringing(GatewayUnderTest& gw, int index) {
  const Json l = gw.line(index);
  return l.is_object() && l.contains("phone") && l["phone"].value("ringing", false);
}

TEST_F(GatewayTest, SippCancelsWhileThePhoneRingsAndThePhoneStopsRinging) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway());  // no auto-answer: phone 1 rings until cancelled

  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac(gw, "uac_cancel.xml"))) << sipp.process().error();
  // The phone rings (the ring voltage is seen) while sipp waits before its CANCEL.
  bool rang = false;
  bool in_ringing_state = false;
  poll_until(
      [&] {
        const Json l = gw.line(kPhone1);
        if (l.is_object()) {
          in_ringing_state = in_ringing_state || l.value("state", "") == "ringing";
          rang = rang || (l.contains("phone") && l["phone"].value("ringing", false));
        }
        return !sipp.process().running();
      },
      35s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(in_ringing_state) << "line 1 never reached the ringing state";
  EXPECT_TRUE(rang) << "phone 1 never saw ring voltage";

  // After the CANCEL: no ring voltage, line idle, no call left.
  EXPECT_TRUE(poll_until([&] { return !phone_ringing(gw, kPhone1); }, 2s)) << gw.lines().dump();
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
  EXPECT_TRUE(gw.wait_call_count(0, 3s)) << gw.calls().dump();
  // ... and it stays quiet (no late ring burst from a cadence timer).
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(phone_ringing(gw, kPhone1)) << gw.lines().dump();
  EXPECT_EQ(gw.line_state(kPhone1), "idle");
}

TEST_F(GatewayTest, UnansweredSipCallGets480AfterTheNoAnswerTimeout) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.sip_extra_toml = "no_answer_timeout_s = 2\n";
  ASSERT_TRUE(start_gateway(options));

  Sipp sipp(gw.peer_dir("sipp"));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(sipp.start(uac(gw, "uac_no_answer.xml"))) << sipp.process().error();
  bool rang = false;
  poll_until(
      [&] {
        rang = rang || gw.line_state(kPhone1) == "ringing";
        return !sipp.process().running();
      },
      35s, 50ms);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(rang) << "line 1 never rang";
  // 2 s of ringing, then 480; sipp's own timewait adds 0.5 s.
  EXPECT_GE(elapsed, 1900ms);
  EXPECT_LT(elapsed, 6s);
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
  EXPECT_FALSE(phone_ringing(gw, kPhone1)) << gw.lines().dump();
  EXPECT_TRUE(gw.wait_call_count(0, 3s)) << gw.calls().dump();
}

TEST_F(GatewayTest, SippCallsAPhoneOverTcp) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  Sipp sipp(gw.peer_dir("sipp"));
  SippOptions so = uac(gw, "uac_call.xml");
  so.extra = {"-t", "t1"};
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();
  bool connected = false;
  poll_until(
      [&] {
        connected = connected || gw.line_state(kPhone1) == "connected";
        return !sipp.process().running();
      },
      35s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(connected) << "line 1 never reached connected";
  // sipp's messages went over TCP.
  EXPECT_NE(read_file(gw.dir() + "/sipp/sipp_messages.log").find("SIP/2.0/TCP"), std::string::npos)
      << sipp.diagnostics();
  // sipp's BYE ended the call; the phone, still off hook, hears the far end leave.
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "disconnected", 5s)) << gw.lines().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
}

TEST_F(GatewayTest, LateOfferInviteGetsAnOfferIn200AndTheAnswerInAckSetsPcmu) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac(gw, "uac_late_offer.xml"))) << sipp.process().error();
  // While sipp holds the call (3 s after its ACK), the calls list shows the
  // codec negotiated from the ACK's answer.
  std::string codec_while_connected;
  std::string last_calls;
  poll_until(
      [&] {
        const Json c = gw.calls();
        if (c.value("ok", false) && c["calls"].is_array() && c["calls"].size() == 1 &&
            c["calls"][0].value("state", "") == "connected") {
          codec_while_connected = c["calls"][0].value("codec", "");
          last_calls = c.dump();
        }
        return !sipp.process().running();
      },
      35s, 100ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_EQ(codec_while_connected, "PCMU") << "calls while connected: " << last_calls;
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
}

TEST_F(GatewayTest, SippGets486WhenThePhoneIsOffHook) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway());
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.lines().dump();

  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac(gw, "uac_busy.xml"))) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(35s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  // The phone with dial tone was not disturbed.
  EXPECT_EQ(gw.line_state(kPhone1), "dialtone");
  EXPECT_TRUE(gw.wait_call_count(0, 3s)) << gw.calls().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
}

// Not a GatewayTest: this test stops the daemon itself and checks how it exits.
TEST(GatewayShutdown, SigtermEndsAConnectedCallWithByeAndExitsZero) {
  if (!require_tool("sipp")) return;
  GatewayUnderTest gw;
  Sipp uas(gw.peer_dir("sipp-uas"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uas_answer.xml";
  so.timeout_s = 60;
  ASSERT_TRUE(uas.start(so)) << uas.process().error();

  GatewayOptions options;
  options.dial_plan.push_back({"5XXX", "sip:$digits@127.0.0.1:" + std::to_string(uas.sip_port())});
  ASSERT_TRUE(gw.start(options)) << gw.error();
  auto on_failure = [&] {
    gw.keep_dir();
    return "---- sipline log (" + gw.log_path() + ") ----\n" + gw.process().log_tail(60) + "\n" + uas.diagnostics();
  };

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.lines().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "5000#"}})));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 15s)) << gw.lines().dump() << "\n" << on_failure();
  ASSERT_EQ(gw.call_count(), 1u) << gw.calls().dump();
  std::this_thread::sleep_for(500ms);

  const auto signalled = std::chrono::steady_clock::now();
  gw.process().send_signal(SIGTERM);
  const bool exited = gw.process().wait_exit(5s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - signalled);
  EXPECT_TRUE(exited) << "sipline still running 5 s after SIGTERM\n" << on_failure();
  if (exited) {
    EXPECT_TRUE(gw.process().exited_normally() && gw.process().exit_code() == 0)
        << "sipline after SIGTERM: " << gw.process().describe_exit() << " after " << took.count() << " ms\n"
        << on_failure();
  }
  // sipp's UAS scenario only completes when it receives the BYE and answers it.
  ASSERT_TRUE(uas.wait(10s)) << "sipp did not end (no BYE?)\n" << on_failure();
  EXPECT_EQ(uas.process().exit_code(), 0) << on_failure();
  EXPECT_NE(read_file(gw.dir() + "/sipp-uas/sipp_messages.log").find("BYE sip:"), std::string::npos)
      << on_failure();
}

}  // namespace
}  // namespace sipline::test
