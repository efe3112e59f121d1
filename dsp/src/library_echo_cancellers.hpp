#pragma once
// The two library line echo cancellers behind dsp::EchoCanceller, so that the
// comparison tests and the benchmark measure them beside sipline's own:
//
// - SpandspEchoCanceller: spandsp 0.0.6's G.168 canceller (echo_can_update,
//   one sample at a time: an NLMS FIR of tail_ms * 8 taps with a Geigel-like
//   double-talk dwell, a narrowband detector that stops adaption on tones,
//   and an optional clipping NLP with comfort noise).
//   Debian's build of 0.0.6 was made from a snapshot that left debug
//   printf()s in echo_can_update: two lines per sample ("echo is %d",
//   "Narrowband score ...") and more on every tap-set rotation. The first
//   SpandspEchoCanceller made points libspandsp's own import of printf
//   (its PLT slot of __printf_chk / printf) at a function that discards, once
//   per process, so no line reaches stdout and no sample pays for formatting;
//   nothing outside libspandsp is affected (inside it, bert_put_bit's status
//   print goes too). See silence_spandsp_printf().
//   Measured (tests/unit/dsp/echo_comparison_test.cpp, 2026-12-01): with the
//   NLP off its filter does not converge on the EchoPath hybrids (ERLE
//   2..5 dB at ERL 6, negative at ERL 12); with the NLP on its output is
//   silence while only the far end talks, and in double talk its comfort
//   noise comes out louder than the near end's speech.
// - SpeexEchoCanceller: speexdsp's MDF canceller (frequency-domain, frame
//   based) for 160-sample frames, and when options.nlp its preprocessor as the
//   residual echo suppressor: its denoiser on with 0 dB of noise suppression
//   (with the denoiser off the preprocessor applies no gain, echo suppression
//   included), AGC, VAD and dereverb off. speexdsp has no comfort noise;
//   options.comfort_noise is ignored.
//
// Thread: created on the control thread, then used by one media worker.
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include <string_view>

#include "sipline/base/audio_frame.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/dsp/echo_canceller.hpp"
#include "spandsp.hpp"

namespace sipline::dsp::detail {

class SpandspEchoCanceller final : public EchoCanceller {
 public:
  explicit SpandspEchoCanceller(const EchoCancellerOptions& options);

  // Realtime: no allocation.
  void process(base::ConstFrameSpan rx, base::FrameSpan tx) override;
  void reset() override;
  void hold_adaptation(bool hold) override;
  std::string_view name() const override { return "spandsp"; }

 private:
  int mode_;
  bool held_ = false;
  base::CPtr<echo_can_state_t, echo_can_free> state_;
};

class SpeexEchoCanceller final : public EchoCanceller {
 public:
  explicit SpeexEchoCanceller(const EchoCancellerOptions& options);

  // Realtime: no allocation.
  void process(base::ConstFrameSpan rx, base::FrameSpan tx) override;
  void reset() override;
  // speexdsp has no such control: its own step size control (MDF) already
  // slows adaptation when the far end's signal is poorly conditioned.
  void hold_adaptation(bool) override {}
  std::string_view name() const override { return "speex"; }

 private:
  base::CPtr<SpeexEchoState, speex_echo_state_destroy> echo_;
  base::CPtr<SpeexPreprocessState, speex_preprocess_state_destroy> preprocess_;   // only with options.nlp
  base::AudioFrame out_{};
};

// Points libspandsp's imports of printf and __printf_chk at a function that
// discards (see above). Idempotent and thread-safe; true when libspandsp is
// loaded and its slots were found (or it imports neither). Linux/glibc ELF only;
// elsewhere it returns false and the prints stay.
bool silence_spandsp_printf();

}  // namespace sipline::dsp::detail
