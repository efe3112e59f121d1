#pragma once
// HookClassifier: reads a hook switch (or an exchange line's loop) sampled
// every tick and tells what the user did: went off hook, hung up, flashed, or
// dialed a rotary digit, by the timing rules of dsp::HookTiming. This is the
// work a DAHDI card's kernel driver does before it reports ONHOOK, WINKFLASH
// or PULSEDIGIT; the sim driver's phones (and its exchange, reading the
// gateway's pulse dialing) do it in their own tick so that the gateway sees
// the same events from either driver.
//
//   off hook (make) --break--> breaking
//   breaking: shorter than debounce_ms   -> a bounce, ignored
//             up to pulse_break_max_ms   -> one dial pulse (counting)
//             flash_min_ms..flash_max_ms -> flash
//             longer than flash_max_ms   -> on hook (reported when it passes)
//   counting: a make of pulse_interdigit_ms -> the digit (10 pulses = '0')
//   on hook --make of debounce_ms--> off hook
// A break between pulse_break_max_ms and flash_min_ms means nothing and is
// ignored, as is a pulse train of more than ten pulses.
// Thread: whichever owns the port (realtime: no allocation).
#include <array>
#include <cstddef>

#include "sipline/drivers/line_driver.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers {

struct HookEvent {
  LineEventType type = LineEventType::off_hook;  // off_hook, on_hook, flash or pulse_digit
  char digit = 0;                                // pulse_digit: '0'..'9'
};

// What one step can report (a digit ended by a long break that is also a hang-up: two).
struct HookEvents {
  std::array<HookEvent, 2> events{};
  std::size_t count = 0;
  void add(LineEventType type, char digit = 0) {
    if (count < events.size()) events[count++] = HookEvent{type, digit};
  }
};

class HookClassifier {
 public:
  explicit HookClassifier(const dsp::HookTiming& timing = {}) : timing_(timing) {}
  // The switch was `off_hook` for the last `ms` milliseconds.
  HookEvents step(bool off_hook, int ms);
  // Whether the hook is off, as last reported.
  bool off_hook() const { return state_ != State::on_hook; }
  const dsp::HookTiming& timing() const { return timing_; }

 private:
  enum class State { on_hook, made, breaking, counting };
  void end_break(HookEvents& out);

  dsp::HookTiming timing_;
  State state_ = State::on_hook;
  int elapsed_ms_ = 0;   // time in the current raw state (make or break)
  int pulses_ = 0;       // pulses of the digit being dialed
};

}  // namespace sipline::drivers
