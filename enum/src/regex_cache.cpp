#include "sipline/enum/regex_cache.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "regex.hpp"
#include "sipline/enum/error.hpp"

namespace sipline::e164 {

namespace detail {

base::Result<void> Regex::compile(const std::string& ere, bool icase) {
  const int rc = regcomp(&re_, ere.c_str(), REG_EXTENDED | (icase ? REG_ICASE : 0));
  if (rc != 0) {
    std::array<char, 128> buf{};
    regerror(rc, &re_, buf.data(), buf.size());
    return base::fail(EnumError::bad_regexp, "NAPTR regexp '" + ere + "' does not compile: " + buf.data());
  }
  compiled_ = true;
  return {};
}

}  // namespace detail

struct RegexCache::Entry {
  std::string key;
  detail::Regex regex;                // compiled unless `error` is set
  std::optional<base::Error> error;   // the ERE does not compile
};

RegexCache::RegexCache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

RegexCache::~RegexCache() = default;

void RegexCache::clear() {
  index_.clear();
  lru_.clear();
}

base::Result<const detail::Regex*> RegexCache::compiled(const std::string& ere, bool icase) {
  // One flag character, then the ERE: unambiguous, and one string to hash.
  std::string key;
  key.reserve(ere.size() + 1);
  key.push_back(icase ? 'i' : '-');
  key += ere;
  if (auto it = index_.find(key); it != index_.end()) {
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second);
    const Entry& e = *it->second;
    if (e.error) return tl::unexpected(*e.error);
    return &e.regex;
  }
  ++stats_.misses;
  while (index_.size() >= capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();  // regfree() in ~Regex
    ++stats_.evictions;
  }
  // Entries are built in place: a regex_t is not moved once compiled.
  Entry& e = lru_.emplace_front();
  e.key = std::move(key);
  if (auto ok = e.regex.compile(ere, icase); !ok) e.error = ok.error();
  index_.emplace(e.key, lru_.begin());
  if (e.error) return tl::unexpected(*e.error);
  return &e.regex;
}

}  // namespace sipline::e164
