// baresip 1.0 as a softphone calling a simulated phone: audio both ways
// (ausine 1000 Hz into the call, the phone's 697 Hz recorded by sndfile) and
// an RFC 4733 digit from the phone to baresip. baresip runs as
// harness/baresip.hpp configures it (PEERS.md plus the menu module), in its
// own directory with its own ports, controlled over ctrl_tcp.
#include <thread>

#include <gtest/gtest.h>

#include "harness/baresip.hpp"
#include "harness/gateway_under_test.hpp"
#include "harness/tools.hpp"
#include "harness/wav_analysis.hpp"

namespace sipline::test {
namespace {

TEST_F(GatewayTest, BaresipCallsAPhoneWithAudioBothWaysAndReceivesItsDigit) {
  if (!require_tool("baresip")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  Baresip baresip;
  ASSERT_TRUE(baresip.start({.dir = gw.peer_dir("baresip"), .ausine_hz = 1000, .answermode = "manual"}))
      << baresip.error();
  BaresipCtrl& ctrl = baresip.ctrl();

  ASSERT_TRUE(ctrl.send("dial", "sip:201@127.0.0.1:" + std::to_string(gw.sip_port())));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 15s)) << gw.lines().dump() << "\n" << baresip.process().log_tail();
  EXPECT_TRUE(ctrl.wait_event("CALL_ESTABLISHED", "", 5s)) << ctrl.transcript();

  // baresip -> phone: ausine's 1000 Hz.
  ASSERT_TRUE(is_ok(gw.phone(1, "listen", {{"hz", 1000}})));
  const auto heard = gw.wait_listen_ratio(1, 0.3, 5s);
  EXPECT_TRUE(heard.sustained) << "1000 Hz at the phone: " << heard.history;

  // phone -> baresip: 697 Hz for 2 s, recorded by sndfile.
  ASSERT_TRUE(is_ok(gw.phone(1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(is_ok(gw.phone(1, "stop")));

  // A digit dialed on the phone during the call reaches baresip as an RFC 4733 event.
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "5"}})));
  const bool dtmf = poll_until(
      [&] {
        ctrl.pump(20ms);
        return ctrl.has_event("CALL_DTMF_START", "5") ||
               baresip.process().log_text().find("received event: '5'") != std::string::npos;
      },
      5s);
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(ctrl.wait_event("CALL_CLOSED", "", 5s)) << ctrl.transcript();
  EXPECT_TRUE(gw.wait_line_state(1, "idle", 5s)) << gw.lines().dump();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  baresip.quit();
  EXPECT_TRUE(dtmf || baresip.process().log_text().find("received event: '5'") != std::string::npos)
      << "baresip saw no RFC 4733 '5'\n" << ctrl.transcript() << baresip.process().log_tail();

  const auto dec = baresip.recording("-dec.wav");
  ASSERT_TRUE(dec.has_value()) << "no dump-*-dec.wav in " << baresip.rec_dir();
  std::string error;
  const auto audio = load_mono(*dec, &error);
  ASSERT_TRUE(audio.has_value()) << error;
  // 2 s of tone: at least 1 s worth of 100 ms windows must be clearly 697 Hz.
  const auto windows = tone_windows(*audio, 697, 0.5);
  EXPECT_GE(windows.above, 10) << *dec << ": " << audio->sample_rate << " Hz, " << audio->seconds() << " s, "
                               << windows.above << " of " << windows.windows
                               << " windows with 697 Hz (best ratio " << windows.max_ratio << ")";
}

}  // namespace
}  // namespace sipline::test
