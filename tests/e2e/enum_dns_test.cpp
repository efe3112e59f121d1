// ENUM (RFC 6116) against a real authoritative DNS server: Knot DNS serves the
// test zones tests/fixtures/dns/e164.arpa.zone and e164.sipline.test.zone, and
// every number of one table is resolved twice, through the library
// (EnumResolver on a GMainContext this test iterates) and through the
// sipline-enum tool (--json). The expected URIs come from RFC 3402/3403 (rules
// sorted by ORDER then PREFERENCE, only the first ORDER that gives a result is
// used, unknown services ignored, the REGEXP always applies to the original
// AUS, non-terminal rules lead to another domain) and RFC 6116 (suffixes asked
// in order), not from what the code prints. Then: timeouts with a paused
// server, the positive cache within and after a record's TTL, and the negative
// cache (RFC 2308) counted with Knot's own query counters.
#include <glib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/knot_server.hpp"
#include "harness/process.hpp"
#include "harness/tools.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/error.hpp"
#include "sipline/enum/resolver.hpp"

namespace sipline::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using e164::EnumError;
using e164::LookupResult;
using Ms = std::chrono::milliseconds;

const std::string kTool = SIPLINE_BINARY_DIR "/tools/sipline-enum";
constexpr std::uint16_t kTypeNaptr = 35;

struct ExpectedTarget {
  std::string uri;
  std::string service;
  int order = 0;
  int preference = 0;
};

struct TableCase {
  std::string number;
  std::string suffix;                   // the suffix that answers; "" when no targets
  std::vector<ExpectedTarget> targets;  // exactly these, in this order
  std::optional<EnumError> error;       // when targets is empty; nullopt there: any error
  std::string why;
};

const std::vector<TableCase>& table() {
  static const std::vector<TableCase> cases = {
      {"+81312345678", "e164.arpa",
       {{"sip:312345678@jp.example.test", "E2U+sip", 100, 10},
        {"tel:+81312345678", "E2U+tel", 100, 20},
        {"tel:+81312345678;npdi", "E2U+pstn:tel", 100, 30}},
       std::nullopt,
       "ORDER 50 does not match the AUS, so ORDER 100 is used, by PREFERENCE; back reference; unknown "
       "E2U+email:mailto ignored; ORDER 200 never reached; e164.arpa wins over the private suffix"},
      {"+442079460000", "e164.arpa",
       {{"sip:2079460000@uk.example.test", "E2U+sip", 20, 10},
        {"sip:2079460000@44.uk.example.test", "E2U+sip", 20, 20}},
       std::nullopt,
       "ORDER 10 holds only an unknown service, so ORDER 20; delimiters '/' and '#', two back references"},
      {"+12025550100", "e164.arpa",
       {{"sip:2025550100@us.example.test", "E2U+sip", 10, 10}, {"sip:backup@203.0.113.5", "E2U+sip", 10, 20}},
       std::nullopt,
       "non-terminal rule to nt-0100.redirect.e164.arpa (REGEXP on the original AUS); the terminal rule "
       "at ORDER 20 of the first domain is not used"},
      {"+12025550101", "e164.arpa", {{"sip:cname-target@us.example.test", "E2U+sip", 10, 10}}, std::nullopt,
       "CNAME from the number's domain to the name holding the NAPTR"},
      {"+12025550102", "e164.arpa", {{"sip:short-ttl@us.example.test", "E2U+sip", 10, 10}}, std::nullopt,
       "TTL 2 record"},
      {"+12025550103", "", {}, std::nullopt, "non-terminal rules that loop: the lookup ends without targets"},
      {"+12025550104", "e164.sipline.test", {{"sip:private-0104@203.0.113.4", "E2U+sip", 10, 10}}, std::nullopt,
       "e164.arpa has only an unknown service: fall through to the private suffix"},
      {"+12025550198", "", {}, EnumError::not_found, "NODATA in e164.arpa, NXDOMAIN in the private suffix"},
      {"+12025550199", "", {}, EnumError::not_found, "NXDOMAIN in both suffixes"},
      {"+4930123456", "e164.sipline.test",
       {{"sip:30123456@de.sipline.test", "E2U+sip", 10, 10},
        {"sip:+4930123456@gw.sipline.test;user=phone", "E2U+pstn:sip", 10, 20}},
       std::nullopt,
       "only in the private suffix; FLAGS \"U\" and SERVICES \"e2u+SIP\" (case-insensitive); pstn:sip"},
  };
  return cases;
}

std::string error_name(EnumError e) {
  switch (e) {
    case EnumError::timeout: return "timeout";
    case EnumError::not_found: return "not_found";
    case EnumError::server_failure: return "server_failure";
    default: return "code " + std::to_string(static_cast<int>(e));
  }
}

std::string describe(const LookupResult& r) {
  std::ostringstream out;
  out << "number +" << r.number.digits() << " suffix '" << r.suffix << "' error "
      << (r.error ? std::to_string(r.error->code()) + " " + r.error->message() : std::string("none")) << " ("
      << r.elapsed.count() / 1000 << " ms)\n";
  for (const auto& t : r.targets) {
    out << "  target " << t.uri << " " << t.service << " " << t.order << " " << t.preference << "\n";
  }
  for (const auto& q : r.queries) {
    out << "  query " << q.domain << " [" << q.suffix << "] depth " << q.depth << (q.from_cache ? " cached" : "")
        << (q.shared ? " shared" : "") << " error "
        << (q.error ? std::to_string(q.error->code()) + " " + q.error->message() : std::string("none")) << " records "
        << q.records.size() << "\n";
  }
  return out.str();
}

using GMainContextPtr = base::CPtr<GMainContext, g_main_context_unref>;

// EnumResolver on a private GMainContext, iterated by lookup() until the
// callback runs or a limit passes.
class LibraryClient {
 public:
  explicit LibraryClient(const e164::ResolverConfig& config) : context_(g_main_context_new()) {
    auto r = e164::EnumResolver::create(config, context_.get(), clock_);
    if (r) {
      resolver_ = std::move(*r);
    } else {
      error_ = r.error().message();
    }
  }
  bool ok() const { return resolver_ != nullptr; }
  const std::string& error() const { return error_; }
  e164::EnumResolver& resolver() { return *resolver_; }

  std::optional<LookupResult> lookup(const std::string& number, Ms limit = 20s) {
    auto e = e164::E164::parse(number);
    if (!e) {
      ADD_FAILURE() << "bad test number " << number;
      return std::nullopt;
    }
    std::optional<LookupResult> out;
    bool inside = true;
    bool ran_inside = false;
    const auto id = resolver_->lookup(*e, [&](const LookupResult& r) {
      ran_inside = ran_inside || inside;
      out = r;
    });
    inside = false;
    EXPECT_FALSE(ran_inside) << "the callback ran inside lookup()";
    // A 20 ms tick so that a blocking iteration always comes back to check the limit.
    GSource* tick = g_timeout_source_new(20);
    g_source_set_callback(tick, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr, nullptr);
    g_source_attach(tick, context_.get());
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!out && std::chrono::steady_clock::now() < deadline) g_main_context_iteration(context_.get(), TRUE);
    g_source_destroy(tick);
    g_source_unref(tick);
    if (!out) {
      resolver_->cancel(id);
      ADD_FAILURE() << "lookup of " << number << " did not complete within " << limit.count() << " ms";
    }
    return out;
  }

 private:
  base::SteadyClock clock_;
  GMainContextPtr context_;
  std::unique_ptr<e164::EnumResolver> resolver_;  // destroyed before the context
  std::string error_;
};

struct ToolOutput {
  bool finished = false;
  int exit_code = -1;
  std::vector<Json> lines;  // one JSON object per stdout line
  std::string stdout_text;
  std::string stderr_text;
  Ms wall{0};
  std::string describe() const {
    return "exit " + std::to_string(exit_code) + "\n--- stdout ---\n" + stdout_text + "--- stderr ---\n" +
           stderr_text;
  }
};

class EnumDnsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("sipline-enum-e2e"); }
  void TearDown() override { remove_tree(dir_); }

  // Starts `server` with the given fixture zones (both by default).
  bool start_dns(KnotServer& server, std::vector<std::string> zones = {"e164.arpa", "e164.sipline.test"}) {
    if (!require_tool("knotd") || !require_tool("knotc")) return false;
    KnotServerOptions o;
    for (const auto& z : zones) o.zones.push_back(knot_fixture_zone(z));
    if (!server.start(o)) {
      ADD_FAILURE() << server.error();
      return false;
    }
    return true;
  }

  static e164::ResolverConfig config_for(std::vector<std::string> servers, int timeout_ms = 1500,
                                         std::vector<std::string> suffixes = {"e164.arpa", "e164.sipline.test"}) {
    e164::ResolverConfig c;
    c.servers = std::move(servers);
    c.suffixes = std::move(suffixes);
    c.timeout_ms = timeout_ms;
    return c;
  }

  ToolOutput run_enum_tool(const std::vector<std::string>& args, Ms timeout = 30s) {
    ToolOutput out;
    const std::string err = dir_ + "/tool.stderr";
    std::vector<std::string> argv = {"sh", "-c", "exec \"$0\" \"$@\" 2>'" + err + "'", kTool};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto start = std::chrono::steady_clock::now();
    const ToolRun run = run_tool(argv, dir_ + "/tool.stdout", timeout);
    out.wall = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start);
    out.finished = run.finished;
    out.exit_code = run.exit_code;
    out.stdout_text = run.output;
    out.stderr_text = read_file(err);
    std::istringstream lines(run.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        ADD_FAILURE() << "stdout line is not JSON: " << line;
        continue;
      }
      out.lines.push_back(std::move(j));
    }
    return out;
  }

  std::vector<std::string> tool_args(const std::string& number, const KnotServer& server) {
    return {number, "--server", server.address(), "--suffix", "e164.arpa", "--suffix", "e164.sipline.test", "--json"};
  }

  std::string dir_;
};

void expect_library_case(const TableCase& c, const LookupResult& r) {
  SCOPED_TRACE(c.number + ": " + c.why + "\n" + describe(r));
  ASSERT_EQ(r.targets.size(), c.targets.size());
  for (std::size_t i = 0; i < c.targets.size(); ++i) {
    EXPECT_EQ(r.targets[i].uri, c.targets[i].uri) << "target " << i;
    EXPECT_EQ(r.targets[i].service, c.targets[i].service) << "target " << i;
    EXPECT_EQ(r.targets[i].order, c.targets[i].order) << "target " << i;
    EXPECT_EQ(r.targets[i].preference, c.targets[i].preference) << "target " << i;
  }
  if (!c.targets.empty()) {
    EXPECT_EQ(r.suffix, c.suffix);
    EXPECT_FALSE(r.error.has_value());
  } else {
    ASSERT_TRUE(r.error.has_value());
    if (c.error) {
      EXPECT_TRUE(r.error->is(*c.error)) << "expected " << error_name(*c.error);
    }
  }
  EXPECT_EQ(r.number.str(), c.number);
}

void expect_tool_case(const TableCase& c, const ToolOutput& out) {
  SCOPED_TRACE(c.number + ": " + c.why + "\n" + out.describe());
  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.exit_code, c.targets.empty() ? 1 : 0);
  ASSERT_EQ(out.lines.size(), 1u);
  const Json& j = out.lines[0];
  EXPECT_EQ(j.value("number", ""), c.number);
  ASSERT_TRUE(j.contains("targets") && j["targets"].is_array());
  const Json& targets = j["targets"];
  ASSERT_EQ(targets.size(), c.targets.size());
  for (std::size_t i = 0; i < c.targets.size(); ++i) {
    EXPECT_EQ(targets[i].value("uri", ""), c.targets[i].uri) << "target " << i;
    EXPECT_EQ(targets[i].value("service", ""), c.targets[i].service) << "target " << i;
    EXPECT_EQ(targets[i].value("order", -1), c.targets[i].order) << "target " << i;
    EXPECT_EQ(targets[i].value("preference", -1), c.targets[i].preference) << "target " << i;
  }
  if (!c.targets.empty()) {
    EXPECT_EQ(j.value("suffix", "?"), c.suffix);
    EXPECT_TRUE(j.contains("error") && j["error"].is_null());
  } else {
    ASSERT_TRUE(j.contains("error") && j["error"].is_object());
    if (c.error) {
      EXPECT_EQ(j["error"].value("code", ""), error_name(*c.error));
    }
  }
  EXPECT_TRUE(j.contains("queries") && j["queries"].is_array() && !j["queries"].empty());
}

TEST_F(EnumDnsTest, FixtureZonesAnswerAsTheTableAssumes) {
  // Checks the zones with a plain DNS query, independently of the resolver.
  KnotServer dns;
  if (!start_dns(dns)) return;
  auto naptr = [&](const std::string& name) { return udp_dns_query(dns.port(), name, kTypeNaptr, 2s); };
  const auto multi = naptr(e164::to_enum_domain(*e164::E164::parse("+81312345678"), "e164.arpa"));
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->rcode, 0);
  EXPECT_EQ(multi->answers, 6);
  EXPECT_TRUE(multi->authoritative);
  const auto nodata = naptr("8.9.1.0.5.5.5.2.0.2.1.e164.arpa");
  ASSERT_TRUE(nodata);
  EXPECT_EQ(nodata->rcode, 0);
  EXPECT_EQ(nodata->answers, 0);
  const auto nxdomain = naptr("9.9.1.0.5.5.5.2.0.2.1.e164.arpa");
  ASSERT_TRUE(nxdomain);
  EXPECT_EQ(nxdomain->rcode, 3);
  const auto cname = naptr("1.0.1.0.5.5.5.2.0.2.1.e164.arpa");
  ASSERT_TRUE(cname);
  EXPECT_EQ(cname->answers, 2);  // the CNAME and the NAPTR at its target
  const auto priv = naptr("6.5.4.3.2.1.0.3.9.4.e164.sipline.test");
  ASSERT_TRUE(priv);
  EXPECT_EQ(priv->answers, 2);
  const auto before = dns.queries();
  ASSERT_TRUE(before) << dns.diagnostics();
  dns.pause();
  EXPECT_FALSE(udp_dns_query(dns.port(), "9.9.1.0.5.5.5.2.0.2.1.e164.arpa", kTypeNaptr, 500ms))
      << "a paused knotd answered";
  dns.resume();
  EXPECT_TRUE(naptr("9.9.1.0.5.5.5.2.0.2.1.e164.arpa"));
  // The query sent while paused waited in the socket and is answered (and counted) after SIGCONT.
  std::optional<std::uint64_t> after;
  EXPECT_TRUE(poll_until(
      [&] {
        after = dns.queries();
        return after && *after == *before + 2;
      },
      2s))
      << "queries before " << *before << " after " << (after ? std::to_string(*after) : "?") << "\n"
      << dns.stats_text().value_or("(knotc failed)");
}

TEST_F(EnumDnsTest, LibraryResolvesEveryTableNumberToExactlyTheExpectedOrderedUris) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  LibraryClient client(config_for({dns.address()}));
  ASSERT_TRUE(client.ok()) << client.error();
  for (const auto& c : table()) {
    const auto r = client.lookup(c.number);
    ASSERT_TRUE(r) << c.number;
    expect_library_case(c, *r);
  }
}

TEST_F(EnumDnsTest, ToolPrintsExactlyTheExpectedOrderedUrisForEveryTableNumber) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  ASSERT_TRUE(std::filesystem::exists(kTool)) << kTool << " is not built";
  for (const auto& c : table()) expect_tool_case(c, run_enum_tool(tool_args(c.number, dns)));
}

TEST_F(EnumDnsTest, ToolAcceptsDialedDigitsAndTelUris) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  ASSERT_TRUE(std::filesystem::exists(kTool)) << kTool << " is not built";
  const TableCase& jp = table()[0];
  auto dialed = tool_args("03-1234-5678", dns);
  dialed.insert(dialed.end(), {"--country", "JP"});
  expect_tool_case(jp, run_enum_tool(dialed));
  expect_tool_case(jp, run_enum_tool(tool_args("tel:+81-3-1234-5678", dns)));
  const ToolOutput usage = run_enum_tool({"--json"});
  EXPECT_EQ(usage.exit_code, 2) << usage.describe();
}

TEST_F(EnumDnsTest, PausedServerMakesTheLookupTimeOutWithinTheDeadlineAndItIsNotCached) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  constexpr int kTimeoutMs = 800;
  constexpr auto kSlack = 700ms;
  LibraryClient one(config_for({dns.address()}, kTimeoutMs, {"e164.arpa"}));
  LibraryClient two(config_for({dns.address()}, kTimeoutMs));
  ASSERT_TRUE(one.ok() && two.ok()) << one.error() << two.error();
  dns.pause();

  auto start = std::chrono::steady_clock::now();
  auto r = one.lookup("+81312345678");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error) << describe(*r);
  EXPECT_TRUE(r->error->is(EnumError::timeout)) << describe(*r);
  EXPECT_TRUE(r->targets.empty());
  EXPECT_LE(took, Ms(kTimeoutMs) + kSlack) << describe(*r);

  // Both suffixes time out, one after the other at most.
  start = std::chrono::steady_clock::now();
  r = two.lookup("+81312345678");
  took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error) << describe(*r);
  EXPECT_TRUE(r->error->is(EnumError::timeout)) << describe(*r);
  EXPECT_LE(took, 2 * Ms(kTimeoutMs) + kSlack) << describe(*r);

  // A timeout is no answer: once the server is back, the same lookup is asked again and succeeds.
  dns.resume();
  r = one.lookup("+81312345678");
  ASSERT_TRUE(r);
  expect_library_case(table()[0], *r);
  ASSERT_FALSE(r->queries.empty());
  EXPECT_FALSE(r->queries.front().from_cache) << describe(*r);
}

TEST_F(EnumDnsTest, ToolReportsTimeoutWhenTheServerIsPaused) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  ASSERT_TRUE(std::filesystem::exists(kTool)) << kTool << " is not built";
  dns.pause();
  const ToolOutput out =
      run_enum_tool({"+81312345678", "--server", dns.address(), "--suffix", "e164.arpa", "--timeout-ms", "800",
                     "--json"});
  ASSERT_TRUE(out.finished) << out.describe();
  EXPECT_EQ(out.exit_code, 1) << out.describe();
  ASSERT_EQ(out.lines.size(), 1u) << out.describe();
  ASSERT_TRUE(out.lines[0]["error"].is_object()) << out.describe();
  EXPECT_EQ(out.lines[0]["error"].value("code", ""), "timeout") << out.describe();
  EXPECT_TRUE(out.lines[0]["targets"].empty());
  EXPECT_LE(out.wall, 800ms + 1500ms) << out.describe();  // deadline, plus slack for starting the tool
}

TEST_F(EnumDnsTest, SecondSuffixOnALiveServerAnswersWhenTheFirstSuffixServerIsPaused) {
  // Server A serves e164.arpa and is paused; server B serves only the private
  // suffix (and refuses e164.arpa). The number is in both zones: with A dead,
  // its e164.arpa records cannot be had, and the private suffix must answer.
  KnotServer a;
  KnotServer b;
  if (!start_dns(a, {"e164.arpa"}) || !start_dns(b, {"e164.sipline.test"})) return;
  a.pause();
  constexpr int kTimeoutMs = 1000;
  LibraryClient client(config_for({a.address(), b.address()}, kTimeoutMs));
  ASSERT_TRUE(client.ok()) << client.error();
  const auto start = std::chrono::steady_clock::now();
  const auto r = client.lookup("+81312345678");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  SCOPED_TRACE(describe(*r));
  EXPECT_FALSE(r->error.has_value());
  EXPECT_EQ(r->suffix, "e164.sipline.test");
  ASSERT_EQ(r->targets.size(), 1u);
  EXPECT_EQ(r->targets[0].uri, "sip:312345678@private.sipline.test");
  EXPECT_EQ(r->targets[0].service, "E2U+sip");
  EXPECT_LE(took, 2 * Ms(kTimeoutMs) + 1500ms);  // each suffix costs at most the timeout; slack for a loaded machine
}

TEST_F(EnumDnsTest, SecondLookupWithinTheTtlIsAnsweredFromTheCacheAndAskedAgainAfterIt) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  LibraryClient client(config_for({dns.address()}));
  ASSERT_TRUE(client.ok()) << client.error();
  const TableCase& short_ttl = table()[4];
  ASSERT_EQ(short_ttl.number, "+12025550102");  // its NAPTR has TTL 2 s

  const auto q0 = dns.queries();
  ASSERT_TRUE(q0) << dns.diagnostics();
  auto r = client.lookup(short_ttl.number);
  ASSERT_TRUE(r);
  expect_library_case(short_ttl, *r);
  ASSERT_FALSE(r->queries.empty());
  EXPECT_FALSE(r->queries.front().from_cache);
  const auto q1 = dns.queries();
  ASSERT_TRUE(q1);
  EXPECT_GT(*q1, *q0) << "the first lookup sent no query";

  r = client.lookup(short_ttl.number);
  ASSERT_TRUE(r);
  expect_library_case(short_ttl, *r);
  ASSERT_FALSE(r->queries.empty());
  for (const auto& q : r->queries) EXPECT_TRUE(q.from_cache) << describe(*r);
  const auto q2 = dns.queries();
  ASSERT_TRUE(q2);
  EXPECT_EQ(*q2, *q1) << "a lookup within the TTL reached the server";

  std::this_thread::sleep_for(2600ms);  // just past the 2 s TTL
  r = client.lookup(short_ttl.number);
  ASSERT_TRUE(r);
  expect_library_case(short_ttl, *r);
  ASSERT_FALSE(r->queries.empty());
  EXPECT_FALSE(r->queries.front().from_cache) << describe(*r);
  const auto q3 = dns.queries();
  ASSERT_TRUE(q3);
  EXPECT_GT(*q3, *q2) << "no query after the TTL expired";
}

TEST_F(EnumDnsTest, ToolRepeatAnswersTheSecondLookupFromItsCache) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  ASSERT_TRUE(std::filesystem::exists(kTool)) << kTool << " is not built";
  const auto q0 = dns.queries();
  ASSERT_TRUE(q0);
  auto args = tool_args("+12025550100", dns);
  args.insert(args.end(), {"--repeat", "2"});
  const ToolOutput out = run_enum_tool(args);
  ASSERT_EQ(out.exit_code, 0) << out.describe();
  ASSERT_EQ(out.lines.size(), 2u) << out.describe();
  for (const auto& line : out.lines) {
    ToolOutput one = out;
    one.lines = {line};
    expect_tool_case(table()[2], one);
  }
  // The non-terminal case asks two domains; the second run asks them of the cache.
  EXPECT_EQ(out.lines[0]["queries"].size(), 2u) << out.describe();
  for (const auto& q : out.lines[0]["queries"]) EXPECT_FALSE(q.value("cached", true)) << out.describe();
  for (const auto& q : out.lines[1]["queries"]) EXPECT_TRUE(q.value("cached", false)) << out.describe();
  EXPECT_GE(out.lines[1]["cache"].value("hits", 0), 2) << out.describe();
  const auto q1 = dns.queries();
  ASSERT_TRUE(q1);
  EXPECT_EQ(*q1, *q0 + 2) << "the server should see exactly the two queries of the first run";
}

TEST_F(EnumDnsTest, NxdomainIsCachedForTheSoaMinimumAndAskedAgainAfterIt) {
  KnotServer dns;
  if (!start_dns(dns)) return;
  LibraryClient client(config_for({dns.address()}));
  ASSERT_TRUE(client.ok()) << client.error();
  const std::string number = "+12025550199";  // NXDOMAIN in both zones; SOA MINIMUM 3 s

  const auto q0 = dns.queries();
  ASSERT_TRUE(q0);
  auto r = client.lookup(number);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error) << describe(*r);
  EXPECT_TRUE(r->error->is(EnumError::not_found)) << describe(*r);
  const auto q1 = dns.queries();
  ASSERT_TRUE(q1);
  EXPECT_EQ(*q1, *q0 + 2) << "one query per suffix\n" << describe(*r);

  r = client.lookup(number);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error) << describe(*r);
  EXPECT_TRUE(r->error->is(EnumError::not_found)) << describe(*r);
  EXPECT_EQ(r->queries.size(), 2u) << describe(*r);
  for (const auto& q : r->queries) EXPECT_TRUE(q.from_cache) << describe(*r);
  const auto q2 = dns.queries();
  ASSERT_TRUE(q2);
  EXPECT_EQ(*q2, *q1) << "a cached NXDOMAIN reached the server";

  std::this_thread::sleep_for(3600ms);  // past the 3 s negative TTL
  r = client.lookup(number);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error) << describe(*r);
  EXPECT_TRUE(r->error->is(EnumError::not_found)) << describe(*r);
  const auto q3 = dns.queries();
  ASSERT_TRUE(q3);
  EXPECT_EQ(*q3, *q2 + 2) << "the negative entries should have expired\n" << describe(*r);
}

}  // namespace
}  // namespace sipline::test
