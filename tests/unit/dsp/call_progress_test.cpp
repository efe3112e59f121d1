#include "sipline/dsp/call_progress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sipline/dsp/tone_generator.hpp"
#include "signals.hpp"

namespace sipline::dsp {
namespace {

constexpr const char* kCountries[] = {"US", "UK", "DE", "FR", "JP"};
constexpr ProgressTone kTones[] = {ProgressTone::dial, ProgressTone::ringback, ProgressTone::busy,
                                   ProgressTone::congestion, ProgressTone::special_information};

const ToneSpec& spec_of(const ToneProfile& p, ProgressTone tone) {
  switch (tone) {
    case ProgressTone::dial: return p.dial;
    case ProgressTone::ringback: return p.ringback;
    case ProgressTone::busy: return p.busy;
    case ProgressTone::congestion: return p.congestion;
    default: return p.special_information;
  }
}

bool same_steps(const ToneSpec& a, const ToneSpec& b) {
  if (a.steps.size() != b.steps.size()) return false;
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const ToneStep& x = a.steps[i];
    const ToneStep& y = b.steps[i];
    if (x.f1_hz != y.f1_hz || x.f2_hz != y.f2_hz || x.mod_hz != y.mod_hz || x.duration_ms != y.duration_ms) return false;
  }
  return true;
}

// What the detector can report for `tone`: the first tone with the same steps
// (JP congestion is the busy tone, so it is reported as busy).
ProgressTone expected_for(const ToneProfile& p, ProgressTone tone) {
  for (ProgressTone t : kTones) {
    if (same_steps(spec_of(p, t), spec_of(p, tone))) return t;
  }
  return tone;
}

// The confirmation bound the brief sets for each tone.
int bound_ms(const ToneProfile& p, ProgressTone tone) {
  switch (tone) {
    case ProgressTone::dial:
      // FR ringback is 1.5 s of the dial tone's 440 Hz: a steady tone is only
      // dial tone once it is longer than that (+ tolerance).
      return p.country == "FR" ? 2000 : 1500;
    case ProgressTone::ringback: return p.ringback.steps.front().duration_ms + 300;
    case ProgressTone::busy:
    case ProgressTone::congestion: return 2500;
    default: return 1500;
  }
}

// Mean-square power (linear, sample units) of the first sounding step.
double on_power(const ToneSpec& spec) {
  for (const ToneStep& st : spec.steps) {
    if (st.f1_hz == 0) continue;
    const double peak = test::dbm0_to_peak(st.level_dbm0);
    return (st.f2_hz != 0 ? 2.0 : 1.0) * peak * peak / 2.0;
  }
  return 0;
}

struct Line {
  double snr_db = 0;   // 0 = no noise; else white noise this far below the tone
  double loss_db = 0;  // extra attenuation of the tone
  const char* name = "clean";
};
constexpr Line kClean{0, 0, "clean"};
constexpr Line kNoisy{20, 0, "20dB SNR"};
constexpr Line kNoisyLossy{20, 6, "20dB SNR, -6dB"};

struct Outcome {
  int confirmed_ms = -1;            // when the expected tone was first reported
  std::vector<std::string> wrong;   // other reports (with their time)
};

Outcome run_tone(const ToneProfile& p, ProgressTone tone, const Line& line, int total_ms) {
  const ToneSpec& spec = spec_of(p, tone);
  const ProgressTone expected = expected_for(p, tone);
  ToneGenerator gen;
  gen.start(&spec);
  CallProgressDetector det(p);
  std::mt19937 rng(4711);
  const double gain = std::pow(10.0, -line.loss_db / 20.0);
  const double noise_rms =
      line.snr_db > 0 ? std::sqrt(on_power(spec)) * gain * std::pow(10.0, -line.snr_db / 20.0) : 0.0;
  std::normal_distribution<double> noise(0.0, noise_rms > 0 ? noise_rms : 1.0);
  Outcome out;
  base::AudioFrame frame;
  for (int t = base::kFrameMs; t <= total_ms; t += base::kFrameMs) {
    gen.generate(frame);
    for (int16_t& v : frame) {
      double x = v * gain;
      if (noise_rms > 0) x += noise(rng);
      v = static_cast<int16_t>(std::clamp(std::lround(x), -32768L, 32767L));
    }
    const std::optional<ProgressTone> r = det.process(frame);
    if (!r) continue;
    if (*r == expected && out.confirmed_ms < 0) {
      out.confirmed_ms = t;
    } else {
      out.wrong.push_back(std::string(to_string(*r)) + "@" + std::to_string(t));
    }
  }
  return out;
}

int feed(CallProgressDetector& det, std::span<const int16_t> samples, std::vector<ProgressTone>* reports = nullptr) {
  int count = 0;
  for (const base::AudioFrame& f : test::to_frames(samples)) {
    if (const auto r = det.process(f)) {
      ++count;
      if (reports) reports->push_back(*r);
    }
  }
  return count;
}

std::vector<int16_t> play(const ToneSpec& spec, int ms) {
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

std::vector<int16_t> white_noise(int ms, double dbm0, uint32_t seed) {
  std::mt19937 rng(seed);
  // A sine at `dbm0` has mean square peak^2/2; the noise gets the same power.
  std::normal_distribution<double> n(0.0, test::dbm0_to_peak(dbm0) / std::numbers::sqrt2);
  std::vector<int16_t> out;
  for (int i = 0; i < ms * base::kSampleRate / 1000; ++i) {
    out.push_back(static_cast<int16_t>(std::clamp(std::lround(n(rng)), -32768L, 32767L)));
  }
  return out;
}

// Bursts of noise (150-400 ms) with short gaps, like syllables.
std::vector<int16_t> noise_bursts(int ms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> burst(150, 400), gap(40, 160), level(-30, -15);
  std::vector<int16_t> out;
  while (static_cast<int>(out.size()) < ms * 8) {
    const std::vector<int16_t> b = white_noise(burst(rng), level(rng), rng());
    out.insert(out.end(), b.begin(), b.end());
    test::append_silence(out, gap(rng));
  }
  return out;
}

// Two gliding tones with a vibrato and a syllabic envelope: a "sum of
// varying tones" that passes through every progress tone frequency.
std::vector<int16_t> gliding_tones(int ms) {
  std::vector<int16_t> out;
  double ph1 = 0, ph2 = 0;
  for (int i = 0; i < ms * 8; ++i) {
    const double t = i / 8000.0;
    const double f1 = 300 + 250 * std::sin(2 * std::numbers::pi * 0.8 * t) + 20 * std::sin(2 * std::numbers::pi * 5 * t);
    const double f2 = 1000 + 700 * std::sin(2 * std::numbers::pi * 0.45 * t + 1.0);
    ph1 += 2 * std::numbers::pi * f1 / 8000.0;
    ph2 += 2 * std::numbers::pi * f2 / 8000.0;
    const double env = 0.6 + 0.4 * std::sin(2 * std::numbers::pi * 3.0 * t);
    out.push_back(static_cast<int16_t>(std::lround(env * (6000 * std::sin(ph1) + 3000 * std::sin(ph2)))));
  }
  return out;
}

void check_all_tones(const Line& line) {
  for (const char* country : kCountries) {
    const ToneProfile* p = find_tone_profile(country);
    ASSERT_NE(p, nullptr) << country;
    std::string row = std::string(country) + " (" + line.name + "):";
    for (ProgressTone tone : kTones) {
      SCOPED_TRACE(std::string(country) + " " + std::string(to_string(tone)) + " " + line.name);
      const Outcome o = run_tone(*p, tone, line, 8000);
      EXPECT_GT(o.confirmed_ms, 0) << "never confirmed";
      EXPECT_LE(o.confirmed_ms, bound_ms(*p, tone));
      EXPECT_TRUE(o.wrong.empty()) << "also reported: " << (o.wrong.empty() ? "" : o.wrong.front());
      row += " " + std::string(to_string(tone)) + "=" + std::to_string(o.confirmed_ms);
    }
    std::printf("[ timing   ] %s\n", row.c_str());
  }
}

TEST(CallProgressDetector, ConfirmsEveryCountrysTonesWithinBounds) { check_all_tones(kClean); }

TEST(CallProgressDetector, ConfirmsTonesInWhiteNoiseAt20dBSnr) { check_all_tones(kNoisy); }

TEST(CallProgressDetector, ConfirmsTonesInNoiseWith6dBExtraLoss) { check_all_tones(kNoisyLossy); }

TEST(CallProgressDetector, NeverCallsSpeechOrNoiseBurstsAToneAndReportsThemAsAudio) {
  const std::vector<std::vector<int16_t>> signals = {
      test::speech_like(10000), test::speech_like(10000, 3000.0, 777), noise_bursts(10000, 99), gliding_tones(10000)};
  for (const char* country : kCountries) {
    const ToneProfile* p = find_tone_profile(country);
    ASSERT_NE(p, nullptr);
    for (std::size_t i = 0; i < signals.size(); ++i) {
      SCOPED_TRACE(std::string(country) + " signal " + std::to_string(i));
      CallProgressDetector det(*p);
      std::vector<ProgressTone> reports;
      bool audio_within_1500ms = false;
      const auto frames = test::to_frames(signals[i]);
      for (std::size_t f = 0; f < frames.size(); ++f) {
        if (const auto r = det.process(frames[f])) reports.push_back(*r);
        if (f == 75) audio_within_1500ms = det.non_tone_audio_for(1000);
      }
      EXPECT_TRUE(reports.empty()) << "reported " << to_string(reports.front());
      EXPECT_EQ(det.current(), ProgressTone::none);
      EXPECT_TRUE(audio_within_1500ms);
      EXPECT_TRUE(det.non_tone_audio_for(1000));
    }
  }
}

TEST(CallProgressDetector, SilenceAndLineHissAreNoToneAndNoAudio) {
  for (const char* country : kCountries) {
    SCOPED_TRACE(country);
    CallProgressDetector det(*find_tone_profile(country));
    std::vector<int16_t> quiet;
    test::append_silence(quiet, 5000);
    EXPECT_EQ(feed(det, quiet), 0);
    EXPECT_EQ(det.current(), ProgressTone::none);
    EXPECT_FALSE(det.non_tone_audio_for(20));
    EXPECT_EQ(feed(det, white_noise(5000, -60, 5)), 0);
    EXPECT_FALSE(det.non_tone_audio_for(20));
  }
}

TEST(CallProgressDetector, ToneFramesDoNotCountAsAudio) {
  const ToneProfile& us = *find_tone_profile("US");
  CallProgressDetector det(us);
  feed(det, play(us.dial, 3000));
  EXPECT_EQ(det.current(), ProgressTone::dial);
  EXPECT_FALSE(det.non_tone_audio_for(20));
}

// Same frequencies, cadence only: busy then reorder (US), busy then congestion (DE, UK).
TEST(CallProgressDetector, TellsBusyFromCongestionByCadence) {
  for (const char* country : {"US", "DE", "UK", "FR"}) {
    SCOPED_TRACE(country);
    const ToneProfile& p = *find_tone_profile(country);
    CallProgressDetector det(p);
    std::vector<ProgressTone> reports;
    feed(det, play(p.busy, 4000), &reports);
    ASSERT_EQ(reports, std::vector<ProgressTone>{ProgressTone::busy});
    feed(det, play(p.congestion, 4000), &reports);
    EXPECT_EQ(reports, (std::vector<ProgressTone>{ProgressTone::busy, ProgressTone::none, ProgressTone::congestion}));
    EXPECT_EQ(det.current(), ProgressTone::congestion);
  }
}

TEST(CallProgressDetector, DropsDialToneWhenItStopsAndFindsRingbackAfter) {
  const ToneProfile& us = *find_tone_profile("US");
  CallProgressDetector det(us);
  std::vector<ProgressTone> reports;
  feed(det, play(us.dial, 2000), &reports);
  std::vector<int16_t> gap;
  test::append_silence(gap, 1000);
  feed(det, gap, &reports);
  EXPECT_EQ(det.current(), ProgressTone::none);
  feed(det, play(us.ringback, 3000), &reports);
  EXPECT_EQ(reports, (std::vector<ProgressTone>{ProgressTone::dial, ProgressTone::none, ProgressTone::ringback}));
}

TEST(CallProgressDetector, AnswerAfterRingbackIsNonToneAudio) {
  const ToneProfile& uk = *find_tone_profile("UK");
  CallProgressDetector det(uk);
  feed(det, play(uk.ringback, 3000));
  EXPECT_EQ(det.current(), ProgressTone::ringback);
  EXPECT_FALSE(det.non_tone_audio_for(200));
  const std::vector<int16_t> voice = test::speech_like(1500, 8000.0);
  feed(det, voice);
  EXPECT_TRUE(det.non_tone_audio_for(1000));
}

TEST(CallProgressDetector, ResetForgetsTheConfirmedTone) {
  const ToneProfile& de = *find_tone_profile("DE");
  CallProgressDetector det(de);
  feed(det, play(de.dial, 2000));
  EXPECT_EQ(det.current(), ProgressTone::dial);
  det.reset();
  EXPECT_EQ(det.current(), ProgressTone::none);
  std::vector<ProgressTone> reports;
  feed(det, play(de.busy, 3000), &reports);
  EXPECT_EQ(reports, std::vector<ProgressTone>{ProgressTone::busy});
}

// The detector starts listening in the middle of a burst: the cut-short run
// does not count, the next cycle confirms.
TEST(CallProgressDetector, ConfirmsCadencesJoinedMidBurst) {
  for (const char* country : kCountries) {
    const ToneProfile& p = *find_tone_profile(country);
    for (ProgressTone tone : {ProgressTone::busy, ProgressTone::congestion, ProgressTone::special_information}) {
      for (int skip_ms : {60, 140, 300}) {
        SCOPED_TRACE(std::string(country) + " " + std::string(to_string(tone)) + " skip " + std::to_string(skip_ms));
        const std::vector<int16_t> all = play(spec_of(p, tone), 6000);
        CallProgressDetector det(p);
        std::vector<ProgressTone> reports;
        feed(det, std::span<const int16_t>(all).subspan(static_cast<std::size_t>(skip_ms * 8)), &reports);
        EXPECT_EQ(reports, std::vector<ProgressTone>{expected_for(p, tone)});
      }
    }
  }
}

// Exchanges' tones are not exact: +-1% frequency, and the US network's own
// SIT variants (914/985, 1371/1429, 1777 Hz; 274 and 380 ms segments).
TEST(CallProgressDetector, AcceptsOffNominalFrequenciesAndUsSitVariants) {
  for (const char* country : kCountries) {
    const ToneProfile& p = *find_tone_profile(country);
    for (ProgressTone tone : kTones) {
      for (double factor : {0.99, 1.01}) {
        SCOPED_TRACE(std::string(country) + " " + std::string(to_string(tone)) + " x" + std::to_string(factor));
        ToneSpec spec = spec_of(p, tone);
        for (ToneStep& st : spec.steps) {
          st.f1_hz = static_cast<int>(std::lround(st.f1_hz * factor));
          st.f2_hz = static_cast<int>(std::lround(st.f2_hz * factor));
        }
        CallProgressDetector det(p);
        std::vector<ProgressTone> reports;
        feed(det, play(spec, 8000), &reports);
        EXPECT_EQ(reports, std::vector<ProgressTone>{expected_for(p, tone)});
      }
    }
  }
  const ToneProfile& us = *find_tone_profile("US");
  const ToneSpec variants[] = {
      {{{.f1_hz = 914, .level_dbm0 = -24, .duration_ms = 274}, {.f1_hz = 1371, .level_dbm0 = -24, .duration_ms = 274},
        {.f1_hz = 1777, .level_dbm0 = -24, .duration_ms = 380}, {.f1_hz = 0, .duration_ms = 1000}}},
      {{{.f1_hz = 985, .level_dbm0 = -24, .duration_ms = 380}, {.f1_hz = 1429, .level_dbm0 = -24, .duration_ms = 380},
        {.f1_hz = 1777, .level_dbm0 = -24, .duration_ms = 380}, {.f1_hz = 0, .duration_ms = 1000}}},
  };
  for (const ToneSpec& spec : variants) {
    CallProgressDetector det(us);
    std::vector<ProgressTone> reports;
    feed(det, play(spec, 1500), &reports);
    EXPECT_EQ(reports, std::vector<ProgressTone>{ProgressTone::special_information});
  }
}

// A dual tone with its two frequencies 5 dB apart, and a tone 15 dB below the
// profile's level (SIT: -39 dBm0, the floor is -42), are still tones.
TEST(CallProgressDetector, ToleratesTwistAndLoss) {
  const ToneProfile& us = *find_tone_profile("US");
  {
    CallProgressDetector det(us);
    std::vector<int16_t> busy;
    for (int i = 0; i < 4; ++i) {
      test::append_tones(busy, {{480, -22}, {620, -27}}, 500);
      test::append_silence(busy, 500);
    }
    std::vector<ProgressTone> reports;
    feed(det, busy, &reports);
    EXPECT_EQ(reports, std::vector<ProgressTone>{ProgressTone::busy});
  }
  for (const char* country : kCountries) {
    const ToneProfile& p = *find_tone_profile(country);
    for (ProgressTone tone : kTones) {
      SCOPED_TRACE(std::string(country) + " " + std::string(to_string(tone)) + " -15 dB");
      ToneSpec spec = spec_of(p, tone);
      for (ToneStep& st : spec.steps) st.level_dbm0 -= 15;
      CallProgressDetector det(p);
      std::vector<ProgressTone> reports;
      feed(det, play(spec, 8000), &reports);
      EXPECT_EQ(reports, std::vector<ProgressTone>{expected_for(p, tone)});
    }
  }
}

TEST(CallProgressDetector, ToStringNamesEveryTone) {
  EXPECT_EQ(to_string(ProgressTone::none), "none");
  EXPECT_EQ(to_string(ProgressTone::special_information), "special_information");
  EXPECT_EQ(to_string(ProgressTone::congestion), "congestion");
}

}  // namespace
}  // namespace sipline::dsp
