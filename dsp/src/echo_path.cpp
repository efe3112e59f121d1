#include "sipline/dsp/echo_path.hpp"

#include <algorithm>
#include <cmath>

namespace sipline::dsp {

namespace {

// 0 dBm0 is a sine of peak 22800 (spandsp's scale, as the ToneGenerator):
// its RMS value.
constexpr double kRmsAt0Dbm0 = 22800.0 / 1.41421356237;

// A small deterministic generator (xorshift32): the same seed gives the same
// response on every machine.
std::uint32_t next(std::uint32_t& state) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

// Uniform in [-1, 1).
double uniform(std::uint32_t& state) { return (next(state) >> 8) / 8388608.0 - 1.0; }

}  // namespace

EchoPath::EchoPath(const EchoPathOptions& options) : options_(options), rng_(options.seed ? options.seed : 1) {
  options_.delay_ms = std::clamp(options_.delay_ms, 0, 100);
  options_.dispersion_ms = std::clamp(options_.dispersion_ms, 0, 24);
  const std::size_t taps = std::max<std::size_t>(1, static_cast<std::size_t>(options_.dispersion_ms) * 8);
  h_.assign(taps, 0.0f);
  if (taps == 1) {
    h_[0] = 1.0f;
  } else {
    // Band-limited noise (a band-pass made of two one-pole sections: the
    // hybrid passes neither DC nor the top of the band) under an envelope
    // that rises over the first 0.5 ms and decays by 40 dB over the length.
    double low = 0, lower = 0;
    const double decay = std::log(100.0) / static_cast<double>(taps);
    for (std::size_t k = 0; k < taps; ++k) {
      const double x = uniform(rng_);
      low += 0.55 * (x - low);          // low-pass, corner about 1 kHz
      lower += 0.08 * (low - lower);    // the part below about 100 Hz, taken out
      const double rise = std::min(1.0, static_cast<double>(k + 1) / 4.0);
      h_[k] = static_cast<float>((low - lower) * rise * std::exp(-decay * static_cast<double>(k)));
    }
  }
  // Scale to the echo return loss for white noise: sum(h^2) = 10^(-ERL/10).
  double energy = 0;
  for (float v : h_) energy += static_cast<double>(v) * v;
  const double scale = std::sqrt(std::pow(10.0, -options_.erl_db / 10.0) / std::max(energy, 1e-30));
  for (float& v : h_) v = static_cast<float>(v * scale);
  history_.assign(static_cast<std::size_t>(options_.delay_ms) * 8 + taps, 0.0f);
  noise_rms_ = options_.noise_dbm0 > -99 ? kRmsAt0Dbm0 * std::pow(10.0, options_.noise_dbm0 / 20.0) : 0.0;
}

void EchoPath::process(base::ConstFrameSpan to_line, base::FrameSpan from_line) {
  const std::size_t size = history_.size();
  const std::size_t delay = static_cast<std::size_t>(options_.delay_ms) * 8;
  // Uniform noise of RMS r has amplitude r * sqrt(3).
  const double noise_peak = noise_rms_ * 1.7320508;
  for (std::size_t n = 0; n < base::kFrameSamples; ++n) {
    history_[pos_] = to_line[n];
    // history_[pos_ - delay - k] is to_line delayed by delay + k samples.
    double echo = 0;
    std::size_t i = (pos_ + size - delay) % size;
    for (float tap : h_) {
      echo += static_cast<double>(tap) * history_[i];
      i = i == 0 ? size - 1 : i - 1;
    }
    if (noise_peak > 0) echo += noise_peak * uniform(rng_);
    const double out = from_line[n] + echo;
    from_line[n] = static_cast<int16_t>(std::clamp(std::lround(out), -32768L, 32767L));
    pos_ = pos_ + 1 == size ? 0 : pos_ + 1;
  }
}

}  // namespace sipline::dsp
