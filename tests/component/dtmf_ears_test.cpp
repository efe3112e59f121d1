// Independent ears for DTMF (DESIGN.md, Testing): phone 1 dials digits during
// a connected call; the gateway detects them in phone 1's audio, sends them as
// RFC 4733 events over the SIP loopback call, and the receiving side plays them
// as DTMF tones to phone 2. Phone 2 records what it hears, and multimon-ng (not
// our detector) decodes the recording. sox measures that the rest is silent.
#include <filesystem>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;


// The digits multimon-ng reports ("DTMF: 5" lines), in order.
std::string multimon_digits(const std::string& output) {
  std::string digits;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("DTMF: ", 0) == 0 && line.size() > 6) digits += line[6];
  }
  return digits;
}

// One value ("RMS     amplitude:" etc.) from `sox FILE -n trim ... stat` output; -1 if absent.
double sox_stat(const std::string& output, const std::string& name) {
  const std::regex re(name + R"(:\s+(-?[0-9.]+))");
  std::smatch m;
  if (!std::regex_search(output, m, re)) return -1;
  return std::stod(m[1].str());
}

struct SoxStat {
  double rms = -1;
  double max_amplitude = -1;
  std::string output;
};

// sox's own measurement of [start_s, start_s + length_s) of `wav`.
SoxStat sox_measure(const std::string& wav, double start_s, double length_s, const std::string& log) {
  SoxStat s;
  const ToolRun run = run_tool({"sox", wav, "-n", "trim", std::to_string(start_s), std::to_string(length_s), "stat"}, log);
  s.output = run.output;
  s.rms = sox_stat(run.output, R"(RMS\s+amplitude)");
  s.max_amplitude = sox_stat(run.output, R"(Maximum amplitude)");
  return s;
}

TEST_F(GatewayTest, DigitsDialedDuringACallReachTheOtherPhoneOnceEachAsMultimonHearsThem) {
  if (!require_tool("multimon-ng") || !require_tool("sox")) return;
  GatewayOptions options;
  options.phones[1].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(gw.call_phone(kPhone1, "202", kPhone2));
  // Let both media paths settle before recording (no ringback left in flight).
  std::this_thread::sleep_for(500ms);

  const std::string wav = gw.dir() + "/phone2-heard.wav";
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "record", {{"file", wav}})));
  // 1 s of the connected call with nobody talking, then the digits.
  constexpr double kQuietBeforeS = 1.0;
  std::this_thread::sleep_for(1000ms);
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "159#"}})));
  // 4 digits x 160 ms, plus the jitter buffer and the playout, then 1.5 s of quiet.
  std::this_thread::sleep_for(2500ms);
  Json stopped = gw.phone(kPhone2, "stoprecord");
  if (!stopped.value("ok", false)) {
    std::this_thread::sleep_for(100ms);
    stopped = gw.phone(kPhone2, "stoprecord");
  }
  ASSERT_TRUE(is_ok(stopped));
  ASSERT_TRUE(std::filesystem::exists(wav)) << wav;
  // The call is still up: the digits did not end it or dial anything new.
  EXPECT_EQ(gw.line_state(kPhone1), "connected") << gw.describe();
  EXPECT_EQ(gw.line_state(kPhone2), "connected") << gw.describe();

  // multimon-ng reads raw 16-bit mono at 22050 Hz; sox converts the recording.
  const ToolRun decoded = run_tool(
      {"sh", "-c", "sox '" + wav + "' -t raw -r 22050 -e signed -b 16 -c 1 - | multimon-ng -t raw -a DTMF -"},
      gw.dir() + "/multimon.log");
  ASSERT_TRUE(decoded.finished) << decoded.output;
  EXPECT_EQ(decoded.exit_code, 0) << decoded.output;
  const std::string digits = multimon_digits(decoded.output);
  EXPECT_EQ(digits, "159#") << "multimon-ng heard '" << digits << "' in " << wav
                            << " (each digit exactly once, in order)\n"
                            << decoded.output;

  // sox: the recording's length is what we asked for, the quiet part before the
  // digits and the tail after them are silent, and the digit part is not.
  const ToolRun info = run_tool({"soxi", "-D", wav}, gw.dir() + "/soxi.log");
  const double seconds = info.output.empty() ? 0 : std::atof(info.output.c_str());
  ASSERT_GT(seconds, 3.0) << info.output;  // 1 s + 2.5 s asked for
  const SoxStat before = sox_measure(wav, 0.0, kQuietBeforeS - 0.1, gw.dir() + "/sox-before.log");
  const SoxStat tones = sox_measure(wav, kQuietBeforeS, 1.5, gw.dir() + "/sox-tones.log");
  const SoxStat after = sox_measure(wav, seconds - 0.6, 0.5, gw.dir() + "/sox-after.log");
  ASSERT_GE(before.rms, 0) << before.output;
  ASSERT_GE(tones.rms, 0) << tones.output;
  ASSERT_GE(after.rms, 0) << after.output;
  // -60 dBFS is 0.001 of full scale: comfortably below any tone or leakage.
  EXPECT_LT(before.rms, 0.001) << "before the digits:\n" << before.output;
  EXPECT_LT(before.max_amplitude, 0.01) << "before the digits:\n" << before.output;
  EXPECT_LT(after.rms, 0.001) << "after the digits:\n" << after.output;
  EXPECT_LT(after.max_amplitude, 0.01) << "after the digits:\n" << after.output;
  EXPECT_GT(tones.max_amplitude, 0.05) << "the digits' part:\n" << tones.output;

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 5s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "idle", 5s)) << gw.describe();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.describe();
}

}  // namespace
}  // namespace sipline::test
