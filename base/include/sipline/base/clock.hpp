#pragma once
// Clock and Timers: time is injected so that state machines can be driven by
// a fake clock in unit tests (no sleeping).
// Thread: a Timers object belongs to one thread (the control thread in the daemon).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>

namespace sipline::base {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

using TimerId = std::uint64_t;

// One-shot timers. A cancelled or fired timer id is never reused.
class Timers {
 public:
  virtual ~Timers() = default;
  virtual TimerId start(Millis delay, std::function<void()> fn) = 0;
  virtual void cancel(TimerId id) = 0;
};

// A Clock + Timers pair driven by hand: advance() fires due timers in order.
// Used by unit tests and by simulations; lives in base because several
// libraries' tests need it.
class ManualClock final : public Clock, public Timers {
 public:
  TimePoint now() const override { return now_; }
  TimerId start(Millis delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  // Moves time forward by `by`, firing every timer that falls due, in time order.
  void advance(Millis by);
  std::size_t pending() const { return timers_.size(); }

 private:
  TimePoint now_{};
  TimerId next_id_ = 1;
  std::multimap<TimePoint, std::pair<TimerId, std::function<void()>>> timers_;
};

}  // namespace sipline::base
