#include "sipline/base/clock.hpp"

namespace sipline::base {

TimerId ManualClock::start(Millis delay, std::function<void()> fn) {
  const TimerId id = next_id_++;
  timers_.emplace(now_ + delay, std::make_pair(id, std::move(fn)));
  return id;
}

void ManualClock::cancel(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void ManualClock::advance(Millis by) {
  const TimePoint end = now_ + by;
  while (!timers_.empty() && timers_.begin()->first <= end) {
    auto node = timers_.extract(timers_.begin());
    now_ = node.key();
    node.mapped().second();
  }
  now_ = end;
}

}  // namespace sipline::base
