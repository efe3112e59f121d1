// Goertzel power at one frequency (generalised to non-integer bins), and block level.
#include "sipline/dsp/goertzel.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sipline::dsp {

double tone_power_ratio(std::span<const int16_t> samples, double freq_hz, int sample_rate) {
  if (samples.empty() || sample_rate <= 0) return 0.0;
  const double w = 2.0 * std::numbers::pi * freq_hz / sample_rate;
  const double coeff = 2.0 * std::cos(w);
  double s1 = 0.0, s2 = 0.0, energy = 0.0;
  for (int16_t v : samples) {
    const double x = v;
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  if (energy <= 0.0) return 0.0;
  // |X(f)|^2; a sine of amplitude A over N samples gives (A N / 2)^2 while
  // its energy is A^2 N / 2, hence the factor 2 / N.
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const double ratio = 2.0 * power / (static_cast<double>(samples.size()) * energy);
  return std::clamp(ratio, 0.0, 1.0);
}

double level_dbfs(std::span<const int16_t> samples) {
  if (samples.empty()) return -120.0;
  double energy = 0.0;
  for (int16_t v : samples) energy += static_cast<double>(v) * v;
  const double mean_square = energy / static_cast<double>(samples.size());
  if (mean_square <= 0.0) return -120.0;
  return std::max(-120.0, 10.0 * std::log10(mean_square / (32768.0 * 32768.0)));
}

}  // namespace sipline::dsp
