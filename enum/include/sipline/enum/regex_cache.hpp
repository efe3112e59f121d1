#pragma once
// RegexCache: compiled NAPTR regular expressions kept for reuse.
//
// regcomp() is most of what applying NAPTR rules costs (tens of microseconds
// per record against a few for parsing the whole answer), and the same zones
// give the same REGEXP fields lookup after lookup. apply_naptr_rules() and
// apply_regexp() (naptr_rules.hpp) take a RegexCache to compile each ERE once.
//
// Keyed by the ERE text (the part of REGEXP between the first two delimiters,
// after "\<delim>" is unescaped) and its flags (REG_ICASE from the "i" flag).
// An ERE that does not compile is kept too, as its bad_regexp error, so it
// stays an error without being compiled again. REGEXP fields refused before
// compiling (syntax, length, back references, large bounds) are not kept.
// Bounded: at most `capacity` entries (at least 1), the least recently used
// goes first; regfree() runs on eviction and on destruction.
//
// Owner: whoever applies the rules (EnumResolver has one; no global state).
// Thread: one thread at a time (the owner's); not thread-safe.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "sipline/base/result.hpp"

namespace sipline::e164 {

inline constexpr std::size_t kDefaultRegexCacheEntries = 256;

namespace detail {
class Regex;
struct RegexCacheAccess;
}  // namespace detail

struct RegexCacheStats {
  std::uint64_t hits = 0;       // an entry was found (compiled or invalid)
  std::uint64_t misses = 0;     // regcomp() ran
  std::uint64_t evictions = 0;  // entries dropped to stay within capacity
};

class RegexCache {
 public:
  explicit RegexCache(std::size_t capacity = kDefaultRegexCacheEntries);
  ~RegexCache();
  RegexCache(const RegexCache&) = delete;
  RegexCache& operator=(const RegexCache&) = delete;

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }
  const RegexCacheStats& stats() const { return stats_; }
  void clear();

 private:
  friend struct detail::RegexCacheAccess;
  struct Entry;

  // The compiled ERE, from the cache or compiled now. Errors: bad_regexp
  // (does not compile; remembered). The pointer stays valid until the next
  // call or clear().
  base::Result<const detail::Regex*> compiled(const std::string& ere, bool icase);

  std::size_t capacity_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  RegexCacheStats stats_;
};

}  // namespace sipline::e164
