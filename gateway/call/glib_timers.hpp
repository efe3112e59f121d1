#pragma once
// GlibTimers: base::Timers on the control thread's GLib main context.
// Thread: control.
#include <functional>
#include <map>
#include <memory>

#include "sipline/base/clock.hpp"

namespace sipline::gateway::call {

class GlibTimers final : public base::Timers {
 public:
  GlibTimers() = default;
  ~GlibTimers() override;
  GlibTimers(const GlibTimers&) = delete;
  GlibTimers& operator=(const GlibTimers&) = delete;

  base::TimerId start(base::Millis delay, std::function<void()> fn) override;
  void cancel(base::TimerId id) override;

 private:
  struct Entry {
    GlibTimers* owner;
    base::TimerId id;
    std::function<void()> fn;
    unsigned source = 0;
  };
  static int fire(void* data) noexcept;
  base::TimerId next_id_ = 1;
  std::map<base::TimerId, std::unique_ptr<Entry>> entries_;
};

}  // namespace sipline::gateway::call
