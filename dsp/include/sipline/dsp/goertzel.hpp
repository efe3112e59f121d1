#pragma once
// Goertzel single-frequency power measurement, for tone presence checks
// (simulated phones and tests listen for a given frequency).
#include <cstdint>
#include <span>

namespace sipline::dsp {

// Power of `freq_hz` in `samples` relative to the total power of the block,
// between 0 and 1 (1 = a pure tone at that frequency). Returns 0 for silence.
double tone_power_ratio(std::span<const int16_t> samples, double freq_hz, int sample_rate = 8000);
// Mean-square level of `samples` in dBFS (0 dBFS = full-scale square wave), -120 for silence.
double level_dbfs(std::span<const int16_t> samples);

}  // namespace sipline::dsp
