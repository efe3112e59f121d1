#pragma once
// EnumCache: NAPTR answers by domain, kept for their TTL (RFC 1035 §3.2.1),
// and negative answers (NXDOMAIN, NODATA) for their RFC 2308 §5 negative TTL.
// Bounded: when full, the least recently used entry goes. TTLs are capped at
// max_ttl (a hostile server cannot pin an entry for 68 years); an answer with
// TTL 0 is not stored. Keys compare case-insensitively (DNS names), a trailing
// dot ignored. Time comes from an injected Clock, so tests need not sleep.
// Thread: one (the resolver's, the control thread in the daemon).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipline/base/clock.hpp"
#include "sipline/enum/naptr.hpp"

namespace sipline::e164 {

struct CachedAnswer {
  bool negative = false;              // NXDOMAIN or NODATA
  bool nxdomain = false;              // negative: the name does not exist
  std::vector<Naptr> records;         // positive only
  std::string canonical_name;         // after CNAMEs, positive only
  std::chrono::seconds ttl_left{0};   // what is left of the TTL when read
};

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;           // absent or expired
  std::uint64_t expired = 0;          // misses because the entry had expired
  std::uint64_t evictions = 0;        // entries dropped because the cache was full
  std::size_t entries = 0;
};

class EnumCache {
 public:
  // max_entries 0 disables the cache (every get() is a miss, put() stores nothing).
  EnumCache(const base::Clock& clock, std::size_t max_entries, std::chrono::seconds max_ttl);

  std::optional<CachedAnswer> get(std::string_view domain);
  void put_positive(std::string_view domain, std::vector<Naptr> records, std::string canonical_name,
                    std::chrono::seconds ttl);
  void put_negative(std::string_view domain, bool nxdomain, std::chrono::seconds ttl);
  void clear();

  const CacheStats& stats() const { return stats_; }
  std::size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    CachedAnswer answer;
    base::TimePoint expires;
  };
  void put(std::string_view domain, CachedAnswer answer, std::chrono::seconds ttl);

  const base::Clock& clock_;
  std::size_t max_entries_;
  std::chrono::seconds max_ttl_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  CacheStats stats_;
};

// The cache key of a domain: lowercased, without a trailing dot.
std::string cache_key(std::string_view domain);

}  // namespace sipline::e164
