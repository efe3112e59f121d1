// SIP scanners (sipvicious 0.3.3: svmap, svwar, svcrack) against the daemon,
// in a network namespace with only `lo` (harness/netns.hpp), so nothing they
// or the daemon send can leave the machine.
//
// The scanner is an untrusted caller: the gateway runs with `[auth] trusted =
// []`, so no address (not even 127.0.0.1, where the scanner sends from) is
// let in without digest credentials. (Binding the scanner to 127.0.0.2 and
// trusting only 127.0.0.1/32 would be closer to life, but svwar and svcrack
// 0.3.3 ignore -b: their main() never passes the binding address on.) Phones
// 201 and 202 never answer by themselves; there are two [[user]]s, alice and
// bob.
//  (a) svmap with OPTIONS and with INVITE finds the gateway, but no phone
//      rings, no call starts and nothing is routed or dialed;
//  (b) svwar over a list mixing the real users and phone numbers with names
//      and numbers that do not exist reports none of them (every one gets the
//      same answer), with REGISTER (its default), INVITE and OPTIONS;
//  (c) svcrack against alice, with ~200 wrong passwords and the right one
//      last, is banned (403) long before the list ends: `bans` lists
//      its address and svcrack never reports the password.
// Every tool run has a timeout and its own HOME (sipvicious keeps sessions in
// ~/.sipvicious).
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/netns.hpp"
#include "harness/ports.hpp"
#include "harness/process.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kScanner = "127.0.0.1";  // where sipvicious sends from
const std::string kAlicePassword = "Tr0ub4dor&3-horse";

// Nothing is trusted, so the scanner must authenticate; MD5 only (sipvicious
// knows no SHA-256); bans after 5 failures in a minute.
GatewayOptions scanner_options(const GatewayUnderTest& gw) {
  GatewayOptions o;
  o.phones = {{"fxs1", "201", -1}, {"fxs2", "202", -1}};
  o.extra_toml = "\n[auth]\n"
                 "algorithms = [\"MD5\"]\n"
                 "trusted = []\n"
                 "ban_after_failures = 5\n"
                 "ban_window_s = 60\n"
                 "ban_duration_s = 600\n"
                 "\n[registrar]\n"
                 "database = \"" + gw.dir() + "/bindings.sqlite\"\n"
                 "\n[[user]]\nname = \"alice\"\npassword = \"" + kAlicePassword + "\"\n"
                 "\n[[user]]\nname = \"bob\"\npassword = \"hunter2-but-longer\"\n";
  return o;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& l : lines) out << l << "\n";
}

class ScannerTest : public GatewayTest {
 protected:
  // Runs a sipvicious tool on a local port of its own (-P), with HOME in a
  // fresh folder, for at most `timeout`.
  ToolRun sipvicious(const std::string& name, std::vector<std::string> args, std::chrono::seconds timeout) {
    const std::string home = gw.peer_dir(name + "-home-" + std::to_string(++runs_));
    std::vector<std::string> argv = {"env", "HOME=" + home, name, "-P", std::to_string(pick_free_port())};
    argv.insert(argv.end(), args.begin(), args.end());
    const ToolRun run = run_tool(argv, home + "/output.log", timeout);
    std::cout << "[ scanner ] " << name;
    for (const auto& a : args) std::cout << " " << a;
    std::cout << " -> " << (run.finished ? "exit " + std::to_string(run.exit_code) : std::string("timed out")) << "\n";
    return run;
  }

  std::string target() const { return "127.0.0.1"; }
  std::string port() const { return std::to_string(gw.sip_port()); }

  // Nothing rang, nothing was routed or dialed, and no call exists.
  ::testing::AssertionResult nothing_rang_or_dialed() {
    for (int line : {1, 2}) {
      const Json l = gw.line(line);
      if (!l.is_object()) return ::testing::AssertionFailure() << "no line " << line << ": " << gw.describe();
      if (l.value("state", std::string()) != "idle" || l["phone"].value("rings", -1) != 0)
        return ::testing::AssertionFailure() << gw.describe();
    }
    if (gw.call_count() != 0) return ::testing::AssertionFailure() << gw.calls().dump();
    const std::string log = gw.process().log_text();
    for (const char* event : {"event=ringing", "event=route ", "event=routed_to_user", "event=dial "}) {
      if (log.find(event) != std::string::npos)
        return ::testing::AssertionFailure() << "the daemon logged " << event << "\n" << gw.process().log_tail(40);
    }
    return ::testing::AssertionSuccess();
  }

  int runs_ = 0;
};

// (a) svmap finds the gateway with OPTIONS and with INVITE; nothing rings.
TEST_F(ScannerTest, SvmapFindsTheGatewayButRingsAndDialsNothing) {
  if (!enter_loopback_only_netns()) return;
  if (!require_tool("svmap")) return;
  ASSERT_TRUE(start_gateway(scanner_options(gw)));

  const ToolRun options = sipvicious("svmap", {"-p", port(), target()}, std::chrono::seconds(20));
  ASSERT_TRUE(options.finished) << options.output;
  EXPECT_NE(options.output.find("127.0.0.1:" + port()), std::string::npos) << options.output;
  EXPECT_TRUE(nothing_rang_or_dialed());

  // svmap -m INVITE really places calls (to extension 100 by default, here
  // also to phone 201): the untrusted scanner gets 401 and nothing rings.
  for (const std::string ext : {"100", "201"}) {
    const ToolRun invite =
        sipvicious("svmap", {"-m", "INVITE", "-e", ext, "-p", port(), target()}, std::chrono::seconds(20));
    ASSERT_TRUE(invite.finished) << invite.output;
    EXPECT_NE(invite.output.find("127.0.0.1:" + port()), std::string::npos) << invite.output;
  }
  EXPECT_TRUE(nothing_rang_or_dialed());
  EXPECT_GE(count_of(gw.process().log_text(), "event=invite_auth_failed"), 2u) << gw.process().log_tail(40);
  EXPECT_TRUE(is_ok(gw.status()));
}

// (b) svwar cannot tell existing users and numbers from made-up ones.
TEST_F(ScannerTest, SvwarCannotTellWhichUsersOrNumbersExist) {
  if (!enter_loopback_only_netns()) return;
  if (!require_tool("svwar")) return;
  ASSERT_TRUE(start_gateway(scanner_options(gw)));
  const std::string list = gw.peer_dir("svwar-list") + "/extensions.txt";
  // Real: alice, bob (users), 201, 202 (phones). Made up: the rest.
  const std::vector<std::string> names = {"carol", "alice", "100", "201", "mallory", "bob",
                                          "299",   "202",   "admin", "1000", "trent", "5551234"};
  write_lines(list, names);

  for (const std::string method : {"REGISTER", "INVITE", "OPTIONS"}) {
    SCOPED_TRACE(method);
    // --force: without it svwar gives up at once when a made-up extension is
    // challenged (REGISTER, INVITE), which would prove nothing.
    const ToolRun run = sipvicious("svwar", {"-m", method, "--force", "-d", list, "-p", port(), target()},
                                   std::chrono::seconds(25));
    ASSERT_TRUE(run.finished) << run.output;
    // svwar reports the extensions whose answer differed from a random one's;
    // "found nothing" means every name got the same answer.
    EXPECT_NE(run.output.find("found nothing"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("extensions"), std::string::npos) << run.output;  // "we have N extensions"
    for (const auto& n : names) EXPECT_EQ(run.output.find("| " + n + " "), std::string::npos) << n << "\n" << run.output;
  }
  EXPECT_TRUE(nothing_rang_or_dialed());
  // No answer counted as a failed guess: the scanner is not banned for asking.
  const Json bans = gw.request({{"cmd", "bans"}});
  ASSERT_TRUE(is_ok(bans));
  EXPECT_TRUE(bans["bans"].empty()) << bans.dump();
  EXPECT_TRUE(is_ok(gw.status()));
}

// (c) svcrack is banned before its wordlist is through.
TEST_F(ScannerTest, SvcrackIsBannedBeforeItFindsThePassword) {
  if (!enter_loopback_only_netns()) return;
  if (!require_tool("svcrack")) return;
  ASSERT_TRUE(start_gateway(scanner_options(gw)));
  const std::string words = gw.peer_dir("svcrack-words") + "/passwords.txt";
  std::vector<std::string> passwords;
  for (int i = 0; i < 200; ++i) passwords.push_back("wrong-" + std::to_string(i * 7919 % 100000));
  passwords.push_back(kAlicePassword);  // the right one, last
  write_lines(words, passwords);

  // Once banned, every REGISTER gets 403 and svcrack keeps asking without
  // credentials until it is stopped: the run ends by its timeout.
  const ToolRun run = sipvicious("svcrack", {"-u", "alice", "-d", words, "-p", port(), target()}, std::chrono::seconds(8));
  EXPECT_EQ(run.output.find(kAlicePassword), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("The password for"), std::string::npos) << run.output;

  const Json bans = gw.request({{"cmd", "bans"}});
  ASSERT_TRUE(is_ok(bans));
  bool listed = false;
  for (const auto& b : bans["bans"]) listed = listed || b.value("address", std::string()) == kScanner;
  EXPECT_TRUE(listed) << bans.dump();
  // Banned after the configured 5 failures: nowhere near the 201 passwords.
  const std::string log = gw.process().log_text();
  EXPECT_EQ(count_of(log, "event=source_banned source=" + kScanner), 1u) << gw.process().log_tail(40);
  EXPECT_LE(count_of(log, "event=register_auth_failed"), 5u) << gw.process().log_tail(40);
  // No REGISTER from the scanner was accepted.
  std::istringstream lines(log);
  for (std::string l; std::getline(lines, l);) {
    if (l.find("event=register ") != std::string::npos && l.find("source=" + kScanner) != std::string::npos) {
      EXPECT_EQ(l.find("status=200"), std::string::npos) << l;
    }
  }
  EXPECT_TRUE(nothing_rang_or_dialed());
  EXPECT_TRUE(is_ok(gw.status()));
}

}  // namespace
}  // namespace sipline::test
