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
//
// Calls between the exchange's own lines (the switch): a line that dials the
// number of another line B of the same driver offers B the call; B rings
// (the incoming-call path of exchange_call, caller ID = the caller's number,
// pre-rendered by attach() in B's profile's format), answers when its port
// goes off hook, and then each side's write() feeds a frame ring that the
// other side's read() plays. Handoff between the two media workers, lock-free:
//   offer_     B's atomic word, written only by the caller: CAS 0 -> token
//              to ring B (fails: B is held by another caller, busy tone);
//              stored back to 0 when the caller hangs up, gives up, or has
//              seen B refuse or clear. B's tick reads it: a new token rings B
//              (or is refused if B is not idle), a token that goes away while
//              B has the call clears B (disconnect signal / ringing stops).
//   progress_  B's atomic word, written only by B's tick: (token, ringing /
//              answered / refused / cleared); the caller's tick reads it.
//   rings      ExchangeSwitch::ring(from, to), one SPSC ring of frames per
//              ordered pair of lines (producer: `from`'s write(), consumer:
//              `to`'s read()), allocated by the SimDriver at construction;
//              kLineRingFrames of slack for worker skew, silence on underrun,
//              drained by the consumer when the call connects.
// A token is (caller's slot + 1, the caller's call count): a stale word from
// an earlier call never matches. The other lines' numbers are constant after
// construction, so a port finds a line by number through the switch's table.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
// Frames queued per direction between two connected lines: a few ticks of
// skew between the two workers; a full ring drops the new frame.
inline constexpr std::size_t kLineRingFrames = 4;

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

using FrameRing = base::SpscQueue<base::AudioFrame, kLineRingFrames>;

class ExchangePort;

// The exchange's switch between its own lines: built by the SimDriver at
// construction, constant afterwards (the rings' contents aside).
// Thread: any (read-only table).
struct ExchangeSwitch {
  std::vector<ExchangePort*> lines;              // by slot (the exchange line's index)
  std::vector<std::unique_ptr<FrameRing>> rings;  // [from * lines.size() + to]; none from a line to itself
  FrameRing& ring(std::size_t from, std::size_t to) { return *rings[from * lines.size() + to]; }
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

  // Thread: control, at construction, before any tick: joins the switch as
  // line `slot` (every line of `sw` must exist) and renders the caller ID of
  // a call from each other line.
  void attach(ExchangeSwitch& sw, std::size_t slot);
  // Thread: any (constant).
  const std::string& number() const { return own_number_; }

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

  // What rings the line: exchange_call's command, or another line.
  struct IncomingCall {
    dsp::CallerIdAlert alert = dsp::CallerIdAlert::first_ring;
    const Samples* data = nullptr;        // caller ID data burst (none: no caller ID)
    const Samples* alert_tone = nullptr;  // DT-AS (dt_as only)
    std::string_view number{};            // the caller's number, for status
    int tone_hz = 0;
    double listen_hz = 0;
  };
  // The progress_ word: token * 8 + one of these.
  enum class Progress : uint64_t { none, ringing, answered, refused, cleared };

  void apply(ExchangeCommand& c);
  void queue_pulse_digits(const ExchangeCommand& c);
  bool run_pulse_dialer();
  void cancel_pulse_dialing();
  void loop_changed(const HookEvents& events);
  void collect_digit(char digit);
  void start_incoming(ExchangeCommand& c);
  void ring_line(const IncomingCall& call);
  ExchangePort* line_numbered(std::string_view number) const;
  void call_line(ExchangePort& callee);
  void follow_caller();
  void follow_callee();
  void set_progress(Progress p);
  void leave_line_call();
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

  // The switch (set by attach(), constant afterwards).
  ExchangeSwitch* switch_ = nullptr;
  std::size_t slot_ = 0;
  std::vector<Samples> cid_from_;  // by the caller's slot: caller ID data (empty: none)
  Samples switch_alert_tone_;       // DT-AS for calls from other lines

  base::SpscQueue<ExchangeCommand, 16> commands_;
  base::SpscQueue<Returned, 32> returned_;
  base::SpscQueue<LineEvent, 64> events_;
  ExchangeStatusCell status_;
  std::atomic<bool> hook_{false};
  // Written by the caller that holds this line (see above); 0 = no offer.
  std::atomic<uint64_t> offer_{0};
  // Written by this line's tick: the progress of the offer it took or refused.
  std::atomic<uint64_t> progress_{0};

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
  SamplesPtr data_, alert_tone_;             // exchange_call's buffers (owned until given back)
  const Samples* cid_data_ = nullptr;       // this call's caller ID data (data_ or cid_from_)
  const Samples* cid_tone_ = nullptr;       // this call's DT-AS (alert_tone_ or switch_alert_tone_)
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

  // A call with another line of the switch (media side).
  ExchangePort* peer_ = nullptr;  // the other line; nullptr: none
  bool calling_ = false;          // this line called peer_ (and holds its offer_)
  uint64_t call_token_ = 0;
  uint32_t call_count_ = 0;       // this line's calls to other lines (the token's second half)
  uint64_t seen_offer_ = 0;       // the last offer taken or refused
  std::optional<dsp::EchoPath> echo_;   // the exchange side's hybrid echo, if configured
  base::AudioFrame last_to_line_{};      // what the port sent last tick (the echo's source)
};

}  // namespace sipline::drivers::sim
