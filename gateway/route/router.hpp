#pragma once
// Router: where a call goes. It takes the number a phone dialed or a SIP
// Request-URI named, picks the first dial-plan rule that matches it and admits
// the caller, and turns the rule's steps into an ordered list of targets:
//   enum          -> the ENUM targets of the number (RFC 6116, asynchronous):
//                    sip:/sips: URIs in ENUM order; a URI pointing at this
//                    gateway (host = sip.address, port = sip.port) whose user
//                    is a port's number or DID, or a tel: URI of a port's DID,
//                    becomes that port; other tel: URIs are left to the next
//                    steps (a trunk carries PSTN numbers)
//   trunk:<name>  -> sip:<number>@<trunk host>, the number as +E.164 or as dialed
//   sip:<uri>     -> the URI with $digits / $e164 filled in
//   reject [code] -> the end of the list
// Numbers are normalised to E.164 with the numbering plan of routing.country
// (national and international prefixes); a number that does not normalise
// skips the enum step. Before any step, an international or premium number
// (route/number_class.hpp) needs the caller's permission for its class, else
// 403 ("event=toll_class_denied").
// ENUM SIP URIs with headers ('?'), maddr, or characters that would break a
// header are refused, and so is one naming this gateway but none of its ports
// (it would loop). '#' in a number becomes %23 in URI user parts.
// A route keeps the steps of its rule as they were when it began (a reload
// meanwhile does not change them).
// Thread: control. The callback of route() runs on the control loop, never
// inside route() itself, unless the route is cancelled first. A callback must
// not destroy the Router.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "route/dial_plan.hpp"
#include "sipline/base/glib_source.hpp"
#include "sipline/base/result.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/resolver.hpp"

namespace sipline::gateway::route {

enum class RouteError { bad_uri };

// The number being called.
struct CalledNumber {
  std::string dialed;                 // matched against patterns: "201", "12025550150", "+12025550150"
  std::optional<e164::E164> e164;     // set when the caller named a global number
};

// From a Request-URI: "tel:+1-202-555-0150" (RFC 3966; a local number with a
// global phone-context becomes global), "sip:+12025550150@gw;user=phone" or
// any sip user starting with '+' (a telephone-subscriber, RFC 3261 §19.1.1),
// or "sip:201@gw" (the user as it is). Visual separators are removed from
// telephone numbers. Errors: bad_uri (no scheme, no user).
base::Result<CalledNumber> called_from_request_uri(std::string_view uri);

struct RouteTarget {
  enum class Kind { sip, line, reject };
  Kind kind = Kind::sip;
  std::string uri;          // sip: the URI to call; line: this gateway's URI for the port
  std::size_t line = 0;     // line: the port index
  std::string dial{};       // line, an FXO port: the digits to dial on the exchange line
  int status = 0;           // reject: the SIP status
  std::string step;         // "enum", "trunk:carrier", "sip", "reject": for logs
  bool parallel = false;    // rung at once with the target before it (a user's contacts of equal q)
};

struct RouteResult {
  std::vector<RouteTarget> targets;  // ordered; a reject target is last
  bool matched = false;              // a rule admitted the caller
  std::string rule;                  // its pattern
  int status = 0;                    // targets empty: 404 no rule / nothing found, 403 denied, 480 lookups failed
  std::string reason;                // for logs
};

using RouteId = std::uint64_t;
using RouteCallback = std::function<void(const RouteResult&)>;

class Router {
 public:
  // `resolver` may be null: enum steps then find nothing.
  Router(const config::Config& config, e164::EnumResolver* resolver, GMainContext* context = nullptr);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  void set_dial_plan(DialPlan plan) { plan_ = std::move(plan); }
  // Where "user:<name>" steps find a registered user's contact URIs, grouped
  // by q (highest first; a group is rung at once); unset or empty: the step
  // gives nothing and the next one runs.
  using UserContacts = std::function<std::vector<std::vector<std::string>>(std::string_view user)>;
  void set_user_contacts(UserContacts lookup) { user_contacts_ = std::move(lookup); }
  const DialPlan& dial_plan() const { return plan_; }

  // The port a number rings directly: a port's number, or one of its DIDs
  // (compared as E.164).
  std::optional<std::size_t> local_line(const CalledNumber& number) const;
  // The port a target URI names when it points at this gateway.
  std::optional<std::size_t> local_line_for_uri(std::string_view uri) const;
  // The digits to dial on an exchange line for `number`: as dialed when it
  // is not global; a global number in its national form (national prefix)
  // when it is in the home country, else with the international prefix.
  std::string exchange_digits(const CalledNumber& number) const;
  // This gateway's own URI for a port (sip:<number>@<sip.address>:<sip.port>).
  std::string line_uri(std::size_t line) const;

  RouteId route(const CalledNumber& number, const Caller& caller, RouteCallback callback);
  void cancel(RouteId id);

 private:
  struct Pending;
  void run_steps(RouteId id);
  void finish(RouteId id);
  void deliver_ready();
  std::optional<e164::E164> to_e164(const CalledNumber& number) const;
  std::optional<std::string> unusable_enum_uri(std::string_view uri) const;
  std::string trunk_uri(const config::TrunkConfig& trunk, const CalledNumber& number) const;

  const config::Config& config_;
  e164::EnumResolver* resolver_;
  DialPlan plan_;
  UserContacts user_contacts_;
  e164::NumberingPlan numbering_;
  std::map<RouteId, std::unique_ptr<Pending>> pending_;
  std::vector<RouteId> ready_;   // finished, callbacks not yet run
  base::DeferredCall deliver_;   // runs them from the loop
  RouteId next_id_ = 1;
};

}  // namespace sipline::gateway::route
