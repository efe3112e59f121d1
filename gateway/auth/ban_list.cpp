#include "auth/ban_list.hpp"

#include <algorithm>

namespace sipline::gateway::auth {

bool BanList::record_failure(std::string_view address) {
  if (policy_.failures <= 0 || address.empty()) return false;
  const auto now = clock_.now();
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    evict_if_full();
    it = entries_.emplace(std::string(address), Entry{}).first;
  }
  Entry& e = it->second;
  e.last = now;
  if (now < e.banned_until) return true;
  const auto cutoff = now - policy_.window;
  e.failures.erase(e.failures.begin(),
                   std::find_if(e.failures.begin(), e.failures.end(), [&](base::TimePoint t) { return t > cutoff; }));
  e.failures.push_back(now);
  if (static_cast<int>(e.failures.size()) >= policy_.failures) {
    e.banned_until = now + policy_.duration;
    e.failures.clear();
    return true;
  }
  return false;
}

void BanList::record_success(std::string_view address) {
  auto it = entries_.find(std::string(address));
  if (it != entries_.end() && clock_.now() >= it->second.banned_until) entries_.erase(it);
}

bool BanList::banned(std::string_view address) {
  auto it = entries_.find(std::string(address));
  return it != entries_.end() && clock_.now() < it->second.banned_until;
}

bool BanList::lift(std::string_view address) {
  auto it = entries_.find(std::string(address));
  if (it == entries_.end() || clock_.now() >= it->second.banned_until) return false;
  entries_.erase(it);
  return true;
}

std::vector<Ban> BanList::bans() {
  const auto now = clock_.now();
  std::vector<Ban> out;
  for (const auto& [address, e] : entries_) {
    if (now >= e.banned_until) continue;
    out.push_back({address, std::chrono::ceil<std::chrono::seconds>(e.banned_until - now), policy_.failures});
  }
  std::sort(out.begin(), out.end(), [](const Ban& a, const Ban& b) { return a.remaining > b.remaining; });
  return out;
}

void BanList::evict_if_full() {
  if (entries_.size() < policy_.max_tracked) return;
  // Drop finished entries first, then the least recently seen one.
  const auto now = clock_.now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool stale = now >= it->second.banned_until && (it->second.failures.empty() ||
                                                           it->second.failures.back() <= now - policy_.window);
    it = stale ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < policy_.max_tracked) return;
  auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                 [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
  entries_.erase(oldest);
}

}  // namespace sipline::gateway::auth
