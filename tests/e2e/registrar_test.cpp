// The registrar (REGISTER from local SIP users, RFC 3261 §10) with digest
// authentication (RFC 8760: SHA-256 and MD5 challenges) against sipp and
// baresip, all on 127.0.0.1:
//  - a REGISTER without credentials gets 401 with one WWW-Authenticate per
//    algorithm (SHA-256 first, then MD5, qop="auth"), for a known and an
//    unknown user alike; sipp answers the MD5 challenge and gets 200 with its
//    Contact and expires; `users` lists it;
//  - a wrong password and an unknown user both get 401 (no 403/404 that would
//    tell whether the user exists) and bind nothing;
//  - bindings kept in the SQLite database survive a restart of the daemon;
//  - Expires: 0 removes the binding;
//  - baresip registers with its auth_pass and `users` shows its contact and
//    its User-Agent;
//  - calls to a user fork to its contacts (RFC 3261 §16.6): equal q at once,
//    lower q after the higher group failed, a 486 from one branch does not
//    end the call, the first 2xx wins and the others are cancelled with
//    Reason: SIP;cause=200 (RFC 3326), for phones and SIP callers alike.
// sipp 3.6.1 and baresip 1.0 (libre) know only MD5 and give up when the first
// challenge names SHA-256 instead of skipping it, so every test that
// authenticates runs the gateway with [auth] algorithms = ["MD5"]; the
// challenge test offers the SHA-256 and MD5 pair.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "auth/digest.hpp"
#include "harness/baresip.hpp"
#include "harness/gateway_under_test.hpp"
#include "harness/ports.hpp"
#include "harness/sip_udp.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";

// The registrar tables for `gw`: its database in the gateway's own folder,
// the challenges in `algorithms` (a TOML array), one user alice/secret.
const std::string kBothAlgorithms = R"(["SHA-256", "MD5"])";  // RFC 8760 order
const std::string kMd5Only = R"(["MD5"])";

GatewayOptions registrar_options(const GatewayUnderTest& gw, const std::string& algorithms) {
  GatewayOptions o;
  o.extra_toml = "\n[auth]\n"
                 "realm = \"\"\n"
                 "algorithms = " + algorithms + "\n"
                 "nonce_lifetime_s = 300\n"
                 "\n[registrar]\n"
                 "database = \"" + gw.dir() + "/bindings.sqlite\"\n"
                 "min_expires_s = 60\n"
                 "max_expires_s = 3600\n"
                 "default_expires_s = 3600\n"
                 "max_contacts = 10\n"
                 "\n[[user]]\n"
                 "name = \"alice\"\n"
                 "password = \"secret\"\n";
  return o;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The header lines named `name` (case-insensitive, "Name:" prefix) of the first
// message in sipp's trace whose start line begins with `start_line`.
std::vector<std::string> headers_of(const std::string& trace, const std::string& start_line, const std::string& name) {
  std::vector<std::string> found;
  const auto at = trace.find(start_line);
  if (at == std::string::npos) return found;
  std::istringstream in(trace.substr(at));
  std::string line;
  std::getline(in, line);  // the start line
  const std::string prefix = lower(name) + ":";
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;  // end of the header block
    if (lower(line).rfind(prefix, 0) == 0) found.push_back(line);
  }
  return found;
}

struct SippRun {
  bool ended = false;     // exited by itself within the time
  int exit_code = -1;     // 0: the scenario went as written
  std::string trace;      // sipp's message trace
  std::string diagnostics;
};

// One sipp run of `scenario` against the gateway: user/password for -s/-au/-ap,
// Expires and the Contact's port as keys, `extra` appended (e.g. -key q 0.5).
SippRun run_register(GatewayUnderTest& gw, const std::string& peer, const std::string& scenario,
                     const std::string& user, const std::string& password, int expires,
                     std::uint16_t contact_port, const std::vector<std::string>& extra = {}) {
  const std::string dir = gw.peer_dir(peer);
  Sipp sipp(dir);
  SippOptions so;
  so.scenario_file = kFixtures + "/" + scenario;
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = user;
  so.calls = 1;
  so.timeout_s = 15;
  so.extra = {"-au", user, "-ap", password, "-key", "expires", std::to_string(expires),
              "-key", "contact_port", std::to_string(contact_port)};
  so.extra.insert(so.extra.end(), extra.begin(), extra.end());
  SippRun run;
  if (!sipp.start(so)) {
    run.diagnostics = "sipp did not start: " + sipp.process().error();
    return run;
  }
  run.ended = sipp.wait(std::chrono::seconds(25));
  run.exit_code = sipp.process().exit_code();
  run.trace = read_file(dir + "/sipp_messages.log");
  run.diagnostics = sipp.diagnostics();
  return run;
}

// Polls `users` (every 50 ms) until `accept` holds for its array; returns the last answer.
Json wait_users(GatewayUnderTest& gw, const std::function<bool(const Json&)>& accept,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Json last;
  for (;;) {
    last = gw.request({{"cmd", "users"}});
    if (last.value("ok", false) && last.contains("users") && accept(last["users"])) return last;
    if (std::chrono::steady_clock::now() >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool lists_contact(const Json& users, const std::string& user, const std::string& contact) {
  return std::any_of(users.begin(), users.end(), [&](const Json& u) {
    return u.value("user", "") == user && u.value("contact", "") == contact;
  });
}

std::string sipp_contact(std::uint16_t port) { return "sip:alice@127.0.0.1:" + std::to_string(port); }

// "127.0.0.1:<port>": how a contact (and a log line naming it) names a peer.
std::string at_port(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// The daemon log's lines holding every one of `parts`, in log order, with
// their line numbers.
struct LogLine {
  std::size_t number = 0;
  std::string text;
};
std::vector<LogLine> log_lines_with(const std::string& log, const std::vector<std::string>& parts) {
  std::vector<LogLine> found;
  std::istringstream in(log);
  std::string line;
  for (std::size_t n = 0; std::getline(in, line); ++n) {
    const auto holds = [&](const std::string& p) { return line.find(p) != std::string::npos; };
    if (std::all_of(parts.begin(), parts.end(), holds)) found.push_back({n, line});
  }
  return found;
}

// Polls the daemon log (every 50 ms) until a line holds every one of `parts`.
bool wait_log_line(GatewayUnderTest& gw, const std::vector<std::string>& parts, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!log_lines_with(gw.process().log_text(), parts).empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The log's lines about forking (fork_group, invite_sent, branch_failed,
// answered_elsewhere, target_timeout), for failure messages.
std::string fork_events(GatewayUnderTest& gw) {
  std::string out;
  for (const char* event : {"event=fork_group", "event=invite_sent", "event=bridge_invite_sent",
                            "event=branch_failed", "event=answered_elsewhere", "event=target_timeout"}) {
    for (const auto& l : log_lines_with(gw.process().log_text(), {event})) out += l.text + "\n";
  }
  return out.empty() ? "(no fork events in the log)\n" + gw.process().log_tail(30) : out;
}

class RegistrarTest : public GatewayTest {
 protected:
  // Starts a sipp UAS in `uas` (one call of `scenario`, bounded by 25 s) and
  // registers its address as a contact of alice with q-value `q`, by another
  // sipp run whose Contact names the UAS's port. False (with the failure
  // recorded) when either did not work.
  bool register_sipp_uas(Sipp& uas, const std::string& scenario, const std::string& q) {
    SippOptions so;
    so.scenario_file = kFixtures + "/" + scenario;
    so.calls = 1;
    so.timeout_s = 25;
    if (!uas.start(so)) {
      ADD_FAILURE() << "sipp UAS did not start: " << uas.process().error();
      return false;
    }
    const SippRun reg = run_register(gw, "sipp-register-" + std::to_string(uas.sip_port()), "register_auth_q.xml",
                                     "alice", "secret", 120, uas.sip_port(), {"-key", "q", q});
    if (!reg.ended || reg.exit_code != 0) {
      ADD_FAILURE() << "sipp REGISTER exit " << reg.exit_code << "\n" << reg.diagnostics;
      return false;
    }
    const std::string contact = sipp_contact(uas.sip_port());
    const Json users = wait_users(gw, [&](const Json& u) { return lists_contact(u, "alice", contact); });
    if (!lists_contact(users.value("users", Json::array()), "alice", contact)) {
      ADD_FAILURE() << "the sipp UAS's contact is not listed: " << users.dump();
      return false;
    }
    return true;
  }

  // Starts `phone` in the peer folder `peer` and registers it as alice at the
  // gateway (the harness account has regint=0 and never registers, so a
  // second user agent is added over ctrl_tcp, with `account_params` such as
  // ";regq=0.5" appended); the `users` answer once its contact is listed, or
  // the last one after 10 s. Two phones need two peer folders.
  Json register_baresip(Baresip& phone, const std::string& answermode, const std::string& peer = "baresip",
                        const std::string& account_params = "") {
    BaresipOptions bo;
    bo.dir = gw.peer_dir(peer);
    bo.answermode = answermode;
    bo.lifetime_s = 60;
    if (!phone.start(bo)) {
      ADD_FAILURE() << phone.error();
      return Json::object();
    }
    const std::string account = "<sip:alice@127.0.0.1:" + std::to_string(gw.sip_port()) +
                                ">;auth_pass=secret;regint=120;answermode=" + answermode + account_params;
    EXPECT_TRUE(phone.ctrl().send("uanew", account)) << phone.diagnostics();
    const std::string contact = "127.0.0.1:" + std::to_string(phone.sip_port());
    return wait_users(
        gw,
        [&](const Json& u) {
          return std::any_of(u.begin(), u.end(), [&](const Json& b) {
            return b.value("user", "") == "alice" && b.value("contact", "").find(contact) != std::string::npos;
          });
        },
        std::chrono::seconds(10));
  }
};

TEST_F(RegistrarTest, ChallengesOfferSha256ThenMd5ForKnownAndUnknownUsers) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(registrar_options(gw, kBothAlgorithms)));

  for (const std::string user : {"alice", "mallory"}) {
    SCOPED_TRACE(user);
    const SippRun run = run_register(gw, "sipp-" + user, "register_challenge.xml", user, "", 120, pick_free_port());
    ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
    // One WWW-Authenticate per algorithm, SHA-256 first, each with qop="auth".
    const auto challenges = headers_of(run.trace, "SIP/2.0 401", "WWW-Authenticate");
    ASSERT_EQ(challenges.size(), 2u) << run.trace;
    EXPECT_NE(challenges[0].find("algorithm=SHA-256"), std::string::npos) << challenges[0];
    EXPECT_NE(challenges[1].find("algorithm=MD5"), std::string::npos) << challenges[1];
    for (const auto& c : challenges) {
      EXPECT_NE(c.find("Digest"), std::string::npos) << c;
      EXPECT_NE(c.find("qop=\"auth\""), std::string::npos) << c;
      EXPECT_NE(c.find("realm=\"127.0.0.1\""), std::string::npos) << c;  // realm "" -> sip.address
      EXPECT_NE(c.find("nonce=\""), std::string::npos) << c;
    }
  }
  const Json users = gw.request({{"cmd", "users"}});
  ASSERT_TRUE(users.value("ok", false)) << users.dump();
  EXPECT_TRUE(users["users"].empty()) << users.dump();
}

TEST_F(RegistrarTest, SippRegistersWithMd5) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(registrar_options(gw, kMd5Only)));
  const std::uint16_t contact_port = pick_free_port();

  const SippRun run = run_register(gw, "sipp", "register_auth.xml", "alice", "secret", 120, contact_port);
  ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
  const auto challenges = headers_of(run.trace, "SIP/2.0 401", "WWW-Authenticate");
  ASSERT_EQ(challenges.size(), 1u) << run.trace;
  EXPECT_NE(challenges[0].find("algorithm=MD5"), std::string::npos) << challenges[0];
  // sipp's second REGISTER carries MD5 credentials.
  const auto first_register = run.trace.find("REGISTER sip:");
  ASSERT_NE(first_register, std::string::npos) << run.trace;
  const auto authorization = headers_of(run.trace.substr(first_register + 1), "REGISTER sip:", "Authorization");
  ASSERT_EQ(authorization.size(), 1u) << run.trace;
  EXPECT_NE(authorization[0].find("algorithm=MD5"), std::string::npos) << authorization[0];

  // The 200 names the binding with its expiry.
  const auto contacts = headers_of(run.trace, "SIP/2.0 200", "Contact");
  ASSERT_EQ(contacts.size(), 1u) << run.trace;
  const std::string bound = "<" + sipp_contact(contact_port) + ">;expires=";
  const auto at = contacts[0].find(bound);
  ASSERT_NE(at, std::string::npos) << contacts[0];
  const int expires = std::atoi(contacts[0].c_str() + at + bound.size());
  EXPECT_GT(expires, 100) << contacts[0];
  EXPECT_LE(expires, 120) << contacts[0];

  const Json users = wait_users(gw, [&](const Json& u) { return lists_contact(u, "alice", sipp_contact(contact_port)); });
  ASSERT_TRUE(users.value("ok", false)) << users.dump();
  ASSERT_EQ(users["users"].size(), 1u) << users.dump();
  const Json& b = users["users"][0];
  EXPECT_EQ(b.value("user", ""), "alice") << users.dump();
  EXPECT_EQ(b.value("contact", ""), sipp_contact(contact_port)) << users.dump();
  EXPECT_GT(b.value("expires_in", 0), 100) << users.dump();
  EXPECT_LE(b.value("expires_in", 0), 120) << users.dump();
  EXPECT_EQ(b.value("user_agent", ""), "sipline-e2e-sipp") << users.dump();
  EXPECT_EQ(lower(b.value("transport", "")), "udp") << users.dump();
  EXPECT_NE(b.value("source", "").find("127.0.0.1"), std::string::npos) << users.dump();
}

TEST_F(RegistrarTest, WrongPasswordAndUnknownUserGetTheSame401) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(registrar_options(gw, kMd5Only)));

  const SippRun wrong = run_register(gw, "sipp-wrong", "register_rejected.xml", "alice", "not-the-password", 120,
                                     pick_free_port());
  EXPECT_TRUE(wrong.ended && wrong.exit_code == 0) << "sipp exit " << wrong.exit_code << "\n" << wrong.diagnostics;

  const SippRun unknown = run_register(gw, "sipp-unknown", "register_rejected.xml", "mallory", "secret", 120,
                                       pick_free_port());
  EXPECT_TRUE(unknown.ended && unknown.exit_code == 0) << "sipp exit " << unknown.exit_code << "\n"
                                                       << unknown.diagnostics;
  // Neither answer tells whether the user exists.
  EXPECT_EQ(headers_of(unknown.trace, "SIP/2.0 401", "WWW-Authenticate").size(), 1u) << unknown.trace;
  EXPECT_EQ(unknown.trace.find("SIP/2.0 403"), std::string::npos) << unknown.trace;
  EXPECT_EQ(unknown.trace.find("SIP/2.0 404"), std::string::npos) << unknown.trace;

  const Json users = gw.request({{"cmd", "users"}});
  ASSERT_TRUE(users.value("ok", false)) << users.dump();
  EXPECT_TRUE(users["users"].empty()) << users.dump();
}

TEST_F(RegistrarTest, BindingsSurviveARestart) {
  if (!require_tool("sipp")) return;
  const GatewayOptions options = registrar_options(gw, kMd5Only);
  ASSERT_TRUE(start_gateway(options));
  const std::uint16_t contact_port = pick_free_port();

  const SippRun run = run_register(gw, "sipp", "register_auth.xml", "alice", "secret", 600, contact_port);
  ASSERT_TRUE(run.ended && run.exit_code == 0) << "sipp exit " << run.exit_code << "\n" << run.diagnostics;
  const Json before = wait_users(gw, [&](const Json& u) { return lists_contact(u, "alice", sipp_contact(contact_port)); });
  ASSERT_TRUE(lists_contact(before.value("users", Json::array()), "alice", sipp_contact(contact_port)))
      << before.dump();

  Process& p = gw.stop();
  ASSERT_TRUE(p.exited_normally() && p.exit_code() == 0) << "first run: " << p.describe_exit();
  ASSERT_TRUE(start_gateway(options));  // same folder, same database file, same ports

  const Json after = gw.request({{"cmd", "users"}});
  ASSERT_TRUE(after.value("ok", false)) << after.dump();
  ASSERT_EQ(after["users"].size(), 1u) << after.dump();
  EXPECT_TRUE(lists_contact(after["users"], "alice", sipp_contact(contact_port))) << after.dump();
  EXPECT_GT(after["users"][0].value("expires_in", 0), 500) << after.dump();
  EXPECT_EQ(after["users"][0].value("user_agent", ""), "sipline-e2e-sipp") << after.dump();
}

TEST_F(RegistrarTest, ExpiresZeroRemovesTheBinding) {
  if (!require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(registrar_options(gw, kMd5Only)));
  const std::uint16_t contact_port = pick_free_port();

  const SippRun reg = run_register(gw, "sipp-register", "register_auth.xml", "alice", "secret", 120, contact_port);
  ASSERT_TRUE(reg.ended && reg.exit_code == 0) << "sipp exit " << reg.exit_code << "\n" << reg.diagnostics;
  const Json bound = wait_users(gw, [&](const Json& u) { return lists_contact(u, "alice", sipp_contact(contact_port)); });
  ASSERT_TRUE(lists_contact(bound.value("users", Json::array()), "alice", sipp_contact(contact_port)))
      << bound.dump();

  // A second sipp (another Call-ID) removes the same Contact with Expires: 0.
  const SippRun unreg = run_register(gw, "sipp-unregister", "register_auth.xml", "alice", "secret", 0, contact_port);
  ASSERT_TRUE(unreg.ended && unreg.exit_code == 0) << "sipp exit " << unreg.exit_code << "\n" << unreg.diagnostics;
  // The 200 lists the bindings that remain: none.
  EXPECT_TRUE(headers_of(unreg.trace, "SIP/2.0 200", "Contact").empty()) << unreg.trace;

  const Json users = wait_users(gw, [](const Json& u) { return u.empty(); });
  ASSERT_TRUE(users.value("ok", false)) << users.dump();
  EXPECT_TRUE(users["users"].empty()) << users.dump();
}

TEST_F(RegistrarTest, BaresipRegistersWithDigest) {
  if (!require_tool("baresip")) return;
  ASSERT_TRUE(start_gateway(registrar_options(gw, kMd5Only)));

  Baresip phone;
  const Json users = register_baresip(phone, "manual");
  const std::string port = ":" + std::to_string(phone.sip_port());
  ASSERT_TRUE(users.value("ok", false)) << users.dump();
  ASSERT_EQ(users["users"].size(), 1u) << users.dump() << "\n" << phone.diagnostics();
  const Json& b = users["users"][0];
  EXPECT_NE(b.value("contact", "").find("127.0.0.1" + port), std::string::npos) << users.dump();
  EXPECT_NE(lower(b.value("user_agent", "")).find("baresip"), std::string::npos) << users.dump();
  EXPECT_GT(b.value("expires_in", 0), 60) << users.dump();
  EXPECT_LE(b.value("expires_in", 0), 120) << users.dump();
  phone.quit();
}


// Calls to a registered user: phone 1 dials 301, whose rule's step is
// "user:alice"; baresip, registered as alice, answers by itself and sends its
// 1000 Hz tone, which the phone hears (audio from the registered contact).
TEST_F(RegistrarTest, PhoneReachesARegisteredUserThroughAUserStep) {
  if (!require_tool("baresip")) return;
  GatewayOptions options = registrar_options(gw, kMd5Only);
  options.dial_plan = {{.pattern = "301", .target = "", .steps = {"user:alice"}, .allow = {"lines"}},
                       {.pattern = "302", .target = "", .steps = {"user:bob", "reject 480"}, .allow = {"lines"}}};
  ASSERT_TRUE(start_gateway(options));

  Baresip phone;  // sends its ausine 1000 Hz into calls
  const Json users = register_baresip(phone, "auto");
  const std::string port = ":" + std::to_string(phone.sip_port());
  ASSERT_EQ(users["users"].size(), 1u) << users.dump() << "\n" << phone.diagnostics();

  // bob has no contacts: his step gives nothing and the next one (480) ends it.
  ASSERT_TRUE(is_ok(gw.phone(2, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(2, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(2, "dial", {{"digits", "302"}})));
  EXPECT_TRUE(gw.wait_line_state(2, "disconnected", 5s)) << gw.describe();
  EXPECT_NE(gw.process().log_text().find("event=user_contacts user=bob contacts=0"), std::string::npos);
  ASSERT_TRUE(is_ok(gw.phone(2, "onhook")));

  ASSERT_TRUE(is_ok(gw.phone(1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(1, "listen", {{"hz", 1000}})));
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "301"}})));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 10s)) << gw.describe() << "\n" << phone.diagnostics();
  const auto heard = gw.wait_listen_ratio(1, 0.5, 5s);
  EXPECT_TRUE(heard.sustained) << heard.history;
  const Json calls = gw.calls();
  ASSERT_EQ(calls["calls"].size(), 1u) << calls.dump();
  EXPECT_NE(calls["calls"][0].value("remote", "").find("127.0.0.1" + port), std::string::npos) << calls.dump();
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  phone.quit();
}

// A SIP caller reaches a registered user by name: sip:alice@gateway is bridged
// to baresip's registered contact, which answers by itself; a configured user
// with no contact (bob) gets 480.
TEST_F(RegistrarTest, SipCallerReachesARegisteredUserByName) {
  if (!require_tool("baresip") || !require_tool("sipp")) return;
  GatewayOptions options = registrar_options(gw, kMd5Only);
  options.extra_toml += "\n[[user]]\nname = \"bob\"\npassword = \"other\"\n";
  ASSERT_TRUE(start_gateway(options));
  Baresip phone;
  const Json users = register_baresip(phone, "auto");
  ASSERT_EQ(users["users"].size(), 1u) << users.dump() << "\n" << phone.diagnostics();

  Sipp caller(gw.peer_dir("sipp-caller"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_call.xml";  // INVITE, 200, ACK, 2 s, BYE
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "alice";
  so.timeout_s = 20;
  ASSERT_TRUE(caller.start(so)) << caller.process().error();
  EXPECT_TRUE(phone.ctrl().wait_event("CALL_ESTABLISHED", "", 10s)) << phone.diagnostics() << caller.diagnostics();
  ASSERT_TRUE(caller.wait(20s)) << caller.diagnostics();
  EXPECT_EQ(caller.process().exit_code(), 0) << caller.diagnostics() << "\n" << gw.process().log_tail(30);
  EXPECT_NE(gw.process().log_text().find("event=routed_to_user user=alice contacts=1"), std::string::npos);

  const std::string response = invite_final_response(gw.sip_port(), "bob", 5s);
  EXPECT_EQ(sip_status(response), 480) << response;
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  phone.quit();
}

// Forking to a user's contacts (RFC 3261 §16.6, as a proxy would): contacts of
// equal q ring at once; a group of lower q rings only when every branch of the
// one above failed with a status worth going on (408, 480, 5xx, or silence past
// routing.target_timeout_ms); a 4xx from one branch does not end the call while
// another rings; the first 2xx wins and the other branches are cancelled with
// Reason: SIP;cause=200;text="Call completed elsewhere" (RFC 3326).
GatewayOptions fork_options(const GatewayUnderTest& gw) {
  GatewayOptions options = registrar_options(gw, kMd5Only);
  options.dial_plan = {{.pattern = "301", .target = "", .steps = {"user:alice"}, .allow = {"lines"}}};
  return options;
}

// Phone 1 goes off hook, listens for 1000 Hz (what baresip sends) and dials
// 301, whose one step is user:alice.
::testing::AssertionResult phone_dials_alice(GatewayUnderTest& gw) {
  if (auto r = is_ok(gw.phone(1, "offhook")); !r) return r;
  if (!gw.wait_line_state(1, "dialtone", 3s)) return ::testing::AssertionFailure() << "no dial tone: " << gw.describe();
  if (auto r = is_ok(gw.phone(1, "listen", {{"hz", 1000}})); !r) return r;
  return is_ok(gw.phone(1, "dial", {{"digits", "301"}}));
}

// Two baresips registered as alice with the same q: both ring at once; B
// answers by itself, A (which rang) is cancelled, and the phone hears B.
TEST_F(RegistrarTest, PhoneRingsEveryContactOfAUserAtOnce) {
  if (!require_tool("baresip")) return;
  ASSERT_TRUE(start_gateway(fork_options(gw)));
  Baresip a;  // rings until told otherwise
  Baresip b;  // answers by itself and sends its 1000 Hz tone
  register_baresip(a, "manual", "baresip-a");
  const Json users = register_baresip(b, "auto", "baresip-b");
  ASSERT_EQ(users.value("users", Json::array()).size(), 2u)
      << users.dump() << "\n" << a.diagnostics() << b.diagnostics();

  ASSERT_TRUE(phone_dials_alice(gw));
  EXPECT_TRUE(a.ctrl().wait_event("CALL_INCOMING", "", 5s))
      << "contact A never rang (serial forking?)\n" << fork_events(gw) << a.diagnostics();
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 10s)) << gw.describe() << "\n" << fork_events(gw) << b.diagnostics();
  const auto heard = gw.wait_listen_ratio(1, 0.5, 5s);
  EXPECT_TRUE(heard.sustained) << heard.history;
  EXPECT_TRUE(a.ctrl().wait_event("CALL_CLOSED", "", 5s)) << "A was not cancelled\n" << a.diagnostics();
  EXPECT_TRUE(wait_log_line(gw, {"event=answered_elsewhere", "cancelled=1"}, 3s)) << fork_events(gw);
  const Json calls = gw.calls();
  ASSERT_EQ(calls["calls"].size(), 1u) << calls.dump();
  EXPECT_NE(calls["calls"][0].value("remote", "").find(at_port(b.sip_port())), std::string::npos) << calls.dump();

  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  a.quit();
  b.quit();
}

// The losing branch's CANCEL says why (RFC 3326): a sipp UAS that rings
// (uas_ring_until_cancel_reason.xml) fails its call unless the CANCEL carries
// Reason: SIP;cause=200; baresip at the same q answers.
TEST_F(RegistrarTest, LosingBranchIsCancelledWithCallCompletedElsewhere) {
  if (!require_tool("baresip") || !require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(fork_options(gw)));
  Sipp ringer(gw.peer_dir("sipp-uas"));
  ASSERT_TRUE(register_sipp_uas(ringer, "uas_ring_until_cancel_reason.xml", "1.0"));
  Baresip b;
  const Json users = register_baresip(b, "auto", "baresip-b", ";regq=1.0");
  ASSERT_EQ(users.value("users", Json::array()).size(), 2u) << users.dump() << "\n" << b.diagnostics();

  ASSERT_TRUE(phone_dials_alice(gw));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 10s)) << gw.describe() << "\n" << fork_events(gw) << b.diagnostics();
  EXPECT_TRUE(gw.wait_listen_ratio(1, 0.5, 5s).sustained);
  ASSERT_TRUE(ringer.wait(10s)) << "the ringing branch was never cancelled\n"
                                << fork_events(gw) << ringer.diagnostics();
  EXPECT_EQ(ringer.process().exit_code(), 0) << ringer.diagnostics() << "\n" << fork_events(gw);
  EXPECT_TRUE(wait_log_line(gw, {"event=answered_elsewhere", "cancelled=1"}, 3s)) << fork_events(gw);

  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  b.quit();
}

// q=1.0 (a sipp UAS answering 480) rings first and alone; only when it has
// failed does the q=0.5 group (baresip, answering by itself) get its INVITE.
TEST_F(RegistrarTest, LowerQContactsRingOnlyAfterTheHigherOnesFail) {
  if (!require_tool("baresip") || !require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(fork_options(gw)));
  Sipp refuser(gw.peer_dir("sipp-uas"));
  ASSERT_TRUE(register_sipp_uas(refuser, "uas_temporarily_unavailable.xml", "1.0"));
  Baresip b;
  const Json users = register_baresip(b, "auto", "baresip-b", ";regq=0.5");
  ASSERT_EQ(users.value("users", Json::array()).size(), 2u) << users.dump() << "\n" << b.diagnostics();

  ASSERT_TRUE(phone_dials_alice(gw));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 10s)) << gw.describe() << "\n" << fork_events(gw) << b.diagnostics();
  EXPECT_TRUE(gw.wait_listen_ratio(1, 0.5, 5s).sustained);
  ASSERT_TRUE(refuser.wait(10s)) << refuser.diagnostics();
  EXPECT_EQ(refuser.process().exit_code(), 0) << refuser.diagnostics();  // INVITE, 480, ACK

  const std::string log = gw.process().log_text();
  const auto first = log_lines_with(log, {"event=invite_sent", at_port(refuser.sip_port()), "group=1"});
  const auto second = log_lines_with(log, {"event=invite_sent", at_port(b.sip_port()), "group=2"});
  ASSERT_EQ(first.size(), 1u) << fork_events(gw);
  ASSERT_EQ(second.size(), 1u) << fork_events(gw);
  EXPECT_LT(first[0].number, second[0].number) << fork_events(gw);
  EXPECT_EQ(log_lines_with(log, {"event=fork_group", "group=1", "branches=1"}).size(), 1u) << fork_events(gw);
  EXPECT_EQ(log_lines_with(log, {"event=fork_group", "group=2", "branches=1"}).size(), 1u) << fork_events(gw);
  const auto failed = log_lines_with(log, {"event=branch_failed", at_port(refuser.sip_port()), "status=480"});
  ASSERT_EQ(failed.size(), 1u) << fork_events(gw);
  EXPECT_LT(failed[0].number, second[0].number) << fork_events(gw);

  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  b.quit();
}

// A 486 from one branch (sipp) while baresip at the same q still rings does
// not end the call: baresip then answers, and the phone hears its tone.
TEST_F(RegistrarTest, ABusyBranchDoesNotEndTheCallWhileAnotherRings) {
  if (!require_tool("baresip") || !require_tool("sipp")) return;
  ASSERT_TRUE(start_gateway(fork_options(gw)));
  Sipp busy(gw.peer_dir("sipp-uas"));
  ASSERT_TRUE(register_sipp_uas(busy, "uas_busy.xml", "1.0"));
  Baresip b;
  const Json users = register_baresip(b, "manual", "baresip-b", ";regq=1.0");
  ASSERT_EQ(users.value("users", Json::array()).size(), 2u) << users.dump() << "\n" << b.diagnostics();

  ASSERT_TRUE(phone_dials_alice(gw));
  ASSERT_TRUE(b.ctrl().wait_event("CALL_INCOMING", "", 5s)) << fork_events(gw) << b.diagnostics();
  ASSERT_TRUE(wait_log_line(gw, {"event=branch_failed", at_port(busy.sip_port()), "status=486"}, 5s))
      << fork_events(gw);
  EXPECT_EQ(gw.call_count(), 1u) << "the 486 ended the call\n" << gw.describe() << "\n" << fork_events(gw);
  EXPECT_NE(gw.line_state(1), "busy") << gw.describe();

  ASSERT_TRUE(b.ctrl().send("accept")) << b.diagnostics();
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 5s)) << gw.describe() << "\n" << fork_events(gw) << b.diagnostics();
  EXPECT_TRUE(b.ctrl().wait_event("CALL_ESTABLISHED", "", 5s)) << b.diagnostics();
  const auto heard = gw.wait_listen_ratio(1, 0.5, 5s);
  EXPECT_TRUE(heard.sustained) << heard.history;
  ASSERT_TRUE(busy.wait(5s)) << busy.diagnostics();
  EXPECT_EQ(busy.process().exit_code(), 0) << busy.diagnostics();  // INVITE, 486, ACK

  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  b.quit();
}

// A SIP caller (routing.sip_callers = "bridge") calling sip:alice@gateway is
// forked the same way: A rings and is cancelled, B answers, the caller's call
// goes as written.
TEST_F(RegistrarTest, SipCallerIsForkedToEveryContact) {
  if (!require_tool("baresip") || !require_tool("sipp")) return;
  GatewayOptions options = fork_options(gw);
  options.extra_toml += "\n[routing]\nsip_callers = \"bridge\"\n";
  ASSERT_TRUE(start_gateway(options));
  Baresip a;
  Baresip b;
  register_baresip(a, "manual", "baresip-a");
  const Json users = register_baresip(b, "auto", "baresip-b");
  ASSERT_EQ(users.value("users", Json::array()).size(), 2u)
      << users.dump() << "\n" << a.diagnostics() << b.diagnostics();

  Sipp caller(gw.peer_dir("sipp-caller"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_call.xml";  // INVITE, 200, ACK, 2 s, BYE
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "alice";
  so.timeout_s = 20;
  ASSERT_TRUE(caller.start(so)) << caller.process().error();
  EXPECT_TRUE(a.ctrl().wait_event("CALL_INCOMING", "", 5s))
      << "contact A never rang (serial forking?)\n" << fork_events(gw) << a.diagnostics();
  EXPECT_TRUE(b.ctrl().wait_event("CALL_ESTABLISHED", "", 10s)) << fork_events(gw) << b.diagnostics();
  EXPECT_TRUE(a.ctrl().wait_event("CALL_CLOSED", "", 5s)) << "A was not cancelled\n" << a.diagnostics();
  ASSERT_TRUE(caller.wait(20s)) << caller.diagnostics();
  EXPECT_EQ(caller.process().exit_code(), 0) << caller.diagnostics() << "\n" << fork_events(gw);
  EXPECT_TRUE(wait_log_line(gw, {"event=answered_elsewhere", "cancelled=1"}, 3s)) << fork_events(gw);
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  a.quit();
  b.quit();
}

// SHA-256 end to end. No peer on our machines speaks RFC 7616 (see above), so
// a hand-made client does: REGISTER, take the SHA-256 challenge (offered
// first), answer it with the digest computed by sipline's auth library from
// the password, and expect 200 and the binding.
std::string make_register(std::uint16_t gw_port, std::uint16_t local_port, const std::string& call_id, int cseq,
                          const std::string& authorization) {
  std::string m = "REGISTER sip:127.0.0.1:" + std::to_string(gw_port) + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(local_port) + ";branch=z9hG4bK" + random_token() + ";rport\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:alice@127.0.0.1>;tag=" + random_token() + "\r\n";
  m += "To: <sip:alice@127.0.0.1>\r\n";
  m += "Call-ID: " + call_id + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
  m += "Contact: <sip:alice@127.0.0.1:" + std::to_string(local_port) + ">\r\n";
  m += "Expires: 300\r\n";
  if (!authorization.empty()) m += "Authorization: " + authorization + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

// Digest credentials of alice answering a SHA-256 challenge with `password`
// (nc 1), computed by sipline's auth library.
gateway::auth::DigestCredentials answer_sha256(const gateway::auth::DigestCredentials& challenge,
                                               std::uint16_t gw_port, const std::string& password) {
  using gateway::auth::DigestAlgorithm;
  const std::string uri = "sip:127.0.0.1:" + std::to_string(gw_port);
  const std::string ha1 = gateway::auth::compute_ha1(DigestAlgorithm::sha256, "alice", *challenge.realm, password);
  gateway::auth::DigestCredentials answer;
  answer.username = "alice";
  answer.realm = challenge.realm;
  answer.nonce = challenge.nonce;
  answer.uri = uri;
  answer.algorithm = "SHA-256";
  answer.qop = "auth";
  answer.nc = "00000001";
  answer.cnonce = random_token();
  answer.opaque = challenge.opaque;
  answer.response = gateway::auth::compute_response({.algorithm = DigestAlgorithm::sha256,
                                                     .ha1 = ha1,
                                                     .nonce = *answer.nonce,
                                                     .cnonce = *answer.cnonce,
                                                     .nc = *answer.nc,
                                                     .qop = "auth",
                                                     .method = "REGISTER",
                                                     .uri = uri});
  return answer;
}

TEST_F(RegistrarTest, HandMadeClientRegistersWithSha256) {
  ASSERT_TRUE(start_gateway(registrar_options(gw, kBothAlgorithms)));
  SipUdpPeer ua;
  ASSERT_TRUE(ua.ok());
  const std::string call_id = random_token() + "@127.0.0.1";
  ASSERT_TRUE(ua.send_to(gw.sip_port(), make_register(gw.sip_port(), ua.port(), call_id, 1, "")));
  auto challenge = ua.receive_final(call_id, 5s);
  ASSERT_TRUE(challenge);
  ASSERT_EQ(sip_status(*challenge), 401) << *challenge;
  const std::string www = sip_header(*challenge, "WWW-Authenticate");  // the first: SHA-256
  auto params = gateway::auth::parse_authorization(www);
  ASSERT_TRUE(params) << www;
  ASSERT_TRUE(params->nonce && params->realm && params->algorithm) << www;
  ASSERT_EQ(*params->algorithm, "SHA-256") << www;

  const gateway::auth::DigestCredentials answer = answer_sha256(*params, gw.sip_port(), "secret");
  ASSERT_TRUE(ua.send_to(gw.sip_port(),
                         make_register(gw.sip_port(), ua.port(), call_id, 2, gateway::auth::format_authorization(answer))));
  auto ok = ua.receive_final(call_id, 5s);
  ASSERT_TRUE(ok);
  EXPECT_EQ(sip_status(*ok), 200) << *ok << "\n" << gw.process().log_tail(20);
  EXPECT_NE(sip_header(*ok, "Contact").find(std::to_string(ua.port())), std::string::npos) << *ok;
  const Json users = gw.request({{"cmd", "users"}});
  ASSERT_TRUE(users.value("ok", false)) << users.dump();
  ASSERT_EQ(users["users"].size(), 1u) << users.dump();
  EXPECT_EQ(users["users"][0].value("user", ""), "alice");

  // The same answer again is a replay (nc not above 1): a fresh 401.
  ASSERT_TRUE(ua.send_to(gw.sip_port(),
                         make_register(gw.sip_port(), ua.port(), call_id, 3, gateway::auth::format_authorization(answer))));
  auto replay = ua.receive_final(call_id, 5s);
  ASSERT_TRUE(replay);
  EXPECT_EQ(sip_status(*replay), 401) << *replay;
}

// A password guesser (what svcrack does) is banned after
// auth.ban_after_failures wrong answers: from then on even the right password
// gets 403, `bans` lists the address, and `unban` lets it in again.
TEST_F(RegistrarTest, PasswordGuesserIsBannedAndCanBeUnbanned) {
  GatewayOptions options = registrar_options(gw, kBothAlgorithms);
  options.extra_toml = "\n[auth]\nalgorithms = [\"SHA-256\"]\nban_after_failures = 4\nban_window_s = 60\n" +
                       options.extra_toml.substr(options.extra_toml.find("\n[registrar]"));
  ASSERT_TRUE(start_gateway(options));
  SipUdpPeer ua;
  ASSERT_TRUE(ua.ok());
  // One REGISTER answering a fresh challenge with `password`; the final status.
  int cseq = 1;
  auto attempt = [&](const std::string& password) {
    const std::string call_id = random_token() + "@127.0.0.1";
    if (!ua.send_to(gw.sip_port(), make_register(gw.sip_port(), ua.port(), call_id, cseq++, ""))) return -1;
    auto challenge = ua.receive_final(call_id, 5s);
    if (!challenge) return -2;
    if (sip_status(*challenge) != 401) return sip_status(*challenge);
    auto params = gateway::auth::parse_authorization(sip_header(*challenge, "WWW-Authenticate"));
    if (!params || !params->nonce || !params->realm) return -3;
    const auto answer = answer_sha256(*params, gw.sip_port(), password);
    if (!ua.send_to(gw.sip_port(), make_register(gw.sip_port(), ua.port(), call_id, cseq++,
                                                 gateway::auth::format_authorization(answer))))
      return -1;
    auto final = ua.receive_final(call_id, 5s);
    return final ? sip_status(*final) : -2;
  };
  for (const char* guess : {"123456", "password", "alice"}) EXPECT_EQ(attempt(guess), 401) << guess;
  EXPECT_EQ(attempt("qwerty"), 403);   // the 4th failure bans at once
  EXPECT_EQ(attempt("secret"), 403);   // banned: even the right password is refused
  const Json bans = gw.request({{"cmd", "bans"}});
  ASSERT_TRUE(bans.value("ok", false)) << bans.dump();
  ASSERT_EQ(bans["bans"].size(), 1u) << bans.dump();
  EXPECT_EQ(bans["bans"][0].value("address", ""), "127.0.0.1");
  EXPECT_GT(bans["bans"][0].value("remaining_s", 0), 500);
  EXPECT_TRUE(gw.request({{"cmd", "users"}})["users"].empty());

  ASSERT_TRUE(gw.request({{"cmd", "unban"}, {"address", "127.0.0.1"}}).value("ok", false));
  EXPECT_EQ(attempt("secret"), 200);
  EXPECT_EQ(gw.request({{"cmd", "users"}})["users"].size(), 1u);
  EXPECT_FALSE(gw.request({{"cmd", "unban"}, {"address", "127.0.0.1"}}).value("ok", true));
}

}  // namespace
}  // namespace sipline::test
