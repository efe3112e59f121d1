// Incoming calls on an FXO port from the simulated exchange, for every caller
// ID format: the exchange rings the port and sends the caller's identity as
// line audio (FSK or DTMF, with the profile's alerting; NTT's CAR needs the
// port's off-hook primary response); the gateway detects it with every
// decoder side by side (auto), forwards the call to sipp (UAS) with the
// number and name in From and P-Asserted-Identity (Privacy: id when
// withheld), and goes off hook when sipp answers. Two-way audio: the caller's
// 1400 Hz tone goes through the gateway to sipp, which echoes it, and the
// exchange's caller must hear it back. The caller hanging up (loop current
// drop) must send BYE to sipp within 1 s.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
constexpr int kFxo = 2;  // the FXO port comes after the phone
constexpr int kCallerTone = 1400;

struct Case {
  const char* country;
  const char* format;  // "" = the country's own
  const char* alert;   // "" = the country's own
  bool name;           // the format carries the name
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first INVITE in sipp's message trace.
std::string first_invite(const std::string& sipp_dir) {
  const std::string log = read_file(sipp_dir + "/sipp_messages.log");
  const auto at = log.find("INVITE sip:");
  if (at == std::string::npos) return {};
  const auto end = log.find("\n\n", at);
  return log.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

class FxoTest : public GatewayTest {
 protected:
  void run(const Case& c, bool withheld);
};

void FxoTest::run(const Case& c, bool withheld) {
  if (!require_tool("sipp")) return;
  // sipp answers and echoes the RTP it gets.
  const std::string sipp_dir = (std::filesystem::temp_directory_path() /
                                ("sipline-fxo-sipp-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(sipp_dir);
  Sipp sipp(sipp_dir);
  SippOptions so;
  so.scenario_file = kFixtures + "/uas_answer.xml";
  so.timeout_s = 60;
  so.extra = {"-rtp_echo"};
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();

  GatewayOptions options;
  options.country = c.country;
  options.phones = {{"fxs1", "201", -1}};
  PhoneSpec fxo{"fxo1", "5550100", -1};
  fxo.kind = "fxo";
  fxo.forward_to = "sip:sipp@127.0.0.1:" + std::to_string(sipp.sip_port());
  options.phones.push_back(fxo);
  ASSERT_TRUE(start_gateway(options));

  Json call = {{"number", "2025550150"}, {"name", "Bob Jones"}, {"tone", kCallerTone}, {"listen", kCallerTone},
               {"private", withheld}};
  if (*c.format) call["format"] = c.format;
  if (*c.alert) call["alert"] = c.alert;
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "call", call)));

  // Forwarded, answered by sipp, the port goes off hook: connected.
  ASSERT_TRUE(gw.wait_line_state(kFxo, "connected", 20s)) << gw.describe();
  EXPECT_TRUE(poll_until([&] { return gw.line(kFxo)["exchange"].value("state", "") == "connected"; }, 5s))
      << gw.line(kFxo).dump();
  // The caller hears its own tone back through the gateway and sipp's echo.
  bool heard = false;
  std::string ratios;
  poll_until(
      [&] {
        const double r = gw.line(kFxo)["exchange"].value("listen_ratio", 0.0);
        ratios += std::to_string(r).substr(0, 4) + " ";
        heard = r > 0.5;
        return heard;
      },
      5s, 100ms);
  EXPECT_TRUE(heard) << "the caller's tone did not come back: " << ratios;

  // The identity sipp received.
  const std::string invite = first_invite(sipp_dir);
  ASSERT_FALSE(invite.empty()) << sipp.diagnostics();
  if (withheld) {
    EXPECT_NE(invite.find("Privacy: id"), std::string::npos) << invite;
    EXPECT_NE(invite.find("From: \"Anonymous\" <sip:anonymous@anonymous.invalid>"), std::string::npos) << invite;
    EXPECT_EQ(invite.find("2025550150"), std::string::npos) << invite;
    EXPECT_EQ(invite.find("P-Asserted-Identity"), std::string::npos) << invite;
  } else {
    const std::string display = c.name ? "\"Bob Jones\" " : "";
    EXPECT_NE(invite.find("From: " + display + "<sip:2025550150@"), std::string::npos) << invite;
    EXPECT_NE(invite.find("P-Asserted-Identity: " + display + "<sip:2025550150@"), std::string::npos) << invite;
    EXPECT_EQ(invite.find("Privacy:"), std::string::npos) << invite;
  }

  // The caller hangs up: loop current drops, BYE goes to sipp within 1 s.
  const auto hung_up = std::chrono::steady_clock::now();
  ASSERT_TRUE(is_ok(gw.exchange(kFxo, "hangup")));
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  const auto bye_after = std::chrono::steady_clock::now() - hung_up;
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  // sipp ends 500 ms after the BYE (its timewait).
  EXPECT_LT(bye_after, 1500ms) << "BYE came late";
  EXPECT_TRUE(gw.wait_line_state(kFxo, "idle", 3s)) << gw.describe();
  EXPECT_TRUE(poll_until([&] { return !gw.line(kFxo)["exchange"].value("seized", true); }, 3s))
      << "the line stayed seized: " << gw.line(kFxo).dump();
  std::filesystem::remove_all(sipp_dir);
}

TEST_F(FxoTest, Bell202MdmfBetweenTheFirstRings) { run({"US", "", "", true}, false); }
TEST_F(FxoTest, Bell202Sdmf) { run({"US", "bell202_sdmf", "", false}, false); }
TEST_F(FxoTest, EtsiAfterLineReversalAndDtAs) { run({"FR", "", "", true}, false); }
TEST_F(FxoTest, EtsiAfterARingPulse) { run({"DE", "", "", true}, false); }
TEST_F(FxoTest, BritishTelecom) { run({"UK", "", "", true}, false); }
TEST_F(FxoTest, NttJclipWithThePrimaryResponse) { run({"JP", "", "", false}, false); }
TEST_F(FxoTest, DtmfAfterLineReversal) { run({"US", "dtmf", "line_reversal", false}, false); }
TEST_F(FxoTest, WithheldNumberGoesOutAnonymousWithPrivacyId) { run({"US", "", "", true}, true); }

}  // namespace
}  // namespace sipline::test
