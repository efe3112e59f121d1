#pragma once
// dsp::Channel: the DSP state of one line, on the line side of the codec.
//  tx direction (line -> network): DTMF detection on the line audio.
//  rx direction (network -> line): tone playback (dial, ringback, busy, ...)
//  and DTMF generation replace the network audio while active.
// Later issues add echo cancellation, caller ID, PLC and fax here.
// Thread: created on the control thread, then owned by one media worker.
#include <memory>
#include <optional>
#include <span>

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/call_progress.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::dsp {

class Channel {
 public:
  explicit Channel(const ToneProfile& profile);

  const ToneProfile& profile() const { return *profile_; }

  // Realtime: audio from the line (the phone's microphone). Returns the DTMF
  // events detected in this frame (valid until the next call).
  std::span<const DtmfEvent> process_tx(base::ConstFrameSpan from_line);
  // FXO lines: decode caller ID in the line audio (one format, or all side by
  // side). Call before the channel goes to its worker.
  void enable_caller_id(CallerIdFormat format, bool automatic);
  // Realtime: after process_tx(), FXO lines: a call progress tone confirmed
  // in that frame, and whether non-tone audio (voice) just reached 500 ms.
  std::optional<ProgressTone> progress() const { return progress_; }
  bool voice_started() const { return voice_started_; }
  // Realtime: after process_tx(), FXO lines: the line just became quiet
  // (below -45 dBm0 for 1 s), or just had sound again after being quiet.
  bool quiet_started() const { return quiet_started_; }
  bool sound_started() const { return sound_started_; }
  // Realtime: a caller ID message completed in the last process_tx() frame,
  // if any (valid until the next process_tx()).
  const CallerIdMessage* caller_id() { return cid_rx_ ? cid_rx_->take() : nullptr; }
  // Realtime: audio to the line. `to_line` holds the decoded network audio
  // (or silence); a playing tone or DTMF digit replaces it.
  void process_rx(base::FrameSpan to_line);

  // Realtime (no allocation): commands from the control thread, applied on the worker.
  void play_tone(ToneKind kind);
  void stop_tone();
  void start_dtmf(char digit);   // RFC 4733 key-down from the network
  void stop_dtmf();              // RFC 4733 end
  void queue_dtmf(char digit, int duration_ms);

 private:
  const ToneProfile* profile_;
  DtmfDetector detector_;
  std::unique_ptr<CallerIdReceiver> cid_rx_;
  std::unique_ptr<CallProgressDetector> progress_rx_;
  std::optional<ProgressTone> progress_;
  bool voice_ = false, voice_started_ = false;
  int quiet_ms_ = 0;
  bool quiet_ = false, quiet_started_ = false, sound_started_ = false;
  DtmfGenerator dtmf_out_;
  ToneGenerator tones_;
  ToneKind tone_kind_ = ToneKind::none;
};

}  // namespace sipline::dsp
