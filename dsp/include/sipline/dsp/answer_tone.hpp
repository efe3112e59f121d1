#pragma once
// AnswerToneDetector: the answer tone of a fax machine or modem that tells
// echo cancellers on the path to get out of the way: 2100 Hz with a phase
// reversal every 450 ms (V.25 ANS/PR, and V.8 ANSam/PR with its 15 Hz
// amplitude modulation), per ITU-T G.165 and G.168. A plain 2100 Hz tone
// without reversals (which only disables echo suppressors) is not reported.
// Uses spandsp's modem connect tones receiver.
// Thread: one owner (a media worker); realtime after construction.
#include <memory>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp {

class AnswerToneDetector {
 public:
  AnswerToneDetector();
  ~AnswerToneDetector();
  AnswerToneDetector(const AnswerToneDetector&) = delete;
  AnswerToneDetector& operator=(const AnswerToneDetector&) = delete;

  // Realtime: true in the frame in which the tone is confirmed (once per tone).
  bool process(base::ConstFrameSpan frame);
  // Ready for a new tone.
  void reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sipline::dsp
