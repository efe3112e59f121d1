// AnswerToneDetector: 2100 Hz with phase reversals every 450 ms (ANS/PR, and
// ANSam/PR with 15 Hz AM) is reported once; a plain 2100 Hz tone (ANS), a
// 1100 Hz fax calling tone and noise are not. The signals are generated here,
// not by spandsp, so that the test does not check spandsp against itself.
#include "sipline/dsp/answer_tone.hpp"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "signals.hpp"

namespace sipline::dsp {
namespace {

std::vector<int16_t> tone(double hz, int ms, int reversal_ms, double am_depth = 0) {
  std::vector<int16_t> out;
  test::append_answer_tone(out, ms, reversal_ms, am_depth, hz);
  return out;
}

// Frames through the detector; how many reported the tone.
int detections(AnswerToneDetector& d, const std::vector<int16_t>& signal) {
  int found = 0;
  for (std::size_t at = 0; at + base::kFrameSamples <= signal.size(); at += base::kFrameSamples) {
    if (d.process(base::ConstFrameSpan(signal.data() + at, base::kFrameSamples))) ++found;
  }
  return found;
}

TEST(AnswerToneDetector, ReportsAnsWithPhaseReversalsOnce) {
  AnswerToneDetector d;
  EXPECT_EQ(detections(d, tone(2100, 3300, 450)), 1);
}

TEST(AnswerToneDetector, ReportsAnsamWithPhaseReversals) {
  AnswerToneDetector d;
  EXPECT_EQ(detections(d, tone(2100, 3300, 450, 0.2)), 1);
}

TEST(AnswerToneDetector, IgnoresPlainAnsFaxCallingToneAndNoise) {
  AnswerToneDetector d;
  EXPECT_EQ(detections(d, tone(2100, 3300, 0)), 0);
  EXPECT_EQ(detections(d, tone(1100, 3000, 0)), 0);
  std::vector<int16_t> noise(8000 * 3);
  std::uint32_t x = 12345;
  for (auto& v : noise) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<int16_t>(static_cast<int>(x >> 20) - 2048);
  }
  EXPECT_EQ(detections(d, noise), 0);
}

TEST(AnswerToneDetector, ResetMakesItReadyForTheNextTone) {
  AnswerToneDetector d;
  EXPECT_EQ(detections(d, tone(2100, 3300, 450)), 1);
  d.reset();
  EXPECT_EQ(detections(d, tone(2100, 3300, 450)), 1);
}

}  // namespace
}  // namespace sipline::dsp
