#include "sipline/enum/enum_cache.hpp"

#include <algorithm>
#include <utility>

namespace sipline::e164 {

namespace {
// RFC 2181 §8: TTLs are at most 2^31 - 1 seconds; also keeps now() + ttl from overflowing.
constexpr std::chrono::seconds kMaxDnsTtl{0x7FFFFFFF};
}  // namespace

std::string cache_key(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string key(domain);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

EnumCache::EnumCache(const base::Clock& clock, std::size_t max_entries, std::chrono::seconds max_ttl)
    : clock_(clock), max_entries_(max_entries), max_ttl_(max_ttl) {}

std::optional<CachedAnswer> EnumCache::get(std::string_view domain) {
  if (max_entries_ == 0) {
    ++stats_.misses;
    return std::nullopt;
  }
  const auto found = index_.find(cache_key(domain));
  if (found == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  const auto entry = found->second;
  const base::TimePoint now = clock_.now();
  if (now >= entry->expires) {
    ++stats_.misses;
    ++stats_.expired;
    index_.erase(found);
    lru_.erase(entry);
    stats_.entries = index_.size();
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, entry);  // now the most recently used
  ++stats_.hits;
  CachedAnswer answer = entry->answer;
  // Rounded up: an entry still alive never reports 0 seconds left.
  answer.ttl_left = std::chrono::ceil<std::chrono::seconds>(entry->expires - now);
  return answer;
}

void EnumCache::put_positive(std::string_view domain, std::vector<Naptr> records, std::string canonical_name,
                             std::chrono::seconds ttl) {
  CachedAnswer answer;
  answer.records = std::move(records);
  answer.canonical_name = std::move(canonical_name);
  put(domain, std::move(answer), ttl);
}

void EnumCache::put_negative(std::string_view domain, bool nxdomain, std::chrono::seconds ttl) {
  CachedAnswer answer;
  answer.negative = true;
  answer.nxdomain = nxdomain;
  put(domain, std::move(answer), ttl);
}

void EnumCache::put(std::string_view domain, CachedAnswer answer, std::chrono::seconds ttl) {
  ttl = std::min({ttl, max_ttl_, kMaxDnsTtl});
  if (max_entries_ == 0 || ttl <= std::chrono::seconds::zero()) return;
  std::string key = cache_key(domain);
  const base::TimePoint expires = clock_.now() + ttl;
  answer.ttl_left = ttl;
  if (const auto found = index_.find(key); found != index_.end()) {
    const auto entry = found->second;
    entry->answer = std::move(answer);
    entry->expires = expires;
    lru_.splice(lru_.begin(), lru_, entry);
    return;
  }
  while (index_.size() >= max_entries_ && !lru_.empty()) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evictions;
  }
  lru_.push_front(Entry{.key = key, .answer = std::move(answer), .expires = expires});
  index_.emplace(std::move(key), lru_.begin());
  stats_.entries = index_.size();
}

void EnumCache::clear() {
  lru_.clear();
  index_.clear();
  stats_.entries = 0;
}

}  // namespace sipline::e164
