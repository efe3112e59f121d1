// Line echo cancellation, measured where the far end hears it (issue 5,
// G.168-style). Phone 2's line has a simulated hybrid (sim_echo: a bulk delay,
// a 6 ms dispersive response, 6 or 12 dB of echo return loss and a little
// noise), so whatever phone 2 hears comes back into what it sends. Phone 1
// calls phone 2 over SIP and talks (speech from espeak-ng); phone 1 records
// what comes back. With media.echo_canceller = "off" that is the echo; with
// the canceller on it must be at least 30 dB weaker from 1 s into the far
// end's speech on (echo return loss enhancement, ERLE). The "off" run proves
// the echo is there, so the test can fail.
// Double talk: after the canceller has converged, phone 2's own speech must
// reach phone 1 at the same level (less than 3 dB lower) whether phone 1 is
// talking at the same time or not.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/tools.hpp"
#include "harness/wav_analysis.hpp"

namespace sipline::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;
// 0 dBm0 is a sine of peak 22800: its mean square.
constexpr double kZeroDbm0MeanSquare = 22800.0 * 22800.0 / 2;

// Speech from espeak-ng in `voice`, as an 8 kHz 16-bit mono WAV normalised to
// -3 dBFS peak (about -20 dBm0 on average). Empty on failure (logged).
std::string make_speech(const std::string& dir, const std::string& name, const std::string& voice,
                        const std::string& text) {
  const std::string raw = dir + "/" + name + "-espeak.wav", out = dir + "/" + name + ".wav";
  const ToolRun say = run_tool({"espeak-ng", "-v", voice, "-s", "165", "-w", raw, text}, dir + "/" + name + "-espeak.log");
  if (!say.finished || say.exit_code != 0) {
    ADD_FAILURE() << "espeak-ng failed: " << say.output;
    return "";
  }
  const ToolRun sox =
      run_tool({"sox", raw, "-r", "8000", "-c", "1", "-b", "16", out, "norm", "-3"}, dir + "/" + name + "-sox.log");
  if (!sox.finished || sox.exit_code != 0) {
    ADD_FAILURE() << "sox failed: " << sox.output;
    return "";
  }
  return out;
}

// Mean level of [start_s, start_s + length_s) in dBm0.
double level_dbm0(const MonoAudio& audio, double start_s, double length_s) {
  const auto from = static_cast<std::size_t>(std::max(0.0, start_s) * audio.sample_rate);
  const auto to = std::min(audio.samples.size(), static_cast<std::size_t>((start_s + length_s) * audio.sample_rate));
  if (to <= from) return -200;
  double sum = 0;
  for (std::size_t i = from; i < to; ++i) sum += static_cast<double>(audio.samples[i]) * audio.samples[i];
  return 10 * std::log10(std::max(sum / static_cast<double>(to - from), 1e-3) / kZeroDbm0MeanSquare);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

class EchoTest : public ::testing::Test {
 public:
  // What phone 1 heard from 1 s of its speech on, and what it said over the same time.
  struct EchoReturn {
    double heard_dbm0 = -200;
    double said_dbm0 = -200;
    std::string log;
  };

 protected:
  void SetUp() override {
    // Missing: a failure under CI, a skip elsewhere (the body does not run then).
    if (!require_tool("espeak-ng") || !require_tool("sox")) return;
    dir_ = std::filesystem::temp_directory_path() / ("sipline-echo-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    far_ = make_speech(dir_, "far", "en-us",
                       "Please listen carefully, as our menu options have changed. The quick brown fox jumps over "
                       "the lazy dog, and every telephone line reflects a little of what it hears.");
    near_ = make_speech(dir_, "near", "en-gb", "Hello, this is the other end speaking, can you hear me well?");
    ASSERT_FALSE(far_.empty() || near_.empty());
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Phone 2's line echoes (sim_echo); phone 2 answers by itself.
  GatewayOptions options(const std::string& canceller, double erl_db, int delay_ms) const {
    GatewayOptions o;
    o.phones[1].auto_answer_ms = 300;
    o.phones[1].extra_toml = "sim_echo = { erl_db = " + std::to_string(erl_db) + ", delay_ms = " +
                             std::to_string(delay_ms) + ", dispersion_ms = 6, noise_dbm0 = -70 }";
    o.media_extra_toml = "echo_canceller = \"" + canceller + "\"";
    return o;
  }

  // Phone 1 calls phone 2; true once both are connected and the media settled.
  static ::testing::AssertionResult connect(GatewayUnderTest& gw) {
    auto r = gw.call_phone(kPhone1, "202", kPhone2);
    std::this_thread::sleep_for(500ms);  // no ringback left in flight
    return r;
  }

  // Stops phone 1's recording and loads it.
  static std::optional<MonoAudio> stop_recording(GatewayUnderTest& gw, const std::string& wav) {
    Json stopped = gw.phone(kPhone1, "stoprecord");
    if (!stopped.value("ok", false)) {
      std::this_thread::sleep_for(100ms);
      stopped = gw.phone(kPhone1, "stoprecord");
    }
    if (!is_ok(stopped)) return std::nullopt;
    return load_mono(wav);
  }

  // Phone 1 talks for 6 s and records what comes back.
  EchoReturn measure(const std::string& canceller, double erl_db, int delay_ms) {
    EchoReturn r;
    GatewayUnderTest gw;
    if (!gw.start(options(canceller, erl_db, delay_ms))) {
      ADD_FAILURE() << gw.error();
      return r;
    }
    if (auto connected = connect(gw); !connected) {
      ADD_FAILURE() << "no call: " << connected.message();
      return r;
    }
    const std::string wav = gw.dir() + "/phone1-heard.wav";
    EXPECT_TRUE(is_ok(gw.phone(kPhone1, "record", {{"file", wav}})));
    EXPECT_TRUE(is_ok(gw.phone(kPhone1, "play", {{"file", far_}, {"loop", true}})));
    std::this_thread::sleep_for(6000ms);
    const auto heard = stop_recording(gw, wav);
    EXPECT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
    r.log = gw.process().log_tail(20);
    const auto said = load_mono(far_);
    if (!heard || !said) {
      ADD_FAILURE() << "no recording";
      return r;
    }
    // From 1 s of far-end speech to the end: the echo comes back a network
    // round trip (under 0.3 s) after it was said, so the window starts there.
    r.heard_dbm0 = level_dbm0(*heard, 1.3, 4.4);
    r.said_dbm0 = level_dbm0(*said, 1.0, std::min(4.4, said->seconds() - 1.0));
    return r;
  }

  std::string dir_;
  std::string far_, near_;
};

// One hybrid: the echo without a canceller, and with sipline's.
void expect_erle(EchoTest::EchoReturn off, EchoTest::EchoReturn on, double erl_db) {
  const double echo_return_off = off.heard_dbm0 - off.said_dbm0;
  const double erle = off.heard_dbm0 - on.heard_dbm0;
  // Without a canceller the echo is there, about as strong as the hybrid's ERL says.
  EXPECT_GT(echo_return_off, -erl_db - 8) << "said " << off.said_dbm0 << " dBm0, heard " << off.heard_dbm0
                                          << " dBm0\n" << off.log;
  EXPECT_LT(echo_return_off, -erl_db + 5) << off.log;  // speech has more energy where the hybrid passes most
  EXPECT_GE(erle, 30.0) << "ERL " << erl_db << " dB: echo " << off.heard_dbm0 << " dBm0 without the canceller, "
                        << on.heard_dbm0 << " dBm0 with it\n" << on.log;
  std::printf("ERL %.0f dB: echo without canceller %.1f dBm0 (said %.1f), with %.1f dBm0: ERLE %.1f dB\n", erl_db,
              off.heard_dbm0, off.said_dbm0, on.heard_dbm0, erle);
}

TEST_F(EchoTest, CancellerRemovesAtLeast30DbOfA6DbHybridEchoWithin1s) {
  expect_erle(measure("off", 6, 4), measure("sipline", 6, 4), 6);
}

TEST_F(EchoTest, CancellerRemovesAtLeast30DbOfA12DbHybridEchoDelayed12Ms) {
  expect_erle(measure("off", 12, 12), measure("sipline", 12, 12), 12);
}

// After convergence: phone 2's speech alone, then phone 2's speech while
// phone 1 talks too. Phone 1 must hear phone 2 at (nearly) the same level.
TEST_F(EchoTest, DoubleTalkDoesNotSuppressTheNearEndSpeech) {
  GatewayUnderTest gw;
  ASSERT_TRUE(gw.start(options("sipline", 6, 8))) << gw.error();
  ASSERT_TRUE(connect(gw));
  const std::string wav = gw.dir() + "/phone1-heard.wav";
  const auto near = load_mono(near_);
  ASSERT_TRUE(near);
  const double clip_s = near->seconds();

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "record", {{"file", wav}})));
  const auto t0 = Clock::now();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "play", {{"file", far_}, {"loop", true}})));
  std::this_thread::sleep_for(3000ms);  // the canceller converges on phone 2's line
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "stop")));
  std::this_thread::sleep_for(500ms);   // the last echo dies away
  const double alone_at = seconds_since(t0);
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "play", {{"file", near_}})));
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(clip_s * 1000) + 500));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "play", {{"file", far_}, {"loop", true}})));
  std::this_thread::sleep_for(300ms);   // phone 1's speech is on the line first
  const double both_at = seconds_since(t0);
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "play", {{"file", near_}})));
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(clip_s * 1000) + 500));
  const auto heard = stop_recording(gw, wav);
  ASSERT_TRUE(heard);

  // The same clip both times; measured from 0.3 s in (one way through the
  // network) over all but its last 0.4 s.
  const double length = clip_s - 0.4;
  const double alone = level_dbm0(*heard, alone_at + 0.3, length);
  const double both = level_dbm0(*heard, both_at + 0.3, length);
  std::printf("near-end speech heard alone %.1f dBm0, during double talk %.1f dBm0\n", alone, both);
  EXPECT_GT(alone, -40) << "phone 2's speech did not reach phone 1";
  EXPECT_GT(both, alone - 3.0) << "double talk suppressed the near end: alone " << alone << " dBm0, with far-end "
                               << "speech " << both << " dBm0\n" << gw.process().log_tail(20);
  EXPECT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
}

}  // namespace
}  // namespace sipline::test
