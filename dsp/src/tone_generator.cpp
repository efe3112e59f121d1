// ToneGenerator: spandsp's DDS sine table driven by our own step sequencer.
// Level convention (spandsp's, from telephony.h): a sine at +3.14 dBm0 is
// full scale, so 0 dBm0 is a sine of peak ~22800 (dds_scaling_dbm0). A step's
// level applies to each of its frequencies. AM steps (mod_hz) multiply the
// carrier by 1 + 0.8 sin(2 pi mod_hz t) (80% depth), the NTT ringback shape.
#include "sipline/dsp/tone_generator.hpp"

#include <algorithm>

#include "spandsp.hpp"

namespace sipline::dsp {
namespace {

constexpr int kRampSamples = 16;      // 2 ms rise and fall
constexpr float kAmDepth = 0.8f;
constexpr float kTableScale = 1.0f / 32767.0f;

float gain_for(int level_dbm0) { return static_cast<float>(dds_scaling_dbm0(static_cast<float>(level_dbm0))) * kTableScale; }

}  // namespace

void ToneGenerator::start(const ToneSpec* spec) {
  if (spec == nullptr || spec->empty()) {
    stop();
    return;
  }
  spec_ = spec;
  phase1_ = phase2_ = phase_mod_ = 0;
  amp1_ = amp2_ = 0;
  enter_step(0);
}

void ToneGenerator::stop() {
  spec_ = nullptr;
  step_ = 0;
  step_samples_done_ = 0;
  amp1_ = amp2_ = 0;
}

void ToneGenerator::enter_step(std::size_t index) {
  step_ = index;
  step_samples_done_ = 0;
  const ToneStep& st = spec_->steps[index];
  step_samples_ = std::max(0, st.duration_ms) * (base::kSampleRate / 1000);
  if (st.f1_hz > 0) {
    rate1_ = dds_phase_rate(static_cast<float>(st.f1_hz));
    target1_ = gain_for(st.level_dbm0);
    if (st.f2_hz > 0) {
      rate2_ = dds_phase_rate(static_cast<float>(st.f2_hz));
      target2_ = target1_;
    } else {
      target2_ = 0;  // keeps its old rate while it fades out
    }
    if (st.mod_hz > 0) {
      rate_mod_ = dds_phase_rate(static_cast<float>(st.mod_hz));
      if (mod_depth_ == 0) phase_mod_ = 0;
      mod_depth_ = kAmDepth;
    } else {
      mod_depth_ = 0;
    }
  } else {
    // Silence: fade out at the old frequencies, keeping their phase.
    target1_ = target2_ = 0;
  }
  slew1_ = std::abs(target1_ - amp1_) / kRampSamples;
  slew2_ = std::abs(target2_ - amp2_) / kRampSamples;
}

// Realtime: no allocation, no locks.
void ToneGenerator::generate(base::FrameSpan out) {
  if (spec_ == nullptr) {
    std::fill(out.begin(), out.end(), int16_t{0});
    return;
  }
  const std::size_t n_steps = spec_->steps.size();
  for (int16_t& sample : out) {
    if (step_samples_ > 0 && step_samples_done_ >= step_samples_) enter_step((step_ + 1) % n_steps);
    ++step_samples_done_;

    if (amp1_ < target1_) amp1_ = std::min(target1_, amp1_ + slew1_);
    else if (amp1_ > target1_) amp1_ = std::max(target1_, amp1_ - slew1_);
    if (amp2_ < target2_) amp2_ = std::min(target2_, amp2_ + slew2_);
    else if (amp2_ > target2_) amp2_ = std::max(target2_, amp2_ - slew2_);

    float v = 0;
    if (amp1_ > 0) v += amp1_ * dds_lookup(phase1_);
    if (amp2_ > 0) v += amp2_ * dds_lookup(phase2_);
    if (mod_depth_ > 0) {
      v *= 1.0f + mod_depth_ * kTableScale * dds_lookup(phase_mod_);
      phase_mod_ += static_cast<uint32_t>(rate_mod_);
    }
    phase1_ += static_cast<uint32_t>(rate1_);
    phase2_ += static_cast<uint32_t>(rate2_);
    v = std::clamp(v, -32768.0f, 32767.0f);
    sample = static_cast<int16_t>(v >= 0 ? v + 0.5f : v - 0.5f);  // spandsp's headers macro-ise lrint
  }
}

}  // namespace sipline::dsp
