#pragma once
// Test stimulus for the dsp unit tests, synthesised here rather than with the
// code under test: sines at a dBm0 level, DTMF pairs with twist, and a
// deterministic speech-like signal for talk-off checks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp::test {

// spandsp's convention (telephony.h DBM0_MAX_SINE_POWER): +3.14 dBm0 = full-scale sine.
inline double dbm0_to_peak(double dbm0) { return 32767.0 * std::pow(10.0, (dbm0 - 3.14) / 20.0); }

struct Tone {
  double hz;
  double dbm0;
};

// Appends `ms` of the sum of `tones` to `out` (phases start at 0).
inline void append_tones(std::vector<int16_t>& out, std::initializer_list<Tone> tones, int ms) {
  const int n = ms * base::kSampleRate / 1000;
  for (int i = 0; i < n; ++i) {
    double v = 0;
    for (const Tone& t : tones) {
      v += dbm0_to_peak(t.dbm0) * std::sin(2.0 * std::numbers::pi * t.hz * i / base::kSampleRate);
    }
    out.push_back(static_cast<int16_t>(std::clamp(std::lround(v), -32768L, 32767L)));
  }
}

// Appends `ms` of a modem answer tone at `dbm0`: `hz` (2100 for V.25 ANS)
// with its phase turned by 180 degrees every `reversal_ms` (0 = never) and
// amplitude modulated by `am_depth` at 15 Hz (V.8 ANSam).
inline void append_answer_tone(std::vector<int16_t>& out, int ms, int reversal_ms, double am_depth = 0,
                               double hz = 2100, double dbm0 = -12) {
  const double peak = dbm0_to_peak(dbm0);
  const int n = ms * base::kSampleRate / 1000;
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / base::kSampleRate;
    const int reversals = reversal_ms > 0 ? i / (reversal_ms * base::kSampleRate / 1000) : 0;
    const double phase = 2 * std::numbers::pi * hz * t + (reversals % 2 ? std::numbers::pi : 0.0);
    const double am = 1 + am_depth * std::sin(2 * std::numbers::pi * 15 * t);
    out.push_back(static_cast<int16_t>(std::lround(peak * am / (1 + am_depth) * std::sin(phase))));
  }
}

inline void append_silence(std::vector<int16_t>& out, int ms) {
  out.insert(out.end(), static_cast<std::size_t>(ms * base::kSampleRate / 1000), int16_t{0});
}

inline double dtmf_row_hz(char digit) {
  static const char* kKeys = "123A456B789C*0#D";
  static const double kRow[] = {697, 770, 852, 941};
  for (int i = 0; i < 16; ++i) if (kKeys[i] == digit) return kRow[i / 4];
  return 0;
}
inline double dtmf_col_hz(char digit) {
  static const char* kKeys = "123A456B789C*0#D";
  static const double kCol[] = {1209, 1336, 1477, 1633};
  for (int i = 0; i < 16; ++i) if (kKeys[i] == digit) return kCol[i % 4];
  return 0;
}

// A vowel-like signal: a pitch-varying glottal pulse train through two moving
// formant resonators, with a syllabic (4 Hz) envelope and breath noise.
inline std::vector<int16_t> speech_like(int ms, double peak = 12000.0, uint32_t seed = 12345) {
  const int n = ms * base::kSampleRate / 1000;
  std::vector<double> raw;
  raw.reserve(static_cast<std::size_t>(n));
  uint32_t rng = seed;
  auto uniform = [&rng] {
    rng = rng * 1664525u + 1013904223u;
    return static_cast<double>(rng >> 8) / static_cast<double>(1u << 24) - 0.5;
  };
  struct Resonator {
    double y1 = 0, y2 = 0;
    double step(double x, double f, double bw) {
      const double r = std::exp(-std::numbers::pi * bw / base::kSampleRate);
      const double c = 2 * r * std::cos(2 * std::numbers::pi * f / base::kSampleRate);
      const double y = (1 - r) * x + c * y1 - r * r * y2;
      y2 = y1;
      y1 = y;
      return y;
    }
  } f1, f2, f3;
  double pitch_phase = 0;
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / base::kSampleRate;
    const double pitch = 120 + 40 * std::sin(2 * std::numbers::pi * 0.7 * t) + 15 * std::sin(2 * std::numbers::pi * 3.1 * t);
    pitch_phase += pitch / base::kSampleRate;
    double excitation = 0;
    if (pitch_phase >= 1.0) {
      pitch_phase -= 1.0;
      excitation = 1.0;
    }
    excitation += 0.05 * uniform();
    const double formant1 = 500 + 250 * std::sin(2 * std::numbers::pi * 1.3 * t);
    const double formant2 = 1500 + 600 * std::sin(2 * std::numbers::pi * 0.9 * t + 1.0);
    const double formant3 = 2500 + 300 * std::sin(2 * std::numbers::pi * 0.5 * t + 2.0);
    const double v = f1.step(excitation, formant1, 80) + 0.6 * f2.step(excitation, formant2, 120) +
                     0.3 * f3.step(excitation, formant3, 160);
    const double envelope = 0.55 + 0.45 * std::sin(2 * std::numbers::pi * 4.0 * t);
    raw.push_back(v * envelope);
  }
  double max_abs = 1e-9;
  for (double v : raw) max_abs = std::max(max_abs, std::abs(v));
  std::vector<int16_t> out;
  out.reserve(raw.size());
  for (double v : raw) out.push_back(static_cast<int16_t>(std::lround(v / max_abs * peak)));
  return out;
}

// Splits `samples` into whole frames (the tail shorter than a frame is dropped).
inline std::vector<base::AudioFrame> to_frames(std::span<const int16_t> samples) {
  std::vector<base::AudioFrame> frames(samples.size() / base::kFrameSamples);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(f * base::kFrameSamples), base::kFrameSamples,
                frames[f].begin());
  }
  return frames;
}

}  // namespace sipline::dsp::test
