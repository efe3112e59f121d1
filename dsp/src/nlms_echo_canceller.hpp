#pragma once
// sipline's own line echo canceller (ITU-T G.168 style), behind
// dsp::EchoCanceller as EchoCancellerKind::sipline.
//
// How it works, per sample (8 kHz):
// - DC blockers (a one-pole high-pass, corner about 10 Hz) on both the
//   reference (rx) and the line's audio (tx), then a fixed pre-emphasis
//   (1 - 0.9 z^-1) on both: speech is strongly low-pass, and NLMS converges
//   faster on a whiter reference. The same linear filters on both sides leave
//   the echo path to model unchanged; the residual is de-emphasised after.
// - Two adaptive FIR filters of tail_ms * 8 taps over the reference (the
//   two-path scheme, Ochiai et al. 1977): a background filter that adapts
//   whenever the far end talks (reference power above about -48 dBm0), by
//   proportionate NLMS (IPNLMS, Benesty & Gay 2002; alpha 0, gains refreshed
//   every 2 ms: each tap's step grows with its magnitude, so the taps of the
//   bulk delay stay quiet and the few ms of a hybrid's response converge
//   fast), step 1 while converging and 0.5 once its residual is 20 dB below
//   the line's audio; and a foreground filter, the one whose residual is
//   sent, that never adapts itself. Every 10 ms block the background is
//   copied into the foreground when its residual is clearly smaller (2 dB)
//   than the foreground's and at least 9 dB below the line's audio; while the
//   near end may be talking (see the NLP) only after three such blocks in a
//   row, since in double talk a fast background can briefly cancel part of
//   the near end's speech. A background much worse (9 dB) than the
//   foreground (it diverged in double talk) gets the foreground copied back.
// - Double-talk detection: the near end talks when the residual's power is
//   not 3 dB below the echo estimate's (8 ms averages), and for 60 ms after.
// - A non-linear processor (options.nlp) on the residual: while an echo is
//   expected (the echo estimate is above -55 dBm0 and above the noise) and
//   the near end does not talk, the residual is faded out (2 ms) and, with
//   options.comfort_noise, replaced by white noise at the residual's
//   background level (a minimum tracker over 20 ms frames, rising 2 dB/s).
//   In double talk the NLP passes the residual.
// - Saturating conversion back to int16 (a non-finite value, which sane
//   input never produces, sends silence and the filters start over).
//
// The inner loops (the two filters' outputs and the background's weighted
// input power in one pass; the coefficient update; the gains) run over
// contiguous float arrays, kLanes floats at a time in GCC/Clang generic
// vectors, with no branch inside. The reference history is a doubled linear
// buffer: the last L samples, newest first, are always one contiguous span.
// A plain scalar version of the same kernels (Kernel::scalar) is the
// reference the unit test compares against.
//
// Measured (tests/unit/dsp/nlms_echo_canceller_test.cpp, speech-like
// composite source at -18 dBm0, ERL 6 and 12 dB, 6 ms dispersion): ERLE 30 dB
// within 0.6..1 s with the NLP; the linear filter alone about 20 dB at 1 s,
// 25 dB at 1.5..2 s, 31..36 dB later. Cost: about 19 us per frame at 32 ms,
// 67 us at 128 ms (x86-64 baseline SSE2, one core).
//
// Limits: tail 8..128 ms (clamped); the echo must fall inside the tail
// (bulk delay plus dispersion). No allocation after construction.
// Thread: created on the control thread, then used by one media worker.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/echo_canceller.hpp"

namespace sipline::dsp::detail {

class NlmsEchoCanceller final : public EchoCanceller {
 public:
  // Which implementation of the inner loops: the vectorised one (the
  // default) or the plain scalar reference.
  enum class Kernel { vectorised, scalar };

  explicit NlmsEchoCanceller(const EchoCancellerOptions& options, Kernel kernel = Kernel::vectorised);

  // Realtime.
  void process(base::ConstFrameSpan rx, base::FrameSpan tx) override;
  void reset() override;
  void hold_adaptation(bool hold) override { held_ = hold; }
  std::string_view name() const override { return "sipline"; }

  // The foreground filter's taps (tap k: the echo of the reference sample k
  // samples ago), for tests.
  std::span<const float> model() const { return foreground_; }
  std::size_t taps() const { return taps_; }
  // Whether the near end counted as talking at the end of the last frame.
  bool double_talk() const { return near_hangover_ > 0; }

  // Taps are a multiple of this (8 ms of taps is 64).
  static constexpr std::size_t kLanes = 8;

 private:
  // Both filters on one (pre-emphasised) sample; background adaption.
  void cancel_sample(float x, float d, float& residual, float& estimate);
  // Double-talk detection and the NLP on one (de-emphasised) sample.
  float nlp_sample(float residual, float estimate);
  void update_proportionate_gains();
  void end_block();
  void end_frame();

  bool held_ = false;   // hold_adaptation()

  Kernel kernel_;
  EchoCancellerOptions options_;
  std::size_t taps_;

  std::vector<float> history_;      // 2 * taps_: the reference, each sample stored twice
  std::size_t pos_ = 0;             // history_[pos_ .. pos_ + taps_): newest first
  std::vector<float> background_;   // adapting filter
  std::vector<float> foreground_;   // filter whose residual is sent
  std::vector<float> gains_;        // IPNLMS per-tap gains of the background (sum 1)
  std::size_t since_gains_ = 0;

  // DC blockers.
  float rx_dc_in_ = 0, rx_dc_out_ = 0, tx_dc_in_ = 0, tx_dc_out_ = 0;
  // Pre-emphasis (previous inputs) and de-emphasis (previous outputs).
  float emphasis_rx_ = 0, emphasis_tx_ = 0, deemphasis_residual_ = 0, deemphasis_estimate_ = 0;

  // Two-path block statistics (residual energies and the line's).
  double block_background_ = 0, block_foreground_ = 0, block_line_ = 0;
  std::size_t block_adapted_ = 0;      // samples the background adapted in
  std::size_t block_samples_ = 0;
  bool block_double_talk_ = false;     // the near end may have talked in this block
  int copy_streak_ = 0;                // blocks in a row the background was better
  float step_ = 0;                     // the background's step size

  // NLP.
  float residual_power_ = 0;   // smoothed foreground residual power
  float echo_power_ = 0;       // smoothed power of the foreground's echo estimate
  int near_hangover_ = 0;      // samples left of "the near end talks"
  float nlp_gain_ = 1;
  double frame_residual_ = 0;  // residual energy in this frame (for the noise level)
  float noise_power_;          // estimated background noise power of the residual
  std::uint32_t rng_ = 0x2545f491u;
};

}  // namespace sipline::dsp::detail
