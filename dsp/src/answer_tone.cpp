#include "sipline/dsp/answer_tone.hpp"

#include "spandsp.hpp"
// After spandsp.hpp (which brings the headers it depends on).
#include <spandsp/modem_connect_tones.h>

namespace sipline::dsp {

struct AnswerToneDetector::State {
  modem_connect_tones_rx_state_t* rx = nullptr;
  bool heard = false;   // reported in the last process()

  static void report(void* user_data, int code, int, int) {
    auto* s = static_cast<State*>(user_data);
    // Asked for ANS/PR, spandsp reports it, or ANSam/PR when the tone is
    // also amplitude modulated; the end of a tone comes as NONE.
    if (code == MODEM_CONNECT_TONES_ANS_PR || code == MODEM_CONNECT_TONES_ANSAM_PR) s->heard = true;
  }
  void init() { rx = modem_connect_tones_rx_init(rx, MODEM_CONNECT_TONES_ANS_PR, &State::report, this); }
};

AnswerToneDetector::AnswerToneDetector() : state_(std::make_unique<State>()) { state_->init(); }

AnswerToneDetector::~AnswerToneDetector() {
  if (state_->rx) modem_connect_tones_rx_free(state_->rx);
}

bool AnswerToneDetector::process(base::ConstFrameSpan frame) {
  state_->heard = false;
  modem_connect_tones_rx(state_->rx, frame.data(), static_cast<int>(frame.size()));
  return state_->heard;
}

void AnswerToneDetector::reset() { state_->init(); }

}  // namespace sipline::dsp
