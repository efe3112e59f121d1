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
#include <ctime>
#include <fstream>
#include <regex>
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

// ---- outgoing: SIP callers through the FXO line to the exchange ----
// The dial plan sends 555XXXX to the FXO port (an fxo: step); the exchange
// knows 5551234 (answers after 1.5 s, with a polarity reversal when the line
// is so configured), 5552222 (busy) and nothing else (SIT).

// When sipp logged each message: (seconds since the epoch, its first line).
std::vector<std::pair<double, std::string>> sipp_timeline(const std::string& dir) {
  std::vector<std::pair<double, std::string>> out;
  std::istringstream in(read_file(dir + "/sipp_messages.log"));
  const std::regex stamp(R"(^-+ (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d+))");
  double at = 0;
  bool want_first_line = false;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, stamp)) {
      std::tm t{};
      t.tm_year = std::stoi(m[1]) - 1900;
      t.tm_mon = std::stoi(m[2]) - 1;
      t.tm_mday = std::stoi(m[3]);
      t.tm_hour = std::stoi(m[4]);
      t.tm_min = std::stoi(m[5]);
      t.tm_sec = std::stoi(m[6]);
      at = static_cast<double>(timegm(&t)) + std::stod("0." + m[7].str());
      continue;
    }
    if (line.find("message received") != std::string::npos || line.find("message sent") != std::string::npos) {
      want_first_line = true;
      continue;
    }
    if (want_first_line && !line.empty()) {
      out.emplace_back(at, line);
      want_first_line = false;
    }
  }
  return out;
}

class FxoOutTest : public GatewayTest {
 protected:
  // Starts the gateway with the FXO port and the exchange's subscribers.
  bool start(const std::string& port_toml, int hangup_after_ms = -1) {
    GatewayOptions options;
    options.phones = {{"fxs1", "201", -1}};
    PhoneSpec fxo{"fxo1", "5550100", -1};
    fxo.kind = "fxo";
    fxo.forward_to = "sip:201@127.0.0.1:{sip_port}";
    fxo.extra_toml = port_toml;
    options.phones.push_back(fxo);
    options.dial_plan = {{"2XX", "sip:$digits@127.0.0.1:{sip_port}"},
                         {.pattern = "555XXXX", .target = "", .steps = {"fxo:fxo1"}, .allow = {"sip", "lines"}}};
    options.extra_toml = "[[sim.subscriber]]\nnumber = \"5551234\"\nanswer_after_ms = 1500\ntone_hz = 1000\n"
                         "hangup_after_ms = " + std::to_string(hangup_after_ms) + "\n"
                         "[[sim.subscriber]]\nnumber = \"5552222\"\nbehaviour = \"busy\"\n";
    return start_gateway(options);
  }
  SippOptions uac(const std::string& scenario, const std::string& number) {
    SippOptions so;
    so.scenario_file = kFixtures + "/" + scenario;
    so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
    so.service = number;
    so.timeout_s = 40;
    return so;
  }
  void expect_line_released() {
    EXPECT_TRUE(gw.wait_line_state(kFxo, "idle", 3s)) << gw.describe();
    EXPECT_TRUE(poll_until([&] { return !gw.line(kFxo)["exchange"].value("seized", true); }, 3s))
        << "the line stayed seized: " << gw.line(kFxo).dump();
  }
};

TEST_F(FxoOutTest, AnsweredCallGetsEarlyMediaThen200OnTheReversal) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start(""));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_early_media.xml", "5551234"))) << sipp.process().error();
  bool dialed = false;
  poll_until(
      [&] {
        dialed = dialed || gw.line(kFxo)["exchange"].value("digits", "") == "5551234";
        return !sipp.process().running();
      },
      30s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(dialed) << "the exchange never collected 5551234";
  // 183 (seized) before the 200, and the 200 only after the subscriber's 1.5 s of ringback.
  double early = 0, ok = 0;
  for (const auto& [at, line] : sipp_timeline(gw.peer_dir("sipp"))) {
    if (line.starts_with("SIP/2.0 183") && early == 0) early = at;
    if (line.starts_with("SIP/2.0 200") && ok == 0) ok = at;
  }
  ASSERT_GT(early, 0);
  ASSERT_GT(ok, 0);
  EXPECT_GT(ok - early, 1.5) << "answered before the subscriber did";
  expect_line_released();
}

TEST_F(FxoOutTest, BusySubscriberGives486) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start(""));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_busy.xml", "5552222"))) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(30s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  expect_line_released();
}

TEST_F(FxoOutTest, UnallocatedNumberGivesTheSpecialInformationToneAnd404) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start(""));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_not_found.xml", "5559999"))) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(30s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  expect_line_released();
}

// The subscriber hangs up 2 s after answering; the exchange signals it in
// the line's way, and the gateway must send BYE within `within` of that.
void run_disconnect(FxoOutTest& t, GatewayUnderTest& gw, Sipp& sipp, double within) {
  bool dialed = false;
  poll_until([&] {
    dialed = dialed || gw.line(kFxo)["exchange"].value("digits", "") == "5551234";
    return !sipp.process().running();
  }, 30s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  double ok = 0, bye = 0;
  for (const auto& [at, line] : sipp_timeline(gw.peer_dir("sipp"))) {
    if (line.starts_with("SIP/2.0 200") && ok == 0) ok = at;
    if (line.starts_with("BYE ") && bye == 0) bye = at;
  }
  ASSERT_GT(ok, 0) << sipp.diagnostics();
  ASSERT_GT(bye, 0) << sipp.diagnostics();
  // The hangup comes 2 s after the answer; allow the 200's own path (< 0.2 s).
  EXPECT_LT(bye - ok, 2.0 + within + 0.2) << "BYE " << (bye - ok) << " s after the 200";
  EXPECT_GT(bye - ok, 1.8) << "BYE before the far party hung up";
  (void)t;
}

TEST_F(FxoOutTest, LoopDropBringsByeWithinOneSecond) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start("sim_disconnect = \"loop_drop\"\n", 2000));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_call_until_bye.xml", "5551234"))) << sipp.process().error();
  run_disconnect(*this, gw, sipp, 1.0);
  expect_line_released();
}

TEST_F(FxoOutTest, PolarityReversalBringsByeWithinOneSecond) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start("sim_disconnect = \"polarity_reversal\"\n", 2000));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_call_until_bye.xml", "5551234"))) << sipp.process().error();
  run_disconnect(*this, gw, sipp, 1.0);
  expect_line_released();
}

TEST_F(FxoOutTest, BusyToneBringsByeWithinTheToneDetectionTime) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start("sim_disconnect = \"busy_tone\"\n", 2000));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_call_until_bye.xml", "5551234"))) << sipp.process().error();
  // US busy is confirmed after 1.6 s (two cycles; tests/unit/dsp/call_progress_test.cpp).
  run_disconnect(*this, gw, sipp, 2.5);
  expect_line_released();
}

// A line with no disconnect signal at all: the far party hangs up and the
// line just goes quiet. With silence_timeout_s = 3 the gateway gives up 3 s
// into the silence.
TEST_F(FxoOutTest, SilenceTimeoutBringsByeOnALineWithoutDisconnectSignal) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start("sim_disconnect = \"silence\"\nsilence_timeout_s = 3\n", 2000));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_call_until_bye.xml", "5551234"))) << sipp.process().error();
  run_disconnect(*this, gw, sipp, 3.5);
  expect_line_released();
}

// Rotary (loop disconnect) dialing towards the exchange: 5551234 is 25
// pulses and six pauses; the exchange counts them into the same number.
TEST_F(FxoOutTest, PulseDialedCallIsConnectedByTheExchange) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start("dial_mode = \"pulse\"\n"));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_early_media.xml", "5551234"))) << sipp.process().error();
  bool dialed = false;
  poll_until(
      [&] {
        dialed = dialed || gw.line(kFxo)["exchange"].value("digits", "") == "5551234";
        return !sipp.process().running();
      },
      35s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(dialed) << "the exchange never counted 5551234";
  expect_line_released();
}

// A phone dials out over the exchange line: the call loops through SIP to
// the gateway with a one-time token naming the FXO line, the phone hears the
// line (its dial tone, then the subscriber), and hanging up releases it.
TEST_F(FxoOutTest, PhoneDialsOutOverTheExchangeLineAndHearsTheSubscriber) {
  ASSERT_TRUE(start(""));
  constexpr int kPhone = 1;
  ASSERT_TRUE(is_ok(gw.phone(kPhone, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone, "dial", {{"digits", "5551234"}})));
  ASSERT_TRUE(poll_until([&] { return gw.line(kFxo)["exchange"].value("digits", "") == "5551234"; }, 15s, 50ms))
      << gw.line(kFxo).dump();
  // Answered by polarity reversal after 1.5 s; then the subscriber's 1000 Hz.
  ASSERT_TRUE(gw.wait_line_state(kPhone, "connected", 10s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone, "listen", {{"hz", 1000}})));
  const auto heard = gw.wait_listen_ratio(kPhone, 0.5, 4s);
  EXPECT_TRUE(heard.sustained) << "1000 Hz readings: " << heard.history;
  ASSERT_TRUE(is_ok(gw.phone(kPhone, "onhook")));
  expect_line_released();
}

// The loop-back URI's token is one-time and random: an outside INVITE
// naming the FXO line with a made-up token gets 403 and seizes nothing.
TEST_F(FxoOutTest, ForgedLineHopIsRefused) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start(""));
  Sipp sipp(gw.peer_dir("sipp"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_ruri_forbidden.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.timeout_s = 20;
  so.extra = {"-key", "ruri",
              "sip:5551234@127.0.0.1:" + std::to_string(gw.sip_port()) + ";sipline-hop=0123456789abcdef0123456789abcdef"};
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(15s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_FALSE(gw.line(kFxo)["exchange"].value("seized", true)) << gw.line(kFxo).dump();
  EXPECT_EQ(gw.line_state(kFxo), "idle") << gw.describe();
}

TEST_F(FxoOutTest, WithoutAnswerSupervisionTheEndOfDialingAnswers) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start("answer_on = \"dialed\"\nsim_answer_polarity = false\n"));
  Sipp sipp(gw.peer_dir("sipp"));
  ASSERT_TRUE(sipp.start(uac("uac_early_media.xml", "5551234"))) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(30s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  double early = 0, ok = 0;
  for (const auto& [at, line] : sipp_timeline(gw.peer_dir("sipp"))) {
    if (line.starts_with("SIP/2.0 183") && early == 0) early = at;
    if (line.starts_with("SIP/2.0 200") && ok == 0) ok = at;
  }
  ASSERT_GT(ok, 0);
  // Dial tone (1 s) + 7 digits (1.5 s): answered without waiting for the subscriber.
  EXPECT_LT(ok - early, 3.5);
  expect_line_released();
}

}  // namespace
}  // namespace sipline::test
