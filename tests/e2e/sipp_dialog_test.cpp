// sipp scenarios for requests inside or around a dialog: re-INVITEs that put
// a call on hold and resume it (RFC 3264 §8) or offer no common codec (488),
// and a 200 OK that crosses the gateway's CANCEL (RFC 3261 §9.1), which the
// gateway must ACK and then end with BYE. The scenario files in
// tests/fixtures/sipp/ check the SIP side; the tests check the call through
// the control socket and the daemon's log.
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
constexpr int kPhone1 = 1;


// How often `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The reason phrase of the first "SIP/2.0 <status> ..." line in a sipp message
// log, with any byte outside printable ASCII shown as \xNN; "(none)" if absent.
std::string reason_phrase(const std::string& messages, int status) {
  const std::string start = "SIP/2.0 " + std::to_string(status) + " ";
  auto pos = messages.find("\n" + start);
  if (pos == std::string::npos) return "(none)";
  pos += 1 + start.size();
  const auto end = messages.find_first_of("\r\n", pos);
  std::string phrase;
  for (const char ch : messages.substr(pos, end - pos)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      phrase += ch;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      phrase += hex;
    }
  }
  return phrase;
}

// The only call in a "calls" response, if it is connected: its codec; otherwise "".
std::string connected_codec(const Json& calls) {
  if (!calls.value("ok", false) || !calls["calls"].is_array() || calls["calls"].size() != 1) return "";
  const Json& c = calls["calls"][0];
  if (c.value("state", "") != "connected") return "";
  return c.value("codec", "?");
}

TEST_F(GatewayTest, ReinviteHoldsAndResumesTheCallAndOneWithoutACommonCodecGets488) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  Sipp sipp(gw.peer_dir("sipp"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_reinvite_hold.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "201";
  so.timeout_s = 30;
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();

  // Watch the call through each step of the scenario; the daemon's log tells
  // which re-INVITEs it has answered so far.
  std::string codec_on_hold;        // after the hold re-INVITE, before the resume
  std::string codec_resumed;        // after the resume, before the G.729-only offer
  std::string codec_after_488;      // after the refused offer, before the BYE
  std::string last_calls;
  poll_until(
      [&] {
        const std::string log = read_file(gw.log_path());
        const std::size_t answered = count_of(log, "event=reinvite_answered");
        const std::size_t refused = count_of(log, "event=reinvite_refused");
        const Json calls = gw.calls();
        last_calls = calls.dump();
        const std::string codec = connected_codec(calls);
        if (!codec.empty()) {
          if (answered == 1 && refused == 0) codec_on_hold = codec;
          if (answered == 2 && refused == 0) codec_resumed = codec;
          if (answered == 2 && refused == 1) codec_after_488 = codec;
        }
        return !sipp.process().running();
      },
      40s, 100ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  // Exit 0: the hold answer had a=recvonly, the resume answer sendrecv (or no
  // direction), the G.729 offer got 488, and the BYE afterwards got 200.
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics() << "\n" << gw.process().log_tail(60);
  EXPECT_EQ(codec_on_hold, "PCMU") << "the call was not listed as connected while on hold; last: " << last_calls;
  EXPECT_EQ(codec_resumed, "PCMU") << "the call was not listed as connected after resuming; last: " << last_calls;
  EXPECT_EQ(codec_after_488, "PCMU") << "the call did not stay up after the 488; last: " << last_calls;
  // RFC 3261 §25.1: the Reason-Phrase is text (sipp does not check it).
  EXPECT_EQ(reason_phrase(read_file(gw.dir() + "/sipp/sipp_messages.log"), 488), "Not Acceptable Here");

  // sipp's BYE ended the call; the phone, still off hook, hears the far end leave.
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "disconnected", 5s)) << gw.lines().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
}

TEST_F(GatewayTest, A200ThatCrossesOurCancelIsAckedAndEndedWithBye) {
  if (!require_tool("sipp")) return;
  Sipp uas(gw.peer_dir("sipp-uas"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uas_answer_after_cancel.xml";
  so.timeout_s = 40;
  ASSERT_TRUE(uas.start(so)) << uas.process().error();

  GatewayOptions options;
  options.dial_plan.push_back({"5XXX", "sip:$digits@127.0.0.1:" + std::to_string(uas.sip_port())});
  ASSERT_TRUE(start_gateway(options));
  auto on_failure = [&] {
    return "---- sipline log (" + gw.log_path() + ") ----\n" + gw.process().log_tail(60) + "\n" + uas.diagnostics();
  };

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.lines().dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "5000#"}})));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "calling", 10s)) << gw.lines().dump() << "\n" << on_failure();
  // sipp's 180 has reached the call (the phone hears ringback).
  ASSERT_TRUE(poll_until([&] { return read_file(gw.log_path()).find("event=progress status=180") != std::string::npos; },
                         10s))
      << on_failure();
  EXPECT_EQ(gw.line_state(kPhone1), "calling") << gw.lines().dump();

  // The phone hangs up: the gateway sends CANCEL, and sipp answers the INVITE
  // with 200 anyway. Its scenario only succeeds once it has had the ACK and a BYE.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  ASSERT_TRUE(uas.wait(15s)) << "sipp did not end (no ACK or BYE?)\n" << on_failure();
  EXPECT_EQ(uas.process().exit_code(), 0) << on_failure();
  const std::string messages = read_file(gw.dir() + "/sipp-uas/sipp_messages.log");
  EXPECT_NE(messages.find("CANCEL sip:"), std::string::npos) << on_failure();
  EXPECT_NE(messages.find("BYE sip:"), std::string::npos) << on_failure();

  // Nothing is left of the call, and the line is idle again.
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump() << "\n" << on_failure();
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.lines().dump();
}

}  // namespace
}  // namespace sipline::test
