// Authentication of SIP callers (RFC 3261 §22.2, digest with MD5 as sipp
// 3.6.1 knows it) against sipp, all on 127.0.0.1. Every test but the last
// runs the gateway with `[auth] trusted = []`, so that 127.0.0.1 is not a
// trusted address, and two [[user]]s, alice/secret and bob/secret:
//  - an INVITE without credentials to phone 201 gets 401 with an MD5
//    WWW-Authenticate challenge, and line 1 never rings;
//  - the same INVITE again with alice's credentials rings phone 201, which
//    answers, and the call connects and ends with sipp's BYE;
//  - a wrong password gets 401 again and nothing rings;
//  - toll fraud: a rule "011." (international from the US) to a trunk that
//    admits every authenticated user answers an unauthenticated caller 401
//    and alice, authenticated but without the "international" permission,
//    403, and the trunk (a sipp UAS) receives no INVITE; bob, whose [[user]]
//    has permissions = ["international"], reaches it;
//  - with the default [auth] trusted (127.0.0.0/8, ::1), a plain INVITE from
//    127.0.0.1 rings phone 201 without any challenge;
//  - a bounded flood of unauthenticated INVITEs is answered 401 at its rate
//    while an authenticated call in the middle of it connects.
// Line state is sampled through the control socket every 20 ms while sipp
// runs, so "never rings" means no sample saw the line leave idle, and the sim
// phone counts no ring afterwards.
#include <chrono>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/process.hpp"
#include "harness/sip_udp.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
const std::string kTollNumber = "01144123456";

// `[auth] trusted = []` and the users alice and bob (both with "secret").
const std::string kUntrustedAuth = "\n[auth]\n"
                                   "algorithms = [\"MD5\"]\n"
                                   "trusted = []\n"
                                   "\n[[user]]\nname = \"alice\"\npassword = \"secret\"\n"
                                   "\n[[user]]\nname = \"bob\"\npassword = \"secret\"\n";

// Phone 201 answers by itself 300 ms after it starts ringing.
GatewayOptions untrusted_options() {
  GatewayOptions o;
  o.phones = {{"fxs1", "201", 300}, {"fxs2", "202", -1}};
  o.extra_toml = kUntrustedAuth;
  return o;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The header lines named `name` (case-sensitive "Name:" at a line start) of
// the first message in `trace` at or after `from` whose start line begins
// with `start_line`.
std::vector<std::string> headers_of(const std::string& trace, const std::string& start_line, const std::string& name,
                                    std::size_t from = 0) {
  std::vector<std::string> found;
  const auto at = trace.find(start_line, from);
  if (at == std::string::npos) return found;
  std::istringstream in(trace.substr(at));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    if (line.rfind(name + ":", 0) == 0) found.push_back(line);
  }
  return found;
}

// What line 1 did while a sipp ran: the states its samples showed, and the
// sim phone's ring count at the end.
struct LineWatch {
  std::set<std::string> states;
  bool phone_rang = false;  // a sample showed phone.ringing
  int rings = -1;           // phone.rings after the run
  std::string describe() const {
    std::string s = "line 1 states seen: {";
    for (const auto& st : states) s += st + " ";
    return s + "} rang=" + (phone_rang ? "yes" : "no") + " rings=" + std::to_string(rings);
  }
};

struct SippRun {
  bool ended = false;
  int exit_code = -1;
  std::string trace;  // sipp's -trace_msg file
  std::string diagnostics;
  LineWatch line1;
};

class InviteAuthTest : public GatewayTest {
 protected:
  // Line 1 rang and connected, and sipp's BYE ended the call: the phone,
  // still off hook, hears the far end leave and is hung up here.
  void expect_connected_then_hung_up(const SippRun& run) {
    EXPECT_EQ(run.line1.states.count("connected"), 1u) << run.line1.describe();
    EXPECT_GE(run.line1.rings, 1) << run.line1.describe();
    EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
    EXPECT_TRUE(gw.wait_line_state(1, "disconnected", 5s)) << gw.describe();
    EXPECT_TRUE(is_ok(gw.phone(1, "onhook")));
    EXPECT_TRUE(gw.wait_line_state(1, "idle", 3s)) << gw.describe();
  }

  // sipp (`scenario`, -s `number`, -au/-ap when `user` is not empty) calls the
  // gateway; line 1 is sampled until sipp ends (at most 25 s) and 500 ms after.
  SippRun call(const std::string& peer, const std::string& scenario, const std::string& number,
               const std::string& user = "", const std::string& password = "") {
    SippRun run;
    const std::string dir = gw.peer_dir(peer);
    Sipp sipp(dir);
    SippOptions so;
    so.scenario_file = kFixtures + "/" + scenario;
    so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
    so.service = number;
    so.timeout_s = 20;
    if (!user.empty()) so.extra = {"-au", user, "-ap", password};
    if (!sipp.start(so)) {
      run.diagnostics = "sipp did not start: " + sipp.process().error();
      return run;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    auto sample = [&] {
      const Json l = gw.line(1);
      if (!l.is_object()) return;
      run.line1.states.insert(l.value("state", std::string("?")));
      if (l.contains("phone") && l["phone"].value("ringing", false)) run.line1.phone_rang = true;
    };
    while (sipp.process().running() && std::chrono::steady_clock::now() < deadline) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    run.ended = sipp.wait(std::chrono::seconds(1));
    run.exit_code = sipp.process().exit_code();
    const auto after = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (std::chrono::steady_clock::now() < after) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const Json l = gw.line(1);
    if (l.is_object() && l.contains("phone")) run.line1.rings = l["phone"].value("rings", -1);
    run.trace = read_file(dir + "/sipp_messages.log");
    run.diagnostics = sipp.diagnostics() + "\n---- sipline log ----\n" + gw.process().log_tail(60);
    return run;
  }

  // Line 1 stayed idle through the whole run and its phone never rang.
  static ::testing::AssertionResult line_never_rang(const SippRun& run) {
    if (run.line1.states != std::set<std::string>{"idle"} || run.line1.phone_rang || run.line1.rings != 0)
      return ::testing::AssertionFailure() << run.line1.describe();
    return ::testing::AssertionSuccess();
  }

  // The one 401 in `trace` offers exactly one challenge: Digest, MD5.
  static ::testing::AssertionResult one_md5_challenge(const std::string& trace, std::size_t from = 0) {
    const auto challenges = headers_of(trace, "SIP/2.0 401", "WWW-Authenticate", from);
    if (challenges.size() != 1u) return ::testing::AssertionFailure() << challenges.size() << " WWW-Authenticate";
    const std::string& c = challenges[0];
    if (c.find("Digest") == std::string::npos || c.find("algorithm=MD5") == std::string::npos ||
        c.find("nonce=\"") == std::string::npos || c.find("realm=\"127.0.0.1\"") == std::string::npos)
      return ::testing::AssertionFailure() << "not an MD5 digest challenge for realm 127.0.0.1: " << c;
    return ::testing::AssertionSuccess();
  }
};

// 1. No credentials: 401 with an MD5 challenge, and nothing rings.
TEST_F(InviteAuthTest, InviteWithoutCredentialsGets401AndRingsNothing) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(untrusted_options()));

  const SippRun run = call("sipp", "uac_auth_challenge.xml", "201");
  ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
  EXPECT_TRUE(one_md5_challenge(run.trace)) << run.trace;
  EXPECT_EQ(count_of(run.trace, "SIP/2.0 180"), 0u) << run.trace;
  EXPECT_EQ(count_of(run.trace, "SIP/2.0 200"), 0u) << run.trace;
  EXPECT_TRUE(line_never_rang(run)) << run.diagnostics;
  EXPECT_EQ(gw.call_count(), 0u) << gw.calls().dump();
  EXPECT_TRUE(gw.process().log_text().find("event=invite_auth_failed") != std::string::npos) << run.diagnostics;
}

// 2. alice's credentials: phone 201 rings, answers, and the call connects.
TEST_F(InviteAuthTest, AuthenticatedInviteRingsThePhoneAndConnects) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(untrusted_options()));

  const SippRun run = call("sipp", "uac_auth_call.xml", "201", "alice", "secret");
  ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
  EXPECT_TRUE(one_md5_challenge(run.trace)) << run.trace;
  // The second INVITE (CSeq 2) carries alice's MD5 credentials.
  const auto second = run.trace.find("CSeq: 2 INVITE");
  ASSERT_NE(second, std::string::npos) << run.trace;
  const auto request_line = run.trace.rfind("INVITE sip:", second);
  ASSERT_NE(request_line, std::string::npos) << run.trace;
  const auto authorization = headers_of(run.trace, "INVITE sip:", "Authorization", request_line);
  ASSERT_EQ(authorization.size(), 1u) << run.trace;
  EXPECT_NE(authorization[0].find("username=\"alice\""), std::string::npos) << authorization[0];
  EXPECT_NE(authorization[0].find("algorithm=MD5"), std::string::npos) << authorization[0];

  EXPECT_TRUE(run.line1.states.count("ringing") == 1 || run.line1.phone_rang) << run.line1.describe();
  expect_connected_then_hung_up(run);
  EXPECT_NE(gw.process().log_text().find("event=invite_authenticated user=alice"), std::string::npos)
      << run.diagnostics;
}

// 3. A wrong password: 401 again, and nothing rings.
TEST_F(InviteAuthTest, WrongPasswordGets401AgainAndRingsNothing) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(untrusted_options()));

  const SippRun run = call("sipp", "uac_auth_refused.xml", "201", "alice", "not-the-password");
  ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
  EXPECT_EQ(count_of(run.trace, "SIP/2.0 401"), 2u) << run.trace;
  EXPECT_EQ(count_of(run.trace, "SIP/2.0 403"), 0u) << run.trace;
  // The second 401 challenges afresh, as the first did.
  const auto second = run.trace.find("SIP/2.0 401", run.trace.find("SIP/2.0 401") + 1);
  EXPECT_TRUE(one_md5_challenge(run.trace, second)) << run.trace;
  EXPECT_TRUE(line_never_rang(run)) << run.diagnostics;
  EXPECT_EQ(gw.call_count(), 0u) << gw.calls().dump();
}

// 3b. Call limits: with calls_per_minute_per_user = 2, alice's third call
// within the minute is refused with 503 and rings nothing; her first two
// connect.
TEST_F(InviteAuthTest, ThirdCallInAMinuteBeyondTheUsersLimitGets503) {
  if (!require_tool("sipp")) return;
  GatewayOptions o = untrusted_options();
  o.extra_toml = "\n[auth]\ntrusted = []\ncalls_per_minute_per_user = 2\nmax_calls_per_user = 4\n" +
                 o.extra_toml.substr(o.extra_toml.find("\n[[user]]"));
  ASSERT_TRUE(start_gateway(o));
  for (int i = 0; i < 2; ++i) {
    const SippRun run = call("sipp-" + std::to_string(i), "uac_auth_call.xml", "201", "alice", "secret");
    ASSERT_TRUE(run.ended && run.exit_code == 0) << "call " << i << ": sipp exit " << run.exit_code << "\n"
                                                 << run.diagnostics;
    expect_connected_then_hung_up(run);
  }
  const SippRun third = call("sipp-2", "uac_auth_refused.xml", "201", "alice", "secret");
  ASSERT_TRUE(third.ended && third.exit_code == 0) << "sipp exit " << third.exit_code << "\n" << third.diagnostics;
  EXPECT_EQ(count_of(third.trace, "SIP/2.0 503"), 1u) << third.trace;
  EXPECT_TRUE(line_never_rang(third)) << third.diagnostics;
  EXPECT_NE(gw.process().log_text().find("event=call_limited user=alice"), std::string::npos);
}

// 4. Toll fraud: a rule for international numbers to a trunk that only bob
// may use. Nobody else reaches the trunk, authenticated or not.
TEST_F(InviteAuthTest, InternationalNeedsThePermissionNotJustAuthentication) {
  if (!require_tool("sipp")) return;
  const std::string far_dir = gw.peer_dir("sipp-far");
  Sipp far(far_dir);
  SippOptions fo;
  fo.scenario_file = kFixtures + "/uas_answer.xml";
  fo.timeout_s = 60;
  ASSERT_TRUE(far.start(fo)) << far.process().error();

  GatewayOptions o = untrusted_options();
  o.dial_plan = {{.pattern = "011.", .target = "", .steps = {"trunk:far"}, .allow = {"users"}}};
  o.extra_toml = "\n[routing]\nsip_callers = \"bridge\"\n"
                 "\n[[trunk]]\nname = \"far\"\nuri = \"sip:127.0.0.1:" + std::to_string(far.sip_port()) +
                 "\"\nnumber_format = \"dialed\"\n" + kUntrustedAuth + "permissions = [\"international\"]\n";  // bob's
  ASSERT_TRUE(start_gateway(o));
  auto far_trace = [&] { return read_file(far_dir + "/sipp_messages.log"); };

  // A stranger without credentials: 401.
  const SippRun stranger = call("sipp-stranger", "uac_auth_challenge.xml", kTollNumber);
  EXPECT_TRUE(stranger.ended && stranger.exit_code == 0) << "sipp exit " << stranger.exit_code << "\n"
                                                         << stranger.diagnostics;
  EXPECT_TRUE(one_md5_challenge(stranger.trace)) << stranger.trace;

  // alice, authenticated and admitted by the rule, but without the
  // "international" permission: 403.
  const SippRun alice = call("sipp-alice", "uac_auth_refused.xml", kTollNumber, "alice", "secret");
  EXPECT_TRUE(alice.ended && alice.exit_code == 0) << "sipp exit " << alice.exit_code << "\n" << alice.diagnostics;
  EXPECT_EQ(count_of(alice.trace, "SIP/2.0 401"), 1u) << alice.trace;
  EXPECT_EQ(count_of(alice.trace, "SIP/2.0 403"), 1u) << alice.trace;
  EXPECT_NE(gw.process().log_text().find("event=toll_class_denied number=" + kTollNumber + " class=international"),
            std::string::npos)
      << gw.process().log_tail();

  std::this_thread::sleep_for(1s);  // time for a wrongly placed INVITE to arrive
  EXPECT_EQ(far_trace().find("INVITE sip:"), std::string::npos) << far_trace() << "\n" << alice.diagnostics;
  EXPECT_TRUE(far.process().running()) << far.diagnostics();
  EXPECT_EQ(gw.call_count(), 0u) << gw.calls().dump();

  // bob, who holds the permission, reaches the trunk (the rule itself works).
  const SippRun bob = call("sipp-bob", "uac_auth_call.xml", kTollNumber, "bob", "secret");
  EXPECT_TRUE(bob.ended && bob.exit_code == 0) << "sipp exit " << bob.exit_code << "\n"
                                               << bob.diagnostics << far.diagnostics();
  EXPECT_EQ(count_of(far_trace(), "INVITE sip:" + kTollNumber + "@"), 1u) << far_trace();
  EXPECT_TRUE(far.wait(10s)) << "the far end got no BYE?\n" << far.diagnostics();
  EXPECT_EQ(far.process().exit_code(), 0) << far.diagnostics();
}

// Under a bounded flood of unauthenticated INVITEs (400 at 50/s from sipp,
// each answered 401 and ACKed), an authenticated call made in the middle of it
// still rings the phone and connects, every flood INVITE gets its 401 in time
// (sipp's 5 s response timeout fails the run otherwise), the run keeps its
// rate (400 calls in about 8 s), and nothing is banned: a caller without
// credentials has failed nothing, and the flood must not lock out a real user
// on the same address.
TEST_F(InviteAuthTest, FloodOfUnauthenticatedInvitesGets401sWhileAnAuthenticatedCallConnects) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(untrusted_options()));
  const std::string flood_dir = gw.peer_dir("sipp-flood");
  Sipp flood(flood_dir);
  SippOptions fo;
  fo.scenario_file = kFixtures + "/uac_auth_challenge.xml";
  fo.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  fo.service = "201";
  fo.calls = 400;
  fo.timeout_s = 40;
  fo.extra = {"-r", "50", "-rp", "1000", "-l", "100"};
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(flood.start(fo)) << flood.process().error();
  std::this_thread::sleep_for(2s);  // well into the flood
  ASSERT_TRUE(flood.process().running()) << flood.diagnostics();

  const SippRun alice = call("sipp-alice", "uac_auth_call.xml", "201", "alice", "secret");
  EXPECT_TRUE(alice.ended && alice.exit_code == 0) << "sipp exit " << alice.exit_code << "\n" << alice.diagnostics;
  expect_connected_then_hung_up(alice);

  ASSERT_TRUE(flood.wait(30s)) << flood.diagnostics();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(flood.process().exit_code(), 0) << "some flood INVITE got no 401 in time\n" << flood.diagnostics();
  const std::string trace = read_file(flood_dir + "/sipp_messages.log");
  EXPECT_EQ(count_of(trace, "SIP/2.0 401"), 400u);
  EXPECT_EQ(count_of(trace, "SIP/2.0 180"), 0u);
  EXPECT_LT(seconds, 14.0) << "400 INVITEs at 50/s took " << seconds << " s";
  const Json bans = gw.request({{"cmd", "bans"}});
  EXPECT_TRUE(bans.value("ok", false)) << bans.dump();
  ASSERT_TRUE(bans.contains("bans")) << bans.dump();
  EXPECT_TRUE(bans["bans"].empty()) << bans.dump();
}

// Credentials in a scheme other than Digest (RFC 4475 §3.3.7) are ignored:
// the INVITE gets a Digest challenge (401), not a 400, and counts as no failure.
TEST_F(InviteAuthTest, CredentialsInAnUnknownSchemeGetAChallenge) {
  ASSERT_TRUE(start_gateway(untrusted_options()));
  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  InviteSpec spec;
  spec.user = "201";
  spec.remote_port = gw.sip_port();
  spec.local_port = peer.port();
  spec.body = pcmu_offer(peer.port() + 2);
  spec.extra_headers = "Authorization: NoOneKnowsThisScheme opaque-data=here\r\n";
  ASSERT_TRUE(peer.send_to(gw.sip_port(), make_invite(spec)));
  const auto response = peer.receive_final(spec.call_id, 5s);
  ASSERT_TRUE(response.has_value());
  peer.send_to(gw.sip_port(), make_ack(spec, *response));
  EXPECT_EQ(response->rfind("SIP/2.0 401", 0), 0u) << *response;
  EXPECT_TRUE(one_md5_challenge(*response)) << *response;
  const Json bans = gw.request({{"cmd", "bans"}});
  ASSERT_TRUE(bans.contains("bans")) << bans.dump();
  EXPECT_TRUE(bans["bans"].empty()) << bans.dump();
}

// Per-source limits hold for trusted addresses too: with one call allowed per
// source, a second INVITE from 127.0.0.1 while the first call is up gets 503
// and rings nothing.
TEST_F(InviteAuthTest, TrustedSourceBeyondItsConcurrentLimitGets503) {
  GatewayOptions o;
  o.phones = {{"fxs1", "201", 300}, {"fxs2", "202", 300}};
  o.extra_toml = "\n[auth]\nmax_calls_per_source = 1\n";
  ASSERT_TRUE(start_gateway(o));
  const std::string first = invite_final_response(gw.sip_port(), "201", 5s);
  ASSERT_EQ(first.rfind("SIP/2.0 200", 0), 0u) << first;
  const std::string second = invite_final_response(gw.sip_port(), "202", 5s);
  EXPECT_EQ(second.rfind("SIP/2.0 503", 0), 0u) << second;
  EXPECT_EQ(gw.line(2).value("state", ""), "idle") << gw.describe();
  EXPECT_NE(gw.process().log_text().find("event=call_limited user= source=127.0.0.1"), std::string::npos)
      << gw.process().log_tail();
}

// 5. Regression guard: with the default trusted addresses, a plain INVITE
// from 127.0.0.1 rings phone 201 without a challenge.
TEST_F(InviteAuthTest, DefaultTrustedLoopbackCallerRingsWithoutChallenge) {
  if (!require_tool("sipp")) return;
  GatewayOptions o;
  o.phones = {{"fxs1", "201", 300}, {"fxs2", "202", -1}};
  ASSERT_TRUE(start_gateway(o));

  const SippRun run = call("sipp", "uac_call.xml", "201");
  ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
  EXPECT_EQ(count_of(run.trace, "SIP/2.0 401"), 0u) << run.trace;
  EXPECT_EQ(count_of(run.trace, "SIP/2.0 407"), 0u) << run.trace;
  expect_connected_then_hung_up(run);
}

}  // namespace
}  // namespace sipline::test
