#pragma once
// ExchangePort: one FXO port of the sim driver with a simulated telephone
// exchange line behind it (private to the driver).
//
// The exchange runs inside read()/write() on the media worker that owns the
// port: read() is the tick (20 ms of the exchange's clock): it applies queued
// commands, follows the port's hook, runs the call (dial tone, routing,
// ringback, answer; ringing, caller ID alerting and data; disconnect) and
// produces the audio the exchange sends to the port. write() is what the port
// sends: DTMF collection while dialing, and what the far party hears (its
// listen ratio).
//
// The port's own side of the line also runs in read(): its pulse dialer
// (pulse_dial) opens the loop for 60 ms and closes it for 40 ms per pulse,
// with 700 ms closed after each digit, then posts dial_complete. The exchange
// sees only the loop (the requested hook state with the dialer's breaks) and
// classifies it with a HookClassifier: seizure, release (a break longer than
// flash_max_ms) and pulse digits, which it collects like DTMF digits.
//
// Thread handoff, all lock-free and allocation-free on the media side:
//   control -> media: commands_ (ExchangeCommand, SPSC; caller ID audio moved in)
//   media -> control: returned_ (buffers handed back for the control thread to free)
//   media -> control: events_   (ring, polarity, loop-drop; the eventfd is signalled)
//   media -> control: status_   (seqlock snapshot, read from any thread)
// set_hook() is a plain atomic; pulse_dial() posts a command (control thread,
// the queue's one producer, as for the SimDriver's commands).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim_port.hpp"
#include "sipline/drivers/hook_classifier.hpp"
#include "sipline/drivers/sim_driver.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers::sim {

inline constexpr std::size_t kMaxExchangeDigits = 32;  // digits kept per outgoing call
inline constexpr int kInterdigitTimeoutMs = 3000;      // number complete after this without a digit
inline constexpr int kIncomingRingTimeoutMs = 60000;   // an unanswered incoming call gives up
// NTT: after the data the port should go back on hook; still off hook this
// long after the data, the exchange takes it as an answer.
inline constexpr int kNttOnHookWaitMs = 3000;
inline constexpr std::size_t kMaxCadence = 8;
// The port's pulse dialer: 10 pulses per second at a 60:40 break:make ratio,
// 700 ms of make after each digit (the interdigit pause).
inline constexpr int kPulseBreakMs = 60;
inline constexpr int kPulseMakeMs = 40;
inline constexpr int kPulseInterdigitMs = 700;
inline constexpr std::size_t kPulseDialBuffer = 64;  // digits waiting to be pulsed
// The far party's keys (exchange_dial), as the phones dial.
inline constexpr int kFarDtmfOnMs = 80;
inline constexpr int kFarDtmfOffMs = 80;

enum class ExchangeState {
  idle,
  dialtone,
  collecting,
  ringing_far,
  connected,
  busy,
  unobtainable,
  ringing_line,
  caller_id,
  disconnected,
};
const char* to_string(ExchangeState state);

enum class ExchangeCommandType {
  call,
  hangup,
  listen,
  far_dial,    // the far party presses keys (digits)
  pulse_dial,  // the port dials pulses (digits); from LinePort::pulse_dial, seq 0
};

struct ExchangeCommand {
  ExchangeCommandType type = ExchangeCommandType::call;
  uint64_t seq = 0;
  // call
  dsp::CallerIdAlert alert = dsp::CallerIdAlert::first_ring;
  SamplesPtr data{};   // caller ID data burst (none: no caller ID)
  SamplesPtr tone{};   // DT-AS (dt_as only)
  std::array<char, dsp::kMaxCallerIdNumber> number{};  // the caller's number, for status
  std::size_t number_len = 0;
  int tone_hz = 0;
  double listen_hz = 0;  // call, listen
  std::array<char, kMaxExchangeDigits> digits{};  // far_dial, pulse_dial
  std::size_t digit_count = 0;
};

struct ExchangeStatusData {
  uint64_t processed_seq = 0;
  ExchangeState state = ExchangeState::idle;
  bool seized = false;
  bool polarity_reversed = false;
  bool ringing = false;
  std::array<char, kMaxExchangeDigits> digits{};
  std::size_t digit_count = 0;
  std::array<char, kMaxExchangeDigits> far{};
  std::size_t far_len = 0;
  double listen_hz = 0, listen_ratio = 0;
  int rings = 0;
};

class ExchangeStatusCell {
 public:
  // Realtime.
  void publish(const ExchangeStatusData& d);
  ExchangeStatusData read() const;

 private:
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> processed_seq_{0};
  std::atomic<ExchangeState> state_{ExchangeState::idle};
  std::atomic<bool> seized_{false}, polarity_{false}, ringing_{false};
  AtomicText<kMaxExchangeDigits> digits_, far_;
  std::atomic<double> listen_hz_{0}, listen_ratio_{0};
  std::atomic<int> rings_{0};
};

// A subscriber as the media side sees it (copied at construction).
struct Subscriber {
  std::string number;
  SimSubscriberConfig::Behaviour behaviour = SimSubscriberConfig::Behaviour::answer;
  int answer_after_ms = 0;
  int tone_hz = 0;
  int hangup_after_ms = -1;
};

class ExchangePort final : public LinePort {
 public:
  ExchangePort(std::size_t index, std::string name, const SimExchangeLineConfig& line,
               const dsp::ToneProfile& profile, const std::vector<SimSubscriberConfig>& subscribers, int event_fd);
  ~ExchangePort() override;

  std::size_t index() const override { return index_; }
  const std::string& name() const override { return name_; }
  PortKind kind() const override { return PortKind::fxo; }
  // FXS only: no effect on this FXO port.
  void set_ring(bool) override {}
  void set_polarity(bool) override {}
  // Thread: control (an atomic). Seize / answer, or release.
  void set_hook(bool off_hook) override;
  // FXS only: no effect on this FXO port.
  void disconnect_battery(int ms) override;
  // Thread: control. Appends digits (0-9; others are skipped, at most 32 per
  // call) to the port's pulse dialer. Dialing starts once the exchange has
  // seen the seizure (a real line would lose the pulses of a dialer that does
  // not wait for dial tone); a port on hook dials nothing and dial_complete
  // follows at once, as DAHDI does; going on hook cancels the digits left
  // (no dial_complete then). dial_complete is posted after the last digit's
  // interdigit pause, when the dialer has no digit left.
  void pulse_dial(std::string_view digits) override;
  // Realtime: the exchange's tick; what the exchange sends to the port.
  void read(base::FrameSpan from_line) override;
  // Realtime: what the port sends to the exchange.
  void write(base::ConstFrameSpan to_line) override;

  // Thread: control.
  bool post(ExchangeCommand&& command);
  std::optional<Returned> take_returned();
  std::optional<LineEvent> take_event();
  const dsp::ToneProfile& profile() const { return profile_; }
  bool hook_requested() const { return hook_.load(std::memory_order_acquire); }
  // Thread: any.
  ExchangeStatusData status() const { return status_.read(); }

 private:
  // Incoming call phases (state caller_id or ringing_line).
  enum class Phase {
    none,
    reversal,       // line reversed, silence (reversal_ms)
    alert_tone,     // DT-AS playing
    ring_pulse,     // RP-AS ring pulse
    car,            // NTT CAR ringing until the primary response
    data_delay,     // silence before the data
    data,           // caller ID data playing
    await_on_hook,  // NTT: data sent, waiting for the port to go on hook
    ring_delay,     // silence before the first normal ring
    ringing,        // normal ringing cadence
  };

  void apply(ExchangeCommand& c);
  void queue_pulse_digits(const ExchangeCommand& c);
  bool run_pulse_dialer();
  void cancel_pulse_dialing();
  void loop_changed(const HookEvents& events);
  void collect_digit(char digit);
  void start_incoming(ExchangeCommand& c);
  void hook_changed(bool off_hook);
  void run_outgoing();
  void run_incoming();
  void enter_phase(Phase phase, int ms);
  void after_alert();
  void after_data();
  void start_ringing();
  void step_cadence(const std::vector<int>& cadence, std::size_t count);
  void route();
  void answer_far();
  void connect(int tone_hz);
  void far_hangup();
  void to_idle();
  void set_ringing(bool on);
  void set_polarity_reversed(bool reversed);
  void play_tone(dsp::ToneKind kind);
  void produce(base::FrameSpan out);
  void give_back(SamplesPtr samples);
  void post_event(LineEventType type);
  void publish();
  uint64_t ticks(int ms) const;

  const std::size_t index_;
  const std::string name_;
  const int event_fd_;
  const dsp::ToneProfile& profile_;
  const bool answer_reversal_;
  const SimExchangeLineConfig::Disconnect disconnect_;
  const int loop_drop_ms_;
  const std::vector<Subscriber> subscribers_;
  const std::string own_number_;  // dialing it gives busy tone

  base::SpscQueue<ExchangeCommand, 16> commands_;
  base::SpscQueue<Returned, 32> returned_;
  base::SpscQueue<LineEvent, 64> events_;
  ExchangeStatusCell status_;
  std::atomic<bool> hook_{false};

  // Media side.
  uint64_t tick_ = 0;
  uint64_t processed_seq_ = 0;
  ExchangeState state_ = ExchangeState::idle;
  bool seized_ = false;
  bool polarity_reversed_ = false;
  bool ringing_ = false;
  bool loop_open_ = false;          // loop current removed (loop-drop disconnect)
  HookClassifier loop_rx_;          // the exchange reading the port's loop
  bool loop_closed_ = false;        // the port's loop this tick (hook, less pulse breaks)
  uint64_t loop_close_tick_ = 0;
  int rings_ = 0;

  dsp::ToneGenerator tones_;
  const dsp::ToneSpec* next_tone_ = nullptr;  // after SIT: congestion
  uint64_t next_tone_tick_ = 0;

  // The port's pulse dialer.
  std::array<char, kPulseDialBuffer> pulse_digits_{};  // ring buffer
  std::size_t pulse_head_ = 0, pulse_tail_ = 0;
  bool pulse_dialing_ = false;   // digits queued or being dialed: dial_complete due
  bool pulse_break_ = false;     // the dialer holds the loop open now
  int pulses_left_ = 0;          // of the digit being dialed, this break included
  uint64_t pulse_step_end_tick_ = 0;

  // Outgoing.
  dsp::DtmfDetector dtmf_rx_;
  std::array<char, kMaxExchangeDigits> digits_{};
  std::size_t digit_count_ = 0;
  uint64_t last_digit_tick_ = 0;
  const Subscriber* far_sub_ = nullptr;
  uint64_t answer_tick_ = 0;   // ringing_far: when the subscriber answers (0 = never)
  uint64_t hangup_tick_ = 0;   // connected: when the far party hangs up (0 = never)

  // Incoming.
  Phase phase_ = Phase::none;
  uint64_t phase_end_tick_ = 0;
  uint64_t call_end_tick_ = 0;  // the incoming call gives up
  dsp::CallerIdAlert alert_ = dsp::CallerIdAlert::first_ring;
  SamplesPtr data_, alert_tone_;
  const Samples* playing_ = nullptr;  // data_ or alert_tone_ being played
  std::size_t play_pos_ = 0;
  bool data_sent_ = false;
  bool first_ring_data_pending_ = false;  // first_ring: data after the first ring cycle
  uint64_t data_start_tick_ = 0;
  std::size_t cadence_pos_ = 0;
  uint64_t cadence_end_tick_ = 0;
  int call_tone_hz_ = 0;
  std::array<char, kMaxExchangeDigits> far_{};
  std::size_t far_len_ = 0;

  // The far party (connected).
  dsp::DtmfGenerator far_dtmf_;  // its keys
  int far_tone_hz_ = 0;
  double far_phase_ = 0;
  double listen_hz_ = 0, listen_ratio_ = 0;
  std::array<int16_t, kListenWindow> window_{};
};

}  // namespace sipline::drivers::sim
