#pragma once
// DialPlan: maps the digits an analog phone dials to a SIP target.
// Rules are tried in order. Patterns follow the PBX convention users know:
//   X any digit, Z 1-9, N 2-9, [...] a set or range ("[1-5]", "[135-7]"),
//   '.' one or more further characters, '!' zero or more, other characters
//   ('0'-'9', '*', '#', '+') literal. A leading '_' is accepted and ignored.
// A pattern matches the whole dialed string. `$digits` in the target is
// replaced by the dialed digits.
// match() tells the digit collector whether to keep waiting: `partial` means
// some rule could still match with more digits; `complete` that a rule matched
// and no rule could match a longer string (dial at once); `ambiguous` that a
// rule matched but a longer string could match too (wait for the interdigit
// timeout or '#').
// Thread: any; immutable after construction.
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/result.hpp"

namespace sipline::gateway::route {

enum class DialPlanError { bad_pattern, bad_target };

struct DialRule {
  std::string pattern;
  std::string target;   // e.g. "sip:$digits@127.0.0.1:5060"
};

enum class MatchKind { none, partial, ambiguous, complete };

struct DialMatch {
  MatchKind kind = MatchKind::none;
  std::string target;   // substituted target of the first matching rule (ambiguous/complete)
  std::size_t rule = 0; // index of that rule
};

class DialPlan {
 public:
  DialPlan() = default;
  // Validates every pattern and target (a target must start with "sip:" or "sips:").
  static base::Result<DialPlan> create(std::vector<DialRule> rules);

  DialMatch match(std::string_view digits) const;
  const std::vector<DialRule>& rules() const { return rules_; }

 private:
  std::vector<DialRule> rules_;
};

}  // namespace sipline::gateway::route
