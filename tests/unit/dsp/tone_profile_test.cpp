// Each built-in profile against the national values, measured on the
// generated audio: frequencies by Goertzel over each on-period, cadence by
// the level of each 20 ms frame.
#include "sipline/dsp/tone_profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sipline/dsp/goertzel.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "signals.hpp"

namespace sipline::dsp {
namespace {

constexpr double kOnThresholdDbfs = -45.0;
constexpr int kSamplesPerMs = base::kSampleRate / 1000;

std::vector<int16_t> render(const ToneSpec& spec, int ms) {
  ToneGenerator gen;
  gen.start(&spec);
  std::vector<int16_t> out;
  base::AudioFrame frame;
  for (int t = 0; t < ms; t += base::kFrameMs) {
    gen.generate(frame);
    out.insert(out.end(), frame.begin(), frame.end());
  }
  return out;
}

struct LevelRun {
  bool on;
  std::size_t start;  // sample index
  std::size_t length; // samples
};

// On/off runs, decided frame by frame.
std::vector<LevelRun> frame_runs(const std::vector<int16_t>& s) {
  std::vector<LevelRun> runs;
  for (std::size_t f = 0; f + base::kFrameSamples <= s.size(); f += base::kFrameSamples) {
    const bool on = level_dbfs(std::span(s).subspan(f, base::kFrameSamples)) > kOnThresholdDbfs;
    if (runs.empty() || runs.back().on != on) runs.push_back({on, f, 0});
    runs.back().length += base::kFrameSamples;
  }
  return runs;
}

struct Expected {
  std::string country;
  ToneKind kind;
  std::vector<double> freqs;    // Hz; sidebands included for AM tones
  std::vector<int> cadence_ms;  // on, off, ... repeated; empty = continuous
  const char* name;
};

// Values from the brief's national tone plans (E.180 Suppl. 2, national specs).
const std::vector<Expected>& expectations() {
  static const std::vector<Expected> kAll = {
      {"US", ToneKind::dial, {350, 440}, {}, "US dial"},
      {"US", ToneKind::ringback, {440, 480}, {2000, 4000}, "US ringback"},
      {"US", ToneKind::busy, {480, 620}, {500, 500}, "US busy"},
      {"US", ToneKind::congestion, {480, 620}, {250, 250}, "US reorder"},
      {"US", ToneKind::call_waiting, {440}, {300, 9700}, "US call waiting"},
      {"JP", ToneKind::dial, {400}, {}, "JP dial"},
      {"JP", ToneKind::ringback, {384, 400, 416}, {1000, 2000}, "JP ringback"},
      {"JP", ToneKind::busy, {400}, {500, 500}, "JP busy"},
      {"JP", ToneKind::congestion, {400}, {500, 500}, "JP congestion"},
      {"JP", ToneKind::stutter_dial, {400}, {125, 125}, "JP special dial"},
      {"UK", ToneKind::dial, {350, 450}, {}, "UK dial"},
      {"UK", ToneKind::ringback, {400, 450}, {400, 200, 400, 2000}, "UK ringback"},
      {"UK", ToneKind::busy, {400}, {375, 375}, "UK busy"},
      {"UK", ToneKind::congestion, {400}, {400, 350, 225, 525}, "UK congestion"},
      {"DE", ToneKind::dial, {425}, {}, "DE dial"},
      {"DE", ToneKind::ringback, {425}, {1000, 4000}, "DE ringback"},
      {"DE", ToneKind::busy, {425}, {480, 480}, "DE busy"},
      {"DE", ToneKind::congestion, {425}, {240, 240}, "DE congestion"},
      {"DE", ToneKind::call_waiting, {425}, {200, 200, 200, 5000}, "DE call waiting"},
      {"DE", ToneKind::stutter_dial, {400, 425}, {}, "DE special dial"},
      {"FR", ToneKind::dial, {440}, {}, "FR dial"},
      {"FR", ToneKind::ringback, {440}, {1500, 3500}, "FR ringback"},
      {"FR", ToneKind::busy, {440}, {500, 500}, "FR busy"},
      {"FR", ToneKind::congestion, {440}, {250, 250}, "FR congestion"},
  };
  return kAll;
}

// Sum of the Goertzel ratios of `freqs` over the middle of a run, with a
// window long enough to separate close pairs (400/425 Hz, 440/480 Hz).
void expect_frequencies(const std::vector<int16_t>& s, const LevelRun& run, const std::vector<double>& freqs,
                        const std::string& what) {
  const std::size_t margin = 5 * kSamplesPerMs + base::kFrameSamples / 2;  // ramps + frame quantisation
  ASSERT_GT(run.length, 2 * margin + 400) << what;
  const std::size_t max_window = freqs.size() == 3 ? 1000 : 1600;  // AM: whole 16 Hz periods
  const std::size_t window = std::min(max_window, run.length - 2 * margin);
  const auto block = std::span(s).subspan(run.start + margin, window);
  double sum = 0;
  for (double f : freqs) {
    const double r = tone_power_ratio(block, f);
    if (freqs.size() == 2) {
      EXPECT_GT(r, 0.3) << what << " at " << f << " Hz";
    }
    sum += r;
  }
  EXPECT_GT(sum, 0.8) << what;
  EXPECT_LT(tone_power_ratio(block, 1000), 0.02) << what;
}

TEST(ToneProfile, FindsBuiltInProfilesCaseInsensitively) {
  for (const char* name : {"US", "us", "Jp", "uk", "dE", "fr"}) {
    const ToneProfile* p = find_tone_profile(name);
    ASSERT_NE(p, nullptr) << name;
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    EXPECT_EQ(p->country, upper);
  }
  EXPECT_EQ(find_tone_profile("gb"), find_tone_profile("UK"));
  EXPECT_EQ(find_tone_profile("XX"), nullptr);
  EXPECT_EQ(find_tone_profile(""), nullptr);
  EXPECT_EQ(tone_profile_names(), (std::vector<std::string>{"US", "JP", "UK", "DE", "FR"}));
}

TEST(ToneProfile, ToneNoneIsEmpty) {
  EXPECT_TRUE(find_tone_profile("US")->tone(ToneKind::none).empty());
  EXPECT_EQ(&find_tone_profile("US")->tone(ToneKind::busy), &find_tone_profile("US")->busy);
}

TEST(ToneProfile, TonesHaveTheNationalFrequenciesAndCadence) {
  for (const Expected& e : expectations()) {
    SCOPED_TRACE(e.name);
    const ToneProfile* p = find_tone_profile(e.country);
    ASSERT_NE(p, nullptr);
    int cycle_ms = 0;
    for (int ms : e.cadence_ms) cycle_ms += ms;
    const int total_ms = e.cadence_ms.empty() ? 3000 : 2 * cycle_ms + 1000;
    const std::vector<int16_t> s = render(p->tone(e.kind), total_ms);
    const std::vector<LevelRun> runs = frame_runs(s);
    ASSERT_FALSE(runs.empty());
    ASSERT_TRUE(runs.front().on) << "tone starts with its on-period";

    if (e.cadence_ms.empty()) {
      EXPECT_EQ(runs.size(), 1u) << "continuous tone";
      expect_frequencies(s, runs.front(), e.freqs, e.name);
      continue;
    }
    // Every complete run (all but the last) matches the cadence.
    ASSERT_GE(runs.size(), e.cadence_ms.size() * 2) << "two whole cycles";
    for (std::size_t i = 0; i + 1 < runs.size(); ++i) {
      const int expected_ms = e.cadence_ms[i % e.cadence_ms.size()];
      const double measured_ms = static_cast<double>(runs[i].length) / kSamplesPerMs;
      // A frame holding any of the tone counts as on: on-periods read up to
      // two frames long, off-periods up to two frames short.
      const double lo = runs[i].on ? expected_ms - 1 : expected_ms - 2 * base::kFrameMs - 1;
      const double hi = runs[i].on ? expected_ms + 2 * base::kFrameMs + 1 : expected_ms + 1;
      EXPECT_GE(measured_ms, lo) << "run " << i << (runs[i].on ? " on" : " off");
      EXPECT_LE(measured_ms, hi) << "run " << i << (runs[i].on ? " on" : " off");
      EXPECT_EQ(runs[i].on, i % 2 == 0) << "run " << i;
      if (runs[i].on) expect_frequencies(s, runs[i], e.freqs, e.name);
    }
  }
}

// Stutter dial tone: `bursts` x 0.1 s on / 0.1 s off, then steady dial tone.
void expect_stutter(const char* country, int bursts, const std::vector<double>& freqs) {
  SCOPED_TRACE(country);
  const std::vector<int16_t> s = render(find_tone_profile(country)->stutter_dial, 200 * bursts + 2000);
  const std::vector<LevelRun> runs = frame_runs(s);
  ASSERT_EQ(runs.size(), static_cast<std::size_t>(2 * bursts + 1));
  for (int i = 0; i < 2 * bursts; ++i) {
    EXPECT_EQ(runs[i].on, i % 2 == 0);
    const double ms = static_cast<double>(runs[i].length) / kSamplesPerMs;
    EXPECT_NEAR(ms, i % 2 == 0 ? 110 : 90, base::kFrameMs / 2 + 1) << "run " << i;
  }
  EXPECT_TRUE(runs.back().on);
  EXPECT_GE(runs.back().length, 1900u * kSamplesPerMs);
  expect_frequencies(s, runs[0], freqs, "burst");
  expect_frequencies(s, runs.back(), freqs, "steady");
}

TEST(ToneProfile, StutterDialToneBurstsThenTurnsSteady) {
  expect_stutter("US", 10, {350, 440});
  expect_stutter("FR", 6, {440});
}

// BT special dial tone: 350+450 Hz and 440 Hz alternating every 750 ms.
TEST(ToneProfile, UkSpecialDialToneAlternatesFrequencies) {
  const std::vector<int16_t> s = render(find_tone_profile("UK")->stutter_dial, 3000);
  const std::vector<LevelRun> runs = frame_runs(s);
  ASSERT_EQ(runs.size(), 1u) << "no gaps";
  for (int cycle = 0; cycle < 2; ++cycle) {
    const std::size_t base = static_cast<std::size_t>(cycle) * 1500 * kSamplesPerMs;
    expect_frequencies(s, {true, base, 750 * kSamplesPerMs}, {350, 450}, "dual part");
    expect_frequencies(s, {true, base + 750 * kSamplesPerMs, 750 * kSamplesPerMs}, {440}, "440 part");
  }
}

TEST(ToneProfile, RingCadencesMatchNationalPlans) {
  EXPECT_EQ(find_tone_profile("US")->ring_cadence_ms, (std::vector<int>{2000, 4000}));
  EXPECT_EQ(find_tone_profile("JP")->ring_cadence_ms, (std::vector<int>{1000, 2000}));
  EXPECT_EQ(find_tone_profile("UK")->ring_cadence_ms, (std::vector<int>{400, 200, 400, 2000}));
  EXPECT_EQ(find_tone_profile("DE")->ring_cadence_ms, (std::vector<int>{1000, 4000}));
  EXPECT_EQ(find_tone_profile("FR")->ring_cadence_ms, (std::vector<int>{1500, 3500}));
}

// NTT ringback: 400 Hz amplitude-modulated by 16 Hz. The envelope, measured
// per 400 Hz period (2.5 ms), swings deeply and repeats at 16 Hz.
TEST(ToneProfile, JapaneseRingbackIsModulatedAtSixteenHertz) {
  const std::vector<int16_t> s = render(find_tone_profile("JP")->ringback, 1000);
  constexpr std::size_t kChunk = 20;  // one 400 Hz period
  std::vector<int16_t> envelope;
  double lo = 1e9, hi = 0;
  for (std::size_t i = 40 * kSamplesPerMs; i + kChunk <= 40 * kSamplesPerMs + 4000; i += kChunk) {
    const double db = level_dbfs(std::span(s).subspan(i, kChunk));
    const double rms = std::pow(10.0, db / 20.0) * 32768.0;
    lo = std::min(lo, rms);
    hi = std::max(hi, rms);
    envelope.push_back(static_cast<int16_t>(rms));
  }
  EXPECT_GT(hi / lo, 4.0) << "deep modulation";
  double mean = 0;
  for (int16_t v : envelope) mean += v;
  mean /= static_cast<double>(envelope.size());
  for (int16_t& v : envelope) v = static_cast<int16_t>(v - mean);
  EXPECT_GT(tone_power_ratio(envelope, 16.0, 400), 0.8) << "envelope repeats at 16 Hz";

  // The busy tone, by contrast, is a steady 400 Hz.
  const std::vector<int16_t> busy = render(find_tone_profile("JP")->busy, 400);
  const auto steady = std::span(busy).subspan(40 * kSamplesPerMs, 2000);
  double blo = 1e9, bhi = -1e9;
  for (std::size_t i = 0; i + kChunk <= steady.size(); i += kChunk) {
    const double db = level_dbfs(steady.subspan(i, kChunk));
    blo = std::min(blo, db);
    bhi = std::max(bhi, db);
  }
  EXPECT_LT(bhi - blo, 0.5);
}

}  // namespace
}  // namespace sipline::dsp
