#pragma once
// TargetList: the SIP targets of one call, tried one after another (serial
// forking). An attempt that gets no 18x or final response within the
// configured time (routing.target_timeout_ms) is given up, so that a dead
// target does not hold the call for SIP's own 32 s INVITE timeout.
// Used by Switchboard::Call (a phone's call) and SipBridge (a SIP caller's).
// Thread: control.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sipline/base/clock.hpp"

namespace sipline::gateway::call {

class TargetList {
 public:
  TargetList(base::Timers& timers, base::Millis timeout) : timers_(timers), timeout_(timeout) {}
  ~TargetList() { responded(); }
  TargetList(const TargetList&) = delete;
  TargetList& operator=(const TargetList&) = delete;

  void assign(std::vector<std::string> targets) {
    responded();
    targets_ = std::move(targets);
    next_ = 0;
  }
  bool has_next() const { return next_ < targets_.size(); }
  // The next target; `on_timeout` runs if it has not responded in time.
  const std::string& next(std::function<void()> on_timeout) {
    responded();
    timer_ = timers_.start(timeout_, [this, fn = std::move(on_timeout)] {
      timer_ = 0;
      fn();
    });
    return targets_[next_++];
  }
  // 1-based number of the current attempt.
  std::size_t attempt() const { return next_; }
  // The target has responded (18x or final): no timeout any more.
  void responded() {
    if (timer_) timers_.cancel(timer_);
    timer_ = 0;
  }
  // Whether a failed attempt's status means the next target is worth a try:
  // unreachable (408, 480), a server problem (5xx) or no response. A busy
  // or declining callee (486, 6xx) or any other 4xx ends the call.
  static bool worth_next(int status) {
    return status == 408 || status == 480 || (status >= 500 && status < 600) || status < 100;
  }

 private:
  base::Timers& timers_;
  base::Millis timeout_;
  std::vector<std::string> targets_;
  std::size_t next_ = 0;
  base::TimerId timer_ = 0;
};

}  // namespace sipline::gateway::call
