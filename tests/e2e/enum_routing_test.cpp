// ENUM routing end to end: the real daemon routes calls by its [[dialplan]]
// steps ("enum", "trunk:<name>") with Knot DNS serving a test e164.arpa zone
// (tests/fixtures/dns/routing.e164.arpa.zone, RFC 6116) and sipp as the SIP
// targets and callers.
//  - a phone's national number is normalised to E.164 and called at its ENUM
//    SIP target, with two-way audio proven by the phone hearing its own tone
//    echoed back (sipp -rtp_echo);
//  - NXDOMAIN, and a DNS server that does not answer at all, fall through to
//    the trunk within the ENUM timeout;
//  - ENUM targets are tried in order: tel: is skipped, a 503 goes on to the next;
//  - an ENUM target naming this gateway rings the port with that DID;
//  - SIP callers reach a port by its DID (tel: and user=phone Request-URIs,
//    RFC 3966, RFC 3261 §19.1.6), are redirected with 302 to the ENUM SIP URIs
//    in "redirect" mode, and are refused (403) by a rule that does not admit them.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/knot_server.hpp"
#include "harness/sip_udp.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kScenarios = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
const std::string kZoneFile = SIPLINE_SOURCE_DIR "/tests/fixtures/dns/routing.e164.arpa.zone";
constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;
// The rule that national US numbers dialed on a phone use.
const std::string kNational = "1NXXNXXXXXX";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  return s;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The placeholders of the zone file. 9 (discard) for targets a test does not use:
// nothing is ever sent there.
struct ZonePorts {
  std::uint16_t echo_uas = 9;
  std::uint16_t failing_uas = 9;
  std::uint16_t gateway = 9;
};

KnotZone routing_zone(const ZonePorts& ports) {
  std::string text = read_file(kZoneFile);
  text = replace_all(text, "{echo_uas_port}", std::to_string(ports.echo_uas));
  text = replace_all(text, "{failing_uas_port}", std::to_string(ports.failing_uas));
  text = replace_all(text, "{gw_port}", std::to_string(ports.gateway));
  return {"e164.arpa", text};
}

// [enum], [routing] and [[trunk]] as the daemon reads them.
struct RoutingToml {
  std::uint16_t dns_port = 0;        // 0: no [enum] table
  int enum_timeout_ms = 1500;
  std::string sip_callers = "bridge";
  std::uint16_t trunk_port = 0;      // 0: no [[trunk]]
};

std::string routing_toml(const RoutingToml& r) {
  std::string t;
  if (r.dns_port != 0) {
    t += "[enum]\nsuffixes = [\"e164.arpa\"]\nservers = [\"127.0.0.1:" + std::to_string(r.dns_port) +
         "\"]\ntimeout_ms = " + std::to_string(r.enum_timeout_ms) + "\nmax_depth = 4\ncache_entries = 10000\n\n";
  }
  t += "[routing]\ncountry = \"US\"\nsip_callers = \"" + r.sip_callers + "\"\n\n";
  if (r.trunk_port != 0) {
    t += "[[trunk]]\nname = \"carrier\"\nuri = \"sip:127.0.0.1:" + std::to_string(r.trunk_port) +
         "\"\nnumber_format = \"e164\"\n\n";
  }
  return t;
}

// What a sipp instance has received and sent so far (its -trace_msg file).
std::string sipp_messages(GatewayUnderTest& gw, const std::string& peer) {
  return read_file(gw.dir() + "/" + peer + "/sipp_messages.log");
}

// The Contact header field values of a SIP message, one per contact (several
// header lines and comma-separated lists alike; commas inside <> or "" do not split).
struct ContactValue {
  std::string uri;
  std::string params;  // header parameters after the URI (";q=0.9;expires=60")
};

std::vector<ContactValue> contacts(const std::string& message) {
  std::vector<ContactValue> out;
  std::size_t pos = message.find('\n');
  while (pos != std::string::npos) {
    const std::size_t start = pos + 1;
    pos = message.find('\n', start);
    std::string line = message.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;  // end of the headers
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(name.find_last_not_of(" \t") + 1);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name != "contact" && name != "m") continue;
    const std::string value = line.substr(colon + 1);
    std::vector<std::string> parts;
    std::string part;
    bool in_angle = false, in_quote = false;
    for (const char ch : value) {
      if (ch == '"' && !in_angle) in_quote = !in_quote;
      if (ch == '<' && !in_quote) in_angle = true;
      if (ch == '>' && !in_quote) in_angle = false;
      if (ch == ',' && !in_angle && !in_quote) {
        parts.push_back(part);
        part.clear();
      } else {
        part += ch;
      }
    }
    parts.push_back(part);
    for (const auto& p : parts) {
      ContactValue c;
      const auto open = p.find('<');
      const auto close = p.find('>', open == std::string::npos ? 0 : open);
      if (open != std::string::npos && close != std::string::npos) {
        c.uri = p.substr(open + 1, close - open - 1);
        c.params = p.substr(close + 1);
      } else {
        const auto first = p.find_first_not_of(" \t");
        const std::string bare = first == std::string::npos ? "" : p.substr(first);
        const auto semi = bare.find(';');
        c.uri = bare.substr(0, semi);
        c.params = semi == std::string::npos ? "" : bare.substr(semi);
      }
      c.params.erase(std::remove_if(c.params.begin(), c.params.end(), [](char ch) { return ch == ' ' || ch == '\t'; }),
                     c.params.end());
      out.push_back(c);
    }
  }
  return out;
}

// The q value of a contact's parameters, nullopt without one.
std::optional<double> q_value(const std::string& params) {
  std::string lower = params;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto pos = lower.find(";q=");
  if (pos == std::string::npos) return std::nullopt;
  try {
    return std::stod(lower.substr(pos + 3));
  } catch (...) {
    return std::nullopt;
  }
}

// A hand-made INVITE whose Request-URI (and To) is `uri` instead of
// sip:<user>@127.0.0.1:<port>: make_invite's output with the URI swapped.
std::string invite_to_uri(const InviteSpec& spec, const std::string& uri) {
  std::string m = make_invite(spec);
  const std::string made = "sip:" + spec.user + "@127.0.0.1:" + std::to_string(spec.remote_port);
  return replace_all(m, made, uri);
}

class EnumRoutingTest : public GatewayTest {
 protected:
  bool start_knot(const ZonePorts& ports) {
    if (knot.start({.zones = {routing_zone(ports)}})) return true;
    ADD_FAILURE() << "knotd did not start: " << knot.error() << "\n" << knot.diagnostics();
    return false;
  }

  bool start_sipp(Sipp& sipp, const std::string& scenario, std::vector<std::string> extra = {}) {
    SippOptions so;
    so.scenario_file = kScenarios + "/" + scenario;
    so.timeout_s = 60;
    so.extra = std::move(extra);
    if (sipp.start(so)) return true;
    ADD_FAILURE() << "sipp did not start: " << sipp.process().error();
    return false;
  }

  // The daemon's log tail, knotd's and the given sipps' logs, for failure messages.
  std::string diagnostics(std::initializer_list<const Sipp*> sipps = {}) {
    std::string out = "---- sipline log (" + gw.log_path() + ") ----\n" + gw.process().log_tail(80) + "\n";
    for (const Sipp* s : sipps) out += s->diagnostics();
    if (knot.port() != 0) out += "---- knot ----\n" + knot.diagnostics() + "\n";
    return out;
  }

  ::testing::AssertionResult dial(int line, const std::string& digits) {
    if (auto r = gw.phone(line, "offhook"); !r.value("ok", false)) return ::testing::AssertionFailure() << r.dump();
    if (!gw.wait_line_state(line, "dialtone", 3s))
      return ::testing::AssertionFailure() << "no dial tone: " << gw.describe();
    if (auto r = gw.phone(line, "dial", {{"digits", digits}}); !r.value("ok", false))
      return ::testing::AssertionFailure() << r.dump();
    return ::testing::AssertionSuccess();
  }

  // The phone plays 1000 Hz and hears it come back through the far end's RTP
  // echo (after checking that it is not there before it plays).
  ::testing::AssertionResult hears_own_tone_echoed(int line) {
    if (!gw.phone(line, "listen", {{"hz", 1000}}).value("ok", false))
      return ::testing::AssertionFailure() << "listen refused";
    std::this_thread::sleep_for(500ms);
    const double before = gw.line(line)["phone"].value("listen_ratio", 1.0);
    if (before >= 0.2) return ::testing::AssertionFailure() << "1000 Hz on the line before the phone played it: " << before;
    if (!gw.phone(line, "tone", {{"hz", 1000}, {"hz2", 0}, {"level_dbfs", -10}}).value("ok", false))
      return ::testing::AssertionFailure() << "tone refused";
    const auto echoed = gw.wait_listen_ratio(line, 0.5, 5s);
    gw.phone(line, "stop");
    if (!echoed.sustained) return ::testing::AssertionFailure() << "no echo of 1000 Hz; readings: " << echoed.history;
    const Json calls = gw.calls();
    if (!calls.value("ok", false) || calls["calls"].size() != 1)
      return ::testing::AssertionFailure() << "calls: " << calls.dump();
    if (calls["calls"][0]["rtp"].value("sent", 0) <= 0 || calls["calls"][0]["rtp"].value("received", 0) <= 0)
      return ::testing::AssertionFailure() << "RTP counters: " << calls.dump();
    return ::testing::AssertionSuccess();
  }

  // The phone hangs up; the UAS (which waits for BYE) ends with exit 0.
  void hang_up_and_expect_clean_end(int line, Sipp& uas) {
    ASSERT_TRUE(is_ok(gw.phone(line, "onhook")));
    EXPECT_TRUE(gw.wait_line_state(line, "idle", 5s)) << gw.describe();
    EXPECT_TRUE(uas.wait(10s)) << "sipp did not end (no BYE?)\n" << diagnostics({&uas});
    EXPECT_EQ(uas.process().exit_code(), 0) << diagnostics({&uas});
    EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  }

  // Queries knotd has answered; waits a little for a count of at least `min`.
  std::uint64_t dns_queries_at_least(std::uint64_t min) {
    std::uint64_t seen = 0;
    poll_until(
        [&] {
          seen = knot.queries().value_or(0);
          return seen >= min;
        },
        3s, 100ms);
    return seen;
  }

  KnotServer knot;
};

// 1. National number -> +1... -> ENUM NAPTR -> sip:...@echo UAS; two-way audio.
TEST_F(EnumRoutingTest, PhoneDialsANationalNumberAndIsConnectedToItsEnumSipTargetWithTwoWayAudio) {
  if (!require_tool("sipp") || !require_tool("knotd")) return;
  Sipp uas(gw.peer_dir("sipp-enum"));
  ASSERT_TRUE(start_sipp(uas, "uas_answer.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_knot({.echo_uas = uas.sip_port()}));

  GatewayOptions options;
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"enum"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port()});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(dial(kPhone1, "12025550150"));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 15s)) << gw.describe() << "\n" << diagnostics({&uas});

  // The NAPTR's REGEXP only matches "+1...": the back reference gives the
  // national significant number, so this URI proves the E.164 normalisation.
  const std::string ruri = "INVITE sip:2025550150@127.0.0.1:" + std::to_string(uas.sip_port()) + " SIP/2.0";
  EXPECT_NE(sipp_messages(gw, "sipp-enum").find(ruri), std::string::npos) << diagnostics({&uas});
  const Json calls = gw.calls();
  ASSERT_EQ(calls["calls"].size(), 1u) << calls.dump();
  EXPECT_EQ(calls["calls"][0].value("direction", ""), "outbound") << calls.dump();

  EXPECT_TRUE(hears_own_tone_echoed(kPhone1)) << diagnostics({&uas});
  hang_up_and_expect_clean_end(kPhone1, uas);
}

// 2. NXDOMAIN -> the trunk step; the trunk gets +E.164 as the R-URI user.
TEST_F(EnumRoutingTest, NumberWithoutEnumRecordsGoesToTheTrunkInE164Format) {
  if (!require_tool("sipp") || !require_tool("knotd")) return;
  Sipp trunk(gw.peer_dir("sipp-trunk"));
  ASSERT_TRUE(start_sipp(trunk, "uas_answer.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_knot({}));
  const std::uint64_t queries_before = knot.queries().value_or(0);

  GatewayOptions options;
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"enum", "trunk:carrier"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port(), .trunk_port = trunk.sip_port()});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(dial(kPhone1, "12025550151"));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 15s)) << gw.describe() << "\n" << diagnostics({&trunk});

  const std::string ruri = "INVITE sip:+12025550151@127.0.0.1:" + std::to_string(trunk.sip_port()) + " SIP/2.0";
  EXPECT_NE(sipp_messages(gw, "sipp-trunk").find(ruri), std::string::npos) << diagnostics({&trunk});
  // The enum step really asked (and got NXDOMAIN) before the trunk was used.
  EXPECT_GT(dns_queries_at_least(queries_before + 1), queries_before) << knot.stats_text().value_or("(no stats)");

  EXPECT_TRUE(hears_own_tone_echoed(kPhone1)) << diagnostics({&trunk});
  hang_up_and_expect_clean_end(kPhone1, trunk);
}

// 3. A DNS server that answers nothing: the enum step gives up after its
// timeout (500 ms) and the trunk is called well within 2 s of the last digit.
// 2b. Without ENUM records the call falls back to the exchange line: a SIP
// caller's global number goes out on the FXO port in national form, and the
// simulated exchange's subscriber answers (early media, then 200).
TEST_F(EnumRoutingTest, NumberWithoutEnumRecordsFallsBackToTheExchangeLine) {
  if (!require_tool("sipp") || !require_tool("knotd")) return;
  ASSERT_TRUE(start_knot({}));
  const std::uint64_t queries_before = knot.queries().value_or(0);

  GatewayOptions options;
  PhoneSpec fxo{"fxo1", "5550100", -1};
  fxo.kind = "fxo";
  fxo.forward_to = "sip:201@127.0.0.1:{sip_port}";
  options.phones.push_back(fxo);
  options.dial_plan = {{.pattern = "+1NXXNXXXXXX", .target = "", .steps = {"enum", "fxo:fxo1"}, .allow = {"sip"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port()}) +
                       "[[sim.subscriber]]\nnumber = \"12025550151\"\nanswer_after_ms = 500\n";
  ASSERT_TRUE(start_gateway(options));

  Sipp caller(gw.peer_dir("sipp-caller"));
  SippOptions so;
  so.scenario_file = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp/uac_early_media.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "+12025550151";
  so.timeout_s = 30;
  ASSERT_TRUE(caller.start(so)) << caller.process().error();
  std::string digits;
  poll_until(
      [&] {
        const Json l = gw.line(3);
        if (l.is_object() && l.contains("exchange")) digits = l["exchange"].value("digits", digits);
        return !caller.process().running();
      },
      30s, 50ms);
  ASSERT_TRUE(caller.wait(5s)) << caller.diagnostics();
  EXPECT_EQ(caller.process().exit_code(), 0) << caller.diagnostics() << gw.describe();
  EXPECT_EQ(digits, "12025550151") << "the exchange line was dialed in national form";
  EXPECT_GT(dns_queries_at_least(queries_before + 1), queries_before) << knot.stats_text().value_or("(no stats)");
  EXPECT_TRUE(gw.wait_line_state(3, "idle", 3s)) << gw.describe();
}

TEST_F(EnumRoutingTest, SilentDnsServerFallsThroughToTheTrunkWithinTheEnumTimeout) {
  if (!require_tool("sipp") || !require_tool("knotd")) return;
  Sipp trunk(gw.peer_dir("sipp-trunk"));
  ASSERT_TRUE(start_sipp(trunk, "uas_answer.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_knot({}));

  GatewayOptions options;
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"enum", "trunk:carrier"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port(), .enum_timeout_ms = 500, .trunk_port = trunk.sip_port()});
  ASSERT_TRUE(start_gateway(options));
  knot.pause();

  ASSERT_TRUE(dial(kPhone1, "12025550151"));
  // The dial plan matches on the last digit (the rule is complete at 11
  // digits): the line leaves "dialing" then. From there to the trunk's INVITE.
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> dialed, invited;
  const std::string ruri = "INVITE sip:+12025550151@127.0.0.1:" + std::to_string(trunk.sip_port()) + " SIP/2.0";
  poll_until(
      [&] {
        if (!dialed) {
          const std::string state = gw.line_state(kPhone1);
          if (state != "dialtone" && state != "dialing") dialed = Clock::now();
        }
        if (dialed && sipp_messages(gw, "sipp-trunk").find(ruri) != std::string::npos) invited = Clock::now();
        return invited.has_value();
      },
      20s, 10ms);
  ASSERT_TRUE(dialed.has_value()) << "the line never left dialing: " << gw.describe() << "\n" << diagnostics({&trunk});
  ASSERT_TRUE(invited.has_value()) << "the trunk got no INVITE for +12025550151\n" << diagnostics({&trunk});
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*invited - *dialed).count();
  EXPECT_LT(ms, 2000) << "trunk INVITE " << ms << " ms after the number was complete\n" << diagnostics({&trunk});
  // Nothing answers, so only the timeout can end the enum step: a much
  // quicker fall-through would mean that ENUM was never asked.
  EXPECT_GE(ms, 400) << "trunk INVITE only " << ms << " ms after the number was complete: was ENUM skipped?";
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "connected", 10s)) << gw.describe() << "\n" << diagnostics({&trunk});

  // The query sat in the paused server's socket: it is counted once it runs again.
  knot.resume();
  EXPECT_GE(dns_queries_at_least(1), 1u) << knot.stats_text().value_or("(no stats)");
  hang_up_and_expect_clean_end(kPhone1, trunk);
}

// 4. tel:+1... and sip:+1...;user=phone ring the port whose DID that is;
// tel: with a number that is no DID gets 404.
TEST_F(EnumRoutingTest, SipCallerReachesAPortByItsDidAsTelUriAndAsUserPhone) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.phones = {{"fxs1", "201", 300, {"+12025550201"}}, {"fxs2", "202", -1, {}}};
  options.extra_toml = routing_toml({});
  ASSERT_TRUE(start_gateway(options));

  const std::string gw_host = "127.0.0.1:" + std::to_string(gw.sip_port());
  const std::vector<std::string> uris = {"tel:+12025550201", "sip:+12025550201@" + gw_host + ";user=phone"};
  for (std::size_t i = 0; i < uris.size(); ++i) {
    SCOPED_TRACE("Request-URI " + uris[i]);
    const std::string peer = "sipp-uac" + std::to_string(i);
    Sipp uac(gw.peer_dir(peer));
    SippOptions so;
    so.scenario_file = kScenarios + "/uac_ruri_call.xml";
    so.remote = gw_host;
    so.timeout_s = 30;
    so.extra = {"-key", "ruri", uris[i]};
    ASSERT_TRUE(uac.start(so)) << uac.process().error();

    bool connected = false;
    poll_until(
        [&] {
          connected = connected || gw.line_state(kPhone1) == "connected";
          return !uac.process().running();
        },
        40s, 50ms);
    ASSERT_TRUE(uac.wait(5s)) << diagnostics({&uac});
    EXPECT_EQ(uac.process().exit_code(), 0) << diagnostics({&uac});
    EXPECT_TRUE(connected) << "fxs1 never answered; " << gw.describe() << "\n" << diagnostics({&uac});
    EXPECT_EQ(count_of(sipp_messages(gw, peer), "INVITE " + uris[i] + " SIP/2.0"), 1u) << diagnostics({&uac});
    EXPECT_EQ(gw.line_state(kPhone2), "idle");

    // sipp hung up; the auto-answering phone is still off hook.
    EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
    ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
    ASSERT_TRUE(gw.wait_line_state(kPhone1, "idle", 5s)) << gw.describe();
  }

  // A global number that is no port's DID (and no rule's) rings nothing: 404.
  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  InviteSpec spec;
  spec.user = "+12025550299";
  spec.remote_port = gw.sip_port();
  spec.local_port = peer.port();
  spec.body = pcmu_offer(peer.port() + 2);
  ASSERT_TRUE(peer.send_to(gw.sip_port(), invite_to_uri(spec, "tel:+12025550299")));
  const auto response = peer.receive_final(spec.call_id, 10s);
  ASSERT_TRUE(response.has_value()) << "no final response\n" << diagnostics();
  peer.send_to(gw.sip_port(), make_ack(spec, *response));
  EXPECT_EQ(sip_status(*response), 404) << *response;
  EXPECT_EQ(gw.line_state(kPhone1), "idle");
  EXPECT_EQ(gw.line_state(kPhone2), "idle");
}

// 5. Redirect mode: 302 with the ENUM SIP URIs as Contacts, in ENUM order.
TEST_F(EnumRoutingTest, RedirectModeAnswersA302WhoseContactsAreTheEnumSipUrisInOrder) {
  if (!require_tool("knotd")) return;
  ASSERT_TRUE(start_knot({}));
  GatewayOptions options;
  options.dial_plan = {{.pattern = "+1NXXNXXXXXX", .target = "", .steps = {"enum"}, .allow = {"127.0.0.0/8"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port(), .sip_callers = "redirect"});
  ASSERT_TRUE(start_gateway(options));

  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  InviteSpec spec;
  spec.user = "+12025550152";
  spec.remote_port = gw.sip_port();
  spec.local_port = peer.port();
  spec.body = pcmu_offer(peer.port() + 2);
  const std::string uri = "sip:+12025550152@127.0.0.1:" + std::to_string(gw.sip_port()) + ";user=phone";
  ASSERT_TRUE(peer.send_to(gw.sip_port(), invite_to_uri(spec, uri)));
  const auto response = peer.receive_final(spec.call_id, 10s);
  ASSERT_TRUE(response.has_value()) << "no final response\n" << diagnostics();
  peer.send_to(gw.sip_port(), make_ack(spec, *response));
  ASSERT_EQ(sip_status(*response), 302) << *response << "\n" << diagnostics();

  const auto found = contacts(*response);
  std::vector<std::string> uris;
  for (const auto& c : found) uris.push_back(c.uri);
  const std::vector<std::string> expected = {"sip:2025550152@127.0.0.1:15001",
                                             "sip:second@127.0.0.1:15002;transport=tcp",
                                             "sip:third@127.0.0.1:15003"};
  EXPECT_EQ(uris, expected) << *response;
  // RFC 3261 §20.10: q orders the contacts; when given it must fall along ENUM order.
  for (std::size_t i = 1; i < found.size(); ++i) {
    const auto prev = q_value(found[i - 1].params), cur = q_value(found[i].params);
    if (prev && cur) {
      EXPECT_GT(*prev, *cur) << "contact " << i << " in\n" << *response;
    }
  }
  EXPECT_TRUE(gw.wait_call_count(0, 3s)) << gw.calls().dump();
}

// 6. A rule that admits only the lines refuses SIP callers (403) without
// calling its trunk; a number no rule matches gets 404.
TEST_F(EnumRoutingTest, SipCallerIsRefusedByARuleForTheLinesAndTheTrunkHearsNothing) {
  if (!require_tool("sipp") || !require_tool("knotd")) return;
  Sipp trunk(gw.peer_dir("sipp-trunk"));
  ASSERT_TRUE(start_sipp(trunk, "uas_answer.xml"));
  ASSERT_TRUE(start_knot({}));

  GatewayOptions options;
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"enum", "trunk:carrier"}}};  // allow: default
  options.extra_toml = routing_toml({.dns_port = knot.port(), .trunk_port = trunk.sip_port()});
  ASSERT_TRUE(start_gateway(options));

  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  for (const auto& [user, status] : std::vector<std::pair<std::string, int>>{{"12025550153", 403}, {"999", 404}}) {
    SCOPED_TRACE("INVITE sip:" + user);
    InviteSpec spec;
    spec.user = user;
    spec.remote_port = gw.sip_port();
    spec.local_port = peer.port();
    spec.body = pcmu_offer(peer.port() + 2);
    ASSERT_TRUE(peer.send_to(gw.sip_port(), make_invite(spec)));
    const auto response = peer.receive_final(spec.call_id, 10s);
    ASSERT_TRUE(response.has_value()) << "no final response\n" << diagnostics({&trunk});
    peer.send_to(gw.sip_port(), make_ack(spec, *response));
    EXPECT_EQ(sip_status(*response), status) << *response << "\n" << diagnostics({&trunk});
  }
  // Give a wrongly placed call time to arrive, then look.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sipp_messages(gw, "sipp-trunk").find("INVITE"), std::string::npos) << diagnostics({&trunk});
  EXPECT_EQ(gw.line_state(kPhone1), "idle");
  EXPECT_TRUE(gw.wait_call_count(0, 3s)) << gw.calls().dump();
}

// 7. ENUM targets in order: tel: skipped, 503 -> next target, which answers.
TEST_F(EnumRoutingTest, EnumTargetsAreTriedInOrderPastATelUriAndA503) {
  if (!require_tool("sipp") || !require_tool("knotd")) return;
  Sipp failing(gw.peer_dir("sipp-503"));
  ASSERT_TRUE(start_sipp(failing, "uas_unavailable.xml"));
  Sipp uas(gw.peer_dir("sipp-enum"));
  ASSERT_TRUE(start_sipp(uas, "uas_answer.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_knot({.echo_uas = uas.sip_port(), .failing_uas = failing.sip_port()}));

  GatewayOptions options;
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"enum"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port()});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(dial(kPhone1, "12025550154"));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "connected", 15s)) << gw.describe() << "\n" << diagnostics({&failing, &uas});
  // The 503 UAS was asked first and got its ACK.
  EXPECT_TRUE(failing.wait(5s)) << diagnostics({&failing});
  EXPECT_EQ(failing.process().exit_code(), 0) << diagnostics({&failing});
  EXPECT_NE(sipp_messages(gw, "sipp-503").find("INVITE sip:2025550154@127.0.0.1:" + std::to_string(failing.sip_port())),
            std::string::npos)
      << diagnostics({&failing});
  EXPECT_NE(sipp_messages(gw, "sipp-enum").find("INVITE sip:2025550154@127.0.0.1:" + std::to_string(uas.sip_port())),
            std::string::npos)
      << diagnostics({&uas});
  EXPECT_TRUE(hears_own_tone_echoed(kPhone1)) << diagnostics({&uas});
  hang_up_and_expect_clean_end(kPhone1, uas);
}

// 8. An ENUM target that names this gateway and a port's DID rings that port.
TEST_F(EnumRoutingTest, EnumTargetPointingAtThisGatewayRingsThePortWithThatDid) {
  if (!require_tool("knotd")) return;
  ASSERT_TRUE(start_knot({.gateway = gw.sip_port()}));
  GatewayOptions options;
  options.phones = {{"fxs1", "201", -1, {}}, {"fxs2", "202", 300, {"+12025550202"}}};
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"enum"}}};
  options.extra_toml = routing_toml({.dns_port = knot.port()});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(dial(kPhone1, "12025550155"));
  ASSERT_TRUE(gw.wait_line_state(kPhone2, "connected", 15s)) << gw.describe() << "\n" << diagnostics();
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "connected", 5s)) << gw.describe() << "\n" << diagnostics();

  // Two-way audio: each phone plays its own tone and listens for the other's.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 1209}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "listen", {{"hz", 697}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "tone", {{"hz", 1209}, {"hz2", 0}, {"level_dbfs", -10}})));
  const auto at_phone1 = gw.wait_listen_ratio(kPhone1, 0.5, 4s);
  const auto at_phone2 = gw.wait_listen_ratio(kPhone2, 0.5, 4s);
  EXPECT_TRUE(at_phone1.sustained) << "phone 1 listening for phone 2's 1209 Hz: " << at_phone1.history;
  EXPECT_TRUE(at_phone2.sustained) << "phone 2 listening for phone 1's 697 Hz: " << at_phone2.history;
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "stop")));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "stop")));

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 5s)) << gw.describe();
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "disconnected", 5s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "idle", 5s)) << gw.describe();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 9. A phone dialing a number whose only rule admits SIP callers alone hears
// reorder, and the rule's trunk is not called.
TEST_F(EnumRoutingTest, PhoneDialingANumberItsRuleDoesNotAdmitHearsReorder) {
  if (!require_tool("sipp")) return;
  Sipp trunk(gw.peer_dir("sipp-trunk"));
  ASSERT_TRUE(start_sipp(trunk, "uas_answer.xml"));

  GatewayOptions options;
  options.dial_plan = {{.pattern = kNational, .target = "", .steps = {"trunk:carrier"}, .allow = {"sip"}}};
  options.extra_toml = routing_toml({.trunk_port = trunk.sip_port()});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(dial(kPhone1, "12025550151"));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "disconnected", 15s)) << gw.describe() << "\n" << diagnostics({&trunk});
  // US reorder: 480 + 620 Hz, 0.25 s on / 0.25 s off.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 480}})));
  const auto reorder = gw.wait_listen_ratio(kPhone1, 0.3, 3s, 1);
  EXPECT_TRUE(reorder.sustained) << "480 Hz at phone 1: " << reorder.history;
  EXPECT_EQ(sipp_messages(gw, "sipp-trunk").find("INVITE"), std::string::npos) << diagnostics({&trunk});
  EXPECT_EQ(gw.call_count(), 0u) << gw.calls().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 5s)) << gw.describe();
}

}  // namespace
}  // namespace sipline::test
