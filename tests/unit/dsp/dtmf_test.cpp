#include "sipline/dsp/dtmf.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipline/dsp/goertzel.hpp"
#include "signals.hpp"

namespace sipline::dsp {
namespace {

constexpr std::string_view kAllDigits = "123A456B789C*0#D";

struct TimedEvent {
  DtmfEvent event;
  int frame;
};

std::vector<TimedEvent> detect(const std::vector<base::AudioFrame>& frames) {
  DtmfDetector det;
  std::vector<TimedEvent> out;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    for (const DtmfEvent& e : det.process(frames[f])) out.push_back({e, static_cast<int>(f)});
  }
  return out;
}

std::vector<base::AudioFrame> frames_of(DtmfGenerator& gen, int count) {
  std::vector<base::AudioFrame> frames(static_cast<std::size_t>(count));
  for (auto& f : frames) gen.generate(f);
  return frames;
}

// Digits detected (start events) in order.
std::string digits_of(const std::vector<TimedEvent>& events) {
  std::string s;
  for (const auto& e : events) {
    if (!e.event.end) s += e.event.digit;
  }
  return s;
}

// Independent stimulus: each digit as two sines, `on_ms` on then `off_ms` off.
std::vector<base::AudioFrame> synth_digits(std::string_view digits, double low_dbm0, double high_dbm0, int on_ms,
                                           int off_ms) {
  std::vector<int16_t> s;
  test::append_silence(s, 40);
  for (char d : digits) {
    test::append_tones(s, {{test::dtmf_row_hz(d), low_dbm0}, {test::dtmf_col_hz(d), high_dbm0}}, on_ms);
    test::append_silence(s, off_ms);
  }
  test::append_silence(s, 100);
  return test::to_frames(s);
}

TEST(Dtmf, GeneratorToDetectorRoundTripsAllSixteenDigitsWithStartAndEnd) {
  DtmfGenerator gen;
  gen.queue(kAllDigits, 100, 100);
  const auto events = detect(frames_of(gen, 16 * 10 + 10));
  ASSERT_EQ(events.size(), 32u);
  for (std::size_t i = 0; i < 16; ++i) {
    const TimedEvent& start = events[2 * i];
    const TimedEvent& end = events[2 * i + 1];
    EXPECT_EQ(start.event.digit, kAllDigits[i]);
    EXPECT_FALSE(start.event.end);
    EXPECT_EQ(end.event.digit, kAllDigits[i]);
    EXPECT_TRUE(end.event.end);
    const int duration_ms = (end.frame - start.frame) * base::kFrameMs;
    EXPECT_NEAR(duration_ms, 100, 40) << kAllDigits[i];
    // Digits start every 200 ms: 10 frames apart.
    if (i > 0) {
      EXPECT_NEAR(start.frame - events[2 * i - 2].frame, 10, 1);
    }
  }
}

TEST(Dtmf, GeneratorKeepsEachQueuedDigitsOwnTiming) {
  DtmfGenerator gen;
  gen.queue("1", 60, 40);
  gen.queue("2", 200, 100);
  int active_frames = 0;
  std::vector<base::AudioFrame> frames;
  while (gen.active() && active_frames < 100) {
    frames.emplace_back();
    gen.generate(frames.back());
    ++active_frames;
  }
  EXPECT_EQ(active_frames, (60 + 40 + 200 + 100) / base::kFrameMs);
  frames.resize(frames.size() + 5);  // silence after
  const auto events = detect(frames);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(digits_of(events), "12");
  EXPECT_NEAR((events[3].frame - events[2].frame) * base::kFrameMs, 200, 40);
  EXPECT_NEAR((events[1].frame - events[0].frame) * base::kFrameMs, 60, 40);
}

TEST(Dtmf, GeneratorIsSilentAndInactiveWhenIdle) {
  DtmfGenerator gen;
  EXPECT_FALSE(gen.active());
  base::AudioFrame f;
  f.fill(7);
  gen.generate(f);
  EXPECT_EQ(level_dbfs(f), -120.0);
  gen.queue("x!", 100, 100);  // not DTMF digits: ignored
  EXPECT_FALSE(gen.active());
}

TEST(Dtmf, ContinuousDigitPlaysUntilStopped) {
  DtmfGenerator gen;
  gen.start('5');
  EXPECT_TRUE(gen.active());
  auto frames = frames_of(gen, 25);  // 500 ms
  EXPECT_TRUE(gen.active());
  gen.stop();
  EXPECT_FALSE(gen.active());
  const auto tail = frames_of(gen, 5);
  frames.insert(frames.end(), tail.begin(), tail.end());
  const auto events = detect(frames);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.digit, '5');
  EXPECT_FALSE(events[0].event.end);
  EXPECT_TRUE(events[1].event.end);
  EXPECT_NEAR((events[1].frame - events[0].frame) * base::kFrameMs, 500, 40);
  // spandsp's DTMF level: -10 dBm0 per tone (770 + 1336 Hz).
  EXPECT_NEAR(level_dbfs(frames[5]), -10 - 3.14 - 3.01 + 3.01, 0.5);
  EXPECT_GT(tone_power_ratio(frames[5], 770) + tone_power_ratio(frames[5], 1336), 0.9);
}

TEST(Dtmf, StartReplacesQueuedDigits) {
  DtmfGenerator gen;
  gen.queue("123", 100, 100);
  gen.start('#');
  auto frames = frames_of(gen, 10);
  gen.stop();
  const auto tail = frames_of(gen, 20);
  frames.insert(frames.end(), tail.begin(), tail.end());
  EXPECT_EQ(digits_of(detect(frames)), "#");
}

TEST(Dtmf, DetectsAllDigitsAtMinus25Dbm0) {
  const auto events = detect(synth_digits(kAllDigits, -25, -25, 60, 60));
  EXPECT_EQ(digits_of(events), std::string(kAllDigits));
  EXPECT_EQ(events.size(), 32u);
}

// spandsp accepts the low group up to 8 dB above the high group (the usual
// case after a long loop) and the high group up to about 3 dB above the low.
TEST(Dtmf, DetectsDigitsWithSixDbTwist) {
  EXPECT_EQ(digits_of(detect(synth_digits(kAllDigits, -14, -20, 60, 60))), std::string(kAllDigits));
  EXPECT_EQ(digits_of(detect(synth_digits(kAllDigits, -20, -18, 60, 60))), std::string(kAllDigits));
}

// The Analog lines acceptance: digits dialed at -10 to -30 dBm0 per tone
// with up to 4 dB of twist either way are all detected. The range is ITU-T
// Q.24's (its table 2: operating levels from about -3 to -30 dBm0 per
// frequency, and 4 dB twist that every administration accepts), and
// spandsp's own dtmf_rx test (tests/dtmf_rx_tests.c: dynamic range and
// twist sweeps) checks its detector against the same figures.
TEST(Dtmf, DetectsEveryDigitFromMinus10ToMinus30Dbm0WithFourDbTwist) {
  for (int level = -10; level >= -30; level -= 5) {
    for (int twist : {-4, 0, 4}) {  // low group minus high group, in dB
      const int low = twist >= 0 ? level : level + twist;
      const int high = twist >= 0 ? level - twist : level;
      SCOPED_TRACE("low " + std::to_string(low) + " dBm0, high " + std::to_string(high) + " dBm0");
      EXPECT_EQ(digits_of(detect(synth_digits(kAllDigits, low, high, 60, 60))), std::string(kAllDigits));
    }
  }
}

TEST(Dtmf, IgnoresDigitsBelowItsThreshold) {
  EXPECT_EQ(digits_of(detect(synth_digits(kAllDigits, -38, -38, 60, 60))), std::string(kAllDigits));
  EXPECT_EQ(digits_of(detect(synth_digits(kAllDigits, -50, -50, 60, 60))), "");
}

TEST(Dtmf, RejectsTwistBeyondItsLimits) {
  EXPECT_EQ(digits_of(detect(synth_digits("159#", -10, -22, 80, 80))), "");
  EXPECT_EQ(digits_of(detect(synth_digits("159#", -22, -12, 80, 80))), "");
}

TEST(Dtmf, DoesNotDetectAOneKilohertzTone) {
  std::vector<int16_t> s;
  test::append_tones(s, {{1000, -10}}, 5000);
  EXPECT_TRUE(detect(test::to_frames(s)).empty());
}

TEST(Dtmf, DoesNotDetectSpeechLikeSignals) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto speech = test::speech_like(10000, 16000.0, seed);
    const auto events = detect(test::to_frames(speech));
    EXPECT_TRUE(events.empty()) << "seed " << seed << " gave " << digits_of(events);
  }
}

TEST(Dtmf, DetectorStillReportsAfterBeingMoved) {
  DtmfDetector first;
  DtmfDetector det(std::move(first));
  const auto frames = synth_digits("7", -10, -10, 100, 100);
  std::string got;
  for (const auto& f : frames) {
    for (const DtmfEvent& e : det.process(f)) got += e.end ? '/' : e.digit;
  }
  EXPECT_EQ(got, "7/");
}

}  // namespace
}  // namespace sipline::dsp
