// libFuzzer target for the dial plan (gateway/route/dial_plan.hpp): pattern
// validation in DialPlan::create and matching of dialed digits.
// Input: text lines. A line starting with '=' is a dialed string to match;
// any other line is a rule "PATTERN[ TARGET]" (target defaults to
// "sip:$digits@127.0.0.1"). Every prefix of each dialed string is matched,
// the way the digit collector asks after each digit.
// Checks, besides memory safety:
//  - ambiguous/complete name a valid rule and a target with $digits replaced
//    ($e164 left empty);
//  - `none` is final: no longer string matches (adding a dialable character
//    gives `none` again);
//  - `complete` is final: no dialable character extends it to any match;
//  - `partial`/`ambiguous` can be extended: some dialable character keeps a
//    rule alive.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "route/dial_plan.hpp"

namespace {

using namespace sipline::gateway::route;

constexpr std::string_view kDialable = "0123456789*#+";

// DialMatch::target as match() fills it: $digits is the number as dialed;
// $e164 is empty there (the router fills it once ENUM has normalised it).
std::string substitute(std::string_view target, std::string_view digits) {
  std::string out;
  for (std::size_t i = 0; i < target.size();) {
    if (target.substr(i, 7) == "$digits") {
      out.append(digits);
      i += 7;
    } else if (target.substr(i, 5) == "$e164") {
      i += 5;
    } else {
      out.push_back(target[i++]);
    }
  }
  return out;
}

void check(const DialPlan& plan, const std::string& digits) {
  const DialMatch m = plan.match(digits);
  if (m.kind == MatchKind::ambiguous || m.kind == MatchKind::complete) {
    if (m.rule >= plan.rules().size()) std::abort();
    if (m.target != substitute(plan.rules()[m.rule].target, digits)) std::abort();
    // The first matching rule: no earlier rule matches the whole string.
    for (std::size_t r = 0; r < m.rule; ++r) {
      auto single = DialPlan::create({plan.rules()[r]});
      if (!single) std::abort();
      const MatchKind k = single->match(digits).kind;
      if (k == MatchKind::ambiguous || k == MatchKind::complete) std::abort();
    }
  } else if (!m.target.empty()) {
    std::abort();
  }
  bool any_alive = false;
  for (char c : kDialable) {
    const MatchKind k = plan.match(digits + c).kind;
    if (k != MatchKind::none) any_alive = true;
  }
  switch (m.kind) {
    case MatchKind::none:
    case MatchKind::complete:
      if (any_alive) std::abort();
      break;
    case MatchKind::partial:
    case MatchKind::ambiguous:
      if (!any_alive) std::abort();
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<DialRule> rules;
  std::vector<std::string> dialed;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.front() == '=') {
      dialed.emplace_back(line.substr(1, 32));
    } else if (!line.empty()) {
      const std::size_t space = line.find(' ');
      DialRule rule;
      rule.pattern = std::string(line.substr(0, space));
      rule.target = space == std::string_view::npos ? "sip:$digits@127.0.0.1" : std::string(line.substr(space + 1));
      rules.push_back(std::move(rule));
    }
    start = end + 1;
  }
  if (rules.size() > 16 || dialed.size() > 16) return 0;

  auto plan = DialPlan::create(rules);
  if (!plan) {
    // Some rule is at fault: the error must come from a rule that fails alone.
    bool one_fails = false;
    for (const auto& rule : rules) one_fails = one_fails || !DialPlan::create({rule});
    if (!one_fails || plan.error().message().empty()) std::abort();
    return 0;
  }
  if (plan->rules().size() != rules.size()) std::abort();
  for (const auto& digits : dialed) {
    for (std::size_t n = 0; n <= digits.size(); ++n) check(*plan, digits.substr(0, n));
  }
  return 0;
}
