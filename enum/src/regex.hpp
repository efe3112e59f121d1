#pragma once
// Private to the enum library: a regex_t with an owner, and the way
// naptr_rules.cpp reaches RegexCache's compiled expressions.
#include <regex.h>

#include <string>

#include "sipline/base/result.hpp"
#include "sipline/enum/regex_cache.hpp"

namespace sipline::e164::detail {

// regfree() runs only after a successful regcomp().
class Regex {
 public:
  Regex() = default;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex() {
    if (compiled_) regfree(&re_);
  }

  // POSIX extended, REG_ICASE when `icase`. Errors: bad_regexp.
  base::Result<void> compile(const std::string& ere, bool icase);
  const regex_t* get() const { return &re_; }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

struct RegexCacheAccess {
  static base::Result<const Regex*> compiled(RegexCache& cache, const std::string& ere, bool icase) {
    return cache.compiled(ere, icase);
  }
};

}  // namespace sipline::e164::detail
