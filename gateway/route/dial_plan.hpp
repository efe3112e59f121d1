#pragma once
// DialPlan: maps the digits an analog phone dials to a SIP target.
// Rules are tried in order. Patterns follow the PBX convention users know:
//   X any digit, Z 1-9, N 2-9, [...] a set or range ("[1-5]", "[135-7]"),
//   '.' one or more further characters, '!' zero or more, other characters
//   ('0'-'9', '*', '#', '+') literal. A leading '_' is accepted and ignored.
// A pattern matches the whole dialed string.
//
// Each rule has steps, tried in order until one gets the call through:
//   "enum"          look the number up in ENUM (RFC 6116)
//   "trunk:<name>"  send it to a configured SIP trunk
//   "sip:<uri>"     call this URI; $digits is the number as dialed, $e164 the
//                   E.164 form ("+..."); a "sips:" URI likewise
//   "user:<name>"   call the contacts a registered [[user]] has (highest q
//                   first); $digits in the name is the number as dialed
//   "reject [code]" refuse (SIP callers get the code, 400-699, default 403;
//                   phones hear reorder)
// The older form `target = "sip:..."` is one sip step. "fxo:<port>" steps
// come with FXO ports (analog lines) and are refused until then.
// Each rule says who may use it (`allow`): "lines" (every phone), a port name,
// "sip" (any SIP caller let in: from a trusted address or authenticated),
// "users" (any SIP caller authenticated by digest), "user:<name>" (that
// user), or a CIDR ("127.0.0.0/8", "2001:db8::/32") for SIP callers from
// those addresses. Default: "lines" only, so no SIP caller can
// reach a trunk or the PSTN unless the config says so.
// match() tells the digit collector whether to keep waiting: `partial` means
// some rule could still match with more digits; `complete` that a rule matched
// and no rule could match a longer string (dial at once); `ambiguous` that a
// rule matched but a longer string could match too (wait for the interdigit
// timeout or '#').
// Thread: any; immutable after construction.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "route/cidr.hpp"
#include "route/number_class.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::route {

enum class DialPlanError { bad_pattern, bad_target, bad_step, bad_allow };

struct DialRule {
  DialRule() = default;
  DialRule(std::string p, std::string t, std::vector<std::string> s = {}, std::vector<std::string> a = {})
      : pattern(std::move(p)), target(std::move(t)), steps(std::move(s)), allow(std::move(a)) {}
  std::string pattern;
  std::string target;               // legacy single sip step, e.g. "sip:$digits@127.0.0.1:5060"
  std::vector<std::string> steps;   // "enum", "trunk:x", "sip:...", "reject 404"; with target: both used, target first
  std::vector<std::string> allow;   // empty: {"lines"}
};

enum class StepKind { enum_lookup, trunk, sip, user, fxo, reject };

struct Step {
  StepKind kind = StepKind::reject;
  std::string arg;   // trunk name, the sip URI template, the user name template, or the FXO port name
  int status = 403;  // reject
};

// Who is calling, for a rule's allow list.
struct Caller {
  bool line = false;         // an analog phone on a local port
  std::string port;          // its port name (line callers)
  std::string address;       // SIP callers: the source IP address ("127.0.0.1", "::1")
  std::string user;          // SIP callers: the user they authenticated as ("" = none)
  Permissions permissions;   // toll classes beyond national (route/number_class.hpp)
};

enum class MatchKind { none, partial, ambiguous, complete };

struct DialMatch {
  MatchKind kind = MatchKind::none;
  std::string target;   // first sip step of the matching rule, substituted ("" if none)
  std::size_t rule = 0; // index of that rule (ambiguous/complete)
  bool denied = false;  // some rule that does not admit the caller matches the whole string
};

// "$digits" and "$e164" replaced in a sip step's URI template.
std::string substitute(std::string_view uri_template, std::string_view digits, std::string_view e164);

class DialPlan {
 public:
  DialPlan() = default;
  // Validates every pattern, target, step and allow entry. A rule needs a
  // target or at least one step. Trunk names are checked by the config loader.
  static base::Result<DialPlan> create(std::vector<DialRule> rules);

  // All rules, whoever calls.
  DialMatch match(std::string_view digits) const;
  // Only the rules that admit `caller`.
  DialMatch match(std::string_view digits, const Caller& caller) const;
  const std::vector<DialRule>& rules() const { return rules_; }
  // The steps of rule `index` (target first, then steps).
  const std::vector<Step>& steps(std::size_t index) const { return steps_[index]; }
  bool admits(std::size_t index, const Caller& caller) const;

 private:
  struct Allow {
    enum class Kind { lines, port, sip, user, cidr } kind = Kind::lines;
    std::string name;               // port: its name; user: the user ("" = any user)
    std::optional<Cidr> range;      // cidr
  };
  DialMatch match_impl(std::string_view digits, const Caller* caller) const;

  std::vector<DialRule> rules_;
  std::vector<std::vector<Step>> steps_;
  std::vector<std::vector<Allow>> allow_;
};

}  // namespace sipline::gateway::route
