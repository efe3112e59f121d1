#pragma once
// Test material for the echo canceller tests (G.168-style), synthesised here:
//
// - composite_source(): a speech-like composite source signal in the spirit
//   of ITU-T G.168's CSS (voiced sounds, unvoiced sounds and pauses), our own
//   construction: voiced segments are a pitch-pulse train (a decaying pulse
//   per period, pitch gliding between 90 and 220 Hz) through three formant
//   resonators whose frequencies are drawn per segment; unvoiced segments are
//   white noise through a high-pass with a fast attack and decay; pauses are
//   silence. Segment lengths are drawn from a seed, so two seeds give two
//   independent talkers (far end, near end). The active parts (not the pauses)
//   are scaled to `level_dbm0`.
// - dBm0 helpers on spandsp's scale (0 dBm0 sine: peak about 22800, RMS 16140), the
//   same as signals.hpp and the EchoPath.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp::test {

// RMS of a 0 dBm0 sine: +3.14 dBm0 is a full-scale sine (spandsp's telephony.h).
inline constexpr double kRms0Dbm0 = 32767.0 / 1.41421356237 / 1.43549;   // 10^(3.14/20) = 1.43549

inline double energy(std::span<const int16_t> x) {
  double e = 0;
  for (int16_t v : x) e += static_cast<double>(v) * v;
  return e;
}

// Level of `x` in dBm0 (its RMS against a 0 dBm0 sine's); -200 for silence.
inline double level_dbm0(std::span<const int16_t> x) {
  if (x.empty()) return -200;
  const double ms = energy(x) / static_cast<double>(x.size());
  return ms > 0 ? 10.0 * std::log10(ms / (kRms0Dbm0 * kRms0Dbm0)) : -200;
}

struct CompositeSourceOptions {
  double level_dbm0 = -15;    // RMS of the active (voiced and unvoiced) parts
  std::uint32_t seed = 1;     // another seed: another talker
};

// `ms` milliseconds of the composite source (see above), at 8 kHz.
inline std::vector<int16_t> composite_source(int ms, const CompositeSourceOptions& options = {}) {
  const std::size_t n = static_cast<std::size_t>(ms) * base::kSampleRate / 1000;
  std::uint32_t rng = options.seed * 2654435761u + 0x9e3779b9u;
  auto next = [&rng] {
    rng = rng * 1664525u + 1013904223u;
    return rng;
  };
  auto uniform = [&next](double lo, double hi) { return lo + (hi - lo) * ((next() >> 8) / 16777216.0); };
  struct Resonator {
    double a1 = 0, a2 = 0, gain = 0, y1 = 0, y2 = 0;
    void tune(double hz, double bandwidth_hz) {
      const double r = std::exp(-std::numbers::pi * bandwidth_hz / base::kSampleRate);
      a1 = 2 * r * std::cos(2 * std::numbers::pi * hz / base::kSampleRate);
      a2 = -r * r;
      gain = 1 - r;
    }
    double step(double x) {
      const double y = gain * x + a1 * y1 + a2 * y2;
      y2 = y1;
      y1 = y;
      return y;
    }
  };
  std::vector<double> raw(n, 0.0);
  std::vector<bool> active(n, false);
  enum class Kind { voiced, unvoiced, pause };
  std::size_t i = 0;
  int segment = 0;
  Resonator f1, f2, f3;
  double hp_prev_in = 0, hp_prev_out = 0;
  while (i < n) {
    // A pattern like running speech: mostly voiced, some unvoiced, short pauses.
    const std::uint32_t pick = next() % 10;
    const Kind kind = segment == 0 ? Kind::voiced : pick < 6 ? Kind::voiced : pick < 8 ? Kind::unvoiced : Kind::pause;
    ++segment;
    const int seg_ms = kind == Kind::voiced ? static_cast<int>(uniform(60, 220))
                       : kind == Kind::unvoiced ? static_cast<int>(uniform(40, 120))
                                                : static_cast<int>(uniform(30, 140));
    const std::size_t len = std::min(n - i, static_cast<std::size_t>(seg_ms) * base::kSampleRate / 1000);
    if (kind == Kind::voiced) {
      f1.tune(uniform(300, 800), 80);
      f2.tune(uniform(900, 2200), 120);
      f3.tune(uniform(2300, 3300), 200);
      const double pitch_start = uniform(90, 220), pitch_end = uniform(90, 220);
      double phase = 1.0;   // a pulse at the start
      double pulse = 0;
      for (std::size_t k = 0; k < len; ++k) {
        const double frac = static_cast<double>(k) / static_cast<double>(len);
        phase += (pitch_start + (pitch_end - pitch_start) * frac) / base::kSampleRate;
        if (phase >= 1.0) {
          phase -= 1.0;
          pulse = 1.0;
        }
        const double excitation = pulse + 0.02 * uniform(-1, 1);
        pulse *= 0.6;   // a short glottal pulse
        // Rise and fall over 10 ms at the edges.
        const double edge = std::min({1.0, static_cast<double>(k) / 80.0, static_cast<double>(len - k) / 80.0});
        const double x = excitation * edge;
        raw[i + k] = f1.step(x) * 1.0 + f2.step(x) * 0.6 + f3.step(x) * 0.3;
        active[i + k] = true;
      }
    } else if (kind == Kind::unvoiced) {
      for (std::size_t k = 0; k < len; ++k) {
        const double x = uniform(-1, 1);
        // First-order high-pass (fricative-like, energy above ~1.5 kHz).
        hp_prev_out = 0.3 * (hp_prev_out + x - hp_prev_in);
        hp_prev_in = x;
        const double edge = std::min({1.0, static_cast<double>(k) / 40.0, static_cast<double>(len - k) / 40.0});
        raw[i + k] = hp_prev_out * edge;
        active[i + k] = true;
      }
    }
    i += len;
  }
  double e = 0;
  std::size_t count = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!active[k]) continue;
    e += raw[k] * raw[k];
    ++count;
  }
  const double rms = count ? std::sqrt(e / static_cast<double>(count)) : 1.0;
  const double scale = kRms0Dbm0 * std::pow(10.0, options.level_dbm0 / 20.0) / std::max(rms, 1e-12);
  std::vector<int16_t> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    out[k] = static_cast<int16_t>(std::clamp(std::lround(raw[k] * scale), -32768L, 32767L));
  }
  return out;
}

// White noise, uniform, with RMS `rms` (deterministic by seed).
inline std::vector<int16_t> white_noise(std::size_t samples, double rms, std::uint32_t seed = 7) {
  std::vector<int16_t> out(samples);
  std::uint32_t rng = seed;
  for (auto& v : out) {
    rng = rng * 1664525u + 1013904223u;
    const double u = (rng >> 8) / 8388608.0 - 1.0;
    v = static_cast<int16_t>(std::clamp(std::lround(u * rms * 1.7320508), -32768L, 32767L));
  }
  return out;
}

// Frame `index` of a signal (whole frames only).
inline base::ConstFrameSpan frame_of(const std::vector<int16_t>& x, std::size_t index) {
  return base::ConstFrameSpan(x.data() + index * base::kFrameSamples, base::kFrameSamples);
}

}  // namespace sipline::dsp::test
