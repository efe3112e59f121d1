#include "call/fxs_line.hpp"

#include <algorithm>

#include "sipline/base/log.hpp"

namespace sipline::gateway::call {

using base::Millis;
using base::Sub;
namespace log = base::log;

// NTT: after the data, the phone hangs up within this time unless someone
// has picked it up.
constexpr int kPrimaryResponseGraceMs = 3000;
// Re-origination: fresh dial tone this long after the disconnect signal's
// open loop ends, so the phone has its loop current back first (DAHDI keeps
// a line idle for 300 ms after its open switching interval too).
constexpr int kReoriginateAfterMs = 300;

std::string_view to_string(LineState state) {
  switch (state) {
    case LineState::idle: return "idle";
    case LineState::dialtone: return "dialtone";
    case LineState::dialing: return "dialing";
    case LineState::calling: return "calling";
    case LineState::ringing: return "ringing";
    case LineState::connected: return "connected";
    case LineState::disconnected: return "disconnected";
  }
  return "?";
}

FxsLine::FxsLine(FxsLineConfig config, base::Timers& timers, Io& io, Owner& owner)
    : config_(std::move(config)), timers_(timers), io_(io), owner_(owner) {}

FxsLine::~FxsLine() { cancel_timers(); }

void FxsLine::cancel_timers() {
  for (base::TimerId* t : {&digit_timer_, &no_answer_timer_, &ring_timer_, &cid_timer_, &car_timer_, &disconnect_timer_}) {
    if (*t) timers_.cancel(*t);
    *t = 0;
  }
}

void FxsLine::enter(LineState next) {
  if (next == state_) return;
  log::debug(Sub::call, "event=line_state from={} to={}", to_string(state_), to_string(next));
  state_ = next;
}

void FxsLine::start_dialtone() {
  cancel_timers();
  set_reversed(false);
  digits_.clear();
  enter(LineState::dialtone);
  io_.play_tone(config_.index, dsp::ToneKind::dial);
  digit_timer_ = timers_.start(config_.first_digit_timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    digit_timer_ = 0;
    fail_dialing();
  });
}

void FxsLine::set_reversed(bool reversed) {
  if (reversed == reversed_) return;
  reversed_ = reversed;
  io_.set_polarity(config_.index, reversed);
}

void FxsLine::on_off_hook() {
  if (off_hook_) return;
  off_hook_ = true;
  switch (state_) {
    case LineState::idle:
      start_dialtone();
      break;
    case LineState::ringing:
      if (cid_ == CidPhase::car) {
        // NTT: the phone's primary response to CAR; the data follows with
        // the phone off hook, then it hangs up and the real ringing starts.
        if (ring_timer_) timers_.cancel(ring_timer_);
        if (car_timer_) timers_.cancel(car_timer_);
        ring_timer_ = car_timer_ = 0;
        io_.set_ring(config_.index, false);
        cid_ = CidPhase::primary_response;
        cid_after(cid_timing_.data_delay_ms, &FxsLine::primary_response_data);
        return;
      }
      stop_ringing();
      if (no_answer_timer_) timers_.cancel(no_answer_timer_);
      no_answer_timer_ = 0;
      enter(LineState::connected);
      owner_.answer_call(config_.index);
      break;
    default:
      break;
  }
}

void FxsLine::on_on_hook() {
  if (!off_hook_) return;
  off_hook_ = false;
  if (state_ == LineState::ringing && cid_ == CidPhase::primary_response) {
    // The NTT phone has taken the data (or given up): ring it for real.
    io_.play_signal(config_.index, {});
    cid_ = CidPhase::release;
    cid_after(cid_timing_.ring_delay_ms, &FxsLine::cid_done);
    return;
  }
  const LineState was = state_;
  cancel_timers();
  io_.play_tone(config_.index, dsp::ToneKind::none);
  set_reversed(false);
  digits_.clear();
  enter(LineState::idle);
  if (was == LineState::calling || was == LineState::connected) owner_.end_call(config_.index, false);
}

void FxsLine::on_digit(char digit) {
  if (state_ == LineState::dialtone) {
    io_.play_tone(config_.index, dsp::ToneKind::none);
    enter(LineState::dialing);
  }
  if (state_ == LineState::dialing) collect(digit);
  // Digits during a connected call travel as RFC 4733 events (the media engine
  // sends them); the line has nothing to do with them.
}

void FxsLine::on_flash() {
  ++flashes_;
  switch (state_) {
    case LineState::dialtone:
    case LineState::dialing:
    case LineState::disconnected:
      // Recall: start again with fresh dial tone.
      log::info(Sub::call, "event=flash action=dialtone");
      start_dialtone();
      break;
    case LineState::calling:
    case LineState::connected:
      log::info(Sub::call, "event=flash action=none");
      break;
    default:
      break;  // on hook or ringing: a bounce of the switch, nothing to do
  }
}

void FxsLine::collect(char digit) {
  if (digit_timer_) timers_.cancel(digit_timer_);
  digit_timer_ = 0;
  if (digit == '#' && !digits_.empty()) {
    try_dial(true);
    return;
  }
  digits_.push_back(digit);
  try_dial(false);
}

void FxsLine::try_dial(bool terminated) {
  // Digit collection only asks which rules could match; the toll-class check
  // (the port's permissions) happens when the switchboard routes the call.
  const route::Caller caller{.line = true, .port = config_.name, .address = {}, .user = {}, .permissions = {}};
  const route::DialMatch m = plan_ ? plan_->match(digits_, caller) : route::DialMatch{};
  const bool dial_now = m.kind == route::MatchKind::complete || (terminated && m.kind == route::MatchKind::ambiguous);
  if (dial_now) {
    enter(LineState::calling);
    log::info(Sub::call, "event=dial digits={} target={}", digits_, m.target);
    owner_.place_call(config_.index, m.target, digits_);
    return;
  }
  if (m.kind == route::MatchKind::none || terminated) {
    log::info(Sub::call, "event=no_route digits={}", digits_);
    fail_dialing();
    return;
  }
  // partial or ambiguous: wait for more digits, or dial an ambiguous match on timeout.
  digit_timer_ = timers_.start(config_.interdigit_timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    digit_timer_ = 0;
    try_dial(true);
  });
}

void FxsLine::fail_dialing() { disconnect_with(dsp::ToneKind::congestion); }

void FxsLine::disconnect_with(dsp::ToneKind tone) {
  cancel_timers();
  enter(LineState::disconnected);
  io_.play_tone(config_.index, tone);
  disconnect_timer_ = timers_.start(config_.howler_after, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    disconnect_timer_ = 0;
    howl();
  });
}

// The phone was left off hook: the howler (where the profile has one), then
// silence until it is hung up.
void FxsLine::howl() {
  if (!config_.profile->howler.empty()) {
    log::info(Sub::call, "event=howler");
    io_.play_tone(config_.index, dsp::ToneKind::howler);
  }
  disconnect_timer_ = timers_.start(config_.howler_duration, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    disconnect_timer_ = 0;
    log::info(Sub::call, "event=line_parked");
    io_.play_tone(config_.index, dsp::ToneKind::none);
  });
}

bool FxsLine::offer_incoming_call(const dsp::CallerId& caller, const std::string& /*dial*/) {
  if (!can_ring()) return false;
  enter(LineState::ringing);
  no_answer_timer_ = timers_.start(config_.no_answer_timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    no_answer_timer_ = 0;
    stop_ringing();
    enter(LineState::idle);
    owner_.end_call(config_.index, true);
  });
  start_caller_id(caller);
  return true;
}

dsp::CallerIdTiming FxsLine::caller_id_timing() const {
  dsp::CallerIdTiming t = config_.profile->caller_id;
  if (config_.caller_id_format) t.format = *config_.caller_id_format;
  return t;
}

// ---- caller ID sequence ----

void FxsLine::start_caller_id(const dsp::CallerId& caller) {
  cid_timing_ = caller_id_timing();
  cid_ = CidPhase::none;
  cid_data_ = dsp::render_caller_id(cid_timing_.format, caller, cid_timing_.level_dbm0);
  if (cid_data_.empty()) {
    start_ring_cadence();
    return;
  }
  cid_data_ms_ = static_cast<int>(cid_data_.size() * 1000 / base::kSampleRate);
  log::debug(Sub::call, "event=caller_id format={} alert={} data_ms={}", dsp::to_string(cid_timing_.format),
             dsp::to_string(cid_timing_.alert), cid_data_ms_);
  switch (cid_timing_.alert) {
    case dsp::CallerIdAlert::first_ring:
      cid_ = CidPhase::first_ring;  // ring_step() sends the data after the first ring
      start_ring_cadence();
      break;
    case dsp::CallerIdAlert::line_reversal:
    case dsp::CallerIdAlert::dt_as:
      cid_ = CidPhase::alert;
      cid_reversed_ = true;
      io_.set_polarity(config_.index, true);
      cid_after(cid_timing_.reversal_ms, cid_timing_.alert == dsp::CallerIdAlert::dt_as ? &FxsLine::cid_alert_tone
                                                                                          : &FxsLine::cid_send_data);
      break;
    case dsp::CallerIdAlert::rp_as:
      cid_ = CidPhase::alert;
      io_.set_ring(config_.index, true);
      cid_after(cid_timing_.alert_ms, &FxsLine::cid_rp_as_end);
      break;
    case dsp::CallerIdAlert::ntt_car:
      cid_ = CidPhase::car;
      car_step_ = 0;
      car_step();
      car_timer_ = timers_.start(Millis(cid_timing_.car_timeout_ms), [this] { car_timeout(); });
      break;
  }
}

void FxsLine::cid_after(int ms, void (FxsLine::*next)()) {
  if (cid_timer_) timers_.cancel(cid_timer_);
  cid_timer_ = timers_.start(Millis(std::max(ms, 0)), [this, next] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    cid_timer_ = 0;
    (this->*next)();
  });
}

void FxsLine::cid_alert_tone() {
  io_.play_signal(config_.index, dsp::render_alert_tone(cid_timing_.alert_ms));
  cid_after(cid_timing_.alert_ms + cid_timing_.data_delay_ms, &FxsLine::cid_send_data);
}

void FxsLine::cid_rp_as_end() {
  io_.set_ring(config_.index, false);
  cid_after(cid_timing_.data_delay_ms, &FxsLine::cid_send_data);
}

void FxsLine::cid_send_data() {
  int ring_delay = cid_timing_.ring_delay_ms;
  if (cid_ == CidPhase::first_ring) {
    // Between the first and second rings: the cadence's silence, stretched
    // when the data would not fit in it.
    const auto& cadence = config_.profile->ring_cadence_ms;
    const int silence = cadence.size() > 1 ? cadence[1] : 0;
    ring_delay = std::max(ring_delay, silence - cid_timing_.data_delay_ms - cid_data_ms_);
  }
  cid_ = CidPhase::data;
  io_.play_signal(config_.index, std::move(cid_data_));
  cid_data_ = {};
  cid_after(cid_data_ms_ + ring_delay, &FxsLine::cid_done);
}

// The data is out (or the NTT phone hung up after it): ring normally.
void FxsLine::cid_done() {
  const bool after_first_ring = cid_timing_.alert == dsp::CallerIdAlert::first_ring;
  cid_ = CidPhase::none;
  if (cid_reversed_) io_.set_polarity(config_.index, false);
  cid_reversed_ = false;
  start_ring_cadence(after_first_ring ? 2 : 0);
}

void FxsLine::car_step() {
  const auto& cadence = cid_timing_.car_cadence_ms;
  const std::size_t i = car_step_ % cadence.size();
  io_.set_ring(config_.index, i % 2 == 0);
  ++car_step_;
  ring_timer_ = timers_.start(Millis(cadence[i]), [this] {
    ring_timer_ = 0;
    car_step();
  });
}

// No primary response: the phone does not take NTT caller ID. Ring it
// without.
void FxsLine::car_timeout() {
  car_timer_ = 0;
  if (ring_timer_) timers_.cancel(ring_timer_);
  ring_timer_ = 0;
  log::info(Sub::call, "event=caller_id_no_primary_response");
  cid_ = CidPhase::none;
  cid_data_ = {};
  start_ring_cadence();
}

void FxsLine::primary_response_data() {
  io_.play_signal(config_.index, std::move(cid_data_));
  cid_data_ = {};
  // The phone hangs up after the data; if it stays off hook, someone picked
  // it up: that is the answer.
  cid_after(cid_data_ms_ + kPrimaryResponseGraceMs, &FxsLine::primary_response_timeout);
}

void FxsLine::primary_response_timeout() {
  cid_ = CidPhase::none;
  if (no_answer_timer_) timers_.cancel(no_answer_timer_);
  no_answer_timer_ = 0;
  enter(LineState::connected);
  owner_.answer_call(config_.index);
}

void FxsLine::abort_caller_id() {
  for (base::TimerId* t : {&cid_timer_, &car_timer_}) {
    if (*t) timers_.cancel(*t);
    *t = 0;
  }
  if (cid_ == CidPhase::alert || cid_ == CidPhase::data || cid_ == CidPhase::primary_response) {
    io_.play_signal(config_.index, {});
  }
  if (cid_reversed_) io_.set_polarity(config_.index, false);
  cid_reversed_ = false;
  cid_ = CidPhase::none;
  cid_data_ = {};
}

void FxsLine::start_ring_cadence(std::size_t from_step) {
  ring_step_ = from_step;
  ring_step();
}

void FxsLine::ring_step() {
  const auto& cadence = config_.profile->ring_cadence_ms;
  if (cadence.empty()) {
    io_.set_ring(config_.index, true);
    return;
  }
  if (cid_ == CidPhase::first_ring && ring_step_ == 1) {
    io_.set_ring(config_.index, false);
    cid_after(cid_timing_.data_delay_ms, &FxsLine::cid_send_data);
    return;
  }
  const std::size_t i = ring_step_ % cadence.size();
  io_.set_ring(config_.index, i % 2 == 0);  // even steps ring, odd steps are silent
  ++ring_step_;
  ring_timer_ = timers_.start(Millis(cadence[i]), [this] {
    ring_timer_ = 0;
    ring_step();
  });
}

void FxsLine::stop_ringing() {
  abort_caller_id();
  if (ring_timer_) timers_.cancel(ring_timer_);
  ring_timer_ = 0;
  io_.set_ring(config_.index, false);
}

void FxsLine::on_remote_ringing(bool early_media) {
  if (state_ != LineState::calling) return;
  io_.play_tone(config_.index, early_media ? dsp::ToneKind::none : dsp::ToneKind::ringback);
}

void FxsLine::on_remote_answered() {
  if (state_ != LineState::calling) return;
  io_.play_tone(config_.index, dsp::ToneKind::none);
  enter(LineState::connected);
  if (config_.polarity_on_answer) set_reversed(true);
}

void FxsLine::on_remote_ended(EndCause cause) {
  switch (state_) {
    case LineState::ringing:
      // The caller gave up (CANCEL) or the call was withdrawn: stop ringing.
      stop_ringing();
      cancel_timers();
      enter(LineState::idle);
      break;
    case LineState::calling:
    case LineState::connected: {
      const bool was_connected = state_ == LineState::connected;
      const dsp::DisconnectSignalling& signal = config_.profile->disconnect;
      // The disconnect signal of a call that was answered: the line back to
      // normal polarity (or reversed, where the profile says so), and the
      // loop opened for answering machines (calling party control).
      if (reversed_) {
        set_reversed(false);
      } else if (was_connected && signal.polarity_reversal) {
        set_reversed(true);
      }
      if (was_connected && signal.loop_drop_ms > 0) io_.disconnect_battery(config_.index, signal.loop_drop_ms);
      if (was_connected && config_.reoriginate) {
        // Fresh dial tone once the disconnect signal is over.
        disconnect_with(dsp::ToneKind::none);
        if (disconnect_timer_) timers_.cancel(disconnect_timer_);
        disconnect_timer_ = timers_.start(Millis(signal.loop_drop_ms + kReoriginateAfterMs), [this] {
          base::LogContext ctx({.call_id = {}, .line = config_.name});
          disconnect_timer_ = 0;
          log::info(Sub::call, "event=reoriginate");
          start_dialtone();
        });
        break;
      }
      // A busy callee gives busy tone; a call that could not be completed gives
      // reorder; a far end that hung up a connected call gives busy tone, as an
      // exchange does (where the profile says so), until the phone hangs up.
      dsp::ToneKind tone = dsp::ToneKind::congestion;
      if (cause == EndCause::busy) tone = dsp::ToneKind::busy;
      if (cause == EndCause::normal) tone = signal.busy_tone ? dsp::ToneKind::busy : dsp::ToneKind::none;
      disconnect_with(tone);
      break;
    }
    default:
      break;
  }
}

}  // namespace sipline::gateway::call
