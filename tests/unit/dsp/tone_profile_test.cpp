// Each built-in profile against the national values, measured on the
// generated audio: frequencies by Goertzel over each on-period, cadence by
// the level of each 20 ms frame. Then the profiles as data: every built-in
// TOML file parses, each country's caller ID, hook and disconnect values, a
// user's override on top of a built-in, and each malformed value reported
// with its key and position.
#include "sipline/dsp/tone_profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sipline/dsp/goertzel.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "sipline/dsp/tone_profile_toml.hpp"
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


// ---- The profiles as data -------------------------------------------------

constexpr ToneKind kAllTones[] = {ToneKind::dial,         ToneKind::ringback,     ToneKind::busy,
                                  ToneKind::congestion,   ToneKind::call_waiting, ToneKind::stutter_dial,
                                  ToneKind::special_information};

bool same_steps(const ToneSpec& a, const ToneSpec& b) {
  if (a.steps.size() != b.steps.size()) return false;
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const ToneStep& x = a.steps[i];
    const ToneStep& y = b.steps[i];
    if (x.f1_hz != y.f1_hz || x.f2_hz != y.f2_hz || x.mod_hz != y.mod_hz || x.level_dbm0 != y.level_dbm0 ||
        x.duration_ms != y.duration_ms) {
      return false;
    }
  }
  return true;
}

std::string describe(const ProfileResult& r) {
  return r ? std::string("ok") : std::to_string(r.error().line) + ":" + std::to_string(r.error().column) + ": " +
                                     r.error().message;
}

TEST(ToneProfileToml, EveryBuiltInFileParsesAsACompleteProfile) {
  ASSERT_EQ(built_in_profile_files().size(), 5u);
  std::vector<std::string> countries;
  for (const BuiltInProfileFile& f : built_in_profile_files()) {
    SCOPED_TRACE(std::string(f.name));
    const ProfileResult p = parse_tone_profile_text(f.text);
    ASSERT_TRUE(p) << describe(p);
    countries.push_back(p->country);
    // The file is the profile find_tone_profile() serves.
    const ToneProfile* served = find_tone_profile(p->country);
    ASSERT_NE(served, nullptr);
    for (ToneKind k : kAllTones) EXPECT_TRUE(same_steps(p->tone(k), served->tone(k)));
    EXPECT_EQ(p->ring_cadence_ms, served->ring_cadence_ms);
  }
  EXPECT_EQ(countries, tone_profile_names());
}

TEST(ToneProfileToml, EveryProfileHasEveryToneAndAValidCallerIdSection) {
  for (const std::string& name : tone_profile_names()) {
    SCOPED_TRACE(name);
    const ToneProfile& p = *find_tone_profile(name);
    for (ToneKind k : kAllTones) EXPECT_FALSE(p.tone(k).empty()) << static_cast<int>(k);
    EXPECT_NE(p.caller_id.format, CallerIdFormat::none);
    EXPECT_GT(p.caller_id.data_delay_ms, 0);
    EXPECT_GE(p.caller_id.ring_delay_ms, 200) << "ETSI, GR-30, SIN 227: >= 200 ms of silence before ringing";
    EXPECT_LE(p.caller_id.level_dbm0, 0);
    EXPECT_FALSE(p.caller_id.car_cadence_ms.empty());
    EXPECT_EQ(p.caller_id.car_cadence_ms.size() % 2, 0u);
    EXPECT_LT(p.hook.flash_min_ms, p.hook.flash_max_ms);
    EXPECT_LE(p.hook.debounce_ms, p.hook.flash_min_ms);
    EXPECT_EQ(p.hook.debounce_ms, 30);
  }
}

TEST(ToneProfileToml, CallerIdFollowsEachCountrysStandard) {
  const CallerIdTiming& us = find_tone_profile("US")->caller_id;
  EXPECT_EQ(us.format, CallerIdFormat::bell202_mdmf);
  EXPECT_EQ(us.alert, CallerIdAlert::first_ring);
  EXPECT_EQ(us.data_delay_ms, 500);
  EXPECT_EQ(us.ring_delay_ms, 200);

  const CallerIdTiming& uk = find_tone_profile("UK")->caller_id;
  EXPECT_EQ(uk.format, CallerIdFormat::bt);
  EXPECT_EQ(uk.alert, CallerIdAlert::dt_as);
  EXPECT_EQ(uk.reversal_ms, 150);
  EXPECT_EQ(uk.alert_ms, 100);
  EXPECT_EQ(uk.data_delay_ms, 150);
  EXPECT_EQ(uk.ring_delay_ms, 250);

  const CallerIdTiming& de = find_tone_profile("DE")->caller_id;
  EXPECT_EQ(de.format, CallerIdFormat::etsi);
  EXPECT_EQ(de.alert, CallerIdAlert::rp_as);
  EXPECT_EQ(de.alert_ms, 250);
  EXPECT_EQ(de.data_delay_ms, 500);
  EXPECT_EQ(de.ring_delay_ms, 250);

  const CallerIdTiming& fr = find_tone_profile("FR")->caller_id;
  EXPECT_EQ(fr.format, CallerIdFormat::etsi);
  EXPECT_EQ(fr.alert, CallerIdAlert::dt_as);
  EXPECT_EQ(fr.reversal_ms, 150);
  EXPECT_EQ(fr.alert_ms, 100);
  EXPECT_EQ(fr.data_delay_ms, 100);
  EXPECT_EQ(fr.ring_delay_ms, 250);

  const CallerIdTiming& jp = find_tone_profile("JP")->caller_id;
  EXPECT_EQ(jp.format, CallerIdFormat::jclip);
  EXPECT_EQ(jp.alert, CallerIdAlert::ntt_car);
  EXPECT_EQ(jp.car_cadence_ms, (std::vector<int>{500, 500}));
  EXPECT_EQ(jp.car_timeout_ms, 6000);
  EXPECT_EQ(jp.data_delay_ms, 300);
  EXPECT_EQ(jp.ring_delay_ms, 200);
}

TEST(ToneProfileToml, HookAndDisconnectFollowNationalPractice) {
  EXPECT_EQ(find_tone_profile("US")->disconnect.loop_drop_ms, 800);
  EXPECT_FALSE(find_tone_profile("US")->disconnect.polarity_reversal);
  EXPECT_EQ(find_tone_profile("UK")->hook.flash_min_ms, 80);
  EXPECT_EQ(find_tone_profile("UK")->hook.flash_max_ms, 150);
  EXPECT_EQ(find_tone_profile("US")->hook.flash_max_ms, 900);
  for (const std::string& name : tone_profile_names()) {
    SCOPED_TRACE(name);
    const ToneProfile& p = *find_tone_profile(name);
    EXPECT_TRUE(p.disconnect.busy_tone);
    // A rotary dial pulse (60-67 ms break) is no flash, and no flash is a pulse.
    EXPECT_GE(p.hook.pulse_break_max_ms, 67);
    EXPECT_LT(p.hook.pulse_break_max_ms, p.hook.flash_min_ms);
  }
  // Only the US receiver off-hook tone is sourced (GR-506).
  EXPECT_FALSE(find_tone_profile("US")->howler.empty());
  EXPECT_TRUE(find_tone_profile("DE")->howler.empty());
}

TEST(ToneProfileToml, PulseTimingMustLeaveRoomForAFlash) {
  auto p = parse_tone_profile_text("[hook]\npulse_break_max_ms = 950\n", find_tone_profile("US"));
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("pulse_break_max_ms"), std::string::npos) << p.error().message;
  EXPECT_EQ(p.error().line, 2);
}

TEST(ToneProfileToml, AlertNamesRoundTrip) {
  for (CallerIdAlert a : {CallerIdAlert::first_ring, CallerIdAlert::line_reversal, CallerIdAlert::dt_as,
                          CallerIdAlert::rp_as, CallerIdAlert::ntt_car}) {
    EXPECT_EQ(caller_id_alert_from_string(to_string(a)), a);
  }
  EXPECT_EQ(caller_id_alert_from_string("ring"), std::nullopt);
}

// ITU-T E.180 SIT: 950, 1400, 1800 Hz, 330 ms each, then 1 s silence.
TEST(ToneProfile, SpecialInformationToneRisesThroughThreeFrequencies) {
  for (const std::string& name : tone_profile_names()) {
    SCOPED_TRACE(name);
    const std::vector<int16_t> s = render(find_tone_profile(name)->special_information, 2 * 1990 + 500);
    const std::vector<LevelRun> runs = frame_runs(s);
    ASSERT_GE(runs.size(), 4u);
    EXPECT_TRUE(runs[0].on);
    EXPECT_NEAR(static_cast<double>(runs[0].length) / kSamplesPerMs, 990, 2 * base::kFrameMs + 1);
    EXPECT_NEAR(static_cast<double>(runs[1].length) / kSamplesPerMs, 1000, 2 * base::kFrameMs + 1);
    const double freqs[] = {950, 1400, 1800};
    for (std::size_t i = 0; i < 3; ++i) {
      expect_frequencies(s, {true, i * 330 * kSamplesPerMs, 330 * kSamplesPerMs}, {freqs[i]},
                         "segment " + std::to_string(i));
    }
  }
}

TEST(ToneProfileToml, AnOverrideChangesOnlyWhatItNames) {
  const ToneProfile& us = *find_tone_profile("US");
  // As the config loader will see it: a [countries.US] table of sipline.toml.
  const toml::table root = toml::parse(R"(
[countries.US]
ring_cadence_ms = [1000, 3000]
[countries.US.caller_id]
format = "bell202_sdmf"
[countries.US.tones]
busy = [{f1 = 480, f2 = 620, level = -20, ms = 400}, {f1 = 0, ms = 600}]
)");
  const toml::table* us_table = root["countries"]["US"].as_table();
  ASSERT_NE(us_table, nullptr);
  const ProfileResult p = parse_tone_profile(*us_table, &us);
  ASSERT_TRUE(p) << describe(p);
  EXPECT_EQ(p->country, "US");
  EXPECT_EQ(p->ring_cadence_ms, (std::vector<int>{1000, 3000}));
  EXPECT_EQ(p->caller_id.format, CallerIdFormat::bell202_sdmf);
  ASSERT_EQ(p->busy.steps.size(), 2u);
  EXPECT_EQ(p->busy.steps[0].level_dbm0, -20);
  EXPECT_EQ(p->busy.steps[0].duration_ms, 400);
  EXPECT_EQ(p->busy.steps[1].duration_ms, 600);
  // The rest is the base's.
  EXPECT_EQ(p->caller_id.alert, us.caller_id.alert);
  EXPECT_EQ(p->caller_id.data_delay_ms, us.caller_id.data_delay_ms);
  EXPECT_EQ(p->caller_id.ring_delay_ms, us.caller_id.ring_delay_ms);
  for (ToneKind k : kAllTones) {
    if (k != ToneKind::busy) {
      EXPECT_TRUE(same_steps(p->tone(k), us.tone(k))) << static_cast<int>(k);
    }
  }
  EXPECT_EQ(p->hook.flash_min_ms, us.hook.flash_min_ms);
  EXPECT_EQ(p->hook.flash_max_ms, us.hook.flash_max_ms);
  EXPECT_EQ(p->disconnect.loop_drop_ms, us.disconnect.loop_drop_ms);
  // The built-in itself is untouched.
  EXPECT_EQ(us.ring_cadence_ms, (std::vector<int>{2000, 4000}));

  // An empty override is the base.
  const ProfileResult same = parse_tone_profile(toml::table{}, &us);
  ASSERT_TRUE(same) << describe(same);
  EXPECT_EQ(same->caller_id.format, us.caller_id.format);
  EXPECT_TRUE(same_steps(same->busy, us.busy));
}

struct BadInput {
  const char* what;
  const char* toml;
  std::string message;  // the error message starts with this
  int line;
  int column = 0;  // 0: not checked
};

TEST(ToneProfileToml, EachBadValueIsReportedWithItsKeyAndPosition) {
  const std::vector<BadInput> cases = {
      {"unknown key", "ring_cadance_ms = [1000, 1000]\n", "ring_cadance_ms: unknown key", 1, 1},
      {"unknown key in a section", "[hook]\nflash_min = 100\n", "hook.flash_min: unknown key", 2, 1},
      {"unknown key in a step", "[tones]\nbusy = [{f1 = 480, freq = 620, level = -24, ms = 500}]\n",
       "tones.busy[0].freq: unknown key", 2},
      {"empty tone", "[tones]\nbusy = []\n", "tones.busy: must not be empty", 2, 8},
      {"zero-length step before the last", "[tones]\nbusy = [{f1 = 480, level = -24, ms = 0}, {f1 = 0, ms = 500}]\n",
       "tones.busy[0].ms: 0 (until stopped) is only allowed on the last step", 2},
      {"zero-length silence", "[tones]\nbusy = [{f1 = 480, level = -24, ms = 500}, {f1 = 0, ms = 0}]\n",
       "tones.busy[1].ms: a silent step needs a duration", 2},
      {"all silent", "[tones]\nbusy = [{f1 = 0, ms = 500}]\n", "tones.busy: every step is silent", 2},
      {"silent step with f2", "[tones]\nbusy = [{f1 = 480, level = -24, ms = 500}, {f1 = 0, f2 = 620, ms = 500}]\n",
       "tones.busy[1].f2: a silent step (f1 = 0) has no f2", 2},
      {"negative step duration", "[tones]\nringback = [\n  {f1 = 440, level = -19, ms = -2000},\n]\n",
       "tones.ringback[0].ms: -2000 is out of range 0..60000", 3},
      {"missing step level", "[tones]\ndial = [{f1 = 350, ms = 0}]\n", "tones.dial[0].level: missing", 2},
      {"frequency too high", "[tones]\ndial = [{f1 = 4400, level = -13, ms = 0}]\n",
       "tones.dial[0].f1: 4400 is out of range 0..4000", 2},
      {"negative frequency", "[tones]\ndial = [{f1 = 350, f2 = -440, level = -13, ms = 0}]\n",
       "tones.dial[0].f2: -440 is out of range 0..4000", 2},
      {"level above 0", "[tones]\ndial = [{f1 = 350, f2 = 440, level = 3, ms = 0}]\n",
       "tones.dial[0].level: 3 is out of range -60..0", 2},
      {"tone not an array", "[tones]\ndial = 350\n", "tones.dial: expected an array of steps, got an integer", 2, 8},
      {"odd ring cadence", "ring_cadence_ms = [2000, 4000, 2000]\n", "ring_cadence_ms: 3 entries", 1, 19},
      {"zero ring cadence entry", "\n\nring_cadence_ms = [2000, 0]\n",
       "ring_cadence_ms[1]: 0 is out of range 1..60000", 3, 26},
      {"empty ring cadence", "ring_cadence_ms = []\n", "ring_cadence_ms: must not be empty", 1},
      {"negative caller ID delay", "[caller_id]\ndata_delay_ms = -5\n",
       "caller_id.data_delay_ms: -5 is out of range 0..60000", 2, 17},
      {"caller ID level", "[caller_id]\nlevel_dbm0 = -70.5\n", "caller_id.level_dbm0: -70.5 dBm0 is out of range -60..0", 2},
      {"unknown caller ID format", "[caller_id]\nformat = \"x\"\n", "caller_id.format: unknown format \"x\" (", 2, 10},
      {"unknown caller ID alert", "[caller_id]\nalert = \"ring\"\n",
       "caller_id.alert: unknown alert \"ring\" (first_ring, line_reversal, dt_as, rp_as, ntt_car)", 2, 9},
      {"odd CAR cadence", "[caller_id]\ncar_cadence_ms = [500]\n", "caller_id.car_cadence_ms: 1 entries", 2},
      {"flash window empty", "[hook]\nflash_min_ms = 900\nflash_max_ms = 900\n",
       "hook.flash_max_ms: 900 must be greater than hook.flash_min_ms (900)", 3, 16},
      {"flash max below the base's min", "[hook]\nflash_max_ms = 50\n",
       "hook.flash_max_ms: 50 must be greater than hook.flash_min_ms (100)", 2},
      {"flash min above the base's max", "[hook]\nflash_min_ms = 1000\n",
       "hook.flash_min_ms: 1000 must be less than hook.flash_max_ms (900)", 2},
      {"debounce longer than a flash", "[hook]\ndebounce_ms = 200\n",
       "hook.debounce_ms: 200 must not exceed hook.flash_min_ms (100)", 2},
      {"wrong type", "[hook]\nflash_min_ms = \"100\"\n", "hook.flash_min_ms: expected an integer, got a string", 2},
      {"section not a table", "hook = 5\n", "hook: expected a table, got an integer", 1},
      {"boolean expected", "[disconnect]\nbusy_tone = 1\n", "disconnect.busy_tone: expected true or false", 2},
      {"negative loop drop", "[disconnect]\nloop_drop_ms = -800\n", "disconnect.loop_drop_ms: -800 is out of range", 2},
      {"bad country", "country = \"USA\"\n", "country: \"USA\" is not an ISO 3166 alpha-2 code", 1},
      {"TOML syntax", "[hook\n", "TOML syntax", 1},
  };
  const ToneProfile& us = *find_tone_profile("US");
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.what);
    const ProfileResult p = parse_tone_profile_text(c.toml, &us);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message.substr(0, c.message.size()), c.message) << p.error().message;
    EXPECT_EQ(p.error().line, c.line) << p.error().message;
    if (c.column != 0) {
      EXPECT_EQ(p.error().column, c.column) << p.error().message;
    }
  }
}

// Line of the first occurrence of `needle` in `text` (1-based).
int line_of(std::string_view text, std::string_view needle) {
  const std::size_t at = text.find(needle);
  return at == std::string_view::npos ? -1
                                      : 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// Without a base (a complete profile, as a built-in file), every key is
// required; the error points at the table that lacks it.
TEST(ToneProfileToml, ACompleteProfileNeedsEveryKey) {
  const std::string us(built_in_profile_files()[0].text);
  const auto without = [&](std::string_view line) {
    std::string text = us;
    const std::size_t at = text.find(line);
    EXPECT_NE(at, std::string::npos) << line;
    text.erase(at, line.size());
    return parse_tone_profile_text(text);
  };

  ProfileResult p = without("debounce_ms = 30\n");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "hook.debounce_ms: missing");
  EXPECT_EQ(p.error().line, line_of(us, "[hook]"));

  p = without("alert = \"first_ring\"\n");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "caller_id.alert: missing");
  EXPECT_EQ(p.error().line, line_of(us, "[caller_id]"));

  p = without("country = \"US\"\n");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "country: missing");

  const std::size_t disconnect = us.find("# Telling the phone");
  ASSERT_NE(disconnect, std::string::npos);
  p = parse_tone_profile_text(us.substr(0, disconnect));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "disconnect: missing table [disconnect]");

  // With the US profile as base, the same text without those keys is fine.
  EXPECT_TRUE(parse_tone_profile_text(us.substr(0, disconnect), find_tone_profile("US")));
}

}  // namespace
}  // namespace sipline::dsp
