#include "call/fxs_line.hpp"

#include "sipline/base/log.hpp"

namespace sipline::gateway::call {

using base::Millis;
using base::Sub;
namespace log = base::log;

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
  for (base::TimerId* t : {&digit_timer_, &no_answer_timer_, &ring_timer_}) {
    if (*t) timers_.cancel(*t);
    *t = 0;
  }
}

void FxsLine::enter(LineState next) {
  if (next == state_) return;
  log::debug(Sub::call, "event=line_state from={} to={}", to_string(state_), to_string(next));
  state_ = next;
}

void FxsLine::on_off_hook() {
  if (off_hook_) return;
  off_hook_ = true;
  switch (state_) {
    case LineState::idle:
      digits_.clear();
      enter(LineState::dialtone);
      io_.play_tone(config_.index, dsp::ToneKind::dial);
      digit_timer_ = timers_.start(config_.first_digit_timeout, [this] {
        digit_timer_ = 0;
        fail_dialing();
      });
      break;
    case LineState::ringing:
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
  const LineState was = state_;
  cancel_timers();
  io_.play_tone(config_.index, dsp::ToneKind::none);
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

void FxsLine::fail_dialing() {
  cancel_timers();
  enter(LineState::disconnected);
  io_.play_tone(config_.index, dsp::ToneKind::congestion);
}

bool FxsLine::offer_incoming_call() {
  if (!can_ring()) return false;
  enter(LineState::ringing);
  start_ring_cadence();
  no_answer_timer_ = timers_.start(config_.no_answer_timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    no_answer_timer_ = 0;
    stop_ringing();
    enter(LineState::idle);
    owner_.end_call(config_.index, true);
  });
  return true;
}

void FxsLine::start_ring_cadence() {
  ring_step_ = 0;
  ring_step();
}

void FxsLine::ring_step() {
  const auto& cadence = config_.profile->ring_cadence_ms;
  if (cadence.empty()) {
    io_.set_ring(config_.index, true);
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
}

void FxsLine::on_remote_ended(EndCause cause) {
  switch (state_) {
    case LineState::ringing:
      // The caller gave up (CANCEL) or the call was withdrawn: stop ringing.
      cancel_timers();
      stop_ringing();
      enter(LineState::idle);
      break;
    case LineState::calling:
    case LineState::connected:
      cancel_timers();
      enter(LineState::disconnected);
      // A busy callee gives busy tone; a call that could not be completed gives
      // reorder; a far end that hung up a connected call gives busy tone, as an
      // exchange does, until the phone hangs up.
      io_.play_tone(config_.index, cause == EndCause::busy || cause == EndCause::normal ? dsp::ToneKind::busy
                                                                                        : dsp::ToneKind::congestion);
      break;
    default:
      break;
  }
}

}  // namespace sipline::gateway::call
