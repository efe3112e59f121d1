#include "route/router.hpp"

#include <glib.h>

#include <algorithm>

#include "sipline/base/log.hpp"
#include "sipline/enum/tel_uri.hpp"

namespace sipline::gateway::route {

namespace {

using base::Sub;
namespace log = base::log;

constexpr std::size_t kMaxEnumTargets = 8;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

// '#' is not allowed unescaped in a SIP URI user part (RFC 3261 §25.1).
std::string escape_user(std::string_view digits) {
  std::string out;
  for (char c : digits) {
    if (c == '#') {
      out += "%23";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string strip_separators(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != '.' && c != '(' && c != ')' && c != ' ') out.push_back(c);
  return out;
}

// The parts of a sip:/sips: URI this module needs.
struct SipUriParts {
  std::string user;    // without user parameters (";isub=...")
  std::string host;    // IPv6 without brackets
  int port = 0;        // 0 when absent
  std::string params;  // ";user=phone;..." lowercased
};

std::optional<SipUriParts> split_sip_uri(std::string_view uri) {
  std::string_view rest;
  if (lower(uri.substr(0, 4)) == "sip:") {
    rest = uri.substr(4);
  } else if (lower(uri.substr(0, 5)) == "sips:") {
    rest = uri.substr(5);
  } else {
    return std::nullopt;
  }
  if (const auto q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  SipUriParts p;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view user = rest.substr(0, at);
    if (const auto semi = user.find(';'); semi != std::string_view::npos) user = user.substr(0, semi);
    if (const auto colon = user.find(':'); colon != std::string_view::npos) user = user.substr(0, colon);  // password
    p.user = std::string(user);
    rest = rest.substr(at + 1);
  }
  std::string_view hostport = rest;
  if (const auto semi = rest.find(';'); semi != std::string_view::npos) {
    hostport = rest.substr(0, semi);
    p.params = lower(rest.substr(semi));
  }
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    p.host = std::string(hostport.substr(1, close - 1));
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && hostport.front() == ':') hostport = hostport.substr(1);
    else hostport = {};
  } else {
    const auto colon = hostport.find(':');
    p.host = std::string(hostport.substr(0, colon));
    hostport = colon == std::string_view::npos ? std::string_view{} : hostport.substr(colon + 1);
  }
  if (!hostport.empty()) {
    int port = 0;
    for (char c : hostport) {
      if (c < '0' || c > '9' || port > 65535) return std::nullopt;
      port = port * 10 + (c - '0');
    }
    p.port = port;
  }
  if (p.host.empty()) return std::nullopt;
  return p;
}

}  // namespace

base::Result<CalledNumber> called_from_request_uri(std::string_view uri) {
  const std::string l = lower(uri.substr(0, 4));
  if (l == "tel:") {
    auto tel = e164::parse_tel_uri(uri);
    if (!tel) return base::fail(RouteError::bad_uri, tel.error().message());
    CalledNumber n;
    if (auto global = e164::to_e164(*tel)) {
      n.e164 = *global;
      n.dialed = global->str();
    } else {
      n.dialed = tel->number;
    }
    return n;
  }
  auto parts = split_sip_uri(uri);
  if (!parts) return base::fail(RouteError::bad_uri, "Request-URI \"" + std::string(uri) + "\" is not sip:, sips: or tel:");
  if (parts->user.empty()) return base::fail(RouteError::bad_uri, "Request-URI has no user part");
  CalledNumber n;
  const bool phone = parts->params.find(";user=phone") != std::string::npos || parts->user.front() == '+';
  if (phone) {
    const std::string digits = strip_separators(parts->user);
    if (digits.empty()) return base::fail(RouteError::bad_uri, "Request-URI user has no digits");
    n.dialed = digits;
    if (digits.front() == '+') {
      if (auto e = e164::E164::parse(digits)) n.e164 = *e;
    }
  } else {
    n.dialed = parts->user;
  }
  return n;
}

struct Router::Pending {
  CalledNumber number;
  Caller caller;
  RouteCallback callback;
  RouteResult result;
  std::size_t rule = 0;
  std::vector<Step> steps;  // the rule's steps when routing began
  std::size_t step = 0;
  e164::LookupId lookup = 0;
  bool enum_failed = false;  // a lookup failed (not: found nothing)
};

Router::Router(const config::Config& config, e164::EnumResolver* resolver, GMainContext* context)
    : config_(config),
      resolver_(resolver),
      plan_(config.dial_plan),
      // The loader refuses countries without a plan; US is only a fallback.
      numbering_(e164::builtin_plan(config.routing.country).value_or(*e164::builtin_plan("US"))),
      deliver_(context, [this] { deliver_ready(); }) {}

Router::~Router() {
  deliver_.cancel();
  for (auto& [id, p] : pending_)
    if (p->lookup && resolver_) resolver_->cancel(p->lookup);
}

// This gateway's own URI for a port: what a line target is called.
std::string Router::line_uri(std::size_t line) const {
  const std::string& a = config_.sip.address;
  const std::string host = a.find(':') != std::string::npos ? "[" + a + "]" : a;
  return "sip:" + config_.lines.ports[line].number + "@" + host + ":" + std::to_string(config_.sip.port);
}

// Why an ENUM SIP URI must not be called (or put in a 302), if it must not:
// only sip:/sips: URIs without headers, maddr or characters that would break a
// header are used; one naming this gateway but none of its ports would loop.
std::optional<std::string> Router::unusable_enum_uri(std::string_view uri) const {
  const std::string l = lower(uri);
  if (!l.starts_with("sip:") && !l.starts_with("sips:")) return "not a sip: or sips: URI";
  if (uri.find_first_of("<>\",?\\ \t\r\n") != std::string_view::npos) return "headers or characters not allowed in a URI";
  if (l.find(";maddr=") != std::string::npos) return "maddr is not accepted from DNS";
  auto parts = split_sip_uri(uri);
  if (!parts) return "malformed URI";
  const int port = parts->port != 0 ? parts->port : (l.starts_with("sips:") ? 5061 : 5060);
  if (lower(parts->host) == lower(config_.sip.address) && port == config_.sip.port) {
    return "names this gateway but none of its ports";
  }
  return std::nullopt;
}

std::optional<e164::E164> Router::to_e164(const CalledNumber& number) const {
  if (number.e164) return number.e164;
  auto e = e164::normalise(number.dialed, numbering_);
  if (!e) return std::nullopt;
  return *e;
}

std::string Router::exchange_digits(const CalledNumber& number) const {
  if (!number.e164 && (number.dialed.empty() || number.dialed[0] != '+')) return number.dialed;
  const auto e = to_e164(number);
  if (!e) return number.dialed;
  const std::string digits = e->str().substr(1);
  if (!numbering_.country_code.empty() && digits.starts_with(numbering_.country_code)) {
    return numbering_.national_prefix + digits.substr(numbering_.country_code.size());
  }
  return numbering_.international_prefix + digits;
}

std::optional<std::size_t> Router::local_line(const CalledNumber& number) const {
  const auto& ports = config_.lines.ports;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (!number.e164 && ports[i].number == number.dialed) return i;
    for (const auto& did : ports[i].did) {
      if (number.e164 && number.e164->str() == did) return i;
      if (!number.e164 && number.dialed == did) return i;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> Router::local_line_for_uri(std::string_view uri) const {
  if (lower(uri.substr(0, 4)) == "tel:") {
    auto n = called_from_request_uri(uri);
    if (!n || !n->e164) return std::nullopt;
    return local_line(*n);
  }
  auto parts = split_sip_uri(uri);
  if (!parts) return std::nullopt;
  const bool sips = lower(uri.substr(0, 5)) == "sips:";
  const int port = parts->port != 0 ? parts->port : (sips ? 5061 : 5060);
  if (lower(parts->host) != lower(config_.sip.address) || port != config_.sip.port) return std::nullopt;
  auto n = called_from_request_uri(uri);
  if (!n) return std::nullopt;
  return local_line(*n);
}

std::string Router::trunk_uri(const config::TrunkConfig& trunk, const CalledNumber& number) const {
  std::string user = escape_user(number.dialed);
  if (trunk.number_format == config::NumberFormat::e164) {
    if (auto e = to_e164(number)) user = e->str();
  }
  const std::size_t colon = trunk.uri.find(':');
  return trunk.uri.substr(0, colon + 1) + user + "@" + trunk.uri.substr(colon + 1);
}

RouteId Router::route(const CalledNumber& number, const Caller& caller, RouteCallback callback) {
  const RouteId id = next_id_++;
  auto p = std::make_unique<Pending>();
  p->number = number;
  // The steps are copied: a reload while ENUM works must not change them.
  p->caller = caller;
  p->callback = std::move(callback);
  const DialMatch m = plan_.match(number.dialed, caller);
  Pending& ref = *p;
  pending_.emplace(id, std::move(p));
  const NumberClass toll = classify(to_e164(number), numbering_, config_.routing.toll);
  if ((m.kind == MatchKind::complete || m.kind == MatchKind::ambiguous) && !permits(caller.permissions, toll)) {
    // Toll-fraud defence: whatever the rule allows, the caller needs the class.
    ref.result.status = 403;
    ref.result.reason = std::string(number_class_name(toll)) + " numbers need the \"" +
                        std::string(number_class_name(toll)) + "\" permission";
    log::warn(Sub::route, "event=toll_class_denied number={} class={} port={} user={} source={}", number.dialed,
              number_class_name(toll), caller.port, caller.user, caller.address);
    finish(id);
  } else if (m.kind == MatchKind::complete || m.kind == MatchKind::ambiguous) {
    ref.rule = m.rule;
    ref.steps = plan_.steps(m.rule);
    ref.result.matched = true;
    ref.result.rule = plan_.rules()[m.rule].pattern;
    run_steps(id);
  } else {
    ref.result.status = m.denied ? 403 : 404;
    ref.result.reason = m.denied ? "the rules for this number do not admit the caller" : "no dial plan rule matches";
    finish(id);
  }
  return id;
}

void Router::cancel(RouteId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  if (it->second->lookup && resolver_) resolver_->cancel(it->second->lookup);
  pending_.erase(it);
}

void Router::run_steps(RouteId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& p = *it->second;
  while (p.step < p.steps.size()) {
    const Step step = p.steps[p.step++];
    switch (step.kind) {
      case StepKind::reject:
        p.result.targets.push_back({.kind = RouteTarget::Kind::reject, .uri = {}, .line = 0, .status = step.status,
                                    .step = "reject"});
        finish(id);
        return;
      case StepKind::sip: {
        const auto e = to_e164(p.number);
        p.result.targets.push_back({.kind = RouteTarget::Kind::sip,
                                    .uri = substitute(step.arg, escape_user(p.number.dialed),
                                                      e ? e->str() : escape_user(p.number.dialed)),
                                    .line = 0, .status = 0, .step = "sip"});
        break;
      }
      case StepKind::fxo: {
        const auto& ports = config_.lines.ports;
        auto port = std::find_if(ports.begin(), ports.end(), [&](const config::PortConfig& pc) {
          return pc.name == step.arg && pc.kind == config::PortKind::fxo;
        });
        if (port == ports.end()) {
          log::warn(Sub::route, "event=step_skipped step=fxo:{} why=\"no such FXO port\"", step.arg);
          break;
        }
        p.result.targets.push_back({.kind = RouteTarget::Kind::line,
                                    .uri = {},
                                    .line = static_cast<std::size_t>(port - ports.begin()),
                                    .dial = exchange_digits(p.number),
                                    .status = 0,
                                    .step = "fxo:" + step.arg});
        break;
      }
      case StepKind::user: {
        const std::string user = substitute(step.arg, escape_user(p.number.dialed), escape_user(p.number.dialed));
        const auto groups = user_contacts_ ? user_contacts_(user) : std::vector<std::vector<std::string>>{};
        std::size_t contacts = 0;
        for (const auto& group : groups) {
          for (std::size_t i = 0; i < group.size(); ++i, ++contacts)
            p.result.targets.push_back({.kind = RouteTarget::Kind::sip, .uri = group[i], .line = 0, .status = 0,
                                        .step = "user:" + user, .parallel = i > 0});
        }
        log::info(Sub::route, "event=user_contacts user={} contacts={}", user, contacts);
        break;
      }
      case StepKind::trunk: {
        auto trunk = std::find_if(config_.trunks.begin(), config_.trunks.end(),
                                  [&](const config::TrunkConfig& t) { return t.name == step.arg; });
        if (trunk == config_.trunks.end()) {
          // A reloaded dial plan may name a trunk added after start; trunks are read at start only.
          log::warn(Sub::route, "event=step_skipped step=trunk:{} why=\"no such trunk since start\"", step.arg);
          break;
        }
        p.result.targets.push_back({.kind = RouteTarget::Kind::sip, .uri = trunk_uri(*trunk, p.number), .line = 0,
                                    .status = 0, .step = "trunk:" + trunk->name});
        break;
      }
      case StepKind::enum_lookup: {
        const auto number = to_e164(p.number);
        if (!number || !resolver_) {
          log::info(Sub::route, "event=enum_skipped number={} why={}", p.number.dialed,
                    number ? "no resolver" : "not an E.164 number");
          break;
        }
        log::info(Sub::route, "event=enum_lookup number={}", number->str());
        p.lookup = resolver_->lookup(*number, [this, id](const e164::LookupResult& r) {
          auto it2 = pending_.find(id);
          if (it2 == pending_.end()) return;
          Pending& q = *it2->second;
          q.lookup = 0;
          if (r.error) {
            log::info(Sub::route, "event=enum_no_targets number={} error=\"{}\" ms={}", r.number.str(),
                      r.error->message(), r.elapsed.count() / 1000);
            q.enum_failed = q.enum_failed || !r.error->is(e164::EnumError::not_found);
          }
          std::size_t used = 0;
          for (const auto& t : r.targets) {
            if (used == kMaxEnumTargets) break;
            if (auto line = local_line_for_uri(t.uri)) {
              q.result.targets.push_back({.kind = RouteTarget::Kind::line, .uri = line_uri(*line), .line = *line,
                                          .status = 0, .step = "enum"});
              ++used;
            } else if (auto why = unusable_enum_uri(t.uri)) {
              log::info(Sub::route, "event=enum_target_refused uri=\"{}\" why=\"{}\"", t.uri, *why);
            } else {
              q.result.targets.push_back({.kind = RouteTarget::Kind::sip, .uri = t.uri, .line = 0, .status = 0,
                                          .step = "enum"});
              ++used;
            }
          }
          log::info(Sub::route, "event=enum_result number={} targets={} used={} ms={}", r.number.str(),
                    r.targets.size(), used, r.elapsed.count() / 1000);
          run_steps(id);
        });
        return;  // continues in the callback
      }
    }
  }
  finish(id);
}

void Router::finish(RouteId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  RouteResult& r = it->second->result;
  if (r.targets.empty() && r.status == 0) {
    r.status = it->second->enum_failed ? 480 : 404;
    r.reason = it->second->enum_failed ? "number lookups failed" : "no route found for the number";
  }
  // Deliver from the loop, never inside route().
  ready_.push_back(id);
  deliver_.schedule();
}

void Router::deliver_ready() {
  auto ready = std::move(ready_);
  ready_.clear();
  for (RouteId rid : ready) {
    auto node = pending_.extract(rid);
    if (!node.empty() && node.mapped()->callback) node.mapped()->callback(node.mapped()->result);
  }
}

}  // namespace sipline::gateway::route
