#include "call/fxo_line.hpp"

#include <algorithm>
#include <chrono>

#include "sipline/base/log.hpp"

namespace sipline::gateway::call {

using base::Millis;
using base::Sub;
namespace log = base::log;

namespace {

// NTT's CAR: rings and pauses of 0.5 s (a UK double ring's 0.2 s pause and
// an ETSI ring pulse's 0.25 s burst do not pass).
constexpr int kCarMinMs = 350;
constexpr int kCarMaxMs = 700;
// The NTT data follows the primary response within this time, or never.
constexpr Millis kPrimaryResponseTimeout{4000};

bool car_like(int ms) { return ms >= kCarMinMs && ms <= kCarMaxMs; }

// The media worker reports a line quiet after this long (MediaEventType::line_quiet).
constexpr Millis kQuietReportedAfter{1000};
// DISA: wrong PINs before the line is released; the pause after one.
constexpr int kDisaPinAttempts = 3;
constexpr Millis kDisaRetryPause{1500};
// Guessing across calls: after this many calls in a row that ended on wrong
// PINs, the PIN is not asked for (callers are forwarded, or ring out) for
// kDisaLockout. The allow-list still works.
constexpr int kDisaLockoutCalls = 3;
constexpr Millis kDisaLockout{15 * 60 * 1000};
constexpr std::size_t kDisaMaxDigits = 32;

// A digit string compared in time independent of where it differs.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::string_view without_plus(std::string_view number) {
  return number.rfind('+', 0) == 0 ? number.substr(1) : number;
}

// Longer than any silence of the profile's cadence (and its caller ID
// sequence): no ring for this long means the caller hung up.
Millis default_ring_timeout(const dsp::ToneProfile* profile) {
  int longest = 4000;
  if (profile) {
    for (std::size_t i = 1; i < profile->ring_cadence_ms.size(); i += 2)
      longest = std::max(longest, profile->ring_cadence_ms[i]);
  }
  return Millis(longest + 2500);
}

}  // namespace

std::string_view to_string(FxoState state) {
  switch (state) {
    case FxoState::idle: return "idle";
    case FxoState::incoming: return "incoming";
    case FxoState::primary_response: return "primary_response";
    case FxoState::forwarding: return "forwarding";
    case FxoState::refused: return "refused";
    case FxoState::seizing: return "seizing";
    case FxoState::dialing: return "dialing";
    case FxoState::proceeding: return "proceeding";
    case FxoState::connected: return "connected";
    case FxoState::disa_pin: return "disa_pin";
    case FxoState::disa_dialing: return "disa_dialing";
    case FxoState::disa_calling: return "disa_calling";
  }
  return "?";
}

FxoLine::FxoLine(FxoLineConfig config, const base::Clock& clock, base::Timers& timers, Io& io, Owner& owner)
    : config_(std::move(config)), clock_(clock), timers_(timers), io_(io), owner_(owner) {
  if (config_.ring_timeout.count() <= 0) config_.ring_timeout = default_ring_timeout(config_.profile);
}

FxoLine::~FxoLine() { cancel_timers(); }

void FxoLine::cancel_timers() {
  for (base::TimerId* t : {&ring_timer_, &primary_timer_, &out_timer_, &disa_timer_, &silence_timer_}) {
    if (*t) timers_.cancel(*t);
    *t = 0;
  }
}

void FxoLine::enter(FxoState next) {
  if (next == state_) return;
  log::debug(Sub::call, "event=fxo_state from={} to={}", to_string(state_), to_string(next));
  state_ = next;
}

void FxoLine::begin_incoming() {
  rings_ = 0;
  has_caller_id_ = false;
  caller_ = {};
  car_answered_ = false;
  last_on_ms_ = last_off_ms_ = 0;
  enter(FxoState::incoming);
  log::info(Sub::call, "event=fxo_incoming");
}

void FxoLine::restart_ring_timer() {
  if (ring_timer_) timers_.cancel(ring_timer_);
  ring_timer_ = timers_.start(config_.ring_timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    ring_timer_ = 0;
    ring_timed_out();
  });
}

void FxoLine::on_ring_start() {
  const auto now = clock_.now();
  if (state_ == FxoState::idle) begin_incoming();
  if (state_ == FxoState::connected || in_disa()) return;  // a ring while connected: not ours to judge
  if (!ringing_ && rings_ > 0) {
    last_off_ms_ = static_cast<int>(std::chrono::duration_cast<Millis>(now - edge_at_).count());
  }
  ringing_ = true;
  edge_at_ = now;
  restart_ring_timer();
  if (state_ == FxoState::incoming && config_.ntt_primary_response && !car_answered_ && rings_ >= 1 &&
      car_like(last_on_ms_) && car_like(last_off_ms_)) {
    // NTT: CAR asks for the primary response; the data comes with the line off hook.
    car_answered_ = true;
    log::info(Sub::call, "event=fxo_primary_response");
    enter(FxoState::primary_response);
    off_hook_ = true;
    io_.set_hook(config_.index, true);
    primary_timer_ = timers_.start(kPrimaryResponseTimeout, [this] {
      primary_timer_ = 0;
      end_primary_response();
    });
    return;
  }
  ++rings_;
  if (state_ == FxoState::incoming && rings_ >= config_.rings_before_forward) forward();
}

void FxoLine::on_ring_stop() {
  if (!ringing_) return;
  ringing_ = false;
  const auto now = clock_.now();
  last_on_ms_ = static_cast<int>(std::chrono::duration_cast<Millis>(now - edge_at_).count());
  edge_at_ = now;
  if (state_ != FxoState::idle && state_ != FxoState::connected && !in_disa()) restart_ring_timer();
}

void FxoLine::end_primary_response() {
  if (state_ != FxoState::primary_response) return;
  off_hook_ = false;
  io_.set_hook(config_.index, false);
  enter(FxoState::incoming);
  if (has_caller_id_) forward();
}

void FxoLine::on_caller_id(const dsp::CallerIdMessage& message) {
  if (state_ == FxoState::connected || state_ == FxoState::forwarding || state_ == FxoState::refused || in_disa()) {
    return;
  }
  if (state_ == FxoState::idle) {
    begin_incoming();
    restart_ring_timer();
  }
  caller_ = message.id;
  has_caller_id_ = true;
  log::info(Sub::call, "event=fxo_caller_id format={} number={} name=\"{}\"", dsp::to_string(message.format),
            caller_.number.empty() ? "-" : caller_.number, caller_.name);
  if (state_ == FxoState::primary_response) {
    if (primary_timer_) timers_.cancel(primary_timer_);
    primary_timer_ = 0;
    end_primary_response();  // forwards
    return;
  }
  forward();
}

void FxoLine::forward() {
  if (state_ != FxoState::incoming) return;
  if (disa_enabled() && start_disa()) return;
  enter(FxoState::forwarding);
  log::info(Sub::call, "event=fxo_forward rings={} caller_id={}", rings_, has_caller_id_);
  owner_.forward_call(config_.index, caller_);
}

void FxoLine::ring_timed_out() {
  // The ringing stopped for good: the caller gave up (or was never ours).
  const FxoState was = state_;
  if (was == FxoState::connected || in_disa()) return;
  if (primary_timer_) timers_.cancel(primary_timer_);
  primary_timer_ = 0;
  if (off_hook_) hang_up_line();
  enter(FxoState::idle);
  log::info(Sub::call, "event=fxo_caller_gave_up rings={}", rings_);
  if (was == FxoState::forwarding) owner_.end_call(config_.index, true);
}

void FxoLine::on_remote_ringing(bool early_media) {
  // DISA: the PSTN caller hears the far end's early media, or our ringback.
  if (state_ == FxoState::disa_calling && !early_media) io_.play_tone(config_.index, dsp::ToneKind::ringback);
}

void FxoLine::on_remote_answered() {
  if (state_ == FxoState::disa_calling) {
    io_.play_tone(config_.index, dsp::ToneKind::none);
    enter(FxoState::connected);
    log::info(Sub::call, "event=disa_answered");
    arm_silence();
    return;
  }
  if (state_ != FxoState::forwarding) return;
  if (ring_timer_) timers_.cancel(ring_timer_);
  ring_timer_ = 0;
  off_hook_ = true;
  io_.set_hook(config_.index, true);
  enter(FxoState::connected);
  log::info(Sub::call, "event=fxo_answered");
  arm_silence();
}

void FxoLine::on_remote_ended(EndCause cause) {
  switch (state_) {
    case FxoState::forwarding:
      // Nobody took it: let the PSTN caller hear ringing until they give up,
      // rather than answering only to hang up (which the caller would pay for).
      enter(FxoState::refused);
      log::info(Sub::call, "event=fxo_forward_failed cause={}", static_cast<int>(cause));
      break;
    case FxoState::seizing:
    case FxoState::dialing:
    case FxoState::proceeding:
    case FxoState::connected:
    case FxoState::disa_pin:
    case FxoState::disa_dialing:
    case FxoState::disa_calling:
      // The SIP side hung up (or cancelled, or could not be reached): release the line.
      if (in_disa()) io_.play_tone(config_.index, dsp::ToneKind::none);
      hang_up_line();
      cancel_timers();
      outgoing_ = false;
      enter(FxoState::idle);
      break;
    default:
      break;
  }
}

void FxoLine::hang_up_line() {
  off_hook_ = false;
  io_.set_hook(config_.index, false);
}

// Disconnect supervision: the exchange drops loop current (CPC) when the far
// party hangs up; some reverse the polarity instead (per the profile).
void FxoLine::on_loop_drop() {
  if (state_ == FxoState::connected || in_disa()) {
    disconnect("loop_drop");
  } else if (outgoing_ && state_ != FxoState::idle) {
    fail(503, "loop current dropped");
  }
}

void FxoLine::on_polarity_reversal() {
  if (state_ == FxoState::idle) return;  // a reversal ahead of caller ID (ETSI, BT): the data follows
  if (outgoing_ && (state_ == FxoState::dialing || state_ == FxoState::proceeding)) {
    // Answer supervision: the exchange reverses the line when the called party answers.
    log::info(Sub::call, "event=fxo_answer signal=polarity_reversal");
    answered();
    return;
  }
  if (state_ != FxoState::connected && !in_disa()) return;
  // An outgoing call answered by a reversal is cleared by the reversal back;
  // on an incoming call a reversal means disconnect where the profile says so.
  const bool clears = outgoing_ ? config_.answer_on == AnswerOn::polarity
                                : config_.profile && config_.profile->disconnect.polarity_reversal;
  if (clears) disconnect("polarity_reversal");
}

void FxoLine::disconnect(std::string_view signal) {
  log::info(Sub::call, "event=fxo_disconnect signal={}", signal);
  if (in_disa()) io_.play_tone(config_.index, dsp::ToneKind::none);
  hang_up_line();
  cancel_timers();
  outgoing_ = false;
  enter(FxoState::idle);
  owner_.end_call(config_.index, false);
}

// ---- outgoing calls ----

bool FxoLine::offer_incoming_call(const dsp::CallerId& /*caller*/, const std::string& dial) {
  if (!can_ring()) return false;
  const char* dialable = config_.pulse_dialing ? "0123456789" : "0123456789*#ABCD";
  if (dial.empty() || dial.find_first_not_of(dialable) != std::string::npos) {
    log::warn(Sub::call, "event=fxo_bad_number dial={} pulse={}", dial, config_.pulse_dialing);
    return false;
  }
  outgoing_ = true;
  dial_ = dial;
  enter(FxoState::seizing);
  off_hook_ = true;
  io_.set_hook(config_.index, true);
  log::info(Sub::call, "event=fxo_seized dial={}", dial_);
  owner_.early_media(config_.index);
  out_timer_ = timers_.start(config_.dial_tone_timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    out_timer_ = 0;
    fail(503, "no dial tone");
  });
  return true;
}

void FxoLine::start_dialing() {
  if (out_timer_) timers_.cancel(out_timer_);
  enter(FxoState::dialing);
  Millis duration{0};
  if (config_.pulse_dialing) {
    // Dialing ends with on_dial_complete(); this only guards against a driver
    // that never says so: 100 ms per pulse, 700 ms between digits, and slack.
    io_.pulse_dial(config_.index, dial_);
    long pulses = 0;
    for (char d : dial_) pulses += d == '0' ? 10 : d - '0';
    duration = Millis(pulses * 100 + static_cast<long>(dial_.size()) * 700 + 3000);
  } else {
    io_.dial(config_.index, dial_);
    // 100 ms tone + 100 ms pause per digit, and a little slack.
    duration = Millis(static_cast<long>(dial_.size()) * 200 + 100);
  }
  out_timer_ = timers_.start(duration, [this] {
    out_timer_ = 0;
    dialed();
  });
}

void FxoLine::dialed() {
  if (state_ != FxoState::dialing) return;
  enter(FxoState::proceeding);
  log::info(Sub::call, "event=fxo_dialed digits={}", dial_);
  if (config_.answer_on == AnswerOn::dialed) answered();
}

void FxoLine::on_dial_complete() {
  if (state_ != FxoState::dialing) return;
  if (out_timer_) timers_.cancel(out_timer_);
  out_timer_ = 0;
  dialed();
}

void FxoLine::answered() {
  if (out_timer_) timers_.cancel(out_timer_);
  out_timer_ = 0;
  enter(FxoState::connected);
  owner_.answer_call(config_.index);
  arm_silence();
}

// ---- silence supervision ----

void FxoLine::on_quiet() {
  quiet_ = true;
  arm_silence();
}

void FxoLine::on_sound() {
  quiet_ = false;
  if (silence_timer_) timers_.cancel(silence_timer_);
  silence_timer_ = 0;
}

void FxoLine::arm_silence() {
  if (!quiet_ || state_ != FxoState::connected || config_.silence_timeout.count() <= 0 || silence_timer_) return;
  const Millis left = std::max(Millis(0), config_.silence_timeout - kQuietReportedAfter);
  silence_timer_ = timers_.start(left, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    silence_timer_ = 0;
    disconnect("silence");
  });
}

// ---- DISA ----

bool FxoLine::in_disa() const {
  return state_ == FxoState::disa_pin || state_ == FxoState::disa_dialing || state_ == FxoState::disa_calling;
}

bool FxoLine::start_disa() {
  const std::string_view number = without_plus(caller_.number);
  const bool listed =
      has_caller_id_ && !number.empty() &&
      std::any_of(config_.disa_allow.begin(), config_.disa_allow.end(),
                  [&](const std::string& allowed) { return without_plus(allowed) == number; });
  if (listed) {
    log::info(Sub::call, "event=disa_start caller={} by=allow_list", caller_.number);
    disa_answer(FxoState::disa_dialing);
    return true;
  }
  if (!config_.disa_pin.empty() && clock_.now() < disa_locked_until_) {
    log::warn(Sub::call, "event=disa_locked caller={} why=\"wrong PINs on {} calls in a row\"",
              caller_.number.empty() ? "-" : caller_.number, kDisaLockoutCalls);
  } else if (!config_.disa_pin.empty()) {
    log::info(Sub::call, "event=disa_start caller={} by=pin", caller_.number.empty() ? "-" : caller_.number);
    disa_answer(FxoState::disa_pin);
    return true;
  }
  return false;  // neither listed nor asked for a PIN: forwarded like any caller
}

void FxoLine::disa_answer(FxoState next) {
  if (ring_timer_) timers_.cancel(ring_timer_);
  ring_timer_ = 0;
  off_hook_ = true;
  io_.set_hook(config_.index, true);
  disa_failures_ = 0;
  enter(next);
  disa_prompt();
}

// Stutter tone asks for the PIN; dial tone for the number.
void FxoLine::disa_prompt() {
  disa_digits_.clear();
  io_.play_tone(config_.index, state_ == FxoState::disa_pin ? dsp::ToneKind::stutter_dial : dsp::ToneKind::dial);
  disa_restart_digit_timer(config_.disa_digit_timeout);
}

void FxoLine::disa_restart_digit_timer(Millis timeout) {
  if (disa_timer_) timers_.cancel(disa_timer_);
  disa_timer_ = timers_.start(timeout, [this] {
    base::LogContext ctx({.call_id = {}, .line = config_.name});
    disa_timer_ = 0;
    if (state_ == FxoState::disa_dialing && !disa_digits_.empty()) {
      disa_try_dial(true);
    } else {
      disa_give_up("no digits");
    }
  });
}

void FxoLine::on_digit(char digit) {
  if (state_ == FxoState::disa_pin || state_ == FxoState::disa_dialing) disa_collect(digit);
}

void FxoLine::disa_collect(char digit) {
  if (disa_timer_ == 0) return;  // between a wrong PIN and the next prompt
  io_.play_tone(config_.index, dsp::ToneKind::none);
  if (state_ == FxoState::disa_pin) {
    if (digit != '#' && disa_digits_.size() < kDisaMaxDigits) disa_digits_.push_back(digit);
    if (digit != '#' && disa_digits_.size() < config_.disa_pin.size()) {
      disa_restart_digit_timer(config_.interdigit_timeout);
      return;
    }
    if (same_secret(disa_digits_, config_.disa_pin)) {
      log::info(Sub::call, "event=disa_pin_accepted");
      disa_failed_calls_ = 0;
      enter(FxoState::disa_dialing);
      disa_prompt();
      return;
    }
    ++disa_failures_;
    log::warn(Sub::call, "event=disa_pin_rejected attempt={} caller={}", disa_failures_,
              caller_.number.empty() ? "-" : caller_.number);
    if (disa_failures_ >= kDisaPinAttempts) {
      if (++disa_failed_calls_ >= kDisaLockoutCalls) {
        disa_locked_until_ = clock_.now() + kDisaLockout;
        disa_failed_calls_ = 0;
        log::warn(Sub::call, "event=disa_locked minutes={}",
                  std::chrono::duration_cast<std::chrono::minutes>(kDisaLockout).count());
      }
      disa_give_up("wrong PIN");
      return;
    }
    // Reorder for a moment, then the prompt again.
    if (disa_timer_) timers_.cancel(disa_timer_);
    disa_timer_ = 0;
    io_.play_tone(config_.index, dsp::ToneKind::congestion);
    out_timer_ = timers_.start(kDisaRetryPause, [this] {
      out_timer_ = 0;
      if (state_ == FxoState::disa_pin) disa_prompt();
    });
    return;
  }
  if (digit == '#') {
    // Ends the number; before any digit it is the PIN's optional terminator.
    if (!disa_digits_.empty()) disa_try_dial(true);
    return;
  }
  if (disa_digits_.size() < kDisaMaxDigits) disa_digits_.push_back(digit);
  disa_try_dial(false);
}

void FxoLine::disa_try_dial(bool terminated) {
  // As for a phone: the plan says which rules could match; the toll-class
  // check (the port's permissions) happens when the switchboard routes it.
  const route::Caller caller{.line = true, .port = config_.name, .address = {}, .user = {}, .permissions = {}};
  const route::DialMatch m = plan_ ? plan_->match(disa_digits_, caller) : route::DialMatch{};
  const bool dial_now = m.kind == route::MatchKind::complete || (terminated && m.kind == route::MatchKind::ambiguous);
  if (dial_now) {
    if (disa_timer_) timers_.cancel(disa_timer_);
    disa_timer_ = 0;
    enter(FxoState::disa_calling);
    log::info(Sub::call, "event=disa_dial digits={} target={}", disa_digits_, m.target);
    owner_.place_call(config_.index, m.target, disa_digits_);
    return;
  }
  if (m.kind == route::MatchKind::none || terminated) {
    log::info(Sub::call, "event=disa_no_route digits={}", disa_digits_);
    disa_give_up("no route");
    return;
  }
  disa_restart_digit_timer(config_.interdigit_timeout);
}

void FxoLine::disa_give_up(std::string_view why) {
  log::info(Sub::call, "event=disa_release why=\"{}\"", why);
  io_.play_tone(config_.index, dsp::ToneKind::none);
  hang_up_line();
  cancel_timers();
  enter(FxoState::idle);
}

void FxoLine::fail(int status, std::string_view why) {
  log::info(Sub::call, "event=fxo_call_failed status={} why=\"{}\"", status, why);
  hang_up_line();
  cancel_timers();
  outgoing_ = false;
  enter(FxoState::idle);
  owner_.fail_call(config_.index, status);
}

void FxoLine::on_progress(dsp::ProgressTone tone) {
  log::debug(Sub::call, "event=fxo_progress tone={} state={}", dsp::to_string(tone), to_string(state_));
  if (state_ == FxoState::connected || in_disa()) {
    // The far party hung up and the exchange plays busy or congestion.
    if (tone == dsp::ProgressTone::busy || tone == dsp::ProgressTone::congestion) disconnect("tone");
    return;
  }
  if (!outgoing_) return;
  switch (state_) {
    case FxoState::seizing:
      if (tone == dsp::ProgressTone::dial) start_dialing();
      else if (tone == dsp::ProgressTone::busy || tone == dsp::ProgressTone::congestion) fail(503, "line busy");
      break;
    case FxoState::dialing:
    case FxoState::proceeding:
      if (tone == dsp::ProgressTone::busy) fail(486, "busy");
      else if (tone == dsp::ProgressTone::congestion) fail(503, "congestion");
      else if (tone == dsp::ProgressTone::special_information) fail(404, "special information tone");
      else if (tone == dsp::ProgressTone::ringback) log::info(Sub::call, "event=fxo_ringback");
      break;
    default:
      break;
  }
}

void FxoLine::on_voice() {
  if (outgoing_ && state_ == FxoState::proceeding && config_.answer_on == AnswerOn::voice) {
    log::info(Sub::call, "event=fxo_answer signal=voice");
    answered();
  }
}

}  // namespace sipline::gateway::call
