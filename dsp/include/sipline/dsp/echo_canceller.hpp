#pragma once
// Line echo cancellation (ITU-T G.168) for one analog line.
//
//   network --rx--> [ line / hybrid ] --tx--> network
//                         |  echo  ^
//                         +--------+
//
// The 2-wire/4-wire hybrid of an analog line reflects part of the audio sent
// to the line (rx, the far end's speech) back into the audio read from it
// (tx), delayed by the line's and the driver's buffering and smeared by the
// hybrid's impulse response. The far end hears itself: echo. An echo
// canceller models that path from rx (the reference) and subtracts its
// estimate from tx.
//
// Three implementations sit behind one interface so that one test set and one
// benchmark compare them (tests/unit/dsp/echo_comparison_test.cpp,
// bench/dsp_bench.cpp): sipline's own (the default), spandsp's and speexdsp's.
// Thread: created on the control thread, then used by one media worker.
#include <memory>
#include <string_view>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp {

enum class EchoCancellerKind { sipline, spandsp, speex };

struct EchoCancellerOptions {
  int tail_ms = 32;            // the echo path's length it models: 8..128 ms
  bool nlp = true;             // non-linear processor: suppress the residual echo
  bool comfort_noise = true;   // fill what the NLP removes with noise at the line's level
};

class EchoCanceller {
 public:
  virtual ~EchoCanceller() = default;
  // Realtime, no allocation: one 20 ms frame. `rx` is the audio just written
  // towards the line (the echo reference), `tx` the audio just read from it
  // (near-end speech plus echo), cleaned in place. Frames must be passed in
  // the order they were written and read, every tick.
  virtual void process(base::ConstFrameSpan rx, base::FrameSpan tx) = 0;
  // Forgets the echo path model (a new call on the line).
  virtual void reset() = 0;
  // Realtime: while held, the model is used but not adapted. The channel
  // holds it while the reference is a tone it generates itself (DTMF, call
  // progress tones): a narrowband reference cannot identify the echo path,
  // and a near-end tone at one of its frequencies would be taken for echo
  // (G.168 asks a canceller not to diverge on narrowband signals).
  virtual void hold_adaptation(bool hold) = 0;
  virtual std::string_view name() const = 0;
};

// "sipline", "spandsp", "speex" -> the kind; none for anything else.
bool parse_echo_canceller_kind(std::string_view text, EchoCancellerKind& kind);
std::string_view to_string(EchoCancellerKind kind);

std::unique_ptr<EchoCanceller> make_echo_canceller(EchoCancellerKind kind, const EchoCancellerOptions& options);

}  // namespace sipline::dsp
