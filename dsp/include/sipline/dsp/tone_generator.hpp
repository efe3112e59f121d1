#pragma once
// ToneGenerator: plays a ToneSpec (dial tone, ringback, busy, ...) frame by
// frame with phase continuity across frames and steps.
// Thread: owned by one thread at a time (a media worker, or a sim phone).
#include <cstdint>

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::dsp {

class ToneGenerator {
 public:
  // Starts `spec` from its first step. `spec` must outlive the playback
  // (the built-in profiles are static). An empty spec stops.
  void start(const ToneSpec* spec);
  void stop();
  bool active() const { return spec_ != nullptr; }
  // Realtime: writes the next 20 ms of the tone into `out` (overwrites).
  // Writes silence when inactive.
  void generate(base::FrameSpan out);

 private:
  const ToneSpec* spec_ = nullptr;
  std::size_t step_ = 0;
  int step_samples_done_ = 0;
  double phase1_ = 0, phase2_ = 0, phase_mod_ = 0;
};

}  // namespace sipline::dsp
