#include "sipline/dsp/tone_generator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <numbers>
#include <vector>

#include "sipline/dsp/goertzel.hpp"
#include "signals.hpp"

namespace sipline::dsp {
namespace {

struct Deltas {
  int at_boundaries = 0;  // last sample of a frame -> first of the next
  int inside = 0;         // within frames
};

Deltas max_deltas(ToneGenerator& gen, int frames) {
  Deltas d;
  base::AudioFrame frame;
  int prev = 0;
  bool have_prev = false;
  for (int f = 0; f < frames; ++f) {
    gen.generate(frame);
    for (std::size_t i = 0; i < frame.size(); ++i) {
      if (have_prev) {
        const int delta = std::abs(frame[i] - prev);
        int& slot = i == 0 ? d.at_boundaries : d.inside;
        slot = std::max(slot, delta);
      }
      prev = frame[i];
      have_prev = true;
    }
  }
  return d;
}

// Largest step a sum of sines can take between samples: sum of A * 2 pi f / fs.
double slope_bound(std::initializer_list<test::Tone> tones) {
  double b = 0;
  for (const auto& t : tones) b += test::dbm0_to_peak(t.dbm0) * 2 * std::numbers::pi * t.hz / base::kSampleRate;
  return b * 1.05 + 2;
}

TEST(ToneGenerator, KeepsPhaseAcrossFrameBoundaries) {
  const ToneSpec spec{{ToneStep{.f1_hz = 350, .f2_hz = 440, .level_dbm0 = -13}}};
  ToneGenerator gen;
  gen.start(&spec);
  const Deltas d = max_deltas(gen, 200);
  const double bound = slope_bound({{350, -13}, {440, -13}});
  EXPECT_LE(d.inside, bound);
  EXPECT_LE(d.at_boundaries, bound);
  EXPECT_GT(d.inside, bound / 3) << "the tone is really playing";
}

// A restart of the phase at each frame would click: 440 Hz has 8.8 cycles per frame.
TEST(ToneGenerator, HasNoClicksThroughCadenceSteps) {
  const ToneSpec busy{{ToneStep{.f1_hz = 480, .f2_hz = 620, .level_dbm0 = -10, .duration_ms = 90},
                       ToneStep{.f1_hz = 0, .duration_ms = 50},
                       ToneStep{.f1_hz = 440, .level_dbm0 = -10, .duration_ms = 70}}};
  ToneGenerator gen;
  gen.start(&busy);
  const Deltas d = max_deltas(gen, 300);
  // Plus the 2 ms (16-sample) rise and fall of each frequency.
  const double bound = slope_bound({{480, -10}, {620, -10}}) + 2 * test::dbm0_to_peak(-10) / 16;
  EXPECT_LE(d.inside, bound);
  EXPECT_LE(d.at_boundaries, bound);
}

TEST(ToneGenerator, PlaysAtTheRequestedDbm0Level) {
  const ToneSpec spec{{ToneStep{.f1_hz = 1000, .level_dbm0 = -10}}};
  ToneGenerator gen;
  gen.start(&spec);
  base::AudioFrame frame;
  gen.generate(frame);  // skip the 2 ms rise
  std::vector<int16_t> s;
  for (int i = 0; i < 10; ++i) {
    gen.generate(frame);
    s.insert(s.end(), frame.begin(), frame.end());
  }
  // -10 dBm0 sine = -10 - 3.14 - 3.01 dBFS.
  EXPECT_NEAR(level_dbfs(s), -16.15, 0.2);
  EXPECT_GT(tone_power_ratio(s, 1000), 0.98);
}

TEST(ToneGenerator, WritesSilenceWhenInactiveOrStopped) {
  ToneGenerator gen;
  base::AudioFrame frame;
  frame.fill(123);
  EXPECT_FALSE(gen.active());
  gen.generate(frame);
  EXPECT_EQ(level_dbfs(frame), -120.0);

  const ToneSpec spec{{ToneStep{.f1_hz = 425, .level_dbm0 = -13}}};
  gen.start(&spec);
  EXPECT_TRUE(gen.active());
  gen.generate(frame);
  EXPECT_GT(level_dbfs(frame), -30.0);
  gen.stop();
  EXPECT_FALSE(gen.active());
  gen.generate(frame);
  EXPECT_EQ(level_dbfs(frame), -120.0);

  const ToneSpec empty;
  gen.start(&spec);
  gen.start(&empty);
  EXPECT_FALSE(gen.active());
  gen.start(nullptr);
  EXPECT_FALSE(gen.active());
}

TEST(ToneGenerator, RepeatsTheSpecFromItsFirstStep) {
  const ToneSpec spec{{ToneStep{.f1_hz = 600, .level_dbm0 = -10, .duration_ms = 100},
                       ToneStep{.f1_hz = 1200, .level_dbm0 = -10, .duration_ms = 100}}};
  ToneGenerator gen;
  gen.start(&spec);
  base::AudioFrame frame;
  std::vector<double> r600;
  for (int f = 0; f < 25; ++f) {
    gen.generate(frame);
    r600.push_back(tone_power_ratio(frame, 600));
  }
  // Frames 1-3: 600 Hz; 6-8: 1200 Hz; 11-13: 600 Hz again; 16-18: 1200 Hz.
  for (int f : {1, 2, 3, 11, 12, 13, 21, 22}) EXPECT_GT(r600[f], 0.9) << f;
  for (int f : {6, 7, 8, 16, 17, 18}) EXPECT_LT(r600[f], 0.05) << f;
}

TEST(ToneGenerator, RestartsFromTheFirstStep) {
  const ToneSpec spec{{ToneStep{.f1_hz = 0, .duration_ms = 100}, ToneStep{.f1_hz = 500, .duration_ms = 100}}};
  ToneGenerator gen;
  gen.start(&spec);
  base::AudioFrame frame;
  for (int f = 0; f < 7; ++f) gen.generate(frame);
  EXPECT_GT(level_dbfs(frame), -30.0);  // in the 500 Hz step
  gen.start(&spec);
  gen.generate(frame);
  EXPECT_EQ(level_dbfs(frame), -120.0);  // back in the silent first step
}

}  // namespace
}  // namespace sipline::dsp
