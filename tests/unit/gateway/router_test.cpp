#include "route/router.hpp"

#include <glib.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::route {
namespace {

// An EnumResolver that answers from a table: a number it knows gives its
// URIs, an entry made with fail() gives that error, anything else not_found.
// Answers come from a GLib idle source on the given context, or, with
// hold = true, only when the test calls deliver().
class FakeResolver final : public e164::EnumResolver {
 public:
  explicit FakeResolver(GMainContext* context) : context_(context) {}
  ~FakeResolver() override {
    if (idle_ != nullptr) {
      g_source_destroy(idle_);
      g_source_unref(idle_);
    }
  }

  void answer(const std::string& number, std::vector<std::string> uris) {
    table_[number] = Entry{std::move(uris), std::nullopt};
  }
  void fail(const std::string& number, e164::EnumError code) {
    table_[number] = Entry{{}, code};
  }

  e164::LookupId lookup(const e164::E164& number, e164::LookupCallback callback) override {
    const e164::LookupId id = next_id_++;
    lookups.push_back(number.str());
    pending_.emplace(id, Pending{number, std::move(callback)});
    if (!hold) schedule();
    return id;
  }
  void cancel(e164::LookupId id) override {
    cancels.push_back(id);
    pending_.erase(id);
  }
  e164::ResolverStats stats() const override { return {}; }
  void clear_cache() override {}
  const e164::ResolverConfig& config() const override { return config_; }

  // Answers every pending lookup now (lookups started by those callbacks wait).
  void deliver() {
    std::vector<e164::LookupId> ids;
    for (const auto& [id, p] : pending_) ids.push_back(id);
    for (e164::LookupId id : ids) {
      auto node = pending_.extract(id);
      if (node.empty()) continue;
      node.mapped().callback(result_for(node.mapped().number));
    }
  }
  std::size_t pending() const { return pending_.size(); }
  e164::LookupId last_id() const { return next_id_ - 1; }

  bool hold = false;
  std::vector<std::string> lookups;       // numbers asked, in order
  std::vector<e164::LookupId> cancels;

 private:
  struct Entry {
    std::vector<std::string> uris;
    std::optional<e164::EnumError> error;
  };
  struct Pending {
    e164::E164 number;
    e164::LookupCallback callback;
  };

  e164::LookupResult result_for(const e164::E164& number) const {
    e164::LookupResult r{.number = number, .suffix = "e164.arpa", .targets = {}, .error = std::nullopt,
                         .queries = {}, .elapsed = std::chrono::microseconds{1000}};
    auto it = table_.find(number.str());
    if (it == table_.end()) {
      r.error = base::Error(e164::EnumError::not_found, "no NAPTR records");
    } else if (it->second.error) {
      r.error = base::Error(*it->second.error, "lookup failed");
    } else {
      std::uint16_t order = 10;
      for (const auto& uri : it->second.uris) {
        const bool tel = uri.starts_with("tel:");
        r.targets.push_back({.uri = uri, .service = tel ? "E2U+tel" : "E2U+sip", .order = order, .preference = 10});
        order = static_cast<std::uint16_t>(order + 10);
      }
    }
    return r;
  }

  void schedule() {
    if (idle_ != nullptr) return;
    idle_ = g_idle_source_new();
    g_source_set_callback(
        idle_,
        [](gpointer data) noexcept -> gboolean {
          auto* self = static_cast<FakeResolver*>(data);
          g_source_unref(self->idle_);
          self->idle_ = nullptr;
          self->deliver();
          return G_SOURCE_REMOVE;
        },
        this, nullptr);
    g_source_attach(idle_, context_);
  }

  GMainContext* context_;
  e164::ResolverConfig config_;
  std::map<std::string, Entry> table_;
  std::map<e164::LookupId, Pending> pending_;
  GSource* idle_ = nullptr;
  e164::LookupId next_id_ = 1;
};

constexpr const char* kConfig = R"(
[sip]
address = "127.0.0.1"
port = 5060
[routing]
country = "US"
[[lines.port]]
name = "fxs1"
number = "201"
did = ["+12025550201"]
[[lines.port]]
name = "fxs2"
number = "202"
did = ["+12025550202", "+12025550299"]
[[trunk]]
name = "carrier"
uri = "sip:trunk.example:5070;transport=tcp"
[[trunk]]
name = "local"
uri = "sip:192.0.2.10"
number_format = "dialed"
)";

config::Config load(const std::string& text = kConfig) {
  auto c = config::parse_config(text, "router_test.toml");
  EXPECT_TRUE(c) << c.error().message();
  return c ? *c : config::Config{};
}

DialPlan plan(std::vector<DialRule> rules) {
  auto p = DialPlan::create(std::move(rules));
  EXPECT_TRUE(p) << p.error().message();
  return p ? *p : DialPlan{};
}

CalledNumber dialed(std::string digits) { return CalledNumber{.dialed = std::move(digits), .e164 = std::nullopt}; }
CalledNumber global(const std::string& plus) {
  return CalledNumber{.dialed = plus, .e164 = *e164::E164::parse(plus)};
}

const Caller kPhone{.line = true, .port = "fxs1", .address = {}, .user = {}, .permissions = {}};
const Caller kSipCaller{.line = false, .port = {}, .address = "192.0.2.55", .user = {}, .permissions = {}};
// The same callers allowed international numbers (for tests about routing them).
const Caller kPhoneAbroad{.line = true, .port = "fxs1", .address = {}, .user = {}, .permissions = {.international = true}};
const Caller kSipCallerAbroad{.line = false, .port = {}, .address = "192.0.2.55", .user = {},
                              .permissions = {.international = true}};

// A context of the test's own; iterated without blocking.
struct Loop {
  Loop() : context(g_main_context_new()) {}
  ~Loop() { g_main_context_unref(context); }
  // Iterates until `done` or a bound; true when done.
  bool run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) g_main_context_iteration(context, FALSE);
    return done();
  }
  void drain() {
    for (int i = 0; i < 1000 && g_main_context_iteration(context, FALSE); ++i) {
    }
  }
  GMainContext* context;
};

// Routes and waits for the callback; fails the test if it never comes, runs
// more than once or runs inside route().
struct Routed {
  std::optional<RouteResult> result;
  int calls = 0;
  bool inside_route = false;
};
RouteResult route_and_wait(Loop& loop, Router& router, const CalledNumber& number, const Caller& caller) {
  Routed r;
  bool in_route = true;
  router.route(number, caller, [&](const RouteResult& res) {
    r.result = res;
    ++r.calls;
    r.inside_route = in_route;
  });
  in_route = false;
  EXPECT_TRUE(loop.run_until([&] { return r.result.has_value(); })) << "the route callback never ran";
  loop.drain();
  EXPECT_EQ(r.calls, 1);
  EXPECT_FALSE(r.inside_route) << "the callback ran inside route()";
  return r.result.value_or(RouteResult{});
}

std::vector<std::string> uris(const RouteResult& r) {
  std::vector<std::string> out;
  for (const auto& t : r.targets) out.push_back(t.uri);
  return out;
}

// --- called_from_request_uri -------------------------------------------------

TEST(CalledFromRequestUri, TelGlobalNumberLosesItsSeparators) {
  auto n = called_from_request_uri("tel:+1-202-555-0150");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->dialed, "+12025550150");
  ASSERT_TRUE(n->e164);
  EXPECT_EQ(n->e164->str(), "+12025550150");
}

TEST(CalledFromRequestUri, TelLocalNumberWithGlobalContextBecomesGlobal) {
  auto n = called_from_request_uri("tel:555-0150;phone-context=+1-202");
  ASSERT_TRUE(n) << n.error().message();
  ASSERT_TRUE(n->e164);
  EXPECT_EQ(n->e164->str(), "+12025550150");
  EXPECT_EQ(n->dialed, "+12025550150");
}

TEST(CalledFromRequestUri, TelLocalNumberWithDomainContextStaysLocal) {
  auto n = called_from_request_uri("tel:7042;phone-context=example.com");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->dialed, "7042");
  EXPECT_FALSE(n->e164);
}

TEST(CalledFromRequestUri, SipUserPhoneLosesVisualSeparators) {
  auto n = called_from_request_uri("sip:+1-202-(555)-0150@gw.example;user=phone");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->dialed, "+12025550150");
  ASSERT_TRUE(n->e164);
  EXPECT_EQ(n->e164->str(), "+12025550150");

  auto national = called_from_request_uri("sip:1.202.555.0150@gw.example;transport=udp;User=Phone");
  ASSERT_TRUE(national) << national.error().message();
  EXPECT_EQ(national->dialed, "12025550150");
  EXPECT_FALSE(national->e164);  // not global: the dial plan and numbering plan decide
}

TEST(CalledFromRequestUri, SipPlusUserIsATelephoneNumberWithoutUserPhone) {
  auto n = called_from_request_uri("sip:+12025550150@127.0.0.1:5060");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->dialed, "+12025550150");
  ASSERT_TRUE(n->e164);
  EXPECT_EQ(n->e164->str(), "+12025550150");

  auto upper = called_from_request_uri("SIP:+1-202-555-0150@gw");
  ASSERT_TRUE(upper) << upper.error().message();
  ASSERT_TRUE(upper->e164);
  EXPECT_EQ(upper->e164->str(), "+12025550150");

  auto sips = called_from_request_uri("sips:+12025550150;isub=12@gw");
  ASSERT_TRUE(sips) << sips.error().message();
  ASSERT_TRUE(sips->e164);
  EXPECT_EQ(sips->e164->str(), "+12025550150");
}

TEST(CalledFromRequestUri, PlainSipUserIsKeptAsItIs) {
  auto n = called_from_request_uri("sip:201@127.0.0.1:5060;transport=udp");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->dialed, "201");
  EXPECT_FALSE(n->e164);

  auto digits = called_from_request_uri("sip:12025550150@gw");
  ASSERT_TRUE(digits);
  EXPECT_EQ(digits->dialed, "12025550150");
  EXPECT_FALSE(digits->e164);

  auto withpw = called_from_request_uri("sip:201:secret@gw");
  ASSERT_TRUE(withpw);
  EXPECT_EQ(withpw->dialed, "201");
}

TEST(CalledFromRequestUri, GarbageIsBadUri) {
  for (const char* uri : {"", "201", "http://gw/201", "sip:", "sip:gw.example", "sip:@gw.example", "sip:201@",
                          "tel:", "tel:abc", "tel:5550150", "sip:201@[::1"}) {
    auto n = called_from_request_uri(uri);
    EXPECT_FALSE(n) << "\"" << uri << "\" gave dialed=\"" << (n ? n->dialed : "") << "\"";
    if (!n) {
      EXPECT_TRUE(n.error().is(RouteError::bad_uri)) << uri;
      EXPECT_FALSE(n.error().message().empty()) << uri;
    }
  }
}

TEST(CalledFromRequestUri, TelephoneUserMadeOfSeparatorsOnlyIsBadUri) {
  // user=phone with no digits at all leaves nothing to route.
  for (const char* uri : {"sip:-@gw;user=phone", "sip:(.)@gw;user=phone"}) {
    auto n = called_from_request_uri(uri);
    EXPECT_FALSE(n) << "\"" << uri << "\" gave dialed=\"" << (n ? n->dialed : "") << "\"";
  }
}

// --- local_line / local_line_for_uri -----------------------------------------

TEST(RouterLocalLine, ByNumberAndByDid) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  EXPECT_EQ(router.local_line(dialed("201")), 0u);
  EXPECT_EQ(router.local_line(dialed("202")), 1u);
  EXPECT_EQ(router.local_line(global("+12025550201")), 0u);
  EXPECT_EQ(router.local_line(global("+12025550202")), 1u);
  EXPECT_EQ(router.local_line(global("+12025550299")), 1u);
  EXPECT_EQ(router.local_line(dialed("+12025550299")), 1u);  // as written in the config
  EXPECT_FALSE(router.local_line(dialed("203")));
  EXPECT_FALSE(router.local_line(global("+12025550203")));
  EXPECT_FALSE(router.local_line(dialed("")));
}

// Digits for an exchange line (routing.country US: 1 national, 011 international).
TEST(RouterExchangeDigits, NationalFormAtHomeInternationalPrefixAbroadAsDialedOtherwise) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  EXPECT_EQ(router.exchange_digits(global("+12025550150")), "12025550150");
  EXPECT_EQ(router.exchange_digits(global("+442079460000")), "011442079460000");
  EXPECT_EQ(router.exchange_digits(dialed("5551234")), "5551234");
  EXPECT_EQ(router.exchange_digits(dialed("+33123456789")), "01133123456789");
}

TEST(RouterLocalLine, UriAtTheGatewayAddressAndPort) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  EXPECT_EQ(router.local_line_for_uri("sip:201@127.0.0.1:5060"), 0u);
  EXPECT_EQ(router.local_line_for_uri("sip:201@127.0.0.1"), 0u);  // no port: 5060
  EXPECT_EQ(router.local_line_for_uri("sip:202@127.0.0.1;transport=udp"), 1u);
  EXPECT_EQ(router.local_line_for_uri("SIP:202@127.0.0.1:5060"), 1u);
  EXPECT_FALSE(router.local_line_for_uri("sips:202@127.0.0.1"));  // sips: without a port is 5061
  EXPECT_EQ(router.local_line_for_uri("sips:202@127.0.0.1:5060"), 1u);
  EXPECT_EQ(router.local_line_for_uri("sip:+12025550202@127.0.0.1:5060;user=phone"), 1u);
  EXPECT_EQ(router.local_line_for_uri("sip:+1-202-555-0299@127.0.0.1"), 1u);
  EXPECT_FALSE(router.local_line_for_uri("sip:201@127.0.0.1:5070"));   // another port
  EXPECT_FALSE(router.local_line_for_uri("sip:201@192.0.2.1"));        // another host
  EXPECT_FALSE(router.local_line_for_uri("sip:201@gw.example"));
  EXPECT_FALSE(router.local_line_for_uri("sip:203@127.0.0.1"));        // no such port
  EXPECT_FALSE(router.local_line_for_uri("sip:127.0.0.1"));
  EXPECT_FALSE(router.local_line_for_uri("garbage"));
}

TEST(RouterLocalLine, TelUriOfADid) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  EXPECT_EQ(router.local_line_for_uri("tel:+1-202-555-0201"), 0u);
  EXPECT_EQ(router.local_line_for_uri("tel:+12025550299"), 1u);
  EXPECT_FALSE(router.local_line_for_uri("tel:+12025550150"));
  EXPECT_FALSE(router.local_line_for_uri("tel:201;phone-context=example.com"));  // not global
}

TEST(RouterLocalLine, NonDefaultPortAndIpv6Address) {
  Loop loop;
  const auto c = load("[sip]\naddress = \"::1\"\nport = 5070\n");
  Router router(c, nullptr, loop.context);
  EXPECT_EQ(router.local_line_for_uri("sip:201@[::1]:5070"), 0u);
  EXPECT_FALSE(router.local_line_for_uri("sip:201@[::1]"));  // 5060
  EXPECT_FALSE(router.local_line_for_uri("sip:201@127.0.0.1:5070"));

  const auto v6 = load("[sip]\naddress = \"::1\"\n");
  Router r6(v6, nullptr, loop.context);
  EXPECT_EQ(r6.local_line_for_uri("sip:202@[::1]"), 1u);
  EXPECT_EQ(r6.local_line_for_uri("sip:202@[::1]:5060"), 1u);
}

// --- route() ----------------------------------------------------------------

TEST(RouterRoute, RejectStepEndsTheList) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("9.", "", {"sip:$digits@first", "reject 486", "sip:$digits@never"})}));
  auto r = route_and_wait(loop, router, dialed("912"), kPhone);
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.rule, "9.");
  EXPECT_EQ(r.status, 0);
  ASSERT_EQ(r.targets.size(), 2u);
  EXPECT_EQ(r.targets[0].kind, RouteTarget::Kind::sip);
  EXPECT_EQ(r.targets[0].uri, "sip:912@first");
  EXPECT_EQ(r.targets[1].kind, RouteTarget::Kind::reject);
  EXPECT_EQ(r.targets[1].status, 486);
  EXPECT_EQ(r.targets[1].step, "reject");

  router.set_dial_plan(plan({DialRule("9.", "", {"reject"})}));
  auto plain = route_and_wait(loop, router, dialed("912"), kPhone);
  ASSERT_EQ(plain.targets.size(), 1u);
  EXPECT_EQ(plain.targets[0].kind, RouteTarget::Kind::reject);
  EXPECT_EQ(plain.targets[0].status, 403);
}

TEST(RouterRoute, SipStepFillsDigitsAndE164) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("1NXXNXXXXXX", "sip:$e164@pstn.example;user=phone",
                                      {"sip:$digits@other.example", "sips:$e164@secure.example"}),
                             DialRule("*7X", "", {"sip:$digits@feature;e=$e164"})}));
  auto r = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:+12025550150@pstn.example;user=phone",
                                                "sip:12025550150@other.example",
                                                "sips:+12025550150@secure.example"}));
  for (const auto& t : r.targets) {
    EXPECT_EQ(t.kind, RouteTarget::Kind::sip);
    EXPECT_EQ(t.step, "sip");
  }
  // A number that is not E.164: $e164 falls back to the digits.
  auto feature = route_and_wait(loop, router, dialed("*72"), kPhone);
  EXPECT_EQ(uris(feature), (std::vector<std::string>{"sip:*72@feature;e=*72"}));
}

TEST(RouterRoute, UserStepCallsTheRegisteredContactsAndAnOfflineUserFallsThrough) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("3XX", "", {"user:$digits", "sip:voicemail@vm.example"}),
                             DialRule("401", "", {"user:alice", "reject 480"})}));
  std::vector<std::string> asked;
  router.set_user_contacts([&](std::string_view user) {
    asked.emplace_back(user);
    using Groups = std::vector<std::vector<std::string>>;
    // Two contacts of equal q, then one of lower q.
    return user == "301" ? Groups{{"sip:301@192.0.2.7:5062", "sip:301@192.0.2.8:5060"}, {"sip:301@192.0.2.9:5060"}}
                         : Groups{};
  });
  auto r = route_and_wait(loop, router, dialed("301"), kPhone);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:301@192.0.2.7:5062", "sip:301@192.0.2.8:5060",
                                                "sip:301@192.0.2.9:5060", "sip:voicemail@vm.example"}));
  EXPECT_EQ(r.targets[0].step, "user:301");
  // Equal q rings at once: the second contact is parallel to the first.
  std::vector<bool> parallel;
  for (const auto& t : r.targets) parallel.push_back(t.parallel);
  EXPECT_EQ(parallel, (std::vector<bool>{false, true, false, false}));
  auto offline = route_and_wait(loop, router, dialed("401"), kPhone);
  ASSERT_EQ(offline.targets.size(), 1u);
  EXPECT_EQ(offline.targets[0].kind, RouteTarget::Kind::reject);
  EXPECT_EQ(offline.targets[0].status, 480);
  EXPECT_EQ(asked, (std::vector<std::string>{"301", "alice"}));
}

TEST(RouterRoute, TrunkGetsE164OrTheDialedNumber) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"trunk:carrier", "trunk:local"})}));

  auto r = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  ASSERT_EQ(r.targets.size(), 2u);
  EXPECT_EQ(r.targets[0].uri, "sip:+12025550150@trunk.example:5070;transport=tcp");
  EXPECT_EQ(r.targets[0].step, "trunk:carrier");
  EXPECT_EQ(r.targets[1].uri, "sip:12025550150@192.0.2.10");
  EXPECT_EQ(r.targets[1].step, "trunk:local");

  // Ten digits without the national prefix, and the international prefix 011 (US).
  auto ten = route_and_wait(loop, router, dialed("2025550150"), kPhone);
  ASSERT_FALSE(ten.targets.empty());
  EXPECT_EQ(ten.targets[0].uri, "sip:+12025550150@trunk.example:5070;transport=tcp");
  auto intl = route_and_wait(loop, router, dialed("011442079460000"), kPhoneAbroad);
  ASSERT_EQ(intl.targets.size(), 2u);
  EXPECT_EQ(intl.targets[0].uri, "sip:+442079460000@trunk.example:5070;transport=tcp");
  EXPECT_EQ(intl.targets[1].uri, "sip:011442079460000@192.0.2.10");
}

TEST(RouterRoute, TrunkNormalisesWithTheRoutingCountry) {
  Loop loop;
  auto jp_text = std::string(kConfig);
  jp_text.replace(jp_text.find("country = \"US\""), 14, "country = \"JP\"");
  const auto jp = load(jp_text);
  Router router(jp, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"trunk:carrier"})}));
  auto r = route_and_wait(loop, router, dialed("0312345678"), kPhone);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].uri, "sip:+81312345678@trunk.example:5070;transport=tcp");
}

TEST(RouterRoute, EnumTargetsAreMappedInOrder) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.answer("+12025550150", {"sip:alice@example.com", "tel:+12025550199", "sip:201@127.0.0.1",
                                   "sips:bob@example.net;transport=tls", "sip:+12025550202@127.0.0.1:5060;user=phone",
                                   "tel:+12025550201", "sip:carol@example.org:5070"});
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("1NXXNXXXXXX", "", {"enum", "trunk:carrier"})}));
  auto r = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  EXPECT_EQ(resolver.lookups, (std::vector<std::string>{"+12025550150"}));
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.status, 0);
  ASSERT_EQ(r.targets.size(), 7u) << ::testing::PrintToString(uris(r));
  EXPECT_EQ(r.targets[0].kind, RouteTarget::Kind::sip);
  EXPECT_EQ(r.targets[0].uri, "sip:alice@example.com");
  EXPECT_EQ(r.targets[0].step, "enum");
  // tel:+12025550199 is skipped (a trunk carries PSTN numbers).
  EXPECT_EQ(r.targets[1].kind, RouteTarget::Kind::line);
  EXPECT_EQ(r.targets[1].line, 0u);
  EXPECT_EQ(r.targets[1].uri, "sip:201@127.0.0.1:5060");  // this gateway's URI for the port
  EXPECT_EQ(r.targets[2].kind, RouteTarget::Kind::sip);
  EXPECT_EQ(r.targets[2].uri, "sips:bob@example.net;transport=tls");
  EXPECT_EQ(r.targets[3].kind, RouteTarget::Kind::line);
  EXPECT_EQ(r.targets[3].line, 1u);
  EXPECT_EQ(r.targets[3].uri, "sip:202@127.0.0.1:5060");
  EXPECT_EQ(r.targets[4].kind, RouteTarget::Kind::line);  // tel: of a DID rings the port
  EXPECT_EQ(r.targets[4].line, 0u);
  EXPECT_EQ(r.targets[4].uri, "sip:201@127.0.0.1:5060");
  EXPECT_EQ(r.targets[5].uri, "sip:carol@example.org:5070");
  EXPECT_EQ(r.targets[6].uri, "sip:+12025550150@trunk.example:5070;transport=tcp");
  EXPECT_EQ(r.targets[6].step, "trunk:carrier");
}

TEST(RouterRoute, EnumUrisThatCouldLoopOrInjectAreRefused) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.answer("+12025550150", {"sip:999@127.0.0.1", "sip:999@127.0.0.1:5060;transport=udp",
                                   "sip:x@example.com?Subject=hi", "sip:x@example.com;maddr=10.0.0.1",
                                   "sip:x y@example.com", "sip:x@example.com>;tag=1", "sip:ok@example.com",
                                   "sip:999@127.0.0.1:5080"});
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum"})}));
  auto r = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:ok@example.com", "sip:999@127.0.0.1:5080"}));
}

TEST(RouterRoute, HashInADialedNumberIsEscapedInUriUsers) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("*X#", "", {"sip:$digits@feature", "sip:$e164@e", "trunk:local"})}));
  auto r = route_and_wait(loop, router, dialed("*5#"), kPhone);
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:*5%23@feature", "sip:*5%23@e", "sip:*5%23@192.0.2.10"}));
}

TEST(RouterRoute, ARouteKeepsItsStepsWhenTheDialPlanChangesMeanwhile) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.hold = true;
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum", "sip:$digits@before"})}));
  std::optional<RouteResult> got;
  router.route(dialed("12025550150"), kPhone, [&](const RouteResult& r) { got = r; });
  router.set_dial_plan(plan({DialRule("2XX", "", {"reject"})}));  // fewer rules and steps
  resolver.deliver();
  EXPECT_TRUE(loop.run_until([&] { return got.has_value(); }));
  ASSERT_TRUE(got);
  EXPECT_EQ(uris(*got), (std::vector<std::string>{"sip:12025550150@before"}));
}

TEST(RouterRoute, EnumUsesTheGlobalNumberOfTheCaller) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.answer("+442079460000", {"sip:london@example.co.uk"});
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("+X.", "", {"enum"}, {"sip"})}));
  auto r = route_and_wait(loop, router, global("+442079460000"), kSipCallerAbroad);
  EXPECT_EQ(resolver.lookups, (std::vector<std::string>{"+442079460000"}));
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:london@example.co.uk"}));
}

TEST(RouterRoute, EnumNotFoundFallsToTheNextStep) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum", "trunk:local"})}));
  auto r = route_and_wait(loop, router, dialed("12025550151"), kPhone);
  EXPECT_EQ(resolver.lookups.size(), 1u);
  EXPECT_EQ(r.status, 0);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].uri, "sip:12025550151@192.0.2.10");

  // Not found and nothing else: 404.
  router.set_dial_plan(plan({DialRule("X.", "", {"enum"})}));
  auto none = route_and_wait(loop, router, dialed("12025550151"), kPhone);
  EXPECT_TRUE(none.matched);
  EXPECT_TRUE(none.targets.empty());
  EXPECT_EQ(none.status, 404);
}

TEST(RouterRoute, EnumTimeoutWithoutOtherStepsIs480) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.fail("+12025550150", e164::EnumError::timeout);
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum"})}));
  auto r = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  EXPECT_TRUE(r.matched);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_EQ(r.status, 480);
  EXPECT_FALSE(r.reason.empty());

  resolver.fail("+12025550150", e164::EnumError::server_failure);
  EXPECT_EQ(route_and_wait(loop, router, dialed("12025550150"), kPhone).status, 480);

  // With a trunk after it the trunk is the route.
  router.set_dial_plan(plan({DialRule("X.", "", {"enum", "trunk:carrier"})}));
  auto fallback = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  EXPECT_EQ(fallback.status, 0);
  EXPECT_EQ(uris(fallback), (std::vector<std::string>{"sip:+12025550150@trunk.example:5070;transport=tcp"}));
}

TEST(RouterRoute, EnumIsSkippedForNumbersThatAreNotE164OrWithoutResolver) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("*7X", "", {"enum", "sip:$digits@feature"})}));
  auto r = route_and_wait(loop, router, dialed("*72"), kPhone);
  EXPECT_TRUE(resolver.lookups.empty());
  EXPECT_EQ(uris(r), (std::vector<std::string>{"sip:*72@feature"}));

  Router no_resolver(c, nullptr, loop.context);
  no_resolver.set_dial_plan(plan({DialRule("X.", "", {"enum"})}));
  auto none = route_and_wait(loop, no_resolver, dialed("12025550150"), kPhone);
  EXPECT_TRUE(none.targets.empty());
  EXPECT_EQ(none.status, 404);
}

TEST(RouterRoute, AtMostEightEnumTargets) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  std::vector<std::string> many;
  for (int i = 0; i < 12; ++i) many.push_back("sip:n" + std::to_string(i) + "@example.com");
  resolver.answer("+12025550150", many);
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum"})}));
  auto r = route_and_wait(loop, router, dialed("12025550150"), kPhone);
  ASSERT_EQ(r.targets.size(), 8u);
  EXPECT_EQ(r.targets[0].uri, "sip:n0@example.com");
  EXPECT_EQ(r.targets[7].uri, "sip:n7@example.com");
}

TEST(RouterRoute, NoRuleIs404) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("2XX", "sip:$digits@local")}));
  auto r = route_and_wait(loop, router, dialed("555"), kPhone);
  EXPECT_FALSE(r.matched);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_EQ(r.status, 404);
  // A prefix of a rule is not a match either.
  EXPECT_EQ(route_and_wait(loop, router, dialed("20"), kPhone).status, 404);
}

TEST(RouterRoute, DeniedIs403) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("1NXXNXXXXXX", "", {"enum", "trunk:carrier"}),
                             DialRule("2XX", "sip:$digits@local", {}, {"lines", "127.0.0.0/8"})}));
  auto r = route_and_wait(loop, router, dialed("12025550150"), kSipCaller);
  EXPECT_FALSE(r.matched);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(resolver.lookups.empty());

  const Caller local{.line = false, .port = {}, .address = "127.0.0.1", .user = {}, .permissions = {}};
  EXPECT_EQ(route_and_wait(loop, router, dialed("201"), kSipCaller).status, 403);
  auto ok = route_and_wait(loop, router, dialed("201"), local);
  EXPECT_TRUE(ok.matched);
  EXPECT_EQ(uris(ok), (std::vector<std::string>{"sip:201@local"}));
}

TEST(RouterRoute, CallbackNeverRunsInsideRoute) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("2XX", "sip:$digits@local"), DialRule("9", "", {"reject"})}));
  for (const char* digits : {"201", "9", "555"}) {
    int calls = 0;
    router.route(dialed(digits), kPhone, [&](const RouteResult&) { ++calls; });
    EXPECT_EQ(calls, 0) << digits;
    EXPECT_TRUE(loop.run_until([&] { return calls > 0; })) << digits;
    loop.drain();
    EXPECT_EQ(calls, 1) << digits;
  }
}

TEST(RouterRoute, SeveralRoutesEachGetTheirOwnResult) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.answer("+12025550150", {"sip:alice@example.com"});
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("1NXXNXXXXXX", "", {"enum"}), DialRule("2XX", "sip:$digits@local")}));
  std::vector<std::string> got;
  const RouteId a = router.route(dialed("12025550150"), kPhone, [&](const RouteResult& r) {
    got.push_back("a:" + (r.targets.empty() ? std::string("-") : r.targets[0].uri));
  });
  const RouteId b = router.route(dialed("201"), kPhone, [&](const RouteResult& r) {
    got.push_back("b:" + (r.targets.empty() ? std::string("-") : r.targets[0].uri));
  });
  EXPECT_NE(a, b);
  EXPECT_TRUE(loop.run_until([&] { return got.size() == 2; }));
  loop.drain();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a:sip:alice@example.com", "b:sip:201@local"}));
}

TEST(RouterCancel, BeforeTheLookupAnswersCancelsItAndTheCallbackNeverRuns) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.hold = true;
  resolver.answer("+12025550150", {"sip:alice@example.com"});
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum", "trunk:carrier"})}));
  int calls = 0;
  const RouteId id = router.route(dialed("12025550150"), kPhone, [&](const RouteResult&) { ++calls; });
  loop.drain();
  ASSERT_EQ(resolver.lookups.size(), 1u);
  EXPECT_EQ(resolver.pending(), 1u);
  EXPECT_EQ(calls, 0);

  router.cancel(id);
  EXPECT_EQ(resolver.cancels, (std::vector<e164::LookupId>{resolver.last_id()}));
  EXPECT_EQ(resolver.pending(), 0u);
  resolver.deliver();
  loop.drain();
  EXPECT_EQ(calls, 0);
  router.cancel(id);  // again: ignored
  router.cancel(12345);
}

TEST(RouterCancel, AfterTheResultIsReadyButBeforeTheLoopRunsIt) {
  Loop loop;
  const auto c = load();
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({DialRule("2XX", "sip:$digits@local")}));
  int cancelled_calls = 0;
  int other_calls = 0;
  const RouteId id = router.route(dialed("201"), kPhone, [&](const RouteResult&) { ++cancelled_calls; });
  router.route(dialed("202"), kPhone, [&](const RouteResult&) { ++other_calls; });
  router.cancel(id);
  EXPECT_TRUE(loop.run_until([&] { return other_calls > 0; }));
  loop.drain();
  EXPECT_EQ(cancelled_calls, 0);
  EXPECT_EQ(other_calls, 1);
}

TEST(RouterCancel, CancelAfterTheEnumAnswerStillStopsTheCallback) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.hold = true;
  resolver.answer("+12025550150", {"sip:alice@example.com"});
  Router router(c, &resolver, loop.context);
  router.set_dial_plan(plan({DialRule("X.", "", {"enum"})}));
  int calls = 0;
  const RouteId id = router.route(dialed("12025550150"), kPhone, [&](const RouteResult&) { ++calls; });
  resolver.deliver();  // the router finishes; its callback waits for the loop
  EXPECT_EQ(calls, 0);
  router.cancel(id);
  EXPECT_TRUE(resolver.cancels.empty());  // the lookup was over
  loop.drain();
  EXPECT_EQ(calls, 0);
}

TEST(RouterCancel, DestroyingTheRouterCancelsItsLookups) {
  Loop loop;
  const auto c = load();
  FakeResolver resolver(loop.context);
  resolver.hold = true;
  int calls = 0;
  {
    Router router(c, &resolver, loop.context);
    router.set_dial_plan(plan({DialRule("X.", "", {"enum"}), DialRule("2XX", "sip:$digits@local")}));
    router.route(dialed("12025550150"), kPhone, [&](const RouteResult&) { ++calls; });
    ASSERT_EQ(resolver.pending(), 1u);
  }
  EXPECT_EQ(resolver.cancels.size(), 1u);
  EXPECT_EQ(resolver.pending(), 0u);
  loop.drain();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace sipline::gateway::route

namespace sipline::gateway::route {
namespace {

// --- toll classes --------------------------------------------------------------

TEST(RouterTollClasses, InternationalAndPremiumNeedThePermissionWhateverTheRuleAllows) {
  const config::Config c = load();
  Loop loop;
  Router router(c, nullptr, loop.context);
  router.set_dial_plan(plan({{"011.", "", {"trunk:carrier"}, {"lines", "sip"}},
                             {"1900NXXXXXX", "", {"trunk:carrier"}, {"lines"}},
                             {"1NXXNXXXXXX", "", {"trunk:carrier"}, {"lines"}}}));
  const RouteResult denied = route_and_wait(loop, router, dialed("011442071234567"), kPhone);
  EXPECT_EQ(denied.status, 403);
  EXPECT_TRUE(denied.targets.empty());
  EXPECT_NE(denied.reason.find("international"), std::string::npos) << denied.reason;
  EXPECT_EQ(route_and_wait(loop, router, dialed("011442071234567"), kSipCaller).status, 403);
  EXPECT_EQ(route_and_wait(loop, router, dialed("19005550100"), kPhone).status, 403);

  Caller permitted = kPhone;
  permitted.permissions.international = true;
  const RouteResult abroad = route_and_wait(loop, router, dialed("011442071234567"), permitted);
  ASSERT_EQ(abroad.targets.size(), 1u) << abroad.reason;
  EXPECT_EQ(abroad.targets[0].uri, "sip:+442071234567@trunk.example:5070;transport=tcp");
  EXPECT_EQ(route_and_wait(loop, router, dialed("19005550100"), permitted).status, 403)
      << "premium needs its own permission";
  permitted.permissions.premium = true;
  EXPECT_EQ(route_and_wait(loop, router, dialed("19005550100"), permitted).targets.size(), 1u);
  // National numbers need nothing.
  EXPECT_EQ(route_and_wait(loop, router, dialed("12025550150"), kPhone).targets.size(), 1u);
}

TEST(RouterTollClasses, ConfigOverridesThePrefixListsAndGrantsPermissions) {
  std::string text = kConfig;
  const std::string routing = "[routing]\ncountry = \"US\"\n";
  ASSERT_NE(text.find(routing), std::string::npos);
  text.replace(text.find(routing), routing.size(),
               routing + "premium_prefixes = [\"+1202555\"]\ninternational_prefixes = []\n");
  auto c = config::parse_config(text + "[auth]\ntrusted_permissions = [\"international\"]\n"
                                    "[[user]]\nname = \"carol\"\npassword = \"x\"\npermissions = [\"premium\", \"International\"]\n",
                                "router_test.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->routing.toll.premium, std::vector<std::string>{"+1202555"});
  EXPECT_TRUE(c->routing.toll.international.empty());
  EXPECT_TRUE(c->auth.trusted_permissions.international);
  EXPECT_FALSE(c->auth.trusted_permissions.premium);
  ASSERT_EQ(c->users.size(), 1u);
  EXPECT_TRUE(c->users[0].permissions.premium && c->users[0].permissions.international);
  EXPECT_FALSE(c->lines.ports[0].permissions.international) << "ports start with national only";
  Loop loop;
  Router router(*c, nullptr, loop.context);
  router.set_dial_plan(plan({{"1NXXNXXXXXX", "", {"trunk:carrier"}, {"lines"}}}));
  EXPECT_EQ(route_and_wait(loop, router, dialed("12025550150"), kPhone).status, 403);
  EXPECT_EQ(route_and_wait(loop, router, dialed("18765550150"), kPhone).targets.size(), 1u)
      << "Jamaica is national once international_prefixes is emptied";

  EXPECT_FALSE(config::parse_config("[routing]\npremium_prefixes = [\"1900\"]\n", "t.toml"));
  EXPECT_FALSE(config::parse_config("[[user]]\nname = \"d\"\npassword = \"x\"\npermissions = [\"all\"]\n", "t.toml"));
  EXPECT_FALSE(config::parse_config("[auth]\ntrusted_permissions = [\"national\"]\n", "t.toml"));
}

}  // namespace
}  // namespace sipline::gateway::route
