#include "route/dial_plan.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>

namespace sipline::gateway::route {
namespace {

// The characters a dialed string is made of: digits, '*', '#', '+'.
constexpr std::string_view kDialable = "0123456789*#+";

// One compiled pattern element. A pattern is a sequence of these:
//  - a set of characters that matches exactly one dialed character, or
//  - "any, zero or more times" ('!'). '.' compiles to a set of all dialable
//    characters followed by such a repeat.
struct Element {
  std::array<bool, 256> set{};
  bool repeat = false;
};

bool dialable(char c) { return kDialable.find(c) != std::string_view::npos; }

Element any_char() {
  Element e;
  for (char c : kDialable) e.set[static_cast<unsigned char>(c)] = true;
  return e;
}

Element digit_range(char lo, char hi) {
  Element e;
  for (char c = lo; c <= hi; ++c) e.set[static_cast<unsigned char>(c)] = true;
  return e;
}

base::Result<std::vector<Element>> compile(std::string_view pattern) {
  auto bad = [&](const std::string& why) {
    return base::fail(DialPlanError::bad_pattern, "dial plan pattern \"" + std::string(pattern) + "\": " + why);
  };
  std::string_view p = pattern;
  if (!p.empty() && p.front() == '_') p.remove_prefix(1);
  if (p.empty()) return bad("empty pattern");

  std::vector<Element> out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    switch (c) {
      case 'X': case 'x': out.push_back(digit_range('0', '9')); break;
      case 'Z': case 'z': out.push_back(digit_range('1', '9')); break;
      case 'N': case 'n': out.push_back(digit_range('2', '9')); break;
      case '.': {
        out.push_back(any_char());
        Element rep;
        rep.repeat = true;
        out.push_back(rep);
        break;
      }
      case '!': {
        Element rep;
        rep.repeat = true;
        out.push_back(rep);
        break;
      }
      case '[': {
        Element e;
        bool any = false;
        std::size_t j = i + 1;
        for (; j < p.size() && p[j] != ']'; ++j) {
          const char a = p[j];
          if (!dialable(a)) {
            return bad(std::string("character '") + a + "' is not allowed inside [...]");
          }
          if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            const char b = p[j + 2];
            if (a < '0' || a > '9' || b < '0' || b > '9') {
              return bad(std::string("range ") + a + "-" + b + " must be between two digits");
            }
            if (b < a) return bad(std::string("range ") + a + "-" + b + " is reversed");
            for (char d = a; d <= b; ++d) e.set[static_cast<unsigned char>(d)] = true;
            j += 2;
          } else if (j + 1 < p.size() && p[j + 1] == '-') {
            return bad("range starting with '" + std::string(1, a) + "' has no upper end");
          } else {
            e.set[static_cast<unsigned char>(a)] = true;
          }
          any = true;
        }
        if (j >= p.size()) return bad("'[' without a closing ']'");
        if (!any) return bad("empty set []");
        out.push_back(e);
        i = j;
        break;
      }
      default: {
        if (!dialable(c)) {
          return bad(std::string("character '") + c +
                     "' is not a digit, '*', '#', '+', X, Z, N, [...], '.' or '!'");
        }
        Element e;
        e.set[static_cast<unsigned char>(c)] = true;
        out.push_back(e);
        break;
      }
    }
  }
  return out;
}

base::Result<void> check_target(std::string_view target) {
  if (!(target.starts_with("sip:") || target.starts_with("sips:"))) {
    return base::fail(DialPlanError::bad_target,
                      "dial plan target \"" + std::string(target) + "\": must start with sip: or sips:");
  }
  for (std::size_t i = target.find('$'); i != std::string_view::npos; i = target.find('$', i + 1)) {
    if (target.substr(i, 7) != "$digits") {
      return base::fail(DialPlanError::bad_target,
                        "dial plan target \"" + std::string(target) + "\": only $digits may follow '$'");
    }
  }
  return {};
}

// Adds `i` and every state reachable from it without consuming a character.
void add_state(const std::vector<Element>& elems, std::vector<bool>& states, std::size_t i) {
  while (i <= elems.size() && !states[i]) {
    states[i] = true;
    if (i < elems.size() && elems[i].repeat) {
      ++i;  // a repeat may match zero characters
    } else {
      break;
    }
  }
}

struct RuleMatch {
  bool matched = false;     // the whole string matches
  bool extendable = false;  // a longer string starting with it could match
};

// Runs the pattern as an NFA over the digits: each state is an element index,
// elems.size() is the accepting state.
RuleMatch run(const std::vector<Element>& elems, std::string_view digits) {
  std::vector<bool> states(elems.size() + 1, false);
  std::vector<bool> next(elems.size() + 1, false);
  add_state(elems, states, 0);
  for (char ch : digits) {
    std::fill(next.begin(), next.end(), false);
    const auto u = static_cast<unsigned char>(ch);
    bool alive = false;
    for (std::size_t i = 0; i < elems.size(); ++i) {
      if (!states[i]) continue;
      const Element& e = elems[i];
      if (e.repeat) {
        if (dialable(ch)) {
          add_state(elems, next, i);
          alive = true;
        }
      } else if (e.set[u]) {
        add_state(elems, next, i + 1);
        alive = true;
      }
    }
    if (!alive) return {};
    std::swap(states, next);
  }
  RuleMatch m;
  m.matched = states[elems.size()];
  // Every set is non-empty, so any state short of the end can consume one
  // more character and still reach the end.
  for (std::size_t i = 0; i < elems.size(); ++i) m.extendable = m.extendable || states[i];
  return m;
}

std::string substitute(std::string_view target, std::string_view digits) {
  std::string out;
  out.reserve(target.size() + digits.size());
  constexpr std::string_view kVar = "$digits";
  std::size_t pos = 0;
  for (std::size_t i = target.find(kVar); i != std::string_view::npos; i = target.find(kVar, pos)) {
    out.append(target.substr(pos, i - pos));
    out.append(digits);
    pos = i + kVar.size();
  }
  out.append(target.substr(pos));
  return out;
}

}  // namespace

base::Result<DialPlan> DialPlan::create(std::vector<DialRule> rules) {
  for (const DialRule& rule : rules) {
    if (auto compiled = compile(rule.pattern); !compiled) return base::fail(compiled.error());
    if (auto ok = check_target(rule.target); !ok) return base::fail(ok.error());
  }
  DialPlan plan;
  plan.rules_ = std::move(rules);
  return plan;
}

DialMatch DialPlan::match(std::string_view digits) const {
  // Patterns are a few characters and matching happens once per dialed digit
  // on the control thread: compiling again here keeps the header's layout.
  DialMatch result;
  bool first_match_found = false;
  bool any_extendable = false;
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    auto elems = compile(rules_[r].pattern);
    if (!elems) continue;  // cannot happen: create() validated every pattern
    const RuleMatch m = run(*elems, digits);
    any_extendable = any_extendable || m.extendable;
    if (m.matched && !first_match_found) {
      first_match_found = true;
      result.rule = r;
      result.target = substitute(rules_[r].target, digits);
    }
  }
  if (first_match_found) {
    result.kind = any_extendable ? MatchKind::ambiguous : MatchKind::complete;
  } else {
    result.kind = any_extendable ? MatchKind::partial : MatchKind::none;
  }
  return result;
}

}  // namespace sipline::gateway::route
