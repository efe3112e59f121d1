#include "sipline/drivers/hook_classifier.hpp"

namespace sipline::drivers {

namespace {
constexpr int kMaxPulses = 10;
char digit_for(int pulses) { return pulses == kMaxPulses ? '0' : static_cast<char>('0' + pulses); }
}  // namespace

HookEvents HookClassifier::step(bool off_hook, int ms) {
  HookEvents out;
  switch (state_) {
    case State::on_hook:
      if (!off_hook) {
        elapsed_ms_ = 0;
        break;
      }
      elapsed_ms_ += ms;
      if (elapsed_ms_ >= timing_.debounce_ms) {
        state_ = State::made;
        elapsed_ms_ = 0;
        out.add(LineEventType::off_hook);
      }
      break;
    case State::made:
    case State::counting:
      if (!off_hook) {
        // A break starts; a digit being counted waits for how it ends.
        if (state_ == State::made) pulses_ = 0;
        state_ = State::breaking;
        elapsed_ms_ = ms;
        if (elapsed_ms_ > timing_.flash_max_ms) end_break(out);
        break;
      }
      // Only a digit being counted times its make (an idle make would
      // overflow the counter after 24 days off hook).
      if (state_ != State::counting) break;
      elapsed_ms_ += ms;
      if (elapsed_ms_ >= timing_.pulse_interdigit_ms) {
        if (pulses_ <= kMaxPulses) out.add(LineEventType::pulse_digit, digit_for(pulses_));
        pulses_ = 0;
        state_ = State::made;
      }
      break;
    case State::breaking:
      if (!off_hook) {
        elapsed_ms_ += ms;
        if (elapsed_ms_ > timing_.flash_max_ms) end_break(out);
        break;
      }
      end_break(out);
      // The make began during this step: it has lasted `ms` already.
      if (state_ == State::counting) elapsed_ms_ = ms;
      break;
  }
  return out;
}

// The break has ended (the switch is made again), or has outlasted a flash.
void HookClassifier::end_break(HookEvents& out) {
  const int brk = elapsed_ms_;
  const bool counting = pulses_ > 0;
  elapsed_ms_ = 0;
  if (brk > timing_.flash_max_ms) {
    if (counting && pulses_ <= kMaxPulses) out.add(LineEventType::pulse_digit, digit_for(pulses_));
    pulses_ = 0;
    state_ = State::on_hook;
    out.add(LineEventType::on_hook);
    return;
  }
  if (brk < timing_.debounce_ms) {
    state_ = counting ? State::counting : State::made;  // a bounce: the make goes on
    return;
  }
  if (brk <= timing_.pulse_break_max_ms) {
    ++pulses_;
    state_ = State::counting;
    return;
  }
  // Not a pulse: any digit being counted ends here.
  if (counting && pulses_ <= kMaxPulses) out.add(LineEventType::pulse_digit, digit_for(pulses_));
  pulses_ = 0;
  state_ = State::made;
  if (brk >= timing_.flash_min_ms) out.add(LineEventType::flash);
}

}  // namespace sipline::drivers
