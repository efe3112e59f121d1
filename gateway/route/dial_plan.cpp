#include "route/dial_plan.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
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

// A target (`what` "target", code bad_target) or a sip step ("step", bad_step).
base::Result<void> check_uri_template(std::string_view target, const char* what = "target",
                                      DialPlanError code = DialPlanError::bad_target) {
  const std::string head = std::string("dial plan ") + what + " \"" + std::string(target) + "\": ";
  if (!(target.starts_with("sip:") || target.starts_with("sips:"))) {
    return base::fail(code, head + "must start with sip: or sips:");
  }
  for (std::size_t i = target.find('$'); i != std::string_view::npos; i = target.find('$', i + 1)) {
    if (target.substr(i, 7) != "$digits" && target.substr(i, 5) != "$e164") {
      return base::fail(code, head + "only $digits or $e164 may follow '$'");
    }
  }
  return {};
}

base::Result<Step> parse_step(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return base::fail(DialPlanError::bad_step, "dial plan step \"" + std::string(text) + "\": " + why);
  };
  if (text == "enum") return Step{StepKind::enum_lookup, {}, 0};
  if (text.starts_with("trunk:")) {
    if (text.size() == 6) return bad("trunk name is missing");
    return Step{StepKind::trunk, std::string(text.substr(6)), 0};
  }
  if (text.starts_with("sip:") || text.starts_with("sips:")) {
    if (auto ok = check_uri_template(text, "step", DialPlanError::bad_step); !ok) return base::fail(ok.error());
    return Step{StepKind::sip, std::string(text), 0};
  }
  if (text.starts_with("user:")) {
    const std::string_view name = text.substr(5);
    const bool token = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '+' || c == '$';
    });
    if (!token) return bad("the user name must be a plain token (letters, digits, . - _ +) or $digits");
    return Step{StepKind::user, std::string(name), 0};
  }
  if (text.starts_with("fxo:")) {
    // A name that is no FXO port is skipped (with a warning) when the rule runs.
    const std::string_view name = text.substr(4);
    if (name.empty()) return bad("fxo: needs the name of an FXO port (\"fxo:landline\")");
    return Step{StepKind::fxo, std::string(name), 0};
  }
  if (text == "reject") return Step{StepKind::reject, {}, 403};
  if (text.starts_with("reject ")) {
    const std::string_view code = text.substr(7);
    int status = 0;
    for (char c : code) {
      if (c < '0' || c > '9' || status > 1000) return bad("the code must be a number 400-699");
      status = status * 10 + (c - '0');
    }
    if (code.empty() || status < 400 || status > 699) return bad("the code must be a number 400-699");
    return Step{StepKind::reject, {}, status};
  }
  return bad("expected enum, trunk:<name>, sip:<uri>, sips:<uri>, user:<name> or reject [code]");
}

// Parses an IPv4 or IPv6 literal into `out` (network order); family or 0.
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

}  // namespace

std::string substitute(std::string_view uri_template, std::string_view digits, std::string_view e164) {
  std::string out;
  out.reserve(uri_template.size() + digits.size());
  std::size_t pos = 0;
  for (std::size_t i = uri_template.find('$'); i != std::string_view::npos; i = uri_template.find('$', pos)) {
    out.append(uri_template.substr(pos, i - pos));
    if (uri_template.substr(i, 7) == "$digits") {
      out.append(digits);
      pos = i + 7;
    } else if (uri_template.substr(i, 5) == "$e164") {
      out.append(e164);
      pos = i + 5;
    } else {
      out.push_back('$');
      pos = i + 1;
    }
  }
  out.append(uri_template.substr(pos));
  return out;
}

base::Result<DialPlan> DialPlan::create(std::vector<DialRule> rules) {
  DialPlan plan;
  for (const DialRule& rule : rules) {
    if (auto compiled = compile(rule.pattern); !compiled) return base::fail(compiled.error());
    std::vector<Step> steps;
    if (!rule.target.empty()) {
      if (auto ok = check_uri_template(rule.target); !ok) return base::fail(ok.error());
      steps.push_back(Step{StepKind::sip, rule.target, 0});
    }
    for (const auto& text : rule.steps) {
      auto step = parse_step(text);
      if (!step) return base::fail(step.error());
      steps.push_back(std::move(*step));
    }
    if (steps.empty()) {
      return base::fail(DialPlanError::bad_step, "dial plan rule \"" + rule.pattern + "\": needs a target or steps");
    }
    std::vector<Allow> allow;
    for (const auto& text : rule.allow.empty() ? std::vector<std::string>{"lines"} : rule.allow) {
      Allow a;
      if (text == "lines") {
        a.kind = Allow::Kind::lines;
      } else if (text == "sip") {
        a.kind = Allow::Kind::sip;
      } else if (text == "users" || text.starts_with("user:")) {
        a.kind = Allow::Kind::user;
        a.name = text == "users" ? "" : text.substr(5);
        if (text != "users" && a.name.empty())
          return base::fail(DialPlanError::bad_allow, "dial plan allow \"user:\": the user name is missing");
      } else if (text.find_first_of(".:/") != std::string::npos) {
        a.kind = Allow::Kind::cidr;
        a.range = Cidr::parse(text);
        if (!a.range) {
          return base::fail(DialPlanError::bad_allow, "dial plan allow \"" + text +
                                                          "\": not an IP address or CIDR (\"10.0.0.0/8\", \"::1\")");
        }
      } else if (!text.empty()) {
        a.kind = Allow::Kind::port;
        a.name = text;
      } else {
        return base::fail(DialPlanError::bad_allow, "dial plan allow: empty entry");
      }
      allow.push_back(std::move(a));
    }
    plan.steps_.push_back(std::move(steps));
    plan.allow_.push_back(std::move(allow));
  }
  plan.rules_ = std::move(rules);
  return plan;
}

bool DialPlan::admits(std::size_t index, const Caller& caller) const {
  if (index >= allow_.size()) return false;
  for (const Allow& a : allow_[index]) {
    switch (a.kind) {
      case Allow::Kind::lines:
        if (caller.line) return true;
        break;
      case Allow::Kind::port:
        if (caller.line && caller.port == a.name) return true;
        break;
      case Allow::Kind::sip:
        if (!caller.line) return true;
        break;
      case Allow::Kind::user:
        if (!caller.line && !caller.user.empty() && (a.name.empty() || a.name == caller.user)) return true;
        break;
      case Allow::Kind::cidr:
        if (!caller.line && a.range->contains(caller.address)) return true;
        break;
    }
  }
  return false;
}

DialMatch DialPlan::match(std::string_view digits) const { return match_impl(digits, nullptr); }

DialMatch DialPlan::match(std::string_view digits, const Caller& caller) const { return match_impl(digits, &caller); }

DialMatch DialPlan::match_impl(std::string_view digits, const Caller* caller) const {
  // Patterns are a few characters and matching happens once per dialed digit
  // on the control thread: compiling again here keeps the header's layout.
  DialMatch result;
  bool first_match_found = false;
  bool any_extendable = false;
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    auto elems = compile(rules_[r].pattern);
    if (!elems) continue;  // cannot happen: create() validated every pattern
    const RuleMatch m = run(*elems, digits);
    if (caller && !admits(r, *caller)) {
      result.denied = result.denied || m.matched;
      continue;
    }
    any_extendable = any_extendable || m.extendable;
    if (m.matched && !first_match_found) {
      first_match_found = true;
      result.rule = r;
      for (const Step& step : steps_[r]) {
        if (step.kind == StepKind::sip) {
          result.target = substitute(step.arg, digits, "");
          break;
        }
      }
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
