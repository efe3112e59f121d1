#pragma once
// CallLimits: per-caller limits on SIP calls, a toll-fraud brake: at most
// `max_concurrent` calls at once and `max_per_minute` new calls in any 60 s
// for one key (an authenticated user: "user:alice", a source address:
// "source:192.0.2.7"). admit() hands out a Ticket that holds one concurrent
// slot until it is destroyed (with the call); a ticket can carry another
// (also()), so one call holds its user's and its source's slots together.
// Keys are kept in a bounded table; idle ones go first when it fills.
// Thread: control. Time from the injected clock.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipline/base/clock.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::call {

enum class CallLimitError { concurrent, rate };

struct CallLimitPolicy {
  int max_concurrent = 4;     // 0 = no limit
  int max_per_minute = 10;    // 0 = no limit
  std::size_t max_tracked = 10000;
};

class CallLimits {
 public:
  // One admitted call's slot; releases it when destroyed. Empty when default-made.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(CallLimits* limits, std::string key) : limits_(limits), key_(std::move(key)) {}
    Ticket(Ticket&& o) noexcept : limits_(o.limits_), key_(std::move(o.key_)), also_(std::move(o.also_)) {
      o.limits_ = nullptr;
    }
    Ticket& operator=(Ticket&& o) noexcept {
      if (this != &o) {
        release();
        limits_ = o.limits_;
        key_ = std::move(o.key_);
        also_ = std::move(o.also_);
        o.limits_ = nullptr;
      }
      return *this;
    }
    // Carries `other` too (from another CallLimits, or another key): both are
    // released together.
    void also(Ticket other) { also_ = std::make_unique<Ticket>(std::move(other)); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }

   private:
    void release() {
      if (limits_) limits_->release(key_);
      limits_ = nullptr;
      also_.reset();
    }
    CallLimits* limits_ = nullptr;
    std::string key_;
    std::unique_ptr<Ticket> also_;
  };

  CallLimits(CallLimitPolicy policy, const base::Clock& clock) : policy_(policy), clock_(clock) {}

  // A slot for one more call of `key`, or why not (the caller answers 503).
  base::Result<Ticket> admit(std::string_view key);
  // Calls of `key` holding a ticket now.
  int active(std::string_view key) const;

 private:
  struct Entry {
    int active = 0;
    std::vector<base::TimePoint> starts;  // within the last minute, oldest first
  };
  void release(const std::string& key);
  void evict_idle();

  CallLimitPolicy policy_;
  const base::Clock& clock_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace sipline::gateway::call
