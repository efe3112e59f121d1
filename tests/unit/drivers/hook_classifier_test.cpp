#include "sipline/drivers/hook_classifier.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers {
namespace {

// A stretch of time with the switch made (off hook) or broken (on hook).
struct Segment {
  bool made;
  int ms;
};
Segment make(int ms) { return {true, ms}; }
Segment brk(int ms) { return {false, ms}; }

// The events as words: "off", "on", "flash", or the digit.
std::string word(const HookEvent& e) {
  switch (e.type) {
    case LineEventType::off_hook: return "off";
    case LineEventType::on_hook: return "on";
    case LineEventType::flash: return "flash";
    case LineEventType::pulse_digit: return std::string(1, e.digit);
    default: return "?";
  }
}

// Steps the classifier through `segments` in steps of `step_ms` (each
// segment a whole number of steps) and returns the events reported.
std::vector<std::string> run(HookClassifier& c, const std::vector<Segment>& segments, int step_ms = 10) {
  std::vector<std::string> out;
  for (const auto& s : segments) {
    EXPECT_EQ(s.ms % step_ms, 0) << "segment of " << s.ms << " ms in steps of " << step_ms;
    for (int t = 0; t < s.ms; t += step_ms) {
      const HookEvents e = c.step(s.made, step_ms);
      for (std::size_t i = 0; i < e.count; ++i) out.push_back(word(e.events[i]));
    }
  }
  return out;
}

// A rotary digit at 10 pps: N breaks of 60 ms with makes of 40 ms, then the
// dial's pause (the last make and the pause: 740 ms).
std::vector<Segment> pulses(int n) {
  std::vector<Segment> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(brk(60));
    out.push_back(make(40));
  }
  out.push_back(make(700));
  return out;
}

std::vector<Segment> digits(const std::string& ds) {
  std::vector<Segment> out;
  for (const char d : ds) {
    const auto p = pulses(d == '0' ? 10 : d - '0');
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

using Words = std::vector<std::string>;

class HookClassifierCountry : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const dsp::ToneProfile* p = dsp::find_tone_profile(GetParam());
    ASSERT_NE(p, nullptr) << GetParam();
    timing_ = p->hook;
  }
  // A classifier that has already reported off hook.
  HookClassifier off_hook_classifier() {
    HookClassifier c(timing_);
    EXPECT_EQ(run(c, {make(100)}), Words{"off"});
    return c;
  }
  dsp::HookTiming timing_;
};

TEST_P(HookClassifierCountry, ReportsOffHookOnlyAfterTheDebounceTime) {
  HookClassifier c(timing_);
  EXPECT_FALSE(c.off_hook());
  EXPECT_EQ(run(c, {make(timing_.debounce_ms - 1), brk(20)}, 1), Words{});  // too short: a bounce
  EXPECT_FALSE(c.off_hook());
  EXPECT_EQ(run(c, {make(timing_.debounce_ms - 1)}, 1), Words{});
  EXPECT_EQ(run(c, {make(1)}, 1), Words{"off"});
  EXPECT_TRUE(c.off_hook());
  EXPECT_EQ(run(c, {make(5000)}), Words{});  // staying off hook reports nothing more
}

TEST_P(HookClassifierCountry, IgnoresABounce) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, {brk(timing_.debounce_ms - 1), make(1000)}, 1), Words{});
  EXPECT_EQ(run(c, {brk(20), make(1000)}, 20), Words{});  // one 20 ms tick, as the sim phone reads it
  EXPECT_TRUE(c.off_hook());
}

TEST_P(HookClassifierCountry, CountsPulseTrainsAt10PulsesPerSecond) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, pulses(1)), Words{"1"});
  EXPECT_EQ(run(c, pulses(5)), Words{"5"});
  EXPECT_EQ(run(c, pulses(10)), Words{"0"});
  EXPECT_EQ(run(c, digits("305"), 20), (Words{"3", "0", "5"}));  // in the sim phone's 20 ms ticks
  EXPECT_TRUE(c.off_hook());
}

TEST_P(HookClassifierCountry, EndsADigitAfterTheInterdigitMake) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, {brk(60), make(timing_.pulse_interdigit_ms - 10)}), Words{});
  EXPECT_EQ(run(c, {make(10)}), Words{"1"});
}

TEST_P(HookClassifierCountry, ReportsAFlashInsideTheWindow) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, {brk((timing_.flash_min_ms + timing_.flash_max_ms) / 2), make(500)}, 1), Words{"flash"});
  EXPECT_EQ(run(c, {brk(timing_.flash_min_ms), make(500)}, 1), Words{"flash"});
  EXPECT_EQ(run(c, {brk(timing_.flash_max_ms), make(500)}, 1), Words{"flash"});
  EXPECT_TRUE(c.off_hook());
}

TEST_P(HookClassifierCountry, IgnoresABreakBetweenPulseAndFlash) {
  ASSERT_LT(timing_.pulse_break_max_ms + 1, timing_.flash_min_ms) << "no gap in this profile";
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, {brk(timing_.pulse_break_max_ms + 1), make(1000)}, 1), Words{});
  EXPECT_EQ(run(c, {brk(timing_.flash_min_ms - 1), make(1000)}, 1), Words{});
  EXPECT_EQ(run(c, {brk(timing_.pulse_break_max_ms), make(1000)}, 1), Words{"1"});  // the longest pulse
  EXPECT_TRUE(c.off_hook());
}

TEST_P(HookClassifierCountry, ReportsOnHookOnlyOnceTheBreakOutlastsAFlash) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, {brk(timing_.flash_max_ms)}, 1), Words{});
  EXPECT_TRUE(c.off_hook());
  EXPECT_EQ(run(c, {brk(1)}, 1), Words{"on"});
  EXPECT_FALSE(c.off_hook());
  EXPECT_EQ(run(c, {brk(5000)}), Words{});
  EXPECT_EQ(run(c, {make(100)}), Words{"off"});
}

TEST_P(HookClassifierCountry, ReportsTheDigitBeingCountedBeforeAHangUp) {
  auto c = off_hook_classifier();
  // Three pulses, then on hook: the break that hangs up is no pulse.
  EXPECT_EQ(run(c, {brk(60), make(40), brk(60), make(40), brk(60), make(40), brk(timing_.flash_max_ms + 10)}),
            (Words{"3", "on"}));
  EXPECT_FALSE(c.off_hook());
}

TEST_P(HookClassifierCountry, ReportsTheDigitBeingCountedBeforeAFlash) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, {brk(60), make(40), brk(60), make(40), brk(timing_.flash_min_ms), make(500)}, 1),
            (Words{"2", "flash"}));
}

TEST_P(HookClassifierCountry, IgnoresMoreThanTenPulses) {
  auto c = off_hook_classifier();
  EXPECT_EQ(run(c, pulses(11)), Words{});
  EXPECT_EQ(run(c, pulses(12)), Words{});
  EXPECT_EQ(run(c, pulses(4)), Words{"4"});  // the next digit is counted afresh
}

INSTANTIATE_TEST_SUITE_P(BuiltInProfiles, HookClassifierCountry, ::testing::Values("US", "UK", "DE", "FR", "JP"),
                         [](const auto& info) { return std::string(info.param); });

TEST(HookClassifier, StartsOnHook) {
  HookClassifier c;
  EXPECT_FALSE(c.off_hook());
  EXPECT_EQ(run(c, {brk(10000)}), Words{});
}

TEST(HookClassifier, AStepLongerThanAFlashIsAHangUpAtOnce) {
  HookClassifier c;
  EXPECT_EQ(run(c, {make(100)}), Words{"off"});
  EXPECT_EQ(run(c, {brk(c.timing().flash_max_ms + 100)}, c.timing().flash_max_ms + 100), Words{"on"});
}

TEST(HookClassifier, StaysOffHookForMonths) {
  HookClassifier c;
  EXPECT_EQ(run(c, {make(100)}), Words{"off"});
  // 100 days in one-hour steps: nothing to report, nothing to overflow.
  for (int h = 0; h < 24 * 100; ++h) ASSERT_EQ(c.step(true, 3600 * 1000).count, 0u);
  EXPECT_EQ(run(c, pulses(2)), Words{"2"});
}

}  // namespace
}  // namespace sipline::drivers
