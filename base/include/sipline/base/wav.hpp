#pragma once
// Minimal RIFF/WAVE reading and writing for 8 kHz mono 16-bit PCM, the format
// the simulated phones play and record. Reading also accepts other rates and
// stereo by reporting them, so callers can refuse clearly.
#include <cstdint>
#include <string>
#include <vector>

#include "sipline/base/result.hpp"

namespace sipline::base {

enum class WavError { io, format };

struct WavData {
  int sample_rate = 8000;
  int channels = 1;
  std::vector<int16_t> samples;  // interleaved if channels > 1
};

Result<WavData> read_wav(const std::string& path);
Result<void> write_wav(const std::string& path, const std::vector<int16_t>& samples, int sample_rate = 8000);

}  // namespace sipline::base
