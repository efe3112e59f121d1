#pragma once
// SimPort: one FXS port of the sim driver with its simulated phone behind it
// (private to the driver).
//
// The phone runs inside read()/write() on the media worker that owns the
// port: read() is the tick (20 ms of the phone's clock) and applies queued
// commands, follows the ring voltage and auto-answer, runs pulse dialing and
// flashes, reads the hook switch through a HookClassifier, and produces what
// the phone sends into the line; write() is what the phone hears (DTMF
// detection, listen ratio, level, recording).
//
// Hook events: the phone's switch (off_hook_) and the loop breaks of a flash
// or of dial pulses give the raw loop state, which a HookClassifier reads once
// per tick with the port's HookTiming; every hook event the port posts is the
// classifier's (off_hook after debounce_ms, on_hook only once the break has
// outlasted flash_max_ms, flash, pulse_digit), as a DAHDI card's driver
// reports them. The phone's own behaviour (what it hears and sends, ring and
// caller ID handling) follows the switch and the loop directly.
//
// Thread handoff, all lock-free and allocation-free on the media side:
//   control -> media: commands_  (Command, SPSC; buffers moved in as unique_ptr)
//   media -> control: returned_  (buffers handed back for the control thread to free)
//   media -> control: recordings_ (the stop_recording ack with the recorded samples)
//   media -> control: events_    (hook changes; the driver's eventfd is signalled)
//   media -> control: status_    (seqlock snapshot, read from any thread)
// set_ring()/set_polarity()/disconnect_battery() are plain atomics.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "sipline/base/audio_frame.hpp"
#include "sipline/base/spsc_queue.hpp"
#include "sipline/drivers/hook_classifier.hpp"
#include "sipline/drivers/line_driver.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/echo_path.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers::sim {

inline constexpr std::size_t kMaxDialDigits = 64;       // per dial() call
inline constexpr std::size_t kDialBuffer = 256;         // digits pending on the media side
inline constexpr std::size_t kMaxHeardDigits = 64;      // heard_digits keeps the first 64
inline constexpr std::size_t kMaxRecordSamples = 10 * 60 * base::kSampleRate;  // 10 minutes
inline constexpr std::size_t kListenWindow = 200 * base::kSampleRate / 1000;   // 200 ms
inline constexpr int kDtmfOnMs = 80;
inline constexpr int kDtmfOffMs = 80;
// A pending auto-answer is dropped when no ring voltage was seen for this long
// (longer than any national ring cadence's silent part): the caller gave up.
inline constexpr int kRingAbandonMs = 8000;
inline constexpr std::size_t kMaxRingSegments = 16;
// NTT CAR: ring bursts and pauses of 0.5 s each mark the CAR signal (the UK's
// 0.4 / 0.2 s double ring does not pass: its pause is too short); a phone that
// decodes JCLIP answers the second burst with the off-hook primary response,
// takes the data, and hangs up again after the message (or after
// kPrimaryResponseMs without one). Any longer ring re-arms it.
inline constexpr int kCarMinSegmentMs = 350;
inline constexpr int kCarMaxSegmentMs = 700;
inline constexpr int kPrimaryResponseMs = 4000;
// Rotary dial at 10 pulses per second: each pulse breaks the loop for 60 ms
// and makes it for 40 ms; a pulse digit starts only after the loop has been
// made for 700 ms (the dial's return between digits, and the pause after
// going off hook or after a flash).
inline constexpr int kDialBreakMs = 60;
inline constexpr int kDialMakeMs = 40;
inline constexpr int kDialPauseMs = 700;
inline constexpr int kMaxFlashMs = 10000;  // the longest flash() accepted

using Samples = std::vector<int16_t>;
using SamplesPtr = std::unique_ptr<Samples>;

enum class CommandType {
  off_hook,
  on_hook,
  dial,
  play_samples,
  play_tone,
  stop_playing,
  start_recording,
  stop_recording,
  listen,
  auto_answer,
  flash,
};

struct Command {
  CommandType type = CommandType::off_hook;
  uint64_t seq = 0;
  std::array<char, kMaxDialDigits> digits{};  // dial
  std::size_t digit_count = 0;
  bool pulse = false;                         // dial: rotary pulses instead of DTMF
  SamplesPtr samples{};                       // play_samples, start_recording
  bool loop = false;                          // play_samples
  double f1_hz = 0, f2_hz = 0;                // play_tone; listen uses f1_hz
  double amplitude = 0;                       // play_tone, peak per frequency
  int delay_ms = -1;                          // auto_answer
  int flash_ms = 0;                           // flash: how long the loop opens
};

struct Returned {
  enum class Kind { garbage, recording };
  Kind kind = Kind::garbage;
  uint64_t seq = 0;     // recording: the stop_recording command's seq
  SamplesPtr samples{};
};

// Shared by the phone ports and the exchange ports (media side).
inline int16_t saturate(int v) { return static_cast<int16_t>(std::clamp(v, -32768, 32767)); }

// Realtime: queues a line event for `port` and signals the driver's eventfd;
// a full queue drops the event.
template <std::size_t N>
void post_line_event(base::SpscQueue<LineEvent, N>& events, int event_fd, std::size_t port, LineEventType type,
                     char digit = 0) {
  if (!events.push(LineEvent{.port = port, .type = type, .digit = digit})) return;
  const uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(event_fd, &one, sizeof one);
}

// Realtime: hands a buffer back for the control thread to free. If the
// control thread has not collected the queue for a long time, push() fails
// and the buffer is freed here instead (a rare free on the media thread).
template <std::size_t N>
void give_back_samples(base::SpscQueue<Returned, N>& returned, SamplesPtr samples) {
  if (!samples) return;
  returned.push({Returned::Kind::garbage, 0, std::move(samples)});
}

// A plain copy of the phone's state, published by the media side.
struct StatusData {
  uint64_t processed_seq = 0;  // last command applied
  bool off_hook = false;
  bool ringing = false;
  int rings = 0;
  bool playing = false;
  bool recording = false;
  bool polarity_reversed = false;
  uint64_t polarity_changes = 0;
  bool battery = true;
  uint64_t battery_drops = 0;
  double listen_hz = 0;
  double listen_ratio = 0;
  double level_dbfs = -120;
  std::array<char, kMaxHeardDigits> heard{};
  std::size_t heard_count = 0;
  int caller_id_count = 0;
  dsp::CallerIdFormat cid_format = dsp::CallerIdFormat::none;
  std::array<char, dsp::kMaxCallerIdNumber> cid_number{};
  std::size_t cid_number_len = 0;
  std::array<char, dsp::kMaxCallerIdName> cid_name{};
  std::size_t cid_name_len = 0;
  dsp::Absence cid_number_absence = dsp::Absence::none, cid_name_absence = dsp::Absence::none;
  int cid_month = 0, cid_day = 0, cid_hour = 0, cid_minute = 0;
  std::array<int, kMaxRingSegments> ring_segments{};
  std::size_t ring_segment_count = 0;
};

// A fixed-size text published through the seqlock, one atomic per character.
template <std::size_t N>
struct AtomicText {
  std::array<std::atomic<char>, N> chars{};
  std::atomic<std::size_t> size{0};
  void store(const std::array<char, N>& text, std::size_t n, std::memory_order order) {
    n = std::min(n, N);
    for (std::size_t i = 0; i < n; ++i) chars[i].store(text[i], order);
    size.store(n, order);
  }
  std::size_t load(std::array<char, N>& text, std::memory_order order) const {
    const std::size_t n = std::min(size.load(order), N);
    for (std::size_t i = 0; i < n; ++i) text[i] = chars[i].load(order);
    return n;
  }
};

// Seqlock: one writer (the media worker), readers on any thread. Every field
// is an atomic, so there is no data race; readers retry while a write is in
// progress.
class StatusCell {
 public:
  // Realtime.
  void publish(const StatusData& d);
  StatusData read() const;

 private:
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> processed_seq_{0};
  std::atomic<bool> off_hook_{false}, ringing_{false}, playing_{false}, recording_{false},
      polarity_{false};
  std::atomic<int> rings_{0};
  std::atomic<uint64_t> polarity_changes_{0}, battery_drops_{0};
  std::atomic<bool> battery_{true};
  std::atomic<double> listen_hz_{0}, listen_ratio_{0}, level_dbfs_{-120};
  AtomicText<kMaxHeardDigits> heard_;
  std::atomic<int> caller_id_count_{0};
  std::atomic<dsp::CallerIdFormat> cid_format_{dsp::CallerIdFormat::none};
  AtomicText<dsp::kMaxCallerIdNumber> cid_number_;
  AtomicText<dsp::kMaxCallerIdName> cid_name_;
  std::atomic<dsp::Absence> cid_number_absence_{dsp::Absence::none}, cid_name_absence_{dsp::Absence::none};
  std::atomic<int> cid_month_{0}, cid_day_{0}, cid_hour_{0}, cid_minute_{0};
  std::array<std::atomic<int>, kMaxRingSegments> ring_segments_{};
  std::atomic<std::size_t> ring_segment_count_{0};
};

class SimPort final : public LinePort {
 public:
  // `event_fd` is the driver's eventfd, signalled after each event is queued.
  SimPort(std::size_t index, std::string name, int auto_answer_ms, dsp::CallerIdFormat caller_id,
          bool caller_id_auto, const dsp::HookTiming& hook, const std::optional<dsp::EchoPathOptions>& echo,
          int event_fd);
  ~SimPort() override;

  std::size_t index() const override { return index_; }
  const std::string& name() const override { return name_; }
  PortKind kind() const override { return PortKind::fxs; }
  // Thread: control (atomics).
  void set_ring(bool on) override;
  // Every change is counted (status polarity_changes), so a reversal shorter
  // than a tick or than a status poll is not lost.
  void set_polarity(bool reversed) override;
  // FXO only: no effect on this FXS port.
  void set_hook(bool off_hook) override;
  // Thread: control (an atomic). The battery goes off at the next tick for
  // `ms` (rounded up to whole 20 ms ticks; <= 0 does nothing); a call during an
  // interval starts a new one. The phone only reports it (status battery,
  // battery_drops); its hook and audio are unaffected.
  void disconnect_battery(int ms) override;
  // FXO only: no effect on this FXS port.
  void pulse_dial(std::string_view digits) override;
  // Realtime: the phone's tick; what the phone sends into the line.
  void read(base::FrameSpan from_line) override;
  // Realtime: what the phone hears.
  void write(base::ConstFrameSpan to_line) override;

  // Thread: control. False when the command queue is full (the command is dropped).
  bool post(Command&& command);
  std::optional<Returned> take_returned();
  std::optional<LineEvent> take_event();
  // Thread: any.
  StatusData status() const { return status_.read(); }
  // Thread: any (constant).
  const dsp::HookTiming& hook_timing() const { return hook_timing_; }

 private:
  // Everything below is touched only by the media worker (apart from the
  // queues' other ends and the atomics).
  void apply(Command& c);
  void go_off_hook();
  void go_on_hook();
  void follow_ring();
  void follow_battery();
  void run_dialing();
  void read_hook();
  void stop_dialing();
  // The loop is made: off hook, and no flash or dial pulse breaking it this tick.
  bool loop_closed() const { return off_hook_ && !loop_open_; }
  void ring_edge(bool ring);
  void hear_caller_id(base::ConstFrameSpan line_audio);
  void produce(base::FrameSpan out);
  void give_back(SamplesPtr samples);
  void post_event(LineEventType type, char digit = 0);
  void publish();

  const std::size_t index_;
  const std::string name_;
  const int event_fd_;
  const dsp::HookTiming hook_timing_;

  base::SpscQueue<Command, 32> commands_;
  base::SpscQueue<Returned, 32> returned_;
  base::SpscQueue<Returned, 4> recordings_;  // stop_recording acks
  base::SpscQueue<LineEvent, 64> events_;
  StatusCell status_;
  std::atomic<bool> ring_{false};
  std::atomic<bool> polarity_{false};
  std::atomic<uint64_t> polarity_changes_{0};  // written by the control thread only
  std::atomic<int> battery_request_ms_{0};     // a disconnect_battery() not yet taken

  // Media side.
  uint64_t tick_ = 0;
  uint64_t processed_seq_ = 0;
  bool off_hook_ = false;
  bool ringing_ = false;
  int rings_ = 0;
  int auto_answer_ms_ = -1;
  uint64_t answer_at_tick_ = 0;     // 0 = no auto-answer pending
  uint64_t last_ring_tick_ = 0;
  uint64_t segment_start_tick_ = 0;  // when the ring voltage last changed
  std::array<int, kMaxRingSegments> ring_segments_{};
  std::size_t ring_segment_count_ = 0;

  dsp::CallerIdReceiver cid_rx_;
  const bool car_capable_;          // answers NTT's CAR with the primary response
  bool primary_response_ = false;   // off hook for NTT caller ID, not answered
  uint64_t primary_end_tick_ = 0;
  bool car_answered_ = false;       // this call's CAR has been answered
  int cid_count_ = 0;
  dsp::CallerIdMessage cid_;        // the last message (strings reserved: copies do not allocate)

  // What is still to dial, in order: DTMF digits, pulse digits and flashes.
  struct DialStep {
    enum class Kind : uint8_t { dtmf, pulse, flash } kind = Kind::dtmf;
    char digit = 0;
    int flash_ms = 0;
  };
  std::array<DialStep, kDialBuffer> dial_{};  // ring buffer
  std::size_t dial_head_ = 0, dial_tail_ = 0;
  dsp::DtmfGenerator dtmf_tx_;
  int pulses_left_ = 0;             // pulses of the digit being dialed, this one included
  int loop_break_ticks_ = 0;        // > 0: the loop is open (a pulse or a flash) for this many more ticks
  int loop_make_ticks_ = 0;         // > 0: a pulse's make, this many more ticks
  bool loop_open_ = false;          // a pulse or a flash breaks the loop during this tick
  uint64_t loop_closed_ticks_ = 0;  // how long the loop has been closed

  HookClassifier hook_;             // reads the loop: all hook events come from it
  int battery_off_ticks_ = 0;       // > 0: battery off for this many more ticks (this one included)
  bool battery_ = true;
  uint64_t battery_drops_ = 0;

  SamplesPtr play_;                 // WAV samples being played
  std::size_t play_pos_ = 0;
  bool play_loop_ = false;
  bool tone_ = false;               // a tone is being played
  double tone_f1_ = 0, tone_f2_ = 0, tone_amp_ = 0, tone_ph1_ = 0, tone_ph2_ = 0;

  dsp::DtmfDetector dtmf_rx_;
  std::array<char, kMaxHeardDigits> heard_{};
  std::size_t heard_count_ = 0;
  std::array<int16_t, kListenWindow> window_{};
  double listen_hz_ = 0, listen_ratio_ = 0, level_dbfs_ = -120;

  SamplesPtr record_;
  std::optional<dsp::EchoPath> echo_;   // the line's hybrid echo, if configured
  base::AudioFrame last_heard_{};        // what the line carried last tick (the echo's source)
};

}  // namespace sipline::drivers::sim
