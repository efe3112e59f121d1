// Call progress detection: per-frame Goertzel classification into runs of
// one tone's frequencies (or of "no tone"), then cadence matching of the run
// lengths against the profile's tone steps. See call_progress.hpp.
#include "sipline/dsp/call_progress.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "sipline/dsp/goertzel.hpp"

namespace sipline::dsp {
namespace {

constexpr int kFrameMs = base::kFrameMs;
// level_dbfs() is relative to a full-scale square wave; a full-scale sine is
// -3.01 dBFS and +3.14 dBm0 (spandsp's convention, as the ToneGenerator).
constexpr double kDbfsToDbm0 = 3.14 + 3.01;
constexpr double kToneFloorDbm0 = -42.0;   // quieter frames are never tone frames
constexpr double kSingleMinRatio = 0.75;   // share of a frame's energy in a single tone
constexpr double kPairMinRatio = 0.70;     // share in a pair ...
constexpr double kPairEachMinRatio = 0.20;  // ... and in each of its two frequencies
// A run of a tone goes on with less: its frequencies' share of a frame may
// drop to these (AM troughs, noise) without ending the run.
constexpr double kHoldRatio = 0.50;
constexpr double kHoldEachRatio = 0.12;
constexpr double kHoldFloorDbm0 = -48.0;
constexpr double kModulatedSwingDb = 3.0;  // frame level swing of an AM tone (JP: 80% at 16 Hz)
constexpr int kSitBankStepHz = 25;         // SIT: filters at f-50 ... f+50 (Q.35: +-50 Hz)
constexpr int kSitBankHalf = 2;
constexpr int kMinPauseMs = 100;           // a pause is believed once this long
constexpr int kSteadyMinMs = 1000;         // a steady tone is believed once this long
constexpr int kHistory = 32;               // completed runs kept
constexpr int kNoLabel = -1;               // a run of frames that are no tone
// Non-tone audio: above the absolute floor and 6 dB over the line's noise
// floor, which follows quieter frames at once and rises 10 dB/s.
constexpr double kAudioFloorDbm0 = -45.0;
constexpr double kAudioOverNoiseDb = 6.0;
constexpr double kNoiseRiseDbPerFrame = 0.2;
constexpr double kNoiseFloorStartDbm0 = -60.0;
constexpr int kAudioGapMs = 300;
constexpr int kToneEndsAudioMs = 100;

struct Component {
  int first_filter = 0;  // into Impl::filters_hz
  int filters = 1;
};

struct Signature {
  std::array<int, 2> components{};  // into Impl::components
  int count = 0;
};

struct Element {
  int label = kNoLabel;  // signature index, kNoLabel for a pause
  bool modulated = false;
  int lo_ms = 0, hi_ms = 0;
};

struct Pattern {
  ProgressTone kind = ProgressTone::none;
  bool steady = false;  // a tone "until stopped": dial tone
  int steady_label = kNoLabel;
  bool steady_modulated = false;
  int steady_ms = kSteadyMinMs;
  std::vector<Element> elements;  // cyclic
  int required = 0;               // elements matched before confirming
};

struct Run {
  int label = kNoLabel;
  int ms = 0;
  // Level swing over the run's interior frames (the first and the last frame
  // may be partial); the newest frame waits in `pending` until it is interior.
  double min_db = 0, max_db = 0, pending_db = 0;
  bool has_interior = false, has_pending = false;
  bool modulated() const { return has_interior && max_db - min_db > kModulatedSwingDb; }
};

bool same_steps(const ToneSpec& a, const ToneSpec& b) {
  if (a.steps.size() != b.steps.size()) return false;
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const ToneStep& x = a.steps[i];
    const ToneStep& y = b.steps[i];
    if (x.f1_hz != y.f1_hz || x.f2_hz != y.f2_hz || x.mod_hz != y.mod_hz || x.duration_ms != y.duration_ms) return false;
  }
  return true;
}

int tolerance_ms(int ms) { return std::max(60, ms / 5) + kFrameMs; }

}  // namespace

std::string_view to_string(ProgressTone tone) {
  switch (tone) {
    case ProgressTone::none: return "none";
    case ProgressTone::dial: return "dial";
    case ProgressTone::ringback: return "ringback";
    case ProgressTone::busy: return "busy";
    case ProgressTone::congestion: return "congestion";
    case ProgressTone::special_information: return "special_information";
  }
  return "unknown";
}

struct CallProgressDetector::Impl {
  // Built on the control thread, read-only afterwards.
  std::vector<double> filters_hz;
  std::vector<Component> components;
  std::vector<Signature> signatures;
  std::vector<Pattern> patterns;
  // Per-frame scratch, sized once.
  std::vector<double> filter_ratio;
  std::vector<double> component_ratio;

  // Realtime state.
  std::array<Run, kHistory> history{};  // ring of completed runs
  int history_count = 0;                // valid entries (<= kHistory)
  int history_next = 0;                 // where the next one goes
  Run current_run;
  ProgressTone current = ProgressTone::none;
  int current_pattern = -1;
  int audio_ms = 0, gap_ms = 0, tone_ms = 0;
  double noise_floor_db = kNoiseFloorStartDbm0;

  explicit Impl(const ToneProfile& profile);
  int component_for(int hz, bool wide);
  int signature_for(int f1, int f2, bool wide);
  void add_pattern(ProgressTone kind, const ToneSpec& spec);

  int classify(base::ConstFrameSpan frame, double level_db);
  void track_audio(int label, double level_db);
  void add_frame(int label, double level_db);
  static void extend(Run& run, double level_db);
  void push(const Run& run);
  Run pop();
  const Run& completed(int back) const;  // 1 = newest
  bool element_fits(const Element& e, const Run& run, bool ongoing) const;
  bool fits(const Pattern& p, int completed_runs, bool confirming) const;
  bool confirms(const Pattern& p) const;
  bool still_fits(const Pattern& p) const;
  void clear();
};

CallProgressDetector::Impl::Impl(const ToneProfile& profile) {
  const std::array<std::pair<ProgressTone, const ToneSpec*>, 5> tones{{
      {ProgressTone::dial, &profile.dial},
      {ProgressTone::ringback, &profile.ringback},
      {ProgressTone::busy, &profile.busy},
      {ProgressTone::congestion, &profile.congestion},
      {ProgressTone::special_information, &profile.special_information},
  }};
  for (std::size_t i = 0; i < tones.size(); ++i) {
    // Identical tones (JP busy and congestion) are reported as the first.
    bool repeated = false;
    for (std::size_t j = 0; j < i; ++j) repeated = repeated || same_steps(*tones[j].second, *tones[i].second);
    if (!repeated) add_pattern(tones[i].first, *tones[i].second);
  }
  // A steady tone must outlast every on-step of the same sound in a cadenced
  // tone (FR: dial tone and ringback are both 440 Hz, ringback 1.5 s on).
  for (Pattern& p : patterns) {
    if (!p.steady) continue;
    for (const Pattern& q : patterns) {
      for (const Element& e : q.elements) {
        if (e.label == p.steady_label && e.modulated == p.steady_modulated) {
          p.steady_ms = std::max(p.steady_ms, e.hi_ms + kFrameMs);
        }
      }
    }
  }
  filter_ratio.assign(filters_hz.size(), 0.0);
  component_ratio.assign(components.size(), 0.0);
}

int CallProgressDetector::Impl::component_for(int hz, bool wide) {
  const int filters = wide ? 2 * kSitBankHalf + 1 : 1;
  for (std::size_t i = 0; i < components.size(); ++i) {
    const Component& c = components[i];
    const double centre = filters_hz[static_cast<std::size_t>(c.first_filter + c.filters / 2)];
    if (static_cast<int>(centre) == hz && c.filters == filters) return static_cast<int>(i);
  }
  Component c;
  c.first_filter = static_cast<int>(filters_hz.size());
  c.filters = filters;
  for (int k = -(filters / 2); k <= filters / 2; ++k) filters_hz.push_back(hz + k * kSitBankStepHz);
  components.push_back(c);
  return static_cast<int>(components.size() - 1);
}

int CallProgressDetector::Impl::signature_for(int f1, int f2, bool wide) {
  if (f2 != 0 && f2 < f1) std::swap(f1, f2);
  Signature s;
  s.components[0] = component_for(f1, wide);
  s.count = 1;
  if (f2 != 0 && f2 != f1) {
    s.components[1] = component_for(f2, wide);
    s.count = 2;
  }
  for (std::size_t i = 0; i < signatures.size(); ++i) {
    const Signature& o = signatures[i];
    if (o.count == s.count && o.components[0] == s.components[0] &&
        (s.count == 1 || o.components[1] == s.components[1])) {
      return static_cast<int>(i);
    }
  }
  signatures.push_back(s);
  return static_cast<int>(signatures.size() - 1);
}

void CallProgressDetector::Impl::add_pattern(ProgressTone kind, const ToneSpec& spec) {
  if (spec.empty()) return;
  const bool wide = kind == ProgressTone::special_information;
  Pattern p;
  p.kind = kind;
  for (const ToneStep& step : spec.steps) {
    const int label = step.f1_hz == 0 ? kNoLabel : signature_for(step.f1_hz, step.f2_hz, wide);
    const bool modulated = step.f1_hz != 0 && step.mod_hz > 0;
    if (step.duration_ms <= 0) {
      // Until stopped: the tone settles on this step (dial tone, the end of stutter dial tone).
      if (label == kNoLabel) return;
      p.steady = true;
      p.steady_label = label;
      p.steady_modulated = modulated;
      p.elements.clear();
      break;
    }
    if (!p.elements.empty() && p.elements.back().label == label && p.elements.back().modulated == modulated) {
      p.elements.back().lo_ms += step.duration_ms;  // nominal for now
    } else {
      p.elements.push_back(Element{.label = label, .modulated = modulated, .lo_ms = step.duration_ms, .hi_ms = 0});
    }
  }
  if (!p.steady) {
    // The cycle wraps: merge a last step into the first when they sound the same.
    if (p.elements.size() > 1 && p.elements.front().label == p.elements.back().label &&
        p.elements.front().modulated == p.elements.back().modulated) {
      p.elements.front().lo_ms += p.elements.back().lo_ms;
      p.elements.pop_back();
    }
    bool has_pause = false, has_tone = false;
    for (Element& e : p.elements) {
      const int nominal = e.lo_ms;
      e.lo_ms = nominal - tolerance_ms(nominal);
      e.hi_ms = nominal + tolerance_ms(nominal);
      (e.label == kNoLabel ? has_pause : has_tone) = true;
    }
    if (!has_tone) return;
    if (!has_pause) return;  // a cadence without pauses cannot be confirmed by its runs
    const int n = static_cast<int>(p.elements.size());
    if (kind == ProgressTone::ringback) {
      p.required = 2;  // one on-step and the start of the pause after it
    } else if (kind == ProgressTone::special_information) {
      p.required = n;  // its tones and the start of the pause
    } else {
      p.required = std::max(4, n + 1);
    }
  }
  patterns.push_back(std::move(p));
}

int CallProgressDetector::Impl::classify(base::ConstFrameSpan frame, double level_db) {
  if (level_db < kHoldFloorDbm0) return kNoLabel;
  for (std::size_t i = 0; i < filters_hz.size(); ++i) {
    filter_ratio[i] = tone_power_ratio(frame, filters_hz[i], base::kSampleRate);
  }
  for (std::size_t i = 0; i < components.size(); ++i) {
    const Component& c = components[i];
    double best = 0;
    for (int k = 0; k < c.filters; ++k) best = std::max(best, filter_ratio[static_cast<std::size_t>(c.first_filter + k)]);
    component_ratio[i] = best;
  }
  auto share_of = [this](const Signature& s, double each_min) {
    double share = 0;
    for (int k = 0; k < s.count; ++k) {
      const double r = component_ratio[static_cast<std::size_t>(s.components[static_cast<std::size_t>(k)])];
      if (s.count == 2 && r < each_min) return 0.0;
      share += r;
    }
    return share;
  };
  if (current_run.label != kNoLabel && current_run.ms > 0 &&
      share_of(signatures[static_cast<std::size_t>(current_run.label)], kHoldEachRatio) >= kHoldRatio) {
    return current_run.label;
  }
  if (level_db < kToneFloorDbm0) return kNoLabel;
  int label = kNoLabel;
  double best_share = 0;
  for (std::size_t i = 0; i < signatures.size(); ++i) {
    const Signature& s = signatures[i];
    const double share = share_of(s, kPairEachMinRatio);
    if (share < (s.count == 2 ? kPairMinRatio : kSingleMinRatio)) continue;
    if (share > best_share) {
      best_share = share;
      label = static_cast<int>(i);
    }
  }
  return label;
}

void CallProgressDetector::Impl::track_audio(int label, double level_db) {
  if (label != kNoLabel) {
    tone_ms += kFrameMs;
    if (tone_ms >= kToneEndsAudioMs) audio_ms = gap_ms = 0;
    return;
  }
  tone_ms = 0;
  const bool loud = level_db >= std::max(kAudioFloorDbm0, noise_floor_db + kAudioOverNoiseDb);
  noise_floor_db = std::min(level_db, noise_floor_db + kNoiseRiseDbPerFrame);
  if (loud) {
    audio_ms = std::min(audio_ms + kFrameMs, 3600 * 1000);
    gap_ms = 0;
  } else {
    gap_ms += kFrameMs;
    if (gap_ms > kAudioGapMs) audio_ms = 0;
  }
}

void CallProgressDetector::Impl::extend(Run& run, double level_db) {
  run.ms = std::min(run.ms + kFrameMs, 3600 * 1000);
  if (run.has_pending) {
    if (!run.has_interior) {
      run.min_db = run.max_db = run.pending_db;
      run.has_interior = true;
    } else {
      run.min_db = std::min(run.min_db, run.pending_db);
      run.max_db = std::max(run.max_db, run.pending_db);
    }
  }
  run.pending_db = level_db;
  run.has_pending = true;
}

void CallProgressDetector::Impl::push(const Run& run) {
  history[static_cast<std::size_t>(history_next)] = run;
  history_next = (history_next + 1) % kHistory;
  history_count = std::min(history_count + 1, kHistory);
}

Run CallProgressDetector::Impl::pop() {
  history_next = (history_next + kHistory - 1) % kHistory;
  --history_count;
  return history[static_cast<std::size_t>(history_next)];
}

const Run& CallProgressDetector::Impl::completed(int back) const {
  return history[static_cast<std::size_t>((history_next - back + 2 * kHistory) % kHistory)];
}

void CallProgressDetector::Impl::add_frame(int label, double level_db) {
  if (current_run.ms == 0) {
    current_run = Run{.label = label, .ms = kFrameMs};
    return;
  }
  if (label == current_run.label) {
    extend(current_run, level_db);
    return;
  }
  if (current_run.ms == kFrameMs && history_count > 0) {
    // A one-frame run is a transition frame or a glitch: it joins the run before it.
    Run previous = pop();
    if (previous.label == label) {
      previous.ms += kFrameMs;
      previous.has_pending = false;
      current_run = previous;
      extend(current_run, level_db);
      return;
    }
    previous.ms += kFrameMs;
    push(previous);
  } else {
    push(current_run);
  }
  current_run = Run{.label = label, .ms = kFrameMs};
}

bool CallProgressDetector::Impl::element_fits(const Element& e, const Run& run, bool ongoing) const {
  if (e.label != run.label) return false;
  if (run.ms > e.hi_ms) return false;
  if (ongoing) return true;
  if (run.ms < e.lo_ms) return false;
  return e.label == kNoLabel || e.modulated == run.modulated();
}

// The newest `completed_runs` completed runs and the ongoing one follow the
// pattern's elements in order, from some starting element. When confirming,
// the ongoing run must be a pause that has lasted long enough to believe.
bool CallProgressDetector::Impl::fits(const Pattern& p, int completed_runs, bool confirming) const {
  const int n = static_cast<int>(p.elements.size());
  if (confirming) {
    if (current_run.label != kNoLabel) return false;
  }
  for (int start = 0; start < n; ++start) {
    const Element& last = p.elements[static_cast<std::size_t>((start + completed_runs) % n)];
    if (!element_fits(last, current_run, true)) continue;
    if (confirming && current_run.ms < std::min(kMinPauseMs, std::max(last.lo_ms, kFrameMs))) continue;
    bool ok = true;
    for (int i = 0; i < completed_runs && ok; ++i) {
      const Run& run = completed(completed_runs - i);
      ok = element_fits(p.elements[static_cast<std::size_t>((start + i) % n)], run, false);
    }
    if (ok) return true;
  }
  return false;
}

bool CallProgressDetector::Impl::confirms(const Pattern& p) const {
  if (p.steady) {
    return current_run.label == p.steady_label && current_run.ms >= p.steady_ms &&
           current_run.modulated() == p.steady_modulated;
  }
  const int need = p.required - 1;
  if (history_count < need) return false;
  return fits(p, need, true);
}

bool CallProgressDetector::Impl::still_fits(const Pattern& p) const {
  // A one-frame run may be a transition frame, to be merged (add_frame).
  if (current_run.ms <= kFrameMs) return true;
  if (p.steady) {
    if (current_run.label == p.steady_label) return current_run.modulated() == p.steady_modulated;
    return current_run.ms <= kMinPauseMs && history_count > 0 && completed(1).label == p.steady_label;
  }
  return fits(p, std::min(p.required - 1, history_count), false);
}

void CallProgressDetector::Impl::clear() {
  history_count = history_next = 0;
  current_run = Run{};
  current = ProgressTone::none;
  current_pattern = -1;
  audio_ms = gap_ms = tone_ms = 0;
  noise_floor_db = kNoiseFloorStartDbm0;
}

CallProgressDetector::CallProgressDetector(const ToneProfile& profile) : impl_(std::make_unique<Impl>(profile)) {}
CallProgressDetector::~CallProgressDetector() = default;
CallProgressDetector::CallProgressDetector(CallProgressDetector&&) noexcept = default;
CallProgressDetector& CallProgressDetector::operator=(CallProgressDetector&&) noexcept = default;

std::optional<ProgressTone> CallProgressDetector::process(base::ConstFrameSpan frame) {
  Impl& s = *impl_;
  const double level_db = level_dbfs(frame) + kDbfsToDbm0;
  const int label = s.classify(frame, level_db);
  s.track_audio(label, level_db);
  s.add_frame(label, level_db);
  if (s.current != ProgressTone::none) {
    if (s.still_fits(s.patterns[static_cast<std::size_t>(s.current_pattern)])) return std::nullopt;
    s.current = ProgressTone::none;
    s.current_pattern = -1;
    return ProgressTone::none;
  }
  for (std::size_t i = 0; i < s.patterns.size(); ++i) {
    if (s.confirms(s.patterns[i])) {
      s.current = s.patterns[i].kind;
      s.current_pattern = static_cast<int>(i);
      return s.current;
    }
  }
  return std::nullopt;
}

ProgressTone CallProgressDetector::current() const { return impl_->current; }

bool CallProgressDetector::non_tone_audio_for(int ms) const { return impl_->audio_ms >= ms; }

void CallProgressDetector::reset() { impl_->clear(); }

}  // namespace sipline::dsp
