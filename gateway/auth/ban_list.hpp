#pragma once
// BanList: temporary bans of source addresses after repeated authentication
// failures (a password-guessing scanner such as svcrack). A source with
// `failures` failed attempts within `window` is banned for `duration`; a
// banned source gets 403 for everything (REGISTER, INVITE) until the ban
// ends or is lifted (`siplinectl unban`). Failures are counted per address
// in a bounded table (least recently failed addresses go first when full), so
// a flood of spoofed sources cannot grow memory.
// Thread: control. Time from the injected clock.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipline/base/clock.hpp"

namespace sipline::gateway::auth {

struct BanPolicy {
  int failures = 5;                          // 0 = never ban
  std::chrono::seconds window{60};
  std::chrono::seconds duration{600};
  std::size_t max_tracked = 10000;           // addresses remembered
};

struct Ban {
  std::string address;
  std::chrono::seconds remaining{0};
  int failures = 0;                          // failures that led to it
};

class BanList {
 public:
  BanList(BanPolicy policy, const base::Clock& clock) : policy_(policy), clock_(clock) {}

  // Records one failed authentication from `address`; true when it is banned now.
  bool record_failure(std::string_view address);
  // A success clears the address's failures (not a ban).
  void record_success(std::string_view address);
  bool banned(std::string_view address);
  // Lifts a ban; false when the address was not banned.
  bool lift(std::string_view address);
  // Current bans, longest remaining first.
  std::vector<Ban> bans();
  // Addresses with failures or bans remembered (<= max_tracked).
  std::size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<base::TimePoint> failures;   // within the window, oldest first
    base::TimePoint banned_until{};
    base::TimePoint last{};
  };
  void evict_if_full();

  BanPolicy policy_;
  const base::Clock& clock_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace sipline::gateway::auth
