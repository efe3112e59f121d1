#pragma once
// One 20 ms frame (8 kHz) of a sine at `hz`, amplitude 8000, continuing the
// phase of frame `frame_index`: the audio the media component tests send.
#include <cmath>
#include <cstdint>
#include <numbers>

#include "sipline/base/audio_frame.hpp"

namespace sipline::test {

inline base::AudioFrame sine_frame(double hz, int frame_index) {
  base::AudioFrame f{};
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double t = (frame_index * 160.0 + static_cast<double>(i)) / 8000.0;
    f[i] = static_cast<std::int16_t>(8000 * std::sin(2 * std::numbers::pi * hz * t));
  }
  return f;
}

}  // namespace sipline::test
