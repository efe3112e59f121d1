#pragma once
// The line-driver interface: what the gateway needs from analog line hardware
// (a DAHDI card) or from the simulation.
//
// A LinePort is one analog port. FXS ports have a phone (or fax) plugged in:
// the gateway rings it and feeds it battery; it reports hook changes. FXO
// ports connect to the exchange: the gateway takes them off hook and detects
// ringing on them.
//
// Threads: signaling operations (set_ring, set_polarity, set_hook) and
// drain_events() are called on the control thread. read()/write() are called
// every 20 ms by the one media worker that owns the port, read() first.
// Events are queued by the driver (from whatever thread detects them) and
// delivered on the control thread through drain_events(), after event_fd()
// becomes readable.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "sipline/base/audio_frame.hpp"

namespace sipline::drivers {

enum class PortKind { fxs, fxo };

enum class LineEventType {
  off_hook,           // FXS: the phone went off hook
  on_hook,            // FXS: the phone hung up
  flash,              // FXS: hook flash (a short on-hook)
  pulse_digit,        // FXS: a rotary digit was counted (digit set)
  ring_start,         // FXO: ringing voltage appeared
  ring_stop,          // FXO: ringing voltage ended
  polarity_reversal,  // FXO: the exchange reversed the line polarity
  loop_drop,          // FXO: loop current dropped (disconnect)
  alarm,              // hardware alarm
  dial_complete,      // FXO: pulse dialing (pulse_dial) has finished
};

struct LineEvent {
  std::size_t port = 0;
  LineEventType type = LineEventType::alarm;
  char digit = 0;
};

class LinePort {
 public:
  virtual ~LinePort() = default;
  virtual std::size_t index() const = 0;
  virtual const std::string& name() const = 0;
  virtual PortKind kind() const = 0;

  // FXS: ringing voltage on or off (the caller drives the cadence).
  virtual void set_ring(bool on) = 0;
  // FXS: line polarity (false = normal, true = reversed).
  virtual void set_polarity(bool reversed) = 0;
  // FXO: take the line off hook (seize/answer) or put it back on hook.
  virtual void set_hook(bool off_hook) = 0;
  // FXS: removes battery (loop current) from the phone for `ms`, then
  // restores it: an open switching interval, the calling party control
  // disconnect signal that answering machines listen for.
  virtual void disconnect_battery(int ms) = 0;
  // FXO, off hook: dials `digits` (0-9) by loop-disconnect pulses in real
  // time, 10 pulses per second (60 ms break, 40 ms make) with a pause between
  // digits; a dial_complete event follows the last one.
  virtual void pulse_dial(std::string_view digits) = 0;

  // Realtime: the next 20 ms of audio coming from the line.
  virtual void read(base::FrameSpan from_line) = 0;
  // Realtime: the next 20 ms of audio going to the line.
  virtual void write(base::ConstFrameSpan to_line) = 0;
};

class LineDriver {
 public:
  virtual ~LineDriver() = default;
  virtual std::string_view name() const = 0;
  virtual std::size_t port_count() const = 0;
  virtual LinePort& port(std::size_t index) = 0;
  // A file descriptor that becomes readable when events are pending.
  virtual int event_fd() const = 0;
  // Control thread: delivers and clears all pending events, in order per port.
  virtual void drain_events(const std::function<void(const LineEvent&)>& handler) = 0;
};

}  // namespace sipline::drivers
