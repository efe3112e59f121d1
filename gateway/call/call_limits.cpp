#include "call/call_limits.hpp"

#include <algorithm>
#include <chrono>

namespace sipline::gateway::call {

base::Result<CallLimits::Ticket> CallLimits::admit(std::string_view key) {
  const auto now = clock_.now();
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_tracked) evict_idle();
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  const auto cutoff = now - std::chrono::minutes(1);
  e.starts.erase(e.starts.begin(),
                 std::find_if(e.starts.begin(), e.starts.end(), [&](base::TimePoint t) { return t > cutoff; }));
  if (policy_.max_concurrent > 0 && e.active >= policy_.max_concurrent)
    return base::fail(CallLimitError::concurrent,
                      std::string(key) + " already has " + std::to_string(e.active) + " calls");
  if (policy_.max_per_minute > 0 && static_cast<int>(e.starts.size()) >= policy_.max_per_minute)
    return base::fail(CallLimitError::rate,
                      std::string(key) + " started " + std::to_string(e.starts.size()) + " calls in the last minute");
  e.starts.push_back(now);
  ++e.active;
  return Ticket(this, it->first);
}

int CallLimits::active(std::string_view key) const {
  auto it = entries_.find(std::string(key));
  return it == entries_.end() ? 0 : it->second.active;
}

void CallLimits::release(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.active > 0) --it->second.active;
}

void CallLimits::evict_idle() {
  const auto cutoff = clock_.now() - std::chrono::minutes(1);
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool idle = it->second.active == 0 && (it->second.starts.empty() || it->second.starts.back() <= cutoff);
    it = idle ? entries_.erase(it) : std::next(it);
  }
  // Still full: the least busy idle entry goes (an entry with calls stays, so
  // that its tickets can release it).
  if (entries_.size() < policy_.max_tracked) return;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.active == 0) {
      entries_.erase(it);
      return;
    }
  }
}

}  // namespace sipline::gateway::call
