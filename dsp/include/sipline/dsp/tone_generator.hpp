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
  void enter_step(std::size_t index);

  const ToneSpec* spec_ = nullptr;
  std::size_t step_ = 0;
  int step_samples_done_ = 0;
  int step_samples_ = 0;  // 0 = until stopped
  // DDS phase accumulators and rates (spandsp dds: 2^32 = one cycle).
  uint32_t phase1_ = 0, phase2_ = 0, phase_mod_ = 0;
  int32_t rate1_ = 0, rate2_ = 0, rate_mod_ = 0;
  // Gains (fraction of full scale) slewed toward the step's targets over a
  // few ms, so steps start and stop without clicks.
  float amp1_ = 0, amp2_ = 0, target1_ = 0, target2_ = 0, slew1_ = 0, slew2_ = 0;
  float mod_depth_ = 0;
};

}  // namespace sipline::dsp
