#pragma once
// dsp::Channel: the DSP state of one line, on the line side of the codec.
//  tx direction (line -> network): echo cancellation and the transmit gain
//  (prepare_tx), then DTMF detection on the line audio (process_tx).
//  rx direction (network -> line): tone playback (dial, ringback, busy, ...)
//  and DTMF generation replace the network audio while active, then the
//  receive gain; what finally goes to the line is handed back (line_written)
//  as the echo reference.
// Both directions' levels are metered (dBm0, about 100 ms of averaging).
// The echo canceller steps aside for a fax or modem: on an answer tone with
// phase reversals in either direction (G.165/G.168) it is bypassed until both
// directions have been below -36 dBm0 for 250 ms (the data call ended).
// Thread: created on the control thread, then owned by one media worker.
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/call_progress.hpp"
#include "sipline/dsp/answer_tone.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/echo_canceller.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::dsp {

class Channel {
 public:
  explicit Channel(const ToneProfile& profile);

  const ToneProfile& profile() const { return *profile_; }

  // Before the channel goes to its worker: cancel the line's echo with `ec`.
  void set_echo_canceller(std::unique_ptr<EchoCanceller> ec);
  bool has_echo_canceller() const { return ec_ != nullptr; }
  std::string_view echo_canceller_name() const { return ec_ ? ec_->name() : std::string_view("off"); }
  // Before the channel goes to its worker: gains in dB (-24..+24) applied to
  // the audio to the line (rx) and from it (tx, after echo cancellation).
  void set_gains(double rx_db, double tx_db);
  // Realtime: removes from the audio read from the line the echo of what
  // was written to it (line_written), applies the transmit gain and meters
  // the result; call before process_tx().
  void prepare_tx(base::FrameSpan from_line);
  // Realtime: the audio just written to the line (the echo reference); metered.
  void line_written(base::ConstFrameSpan to_line);
  // Realtime: the levels of the last ~100 ms, dBm0 (-99 for silence).
  double tx_level_dbm0() const;
  double rx_level_dbm0() const;
  // Realtime: after prepare_tx(), whether the canceller just stepped aside
  // for an answer tone, or just came back; and whether it is aside now.
  bool echo_bypass_started() const { return bypass_started_; }
  bool echo_bypass_ended() const { return bypass_ended_; }
  bool echo_bypassed() const { return bypassed_; }

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
  void cancel_echo(base::FrameSpan from_line);
  // DTMF and tones over the network audio; true when it wrote any.
  bool overlay_rx(base::FrameSpan to_line);

  const ToneProfile* profile_;
  DtmfDetector detector_;
  std::unique_ptr<CallerIdReceiver> cid_rx_;
  std::unique_ptr<CallProgressDetector> progress_rx_;
  std::optional<ProgressTone> progress_;
  bool voice_ = false, voice_started_ = false;
  int quiet_ms_ = 0;
  bool quiet_ = false, quiet_started_ = false, sound_started_ = false;
  std::unique_ptr<EchoCanceller> ec_;
  std::unique_ptr<AnswerToneDetector> answer_tx_, answer_rx_;  // tone from the line, tone to the line
  base::AudioFrame echo_reference_{};
  bool bypassed_ = false, bypass_started_ = false, bypass_ended_ = false;
  // The channel's own tones, or a narrowband reference (a tone, DTMF, a
  // far end's tone echoed back), went to the line in the last frame or two:
  // the canceller does not adapt on them.
  int own_tone_frames_ = 0;
  int narrowband_frames_ = 0;
  std::array<int16_t, 4> reference_tail_{};  // the last samples before echo_reference_
  int data_quiet_ms_ = 0;
  float rx_gain_ = 1, tx_gain_ = 1;     // linear
  double tx_mean_square_ = 0, rx_mean_square_ = 0;  // smoothed
  DtmfGenerator dtmf_out_;
  ToneGenerator tones_;
  ToneKind tone_kind_ = ToneKind::none;
};

}  // namespace sipline::dsp
