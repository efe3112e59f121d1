#include "sipline/dsp/goertzel.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "signals.hpp"

namespace sipline::dsp {
namespace {

TEST(Goertzel, PureToneHasRatioNearOneAtItsFrequencyOnly) {
  std::vector<int16_t> s;
  test::append_tones(s, {{1000, -10}}, 100);
  EXPECT_GT(tone_power_ratio(s, 1000), 0.98);
  EXPECT_LT(tone_power_ratio(s, 1100), 0.01);
  EXPECT_LT(tone_power_ratio(s, 400), 0.01);
}

TEST(Goertzel, DualToneSplitsPowerBetweenItsFrequencies) {
  std::vector<int16_t> s;
  test::append_tones(s, {{350, -13}, {440, -13}}, 200);
  const double a = tone_power_ratio(s, 350);
  const double b = tone_power_ratio(s, 440);
  EXPECT_NEAR(a, 0.5, 0.05);
  EXPECT_NEAR(b, 0.5, 0.05);
}

TEST(Goertzel, SilenceGivesZeroRatioAndFloorLevel) {
  const std::vector<int16_t> s(160, 0);
  EXPECT_EQ(tone_power_ratio(s, 1000), 0.0);
  EXPECT_EQ(level_dbfs(s), -120.0);
  EXPECT_EQ(level_dbfs(std::span<const int16_t>{}), -120.0);
}

TEST(Goertzel, LevelIsZeroDbfsForFullScaleSquareWave) {
  std::vector<int16_t> s;
  for (int i = 0; i < 160; ++i) s.push_back(i % 2 ? int16_t{-32768} : int16_t{32767});
  EXPECT_NEAR(level_dbfs(s), 0.0, 0.01);
  std::vector<int16_t> sine;
  test::append_tones(sine, {{1000, 3.14}}, 100);  // full-scale sine
  EXPECT_NEAR(level_dbfs(sine), -3.01, 0.05);
}

}  // namespace
}  // namespace sipline::dsp
