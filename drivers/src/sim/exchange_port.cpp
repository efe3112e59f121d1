#include "exchange_port.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string_view>
#include <utility>

#include <unistd.h>

#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/goertzel.hpp"

namespace sipline::drivers::sim {
namespace {


// The far party's tone: -13 dBm0 (0 dBm0 is a sine of peak ~22800, as in dsp's tone generator).
constexpr double kFarToneAmplitude = 5100;

bool is_incoming(ExchangeState s) { return s == ExchangeState::ringing_line || s == ExchangeState::caller_id; }

}  // namespace

const char* to_string(ExchangeState state) {
  switch (state) {
    case ExchangeState::idle: return "idle";
    case ExchangeState::dialtone: return "dialtone";
    case ExchangeState::collecting: return "collecting";
    case ExchangeState::ringing_far: return "ringing_far";
    case ExchangeState::connected: return "connected";
    case ExchangeState::busy: return "busy";
    case ExchangeState::unobtainable: return "unobtainable";
    case ExchangeState::ringing_line: return "ringing_line";
    case ExchangeState::caller_id: return "caller_id";
    case ExchangeState::disconnected: return "disconnected";
  }
  return "idle";
}

// ---- ExchangeStatusCell (the same seqlock as StatusCell, see sim_port.cpp) ----

void ExchangeStatusCell::publish(const ExchangeStatusData& d) {
  constexpr auto w = std::memory_order_release;
  const uint32_t s = seq_.load(std::memory_order_relaxed);
  seq_.store(s + 1, std::memory_order_relaxed);
  processed_seq_.store(d.processed_seq, w);
  state_.store(d.state, w);
  seized_.store(d.seized, w);
  polarity_.store(d.polarity_reversed, w);
  ringing_.store(d.ringing, w);
  digits_.store(d.digits, d.digit_count, w);
  far_.store(d.far, d.far_len, w);
  listen_hz_.store(d.listen_hz, w);
  listen_ratio_.store(d.listen_ratio, w);
  rings_.store(d.rings, w);
  seq_.store(s + 2, std::memory_order_release);
}

ExchangeStatusData ExchangeStatusCell::read() const {
  constexpr auto r = std::memory_order_acquire;
  ExchangeStatusData d;
  for (;;) {
    const uint32_t s1 = seq_.load(r);
    if (s1 & 1) continue;
    d.processed_seq = processed_seq_.load(r);
    d.state = state_.load(r);
    d.seized = seized_.load(r);
    d.polarity_reversed = polarity_.load(r);
    d.ringing = ringing_.load(r);
    d.digit_count = digits_.load(d.digits, r);
    d.far_len = far_.load(d.far, r);
    d.listen_hz = listen_hz_.load(r);
    d.listen_ratio = listen_ratio_.load(r);
    d.rings = rings_.load(r);
    if (seq_.load(std::memory_order_relaxed) == s1) return d;
  }
}

// ---- ExchangePort: control side ----

namespace {
std::vector<Subscriber> copy_subscribers(const std::vector<SimSubscriberConfig>& subscribers) {
  std::vector<Subscriber> out;
  for (const auto& s : subscribers) {
    out.push_back({.number = s.number,
                   .behaviour = s.behaviour,
                   .answer_after_ms = s.answer_after_ms,
                   .tone_hz = s.tone_hz,
                   .hangup_after_ms = s.hangup_after_ms});
  }
  return out;
}
}  // namespace

ExchangePort::ExchangePort(std::size_t index, std::string name, const SimExchangeLineConfig& line,
                           const dsp::ToneProfile& profile, const std::vector<SimSubscriberConfig>& subscribers,
                           int event_fd)
    : index_(index), name_(std::move(name)), event_fd_(event_fd), profile_(profile),
      answer_reversal_(line.answer_polarity_reversal), disconnect_(line.disconnect),
      loop_drop_ms_(std::max(line.loop_drop_ms, base::kFrameMs)), subscribers_(copy_subscribers(subscribers)),
      own_number_(line.number), loop_rx_(line.hook) {
  if (line.echo) echo_.emplace(*line.echo);
  publish();
}

ExchangePort::~ExchangePort() = default;

void ExchangePort::attach(ExchangeSwitch& sw, std::size_t slot) {
  switch_ = &sw;
  slot_ = slot;
  const auto& t = profile_.caller_id;
  cid_from_.assign(sw.lines.size(), {});
  if (t.format != dsp::CallerIdFormat::none) {
    for (std::size_t i = 0; i < sw.lines.size(); ++i) {
      if (i == slot) continue;
      // The caller's number, no name, no time (a switched call carries no date here).
      dsp::CallerId id{.number = sw.lines[i]->number()};
      if (id.number.empty()) id.number_absence = dsp::Absence::unavailable;
      cid_from_[i] = dsp::render_caller_id(t.format, id, t.level_dbm0);
    }
  }
  if (t.alert == dsp::CallerIdAlert::dt_as) switch_alert_tone_ = dsp::render_alert_tone(t.alert_ms > 0 ? t.alert_ms : 100);
}

void ExchangePort::set_hook(bool off_hook) { hook_.store(off_hook, std::memory_order_release); }
void ExchangePort::disconnect_battery(int) {}

void ExchangePort::pulse_dial(std::string_view digits) {
  ExchangeCommand c{.type = ExchangeCommandType::pulse_dial};
  for (const char d : digits) {
    if (d < '0' || d > '9' || c.digit_count == c.digits.size()) continue;
    c.digits[c.digit_count++] = d;
  }
  (void)commands_.push(std::move(c));  // full (no worker ticking the port): the digits are lost
}

bool ExchangePort::post(ExchangeCommand&& command) { return commands_.push(std::move(command)); }
std::optional<Returned> ExchangePort::take_returned() { return returned_.pop(); }
std::optional<LineEvent> ExchangePort::take_event() { return events_.pop(); }

// ---- ExchangePort: media side ----

uint64_t ExchangePort::ticks(int ms) const {
  return ms <= 0 ? 0 : static_cast<uint64_t>((ms + base::kFrameMs - 1) / base::kFrameMs);
}

void ExchangePort::read(base::FrameSpan from_line) {
  ++tick_;
  while (auto c = commands_.pop()) apply(*c);
  if (switch_ != nullptr) follow_caller();
  // The port's side: its hook switch and pulse dialer make the loop.
  const bool hook = hook_.load(std::memory_order_acquire);
  if (!hook) cancel_pulse_dialing();
  pulse_break_ = hook && run_pulse_dialer();
  loop_closed_ = hook && !pulse_break_;
  // The exchange's side: it only sees the loop.
  loop_changed(loop_rx_.step(loop_closed_, base::kFrameMs));
  if (loop_open_ && tick_ >= loop_close_tick_) loop_open_ = false;
  if (is_incoming(state_)) {
    run_incoming();
  } else {
    run_outgoing();
  }
  if (next_tone_ != nullptr && tick_ >= next_tone_tick_) {
    tones_.start(next_tone_);
    next_tone_ = nullptr;
  }
  produce(from_line);
  // The hybrid reflects what the port sent last tick back to the port.
  if (echo_ && loop_closed_) echo_->process(last_to_line_, from_line);
  publish();
}

void ExchangePort::write(base::ConstFrameSpan port_audio) {
  // An open loop (on hook, a dial pulse) carries nothing.
  static constexpr base::AudioFrame kSilence{};
  const base::ConstFrameSpan to_line = loop_closed_ ? port_audio : base::ConstFrameSpan(kSilence);
  std::copy(to_line.begin(), to_line.end(), last_to_line_.begin());
  // The exchange's digit receiver, attached while it collects the number.
  for (const auto& e : dtmf_rx_.process(to_line)) {
    if (!e.end) collect_digit(e.digit);
  }

  // What the far party hears: the port's audio while connected.
  std::memmove(window_.data(), window_.data() + base::kFrameSamples,
               (kListenWindow - base::kFrameSamples) * sizeof(int16_t));
  if (state_ == ExchangeState::connected) {
    std::copy(to_line.begin(), to_line.end(), window_.end() - base::kFrameSamples);
    if (peer_ != nullptr) {
      base::AudioFrame frame;
      std::copy(to_line.begin(), to_line.end(), frame.begin());
      (void)switch_->ring(slot_, peer_->slot_).push(frame);  // full (the peer's worker lags): dropped
    }
  } else {
    std::fill(window_.end() - base::kFrameSamples, window_.end(), int16_t{0});
  }
  listen_ratio_ = listen_hz_ > 0 ? dsp::tone_power_ratio(window_, listen_hz_, base::kSampleRate) : 0;
  publish();
}

void ExchangePort::apply(ExchangeCommand& c) {
  if (c.seq != 0) processed_seq_ = c.seq;  // pulse_dial comes from the LinePort, unnumbered
  switch (c.type) {
    case ExchangeCommandType::call:
      start_incoming(c);
      break;
    case ExchangeCommandType::hangup:
      far_hangup();
      break;
    case ExchangeCommandType::listen:
      listen_hz_ = c.listen_hz;
      break;
    case ExchangeCommandType::far_dial:
      if (state_ == ExchangeState::connected) {
        far_dtmf_.queue(std::string_view(c.digits.data(), c.digit_count), kFarDtmfOnMs, kFarDtmfOffMs);
      }
      break;
    case ExchangeCommandType::pulse_dial:
      queue_pulse_digits(c);
      break;
  }
  give_back(std::move(c.data));
  give_back(std::move(c.tone));
}

// ---- the port's pulse dialer and the exchange's loop receiver ----

void ExchangePort::queue_pulse_digits(const ExchangeCommand& c) {
  if (!hook_.load(std::memory_order_acquire)) {
    // On hook there is no loop to pulse: nothing is dialed (DAHDI skips the
    // digits the same way) and the dialing is complete at once.
    if (!pulse_dialing_) post_event(LineEventType::dial_complete);
    return;
  }
  for (std::size_t i = 0; i < c.digit_count; ++i) {
    if (pulse_head_ - pulse_tail_ == pulse_digits_.size()) break;  // full: the rest is dropped
    pulse_digits_[pulse_head_++ % pulse_digits_.size()] = c.digits[i];
  }
  if (pulse_head_ == pulse_tail_ && !pulse_dialing_) {
    post_event(LineEventType::dial_complete);  // nothing to dial
    return;
  }
  pulse_dialing_ = true;
}

void ExchangePort::cancel_pulse_dialing() {
  pulse_head_ = pulse_tail_ = 0;
  pulse_dialing_ = pulse_break_ = false;
  pulses_left_ = 0;
  pulse_step_end_tick_ = 0;
}

// One tick of the dialer; true while it holds the loop open. A digit of N
// pulses is N x (break, make), then the interdigit pause; dial_complete
// follows the pause after the last digit.
bool ExchangePort::run_pulse_dialer() {
  if (!pulse_dialing_) return false;
  const auto start_digit = [this] {
    const char d = pulse_digits_[pulse_tail_++ % pulse_digits_.size()];
    pulses_left_ = d == '0' ? 10 : d - '0';
    pulse_step_end_tick_ = tick_ + ticks(kPulseBreakMs);
    return true;
  };
  if (pulses_left_ == 0) {
    // Idle between digits: the first digit waits for the exchange to see the
    // seizure; later ones for the end of the interdigit pause.
    if (tick_ < pulse_step_end_tick_ || !seized_) return false;
    if (pulse_tail_ != pulse_head_) return start_digit();
    pulse_dialing_ = false;
    post_event(LineEventType::dial_complete);
    return false;
  }
  if (tick_ < pulse_step_end_tick_) return pulse_break_;  // the current break or make goes on
  if (pulse_break_) {
    pulse_step_end_tick_ = tick_ + ticks(kPulseMakeMs);
    return false;  // the break ends: make
  }
  if (--pulses_left_ > 0) {
    pulse_step_end_tick_ = tick_ + ticks(kPulseBreakMs);
    return true;  // the next pulse
  }
  pulse_step_end_tick_ = tick_ + ticks(kPulseInterdigitMs);  // the digit is done: pause
  return false;
}

// What the exchange makes of the loop: seizure, release, dial pulses.
void ExchangePort::loop_changed(const HookEvents& events) {
  for (std::size_t i = 0; i < events.count; ++i) {
    const auto& e = events.events[i];
    switch (e.type) {
      case LineEventType::off_hook: hook_changed(true); break;
      case LineEventType::on_hook: hook_changed(false); break;
      case LineEventType::pulse_digit: collect_digit(e.digit); break;
      default: break;  // a flash: no flash services here
    }
  }
}

// A digit the exchange received (DTMF or pulses) while it collects the number.
void ExchangePort::collect_digit(char digit) {
  if (state_ != ExchangeState::dialtone && state_ != ExchangeState::collecting) return;
  if (digit_count_ < digits_.size()) digits_[digit_count_++] = digit;
  if (state_ == ExchangeState::dialtone) {
    tones_.stop();
    state_ = ExchangeState::collecting;
  }
  last_digit_tick_ = tick_;
  const std::string_view dialed(digits_.data(), digit_count_);
  bool complete = (!own_number_.empty() && own_number_ == dialed) || line_numbered(dialed) != nullptr;
  for (const auto& s : subscribers_) complete = complete || s.number == dialed;
  if (complete) route();
}

void ExchangePort::hook_changed(bool off_hook) {
  seized_ = off_hook;
  const auto& t = profile_.caller_id;
  if (off_hook) {
    if (state_ == ExchangeState::idle) {
      // Seizure: dial tone until the first digit.
      digit_count_ = 0;
      far_len_ = 0;
      rings_ = 0;
      state_ = ExchangeState::dialtone;
      play_tone(dsp::ToneKind::dial);
    } else if (is_incoming(state_)) {
      if (phase_ == Phase::car) {
        // NTT: the primary response. The CAR stops; the data follows off hook.
        set_ringing(false);
        enter_phase(Phase::data_delay, t.data_delay_ms);
      } else {
        connect(call_tone_hz_);  // answered
      }
    }
    return;
  }
  // On hook.
  if (is_incoming(state_)) {
    if (alert_ == dsp::CallerIdAlert::ntt_car &&
        (phase_ == Phase::data_delay || phase_ == Phase::data || phase_ == Phase::await_on_hook)) {
      // The end of NTT's primary response: normal ringing follows.
      playing_ = nullptr;
      enter_phase(Phase::ring_delay, t.ring_delay_ms);
    }
    return;
  }
  to_idle();  // released
}

void ExchangePort::run_outgoing() {
  switch (state_) {
    case ExchangeState::collecting:
      if (tick_ - last_digit_tick_ >= ticks(kInterdigitTimeoutMs)) route();
      break;
    case ExchangeState::ringing_far:
      if (calling_) follow_callee();
      if (answer_tick_ != 0 && tick_ >= answer_tick_) answer_far();
      break;
    case ExchangeState::connected:
      if (calling_) follow_callee();
      if (hangup_tick_ != 0 && tick_ >= hangup_tick_) far_hangup();
      break;
    default:
      break;
  }
}

// Finds the subscriber dialed and gives the gateway the call's progress.
void ExchangePort::route() {
  far_len_ = std::min(digit_count_, far_.size());
  std::copy_n(digits_.begin(), far_len_, far_.begin());
  const std::string_view dialed(digits_.data(), digit_count_);
  far_sub_ = nullptr;
  for (const auto& s : subscribers_) {
    if (s.number == dialed) far_sub_ = &s;
  }
  if (far_sub_ == nullptr && !own_number_.empty() && own_number_ == dialed) {
    state_ = ExchangeState::busy;  // the line called itself
    play_tone(dsp::ToneKind::busy);
    return;
  }
  if (far_sub_ == nullptr) {
    if (ExchangePort* line = line_numbered(dialed); line != nullptr) {
      call_line(*line);
      return;
    }
  }
  if (far_sub_ == nullptr) {
    // Unobtainable: SIT once, then congestion.
    state_ = ExchangeState::unobtainable;
    play_tone(dsp::ToneKind::special_information);
    int sit_ms = 0;
    bool finite = true;
    for (const auto& step : profile_.special_information.steps) {
      if (step.duration_ms <= 0) finite = false;
      sit_ms += step.duration_ms;
    }
    if (finite && sit_ms > 0) {
      next_tone_ = &profile_.congestion;
      next_tone_tick_ = tick_ + ticks(sit_ms);
    }
    return;
  }
  switch (far_sub_->behaviour) {
    case SimSubscriberConfig::Behaviour::answer:
      state_ = ExchangeState::ringing_far;
      play_tone(dsp::ToneKind::ringback);
      answer_tick_ = tick_ + std::max<uint64_t>(1, ticks(far_sub_->answer_after_ms));
      break;
    case SimSubscriberConfig::Behaviour::no_answer:
      state_ = ExchangeState::ringing_far;
      play_tone(dsp::ToneKind::ringback);
      answer_tick_ = 0;
      break;
    case SimSubscriberConfig::Behaviour::busy:
      state_ = ExchangeState::busy;
      play_tone(dsp::ToneKind::busy);
      break;
  }
}

void ExchangePort::answer_far() {
  answer_tick_ = 0;
  if (answer_reversal_) set_polarity_reversed(!polarity_reversed_);
  connect(far_sub_ != nullptr ? far_sub_->tone_hz : 0);
  if (far_sub_ != nullptr && far_sub_->hangup_after_ms >= 0) {
    hangup_tick_ = tick_ + std::max<uint64_t>(1, ticks(far_sub_->hangup_after_ms));
  }
}

void ExchangePort::connect(int tone_hz) {
  set_ringing(false);
  tones_.stop();
  far_dtmf_.stop();
  next_tone_ = nullptr;
  playing_ = nullptr;
  first_ring_data_pending_ = false;
  phase_ = Phase::none;
  state_ = ExchangeState::connected;
  far_tone_hz_ = tone_hz;
  far_phase_ = 0;
  if (peer_ != nullptr) {
    auto& from_peer = switch_->ring(peer_->slot_, slot_);
    while (from_peer.pop()) {
    }  // frames of an earlier call, or sent before this side connected
    if (!calling_) set_progress(Progress::answered);
  }
}

void ExchangePort::far_hangup() {
  if (state_ == ExchangeState::connected) {
    far_tone_hz_ = 0;
    hangup_tick_ = 0;
    far_dtmf_.stop();
    leave_line_call();
    state_ = ExchangeState::disconnected;
    switch (disconnect_) {
      case SimExchangeLineConfig::Disconnect::polarity_reversal:
        set_polarity_reversed(!polarity_reversed_);
        break;
      case SimExchangeLineConfig::Disconnect::loop_drop:
        loop_open_ = true;
        loop_close_tick_ = tick_ + ticks(loop_drop_ms_);
        post_event(LineEventType::loop_drop);
        break;
      case SimExchangeLineConfig::Disconnect::busy_tone:
        play_tone(dsp::ToneKind::busy);
        break;
      case SimExchangeLineConfig::Disconnect::silence:
        break;  // no signal at all: the line just goes quiet
    }
  } else if (is_incoming(state_)) {
    // The caller gave up before the answer.
    const bool seized = seized_;
    to_idle();
    if (seized) state_ = ExchangeState::disconnected;  // NTT primary response: idle once on hook
  }
  // Otherwise there is no far party to hang up (dial tone, ringback, busy, SIT).
}

void ExchangePort::to_idle() {
  set_ringing(false);
  set_polarity_reversed(false);
  tones_.stop();
  next_tone_ = nullptr;
  playing_ = nullptr;
  give_back(std::move(data_));
  give_back(std::move(alert_tone_));
  cid_data_ = cid_tone_ = nullptr;
  first_ring_data_pending_ = false;
  phase_ = Phase::none;
  leave_line_call();
  state_ = ExchangeState::idle;
  far_tone_hz_ = 0;
  far_dtmf_.stop();
  far_sub_ = nullptr;
  answer_tick_ = hangup_tick_ = 0;
  loop_open_ = false;
}

// ---- incoming calls ----

void ExchangePort::start_incoming(ExchangeCommand& c) {
  if (state_ != ExchangeState::idle || seized_) return;  // glare: the line is in use (buffers go back)
  give_back(std::move(data_));
  give_back(std::move(alert_tone_));
  data_ = std::move(c.data);
  alert_tone_ = std::move(c.tone);
  ring_line({.alert = c.alert,
             .data = data_.get(),
             .alert_tone = alert_tone_.get(),
             .number = std::string_view(c.number.data(), c.number_len),
             .tone_hz = c.tone_hz,
             .listen_hz = c.listen_hz});
}

// The incoming call, from exchange_call or from another line (state idle, not seized).
void ExchangePort::ring_line(const IncomingCall& call) {
  const auto& t = profile_.caller_id;
  digit_count_ = 0;
  far_len_ = std::min(call.number.size(), far_.size());
  std::copy_n(call.number.begin(), far_len_, far_.begin());
  rings_ = 0;
  call_tone_hz_ = call.tone_hz;
  listen_hz_ = call.listen_hz;
  cid_data_ = call.data != nullptr && !call.data->empty() ? call.data : nullptr;
  cid_tone_ = call.alert_tone != nullptr && !call.alert_tone->empty() ? call.alert_tone : nullptr;
  alert_ = call.alert;
  call_end_tick_ = tick_ + ticks(kIncomingRingTimeoutMs);
  first_ring_data_pending_ = false;
  if (cid_data_ == nullptr) {
    start_ringing();  // no caller ID: just ring
    return;
  }
  state_ = ExchangeState::caller_id;
  switch (alert_) {
    case dsp::CallerIdAlert::first_ring:
      start_ringing();
      first_ring_data_pending_ = true;
      data_start_tick_ = 0;
      break;
    case dsp::CallerIdAlert::line_reversal:
    case dsp::CallerIdAlert::dt_as:
      set_polarity_reversed(true);
      enter_phase(Phase::reversal, t.reversal_ms > 0 ? t.reversal_ms : 100);
      break;
    case dsp::CallerIdAlert::rp_as:
      set_ringing(true);
      enter_phase(Phase::ring_pulse, t.alert_ms > 0 ? t.alert_ms : 250);
      break;
    case dsp::CallerIdAlert::ntt_car:
      phase_ = Phase::car;
      phase_end_tick_ = tick_ + ticks(t.car_timeout_ms);
      cadence_pos_ = 0;
      set_ringing(true);
      cadence_end_tick_ = tick_ + std::max<uint64_t>(1, ticks(t.car_cadence_ms.empty() ? 500 : t.car_cadence_ms[0]));
      break;
  }
}

void ExchangePort::enter_phase(Phase phase, int ms) {
  phase_ = phase;
  phase_end_tick_ = tick_ + ticks(ms);
  if (phase == Phase::data) {
    playing_ = cid_data_;
    play_pos_ = 0;
  } else if (phase == Phase::alert_tone) {
    playing_ = cid_tone_;
    play_pos_ = 0;
  }
}

void ExchangePort::run_incoming() {
  const auto& t = profile_.caller_id;
  if (!seized_ && tick_ >= call_end_tick_) {
    to_idle();  // nobody answered
    return;
  }
  switch (phase_) {
    case Phase::none:
      break;
    case Phase::reversal:
      if (tick_ < phase_end_tick_) break;
      if (alert_ == dsp::CallerIdAlert::dt_as && cid_tone_ != nullptr) {
        enter_phase(Phase::alert_tone, 0);
      } else {
        enter_phase(Phase::data_delay, t.data_delay_ms);
      }
      break;
    case Phase::alert_tone:
      if (playing_ == nullptr) enter_phase(Phase::data_delay, t.data_delay_ms);
      break;
    case Phase::ring_pulse:
      if (tick_ < phase_end_tick_) break;
      set_ringing(false);
      enter_phase(Phase::data_delay, t.data_delay_ms);
      break;
    case Phase::car:
      if (tick_ >= phase_end_tick_) {
        // No primary response: ring without caller ID.
        set_ringing(false);
        give_back(std::move(data_));
        cid_data_ = nullptr;
        enter_phase(Phase::ring_delay, t.ring_delay_ms);
      } else if (!t.car_cadence_ms.empty() && tick_ >= cadence_end_tick_) {
        cadence_pos_ = (cadence_pos_ + 1) % t.car_cadence_ms.size();
        set_ringing(cadence_pos_ % 2 == 0);
        cadence_end_tick_ = tick_ + std::max<uint64_t>(1, ticks(t.car_cadence_ms[cadence_pos_]));
      }
      break;
    case Phase::data_delay:
      if (tick_ >= phase_end_tick_) enter_phase(Phase::data, 0);
      break;
    case Phase::data:
      if (playing_ != nullptr) break;
      if (alert_ == dsp::CallerIdAlert::ntt_car) {
        enter_phase(Phase::await_on_hook, kNttOnHookWaitMs);
      } else {
        set_polarity_reversed(false);  // line_reversal / dt_as: back to normal before ringing
        enter_phase(Phase::ring_delay, t.ring_delay_ms);
      }
      break;
    case Phase::await_on_hook:
      if (tick_ >= phase_end_tick_) connect(call_tone_hz_);  // stayed off hook: an answer
      break;
    case Phase::ring_delay:
      if (tick_ >= phase_end_tick_) start_ringing();
      break;
    case Phase::ringing: {
      const auto& cadence = profile_.ring_cadence_ms;
      if (!cadence.empty() && tick_ >= cadence_end_tick_) {
        const bool first_cycle = cadence_pos_ + 1 < cadence.size();
        cadence_pos_ = (cadence_pos_ + 1) % cadence.size();
        const bool on = cadence_pos_ % 2 == 0;
        set_ringing(on);
        if (on) ++rings_;
        cadence_end_tick_ = tick_ + std::max<uint64_t>(1, ticks(cadence[cadence_pos_]));
        // first_ring: the data goes in the silence that ends the first cadence cycle.
        if (first_ring_data_pending_ && first_cycle && cadence_pos_ + 1 == cadence.size() && !on) {
          first_ring_data_pending_ = false;
          data_start_tick_ = tick_ + std::max<uint64_t>(1, ticks(t.data_delay_ms));
        }
      }
      if (data_start_tick_ != 0 && tick_ >= data_start_tick_) {
        data_start_tick_ = 0;
        playing_ = cid_data_;
        play_pos_ = 0;
      }
      state_ = playing_ != nullptr ? ExchangeState::caller_id : ExchangeState::ringing_line;
      break;
    }
  }
}

void ExchangePort::start_ringing() {
  const auto& cadence = profile_.ring_cadence_ms;
  phase_ = Phase::ringing;
  state_ = ExchangeState::ringing_line;
  cadence_pos_ = 0;
  data_start_tick_ = 0;
  set_ringing(true);
  ++rings_;
  cadence_end_tick_ = cadence.empty() ? UINT64_MAX : tick_ + std::max<uint64_t>(1, ticks(cadence[0]));
}

// ---- line signals and audio ----

void ExchangePort::set_ringing(bool on) {
  if (on == ringing_) return;
  ringing_ = on;
  post_event(on ? LineEventType::ring_start : LineEventType::ring_stop);
}

void ExchangePort::set_polarity_reversed(bool reversed) {
  if (reversed == polarity_reversed_) return;
  polarity_reversed_ = reversed;
  post_event(LineEventType::polarity_reversal);
}

void ExchangePort::play_tone(dsp::ToneKind kind) {
  next_tone_ = nullptr;
  tones_.start(&profile_.tone(kind));
}

void ExchangePort::produce(base::FrameSpan out) {
  // The other line's port (a frame late at most; silence on underrun), taken
  // every tick so the ring does not back up while the loop is open.
  std::optional<base::AudioFrame> peer_frame;
  if (state_ == ExchangeState::connected && peer_ != nullptr) peer_frame = switch_->ring(peer_->slot_, slot_).pop();
  // No loop current (loop-drop disconnect), or the port's loop open outside
  // an incoming call's on-hook signalling (released, a dial pulse): silence.
  if (loop_open_ || (!loop_closed_ && !is_incoming(state_))) {
    std::fill(out.begin(), out.end(), int16_t{0});
    return;
  }
  tones_.generate(out);  // silence when no tone
  if (playing_ != nullptr) {
    const Samples& s = *playing_;
    for (auto& v : out) {
      if (play_pos_ >= s.size()) {
        playing_ = nullptr;
        break;
      }
      v = saturate(v + s[play_pos_++]);
    }
    if (playing_ != nullptr && play_pos_ >= s.size()) playing_ = nullptr;
  }
  if (state_ == ExchangeState::connected && far_tone_hz_ > 0) {
    constexpr double kTwoPi = 2 * std::numbers::pi;
    const double step = kTwoPi * far_tone_hz_ / base::kSampleRate;
    for (auto& v : out) {
      v = saturate(v + static_cast<int>(std::lround(kFarToneAmplitude * std::sin(far_phase_))));
      far_phase_ = std::fmod(far_phase_ + step, kTwoPi);
    }
  }
  if (peer_frame) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = saturate(out[i] + (*peer_frame)[i]);
  }
  if (state_ == ExchangeState::connected && far_dtmf_.active()) {
    base::AudioFrame keys;
    far_dtmf_.generate(keys);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = saturate(out[i] + keys[i]);
  }
}

// ---- calls between the exchange's lines (see the header comment) ----

ExchangePort* ExchangePort::line_numbered(std::string_view number) const {
  if (switch_ == nullptr || number.empty()) return nullptr;
  for (ExchangePort* line : switch_->lines) {
    if (line->number() == number) return line;
  }
  return nullptr;
}

// This line dialed `callee`'s number: offer it the call.
void ExchangePort::call_line(ExchangePort& callee) {
  if (&callee == this) {
    state_ = ExchangeState::busy;
    play_tone(dsp::ToneKind::busy);
    return;
  }
  if (++call_count_ == 0) ++call_count_;
  const uint64_t token = (static_cast<uint64_t>(slot_ + 1) << 32) | call_count_;
  uint64_t free = 0;
  if (!callee.offer_.compare_exchange_strong(free, token, std::memory_order_acq_rel)) {
    state_ = ExchangeState::busy;  // another line is calling it
    play_tone(dsp::ToneKind::busy);
    return;
  }
  peer_ = &callee;
  calling_ = true;
  call_token_ = token;
  answer_tick_ = 0;
  state_ = ExchangeState::ringing_far;
  play_tone(dsp::ToneKind::ringback);  // until the callee refuses (busy) or answers
}

// Callee side, each tick: a new offer rings the line (or is refused); the
// offer of the call the line has going away means the caller hung up.
void ExchangePort::follow_caller() {
  const uint64_t offer = offer_.load(std::memory_order_acquire);
  if (peer_ != nullptr && !calling_ && offer != call_token_) {
    peer_ = nullptr;
    call_token_ = 0;
    far_hangup();  // connected: the disconnect signal; ringing: the caller gave up
  }
  if (offer == 0 || offer == seen_offer_) return;
  seen_offer_ = offer;
  const std::size_t caller = static_cast<std::size_t>(offer >> 32) - 1;
  if (state_ != ExchangeState::idle || seized_ || caller >= switch_->lines.size() || caller == slot_) {
    progress_.store(offer * 8 + static_cast<uint64_t>(Progress::refused), std::memory_order_release);
    return;
  }
  peer_ = switch_->lines[caller];
  calling_ = false;
  call_token_ = offer;
  const auto& t = profile_.caller_id;
  ring_line({.alert = t.alert,
             .data = &cid_from_[caller],
             .alert_tone = t.alert == dsp::CallerIdAlert::dt_as ? &switch_alert_tone_ : nullptr,
             .number = peer_->number()});
  set_progress(Progress::ringing);
}

// Caller side, each tick while ringing or connected: what the callee did.
void ExchangePort::follow_callee() {
  const uint64_t word = peer_->progress_.load(std::memory_order_acquire);
  if (word / 8 != call_token_) return;  // not yet seen by the callee
  switch (static_cast<Progress>(word % 8)) {
    case Progress::answered:
      if (state_ == ExchangeState::ringing_far) answer_far();  // answer supervision, as for a subscriber
      break;
    case Progress::refused:
    case Progress::cleared:
      if (state_ == ExchangeState::connected) {
        far_hangup();  // the line's disconnect signal
      } else {
        leave_line_call();
        state_ = ExchangeState::busy;
        play_tone(dsp::ToneKind::busy);
      }
      break;
    default:
      break;
  }
}

void ExchangePort::set_progress(Progress p) {
  progress_.store(call_token_ * 8 + static_cast<uint64_t>(p), std::memory_order_release);
}

// This line's part of a call with another line is over: the caller gives the
// callee back (offer_ to 0), the callee tells the caller it cleared.
void ExchangePort::leave_line_call() {
  if (peer_ == nullptr) return;
  if (calling_) {
    peer_->offer_.store(0, std::memory_order_release);
  } else {
    set_progress(Progress::cleared);
  }
  peer_ = nullptr;
  calling_ = false;
  call_token_ = 0;
}

void ExchangePort::give_back(SamplesPtr samples) { give_back_samples(returned_, std::move(samples)); }

void ExchangePort::post_event(LineEventType type) { post_line_event(events_, event_fd_, index_, type); }

void ExchangePort::publish() {
  ExchangeStatusData d;
  d.processed_seq = processed_seq_;
  d.state = state_;
  d.seized = seized_;
  d.polarity_reversed = polarity_reversed_;
  d.ringing = ringing_;
  d.digits = digits_;
  d.digit_count = digit_count_;
  d.far = far_;
  d.far_len = far_len_;
  d.listen_hz = listen_hz_;
  d.listen_ratio = listen_ratio_;
  d.rings = rings_;
  status_.publish(d);
}

}  // namespace sipline::drivers::sim
