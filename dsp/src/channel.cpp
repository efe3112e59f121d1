// dsp::Channel: DTMF detection on the line audio; tones and DTMF to the line.
#include "sipline/dsp/channel.hpp"

#include <algorithm>

namespace sipline::dsp {

// Silence after a queued digit, so that repeated digits stay distinct (Q.24: >= 40 ms).
constexpr int kQueuedDtmfGapMs = 100;

Channel::Channel(const ToneProfile& profile) : profile_(&profile) {}

// Realtime.
// Voice: this much audio that is no progress tone (an answer without polarity reversal).
constexpr int kVoiceMs = 500;
// Quiet: frames below this level, this long (silence disconnect supervision).
constexpr int kQuietMs = 1000;
// -45 dBm0 as a mean square: 0 dBm0 is a sine of peak 22800 (spandsp's scale).
constexpr double kQuietMeanSquare = 22800.0 * 22800.0 / 2 * 3.1623e-5;

bool frame_is_quiet(base::ConstFrameSpan frame) {
  double sum = 0;
  for (int16_t v : frame) sum += static_cast<double>(v) * v;
  return sum / static_cast<double>(frame.size()) < kQuietMeanSquare;
}

std::span<const DtmfEvent> Channel::process_tx(base::ConstFrameSpan from_line) {
  if (cid_rx_) cid_rx_->process(from_line);
  if (progress_rx_) {
    progress_ = progress_rx_->process(from_line);
    const bool voice = progress_rx_->non_tone_audio_for(kVoiceMs);
    voice_started_ = voice && !voice_;
    voice_ = voice;
    quiet_started_ = sound_started_ = false;
    if (frame_is_quiet(from_line)) {
      quiet_ms_ = std::min(quiet_ms_ + base::kFrameMs, kQuietMs);
      if (quiet_ms_ >= kQuietMs && !quiet_) quiet_ = quiet_started_ = true;
    } else {
      quiet_ms_ = 0;
      if (quiet_) {
        quiet_ = false;
        sound_started_ = true;
      }
    }
  }
  return detector_.process(from_line);
}

void Channel::enable_caller_id(CallerIdFormat format, bool automatic) {
  cid_rx_ = std::make_unique<CallerIdReceiver>(format, automatic);
  progress_rx_ = std::make_unique<CallProgressDetector>(*profile_);
}

// Realtime. DTMF has priority over a tone, a tone over the network audio.
// Exception: the call waiting tone plays during a conversation, so between
// its bursts (whole silent frames) the network audio passes through.
void Channel::process_rx(base::FrameSpan to_line) {
  if (dtmf_out_.active()) {
    dtmf_out_.generate(to_line);
    return;
  }
  if (!tones_.active()) return;
  if (tone_kind_ != ToneKind::call_waiting) {
    tones_.generate(to_line);
    return;
  }
  base::AudioFrame tone;
  tones_.generate(tone);
  if (std::any_of(tone.begin(), tone.end(), [](int16_t v) { return v != 0; })) {
    std::copy(tone.begin(), tone.end(), to_line.begin());
  }
}

void Channel::play_tone(ToneKind kind) {
  tone_kind_ = kind;
  tones_.start(&profile_->tone(kind));
}

void Channel::stop_tone() {
  tone_kind_ = ToneKind::none;
  tones_.stop();
}

void Channel::start_dtmf(char digit) { dtmf_out_.start(digit); }

void Channel::stop_dtmf() { dtmf_out_.stop(); }

void Channel::queue_dtmf(char digit, int duration_ms) {
  const char digits[1] = {digit};
  dtmf_out_.queue(std::string_view(digits, 1), duration_ms, kQueuedDtmfGapMs);
}

}  // namespace sipline::dsp
