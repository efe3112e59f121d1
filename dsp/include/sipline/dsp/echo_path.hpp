#pragma once
// EchoPath: a model of an analog line's hybrid echo, for the sim driver and
// for the echo canceller tests (G.168-style). It adds to the audio read from
// the line an echo of the audio written to it:
//   echo[n] = sum_k h[k] * rx[n - delay - k]
// where h is a dispersive impulse response (a band-limited decaying response
// like a telephone hybrid's, generated from a seed, not taken from any table)
// scaled so that the echo return loss for white noise is `erl_db`, plus
// optional white noise at `noise_dbm0`.
// Thread: one owner (the sim driver's port, or a test).
#include <cstdint>
#include <vector>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp {

struct EchoPathOptions {
  double erl_db = 12;          // echo return loss: how much weaker the echo is (> 0)
  int delay_ms = 4;            // pure (bulk) delay before the response starts, 0..100
  int dispersion_ms = 6;       // length of the dispersive response, 0 (a single tap) .. 24
  double noise_dbm0 = -99;     // added noise; -99 or less: none
  std::uint32_t seed = 1;      // picks the response's shape
};

class EchoPath {
 public:
  explicit EchoPath(const EchoPathOptions& options);

  // One frame: `to_line` was just written towards the line; its echo (and
  // the noise) is added to `from_line`, saturating.
  void process(base::ConstFrameSpan to_line, base::FrameSpan from_line);
  // The impulse response after the bulk delay (tests compare a canceller's
  // model with it).
  const std::vector<float>& response() const { return h_; }
  const EchoPathOptions& options() const { return options_; }

 private:
  EchoPathOptions options_;
  std::vector<float> h_;
  std::vector<float> history_;   // the last delay + h.size() samples of to_line, a ring
  std::size_t pos_ = 0;
  double noise_rms_ = 0;
  std::uint32_t rng_;
};

}  // namespace sipline::dsp
