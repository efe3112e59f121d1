// DISA on an FXO port: a PSTN caller gets a second dial tone only when the
// port is configured for it, and then only by caller ID (disa_allow) or by
// keying the PIN. The simulated exchange calls the port with caller ID, the
// caller listens for the tones the gateway plays into the line and keys
// digits as DTMF; what it dials is routed like a phone's digits, to sipp
// (UAS), which must receive the INVITE with the caller's number in From.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
constexpr int kFxo = 2;  // after the phone

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class DisaTest : public GatewayTest {
 protected:
  // sipp answers calls to 7XXX; the FXO port has `port_toml`.
  bool start(Sipp& sipp, const std::string& port_toml) {
    SippOptions so;
    so.scenario_file = kFixtures + "/uas_answer.xml";
    so.timeout_s = 60;
    so.extra = {"-rtp_echo"};
    if (!sipp.start(so)) return false;
    GatewayOptions options;
    options.phones = {{"fxs1", "201", -1}};
    PhoneSpec fxo{"fxo1", "5550100", -1};
    fxo.kind = "fxo";
    fxo.extra_toml = port_toml;
    options.phones.push_back(fxo);
    options.dial_plan = {{"2XX", "sip:$digits@127.0.0.1:{sip_port}"},
                         {"7XXX", "sip:$digits@127.0.0.1:" + std::to_string(sipp.sip_port())}};
    return start_gateway(options);
  }
  // The exchange's caller hears `hz` from the gateway (sustained).
  bool caller_hears(int hz, std::chrono::milliseconds timeout, std::string& readings) {
    if (!is_ok(gw.exchange(kFxo, "listen", {{"hz", hz}}))) return false;
    int in_a_row = 0;
    return poll_until(
        [&] {
          const double r = gw.line(kFxo)["exchange"].value("listen_ratio", 0.0);
          readings += std::to_string(r).substr(0, 4) + " ";
          in_a_row = r > 0.3 ? in_a_row + 1 : 0;
          return in_a_row >= 3;
        },
        timeout, 100ms);
  }
  // The gateway's answer reaches the exchange (its seizure is read after
  // the debounce time): from then on the caller can key digits.
  bool answered() {
    return poll_until([&] { return gw.line(kFxo)["exchange"].value("state", "") == "connected"; }, 3s);
  }
  std::string invite() {
    const std::string log = read_file(gw.dir() + "/sipp/sipp_messages.log");
    const auto at = log.find("INVITE sip:");
    return at == std::string::npos ? std::string() : log.substr(at, log.find("\n\n", at) - at);
  }
};

TEST_F(DisaTest, ListedCallerGetsDialToneAndItsDigitsReachSipAsTheCaller) {
  if (!require_tool("sipp")) return;
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(start(sipp, "forward_to = \"sip:201@127.0.0.1:{sip_port}\"\ndisa_allow = [\"+12025550150\"]\n"))
      << sipp.diagnostics();
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "call", {{"number", "12025550150"}, {"name", "Bob Jones"}})));
  // Caller ID says who it is: the line is answered with dial tone (350 + 440 Hz).
  ASSERT_TRUE(gw.wait_line_state(kFxo, "disa_dialing", 15s)) << gw.describe();
  ASSERT_TRUE(answered()) << gw.line(kFxo).dump();
  std::string readings;
  EXPECT_TRUE(caller_hears(350, 3s, readings)) << "dial tone 350 Hz readings: " << readings;
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "dial", {{"digits", "7001"}})));
  ASSERT_TRUE(gw.wait_line_state(kFxo, "connected", 10s)) << gw.describe();
  const std::string inv = invite();
  EXPECT_NE(inv.find("INVITE sip:7001@"), std::string::npos) << inv << sipp.diagnostics();
  EXPECT_NE(inv.find("From: \"Bob Jones\" <sip:12025550150@"), std::string::npos) << inv;
  // The caller hangs up: BYE to sipp, the line released.
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "hangup")));
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(gw.wait_line_state(kFxo, "idle", 3s)) << gw.describe();
}

TEST_F(DisaTest, OtherCallersMustKeyThePinAndThreeWrongOnesReleaseTheLine) {
  if (!require_tool("sipp")) return;
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(start(sipp, "disa_pin = \"4711\"\ndisa_allow = [\"2025550150\"]\n")) << sipp.diagnostics();

  // An unlisted caller: stutter tone asks for the PIN; three wrong PINs and
  // the gateway hangs up without dialing anything.
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "call", {{"number", "2025550999"}})));
  ASSERT_TRUE(gw.wait_line_state(kFxo, "disa_pin", 15s)) << gw.describe();
  ASSERT_TRUE(answered()) << gw.line(kFxo).dump();
  std::string readings;
  EXPECT_TRUE(caller_hears(440, 3s, readings)) << "stutter dial tone 440 Hz readings: " << readings;
  for (const char* wrong : {"1234", "0000", "4712"}) {
    ASSERT_TRUE(is_ok(gw.exchange(kFxo, "dial", {{"digits", wrong}})));
    std::this_thread::sleep_for(2500ms);  // 4 digits (0.64 s), then reorder for 1.5 s
  }
  EXPECT_TRUE(gw.wait_line_state(kFxo, "idle", 3s)) << gw.describe();
  EXPECT_TRUE(poll_until([&] { return !gw.line(kFxo)["exchange"].value("seized", true); }, 3s))
      << gw.line(kFxo).dump();
  EXPECT_TRUE(sipp.process().running()) << "something was dialed: " << sipp.diagnostics();
  gw.exchange(kFxo, "hangup");
  ASSERT_TRUE(poll_until([&] { return gw.line(kFxo)["exchange"].value("state", "") == "idle"; }, 5s))
      << gw.line(kFxo).dump();

  // The right PIN (after one wrong one) gives dial tone, and the call goes out.
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "call", {{"number", "2025550999"}})));
  ASSERT_TRUE(gw.wait_line_state(kFxo, "disa_pin", 15s)) << gw.describe();
  ASSERT_TRUE(answered()) << gw.line(kFxo).dump();
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "dial", {{"digits", "9999"}})));
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "dial", {{"digits", "4711"}})));
  ASSERT_TRUE(gw.wait_line_state(kFxo, "disa_dialing", 5s)) << gw.describe();
  readings.clear();
  EXPECT_TRUE(caller_hears(350, 3s, readings)) << "dial tone 350 Hz readings: " << readings;
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "dial", {{"digits", "7002"}})));
  ASSERT_TRUE(gw.wait_line_state(kFxo, "connected", 10s)) << gw.describe();
  EXPECT_NE(invite().find("INVITE sip:7002@"), std::string::npos) << sipp.diagnostics();
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "hangup")));
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_TRUE(gw.wait_line_state(kFxo, "idle", 3s)) << gw.describe();
}

}  // namespace
}  // namespace sipline::test
