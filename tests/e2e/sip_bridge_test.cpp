// SIP caller to SIP destination through the gateway (routing.sip_callers =
// "bridge"): a back-to-back user agent (RFC 3261 §6, "B2BUA") with an RTP
// relay. A SIP caller (leg A: sipp or baresip) dials a number that a
// [[dialplan]] rule admitting SIP callers routes by its steps ("trunk:<name>",
// "sip:<uri>") to sipp UASes (leg B); the gateway calls leg B with its own
// dialog and its own SDP, and relays signaling and media between the legs:
//  - two-way audio: baresip's ausine 1000 Hz goes to a sipp UAS with
//    -rtp_echo and comes back into baresip's sndfile recording (A->B and
//    B->A relayed), also when baresip takes only PCMA and the far end answers
//    PCMU (transcoding through linear PCM); either side's BYE reaches the other;
//  - failover: 503 goes on to the next target, 486 ends the attempt with 486
//    for the caller, a single 503 gives the caller 500 (RFC 3261 §16.7);
//  - early media: the far end's 183 with SDP reaches the caller as a 183
//    with the gateway's SDP;
//  - CANCEL from the caller while the far end rings reaches the far end, the
//    caller gets 487;
//  - a rule whose `allow` does not admit SIP callers answers 403 and calls nobody;
//  - an RFC 4733 event from the caller reaches a far baresip as an event.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "harness/baresip.hpp"
#include "harness/gateway_under_test.hpp"
#include "harness/sip_udp.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"
#include "harness/wav_analysis.hpp"

namespace sipline::test {
namespace {

const std::string kScenarios = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
// The number SIP callers dial, and the rule pattern that matches it.
const std::string kNumber = "5551234";
const std::string kPattern = "555XXXX";

struct Trunk {
  std::string name;
  std::uint16_t port = 0;
};

// A gateway whose one rule (kPattern) routes by `steps` for the callers in `allow`.
GatewayOptions bridge_options(std::vector<std::string> steps, std::vector<std::string> allow,
                              std::initializer_list<Trunk> trunks) {
  GatewayOptions options;
  options.dial_plan = {{.pattern = kPattern, .target = "", .steps = std::move(steps), .allow = std::move(allow)}};
  std::string t = "[routing]\nsip_callers = \"bridge\"\n\n";
  for (const auto& trunk : trunks) {
    t += "[[trunk]]\nname = \"" + trunk.name + "\"\nuri = \"sip:127.0.0.1:" + std::to_string(trunk.port) +
         "\"\nnumber_format = \"dialed\"\n\n";
  }
  options.extra_toml = t;
  return options;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The SDP body of the first INVITE in a sipp message trace (from its first
// "v=0" to the end of that message), or "".
std::string first_invite_sdp(const std::string& trace) {
  const auto invite = trace.find("INVITE sip:");
  if (invite == std::string::npos) return "";
  const auto v = trace.find("v=0", invite);
  if (v == std::string::npos) return "";
  // sipp separates the messages of its trace with a line of dashes.
  const auto end = trace.find("\n---", v);
  return trace.substr(v, end == std::string::npos ? std::string::npos : end - v);
}

class SipBridgeTest : public GatewayTest {
 protected:
  // A UAS (leg B) in its own peer folder.
  bool start_uas(Sipp& sipp, const std::string& scenario, std::vector<std::string> extra = {}) {
    SippOptions so;
    so.scenario_file = kScenarios + "/" + scenario;
    so.timeout_s = 40;
    so.extra = std::move(extra);
    if (sipp.start(so)) return true;
    ADD_FAILURE() << "sipp did not start: " << sipp.process().error();
    return false;
  }

  // A UAC (leg A) calling kNumber at the gateway.
  bool start_uac(Sipp& sipp, const std::string& scenario, std::vector<std::string> extra = {}) {
    SippOptions so;
    so.scenario_file = kScenarios + "/" + scenario;
    so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
    so.service = kNumber;
    so.timeout_s = 40;
    so.extra = std::move(extra);
    if (sipp.start(so)) return true;
    ADD_FAILURE() << "sipp did not start: " << sipp.process().error();
    return false;
  }

  // What a sipp instance has received and sent so far (its -trace_msg file).
  std::string messages(const std::string& peer) { return read_file(gw.dir() + "/" + peer + "/sipp_messages.log"); }

  std::string ruri(std::uint16_t port) const {
    return "INVITE sip:" + kNumber + "@127.0.0.1:" + std::to_string(port) + " SIP/2.0";
  }

  // The daemon's log tail and the given sipps' logs, for failure messages.
  std::string diagnostics(std::initializer_list<const Sipp*> sipps = {}) {
    std::string out = "---- sipline log (" + gw.log_path() + ") ----\n" + gw.process().log_tail(80) + "\n";
    for (const Sipp* s : sipps) out += s->diagnostics();
    return out;
  }

  // A hand-made INVITE to kNumber; its final response (ACKed), or "".
  std::string raw_invite_final(std::chrono::milliseconds timeout) {
    return invite_final_response(gw.sip_port(), kNumber, timeout);
  }

  // The sipp ends by itself with exit 0 within `timeout`.
  ::testing::AssertionResult ends_cleanly(Sipp& sipp, std::chrono::milliseconds timeout) {
    if (!sipp.wait(timeout)) return ::testing::AssertionFailure() << "sipp did not end within " << timeout.count() << " ms";
    if (sipp.process().exit_code() != 0) return ::testing::AssertionFailure() << "sipp " << sipp.process().describe_exit();
    return ::testing::AssertionSuccess();
  }

  // The one bridged call is listed, connected, on no line (or "sip").
  ::testing::AssertionResult lists_one_connected_bridge() {
    const bool one = gw.wait_call_count(1, 5s);
    const Json calls = gw.calls();
    if (!one || !calls.value("ok", false) || calls["calls"].size() != 1)
      return ::testing::AssertionFailure() << "expected one call: " << calls.dump();
    const Json& c = calls["calls"][0];
    if (c.value("state", "") != "connected") return ::testing::AssertionFailure() << "not connected: " << c.dump();
    const std::string line = c["line"].is_string() ? c["line"].get<std::string>() : "?";
    if (line != "" && line != "sip") return ::testing::AssertionFailure() << "a bridged call on a line: " << c.dump();
    return ::testing::AssertionSuccess();
  }

  // The gateway's offer to leg B is its own: PCMU, PCMA and telephone-event
  // 101 on 127.0.0.1 at a port of its RTP range (not the caller's SDP passed on).
  ::testing::AssertionResult offer_is_the_gateways(const std::string& trace) {
    const std::string sdp = first_invite_sdp(trace);
    if (sdp.empty()) return ::testing::AssertionFailure() << "no INVITE with SDP in the trace";
    std::smatch m;
    if (!std::regex_search(sdp, m, std::regex(R"(m=audio (\d+) RTP/AVP ([0-9 ]+))")))
      return ::testing::AssertionFailure() << "no audio m-line in\n" << sdp;
    const int port = std::stoi(m[1].str());
    std::istringstream pts(m[2].str());
    std::vector<int> payloads;
    for (int pt; pts >> pt;) payloads.push_back(pt);
    auto has = [&](int pt) { return std::find(payloads.begin(), payloads.end(), pt) != payloads.end(); };
    if (port < gw.rtp_port_min() || port >= gw.rtp_port_min() + 40)
      return ::testing::AssertionFailure() << "m= port " << port << " is not the gateway's (from " << gw.rtp_port_min()
                                           << ")\n" << sdp;
    if (!has(0) || !has(8)) return ::testing::AssertionFailure() << "PCMU and PCMA not both offered\n" << sdp;
    if (sdp.find("telephone-event/8000") == std::string::npos)
      return ::testing::AssertionFailure() << "no telephone-event offered\n" << sdp;
    if (sdp.find("c=IN IP4 127.0.0.1") == std::string::npos)
      return ::testing::AssertionFailure() << "connection address is not 127.0.0.1\n" << sdp;
    return ::testing::AssertionSuccess();
  }

  // baresip (leg A, audio source ausine 1000 Hz, account params as given)
  // calls kNumber; the far end is a sipp UAS echoing RTP. baresip must record
  // its own tone coming back; its hang-up must reach the UAS.
  void two_way_audio_through_the_bridge(const std::string& account_params) {
    if (!require_tool("sipp") || !require_tool("baresip")) return;
    Sipp far(gw.peer_dir("sipp-far"));
    ASSERT_TRUE(start_uas(far, "uas_answer.xml", {"-rtp_echo"}));
    ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"sip"}, {{"far", far.sip_port()}})));

    Baresip baresip;
    ASSERT_TRUE(baresip.start({.dir = gw.peer_dir("baresip"),
                               .ausine_hz = 1000,
                               .answermode = "manual",
                               .account_params = account_params,
                               .lifetime_s = 60}))
        << baresip.error();
    BaresipCtrl& ctrl = baresip.ctrl();
    ASSERT_TRUE(ctrl.send("dial", "sip:" + kNumber + "@127.0.0.1:" + std::to_string(gw.sip_port())));
    ASSERT_TRUE(ctrl.wait_event("CALL_ESTABLISHED", "", 15s))
        << baresip.diagnostics() << diagnostics({&far});

    const std::string trace = messages("sipp-far");
    EXPECT_EQ(count_of(trace, ruri(far.sip_port())), 1u) << diagnostics({&far});
    EXPECT_TRUE(offer_is_the_gateways(trace)) << diagnostics({&far});
    EXPECT_TRUE(lists_one_connected_bridge()) << diagnostics({&far});

    // 3 s of tone out and echo back.
    std::this_thread::sleep_for(3s);
    const Json during = gw.calls();

    ASSERT_TRUE(ctrl.send("hangup"));
    EXPECT_TRUE(ctrl.wait_event("CALL_CLOSED", "", 5s)) << baresip.diagnostics();
    EXPECT_TRUE(ends_cleanly(far, 10s)) << "the far end got no BYE?\n" << diagnostics({&far});
    EXPECT_EQ(count_of(messages("sipp-far"), "BYE sip:"), 1u) << diagnostics({&far});
    EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
    baresip.quit();

    const auto dec = baresip.recording("-dec.wav");
    ASSERT_TRUE(dec.has_value()) << "no dump-*-dec.wav in " << baresip.rec_dir() << "\n" << baresip.diagnostics();
    std::string error;
    const auto audio = load_mono(*dec, &error);
    ASSERT_TRUE(audio.has_value()) << error;
    // 3 s of echo: at least 1.5 s worth of 100 ms windows must be clearly 1000 Hz.
    const auto windows = tone_windows(*audio, 1000, 0.5);
    EXPECT_GE(windows.above, 15) << *dec << ": " << audio->sample_rate << " Hz, " << audio->seconds() << " s, "
                                 << windows.above << " of " << windows.windows
                                 << " windows with 1000 Hz (best ratio " << windows.max_ratio << "); calls during: "
                                 << during.dump() << "\n" << baresip.diagnostics() << diagnostics({&far});
  }
};

// 1. baresip -> gateway -> echoing sipp UAS: the caller hears its own tone.
TEST_F(SipBridgeTest, SipCallerIsBridgedToATrunkWithTwoWayAudioAndItsHangUpReachesTheFarEnd) {
  two_way_audio_through_the_bridge("");
}

// 1b. The same with a caller that takes only PCMA while the far end answers
// PCMU: the relay transcodes A-law <-> mu-law through linear PCM.
TEST_F(SipBridgeTest, CallerOnPcmaAndFarEndOnPcmuHearEachOtherThroughTranscoding) {
  two_way_audio_through_the_bridge(";audio_codecs=PCMA");
}

// 2. The far end hangs up after 2 s: its BYE reaches the caller.
TEST_F(SipBridgeTest, FarEndHangsUpAndTheCallerGetsTheBye) {
  if (!require_tool("sipp")) return;
  Sipp far(gw.peer_dir("sipp-far"));
  ASSERT_TRUE(start_uas(far, "uas_answer_then_bye.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"sip"}, {{"far", far.sip_port()}})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_call_until_bye.xml"));
  // Connected for about 2 s: the call is listed meanwhile.
  bool listed = poll_until([&] { return gw.call_count() == 1; }, 5s, 50ms);
  const Json during = gw.calls();
  EXPECT_TRUE(listed) << during.dump() << "\n" << diagnostics({&caller, &far});
  if (listed) {
    EXPECT_EQ(during["calls"].size(), 1u) << during.dump();
  }
  EXPECT_TRUE(ends_cleanly(far, 15s)) << diagnostics({&far});
  EXPECT_TRUE(ends_cleanly(caller, 15s)) << "the caller got no BYE?\n" << diagnostics({&caller, &far});
  EXPECT_EQ(count_of(messages("sipp-caller"), "BYE sip:"), 1u) << diagnostics({&caller});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 2b. Early media: the far end's 183 with SDP reaches the caller as a 183
// whose SDP is the gateway's (its address and a port of its RTP range).
TEST_F(SipBridgeTest, FarEndsEarlyMediaReachesTheCallerAsA183WithTheGatewaysSdp) {
  if (!require_tool("sipp")) return;
  Sipp far(gw.peer_dir("sipp-far"));
  ASSERT_TRUE(start_uas(far, "uas_early_media.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"sip"}, {{"far", far.sip_port()}})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_early_media.xml"));  // requires a 183 with SDP; BYE 2 s after the 200
  EXPECT_TRUE(ends_cleanly(caller, 20s)) << diagnostics({&caller, &far});
  EXPECT_TRUE(ends_cleanly(far, 10s)) << diagnostics({&far});

  const std::string trace = messages("sipp-caller");
  const auto progress = trace.find("SIP/2.0 183");
  ASSERT_NE(progress, std::string::npos) << diagnostics({&caller});
  std::smatch m;
  const std::string rest = trace.substr(progress);
  ASSERT_TRUE(std::regex_search(rest, m, std::regex(R"(m=audio (\d+) RTP/AVP)"))) << rest;
  const int port = std::stoi(m[1].str());
  EXPECT_TRUE(port >= gw.rtp_port_min() && port < gw.rtp_port_min() + 40)
      << "the 183's SDP is not the gateway's (m= port " << port << ")\n" << rest.substr(0, 1200)
      << "\nfar end's media port: " << far.media_port();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 3. First target 503, second (a sip: step) answers: the call connects there.
TEST_F(SipBridgeTest, A503FromTheFirstTargetFailsOverToTheNextWhichAnswers) {
  if (!require_tool("sipp")) return;
  Sipp failing(gw.peer_dir("sipp-503"));
  ASSERT_TRUE(start_uas(failing, "uas_unavailable.xml"));
  Sipp far(gw.peer_dir("sipp-far"));
  ASSERT_TRUE(start_uas(far, "uas_answer.xml", {"-rtp_echo"}));
  ASSERT_TRUE(start_gateway(bridge_options(
      {"trunk:first", "sip:$digits@127.0.0.1:" + std::to_string(far.sip_port())}, {"127.0.0.0/8"},
      {{"first", failing.sip_port()}})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_call.xml"));  // 2 s of call, then BYE
  EXPECT_TRUE(ends_cleanly(caller, 20s)) << diagnostics({&caller, &failing, &far});
  EXPECT_TRUE(ends_cleanly(failing, 5s)) << "the 503 was not ACKed?\n" << diagnostics({&failing});
  EXPECT_TRUE(ends_cleanly(far, 10s)) << "the answering target got no BYE?\n" << diagnostics({&far});
  EXPECT_EQ(count_of(messages("sipp-503"), ruri(failing.sip_port())), 1u) << diagnostics({&failing});
  EXPECT_EQ(count_of(messages("sipp-far"), ruri(far.sip_port())), 1u) << diagnostics({&far});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 3d. A target that answers nothing at all is given up after
// routing.target_timeout_ms (not SIP's 32 s timer B), and the next one answers.
TEST_F(SipBridgeTest, SilentTargetIsGivenUpAfterTheTargetTimeoutAndTheNextOneAnswers) {
  if (!require_tool("sipp")) return;
  Sipp silent(gw.peer_dir("sipp-silent"));
  ASSERT_TRUE(start_uas(silent, "uas_silent.xml"));
  Sipp far(gw.peer_dir("sipp-far"));
  ASSERT_TRUE(start_uas(far, "uas_answer.xml", {"-rtp_echo"}));
  GatewayOptions options = bridge_options(
      {"trunk:dead", "sip:$digits@127.0.0.1:" + std::to_string(far.sip_port())}, {"127.0.0.0/8"},
      {{"dead", silent.sip_port()}});
  options.extra_toml = "[routing]\nsip_callers = \"bridge\"\ntarget_timeout_ms = 1000\n\n" +
                       options.extra_toml.substr(options.extra_toml.find("[[trunk]]"));
  ASSERT_TRUE(start_gateway(options));

  Sipp caller(gw.peer_dir("sipp-caller"));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(start_uac(caller, "uac_call.xml"));  // 2 s of call, then BYE
  const bool connected = poll_until(
      [&] {
        const Json calls = gw.calls();
        return calls.value("ok", false) && calls["calls"].size() == 1 &&
               calls["calls"][0].value("state", "") == "connected";
      },
      6s, 50ms);
  ASSERT_TRUE(connected) << gw.calls().dump() << "\n" << diagnostics({&caller, &silent, &far});
  const auto connected_after = std::chrono::steady_clock::now() - started;
  // 1 s of target timeout, then the second target's 200 (it pauses 200 ms).
  EXPECT_LT(connected_after, 4s) << diagnostics({&caller});
  EXPECT_NE(gw.process().log_text().find("event=target_timeout"), std::string::npos) << diagnostics();
  EXPECT_TRUE(ends_cleanly(caller, 15s)) << diagnostics({&caller, &silent, &far});
  EXPECT_TRUE(ends_cleanly(far, 10s)) << diagnostics({&far});
  EXPECT_GE(count_of(messages("sipp-silent"), ruri(silent.sip_port())), 1u) << diagnostics({&silent});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 3b. A single target answering 486: the caller gets 486.
TEST_F(SipBridgeTest, BusyFarEndGivesTheCaller486) {
  if (!require_tool("sipp")) return;
  Sipp busy(gw.peer_dir("sipp-busy"));
  ASSERT_TRUE(start_uas(busy, "uas_busy.xml"));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"sip"}, {{"far", busy.sip_port()}})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_busy.xml"));  // expects 486 and ACKs it
  EXPECT_TRUE(ends_cleanly(caller, 15s)) << diagnostics({&caller, &busy});
  EXPECT_TRUE(ends_cleanly(busy, 5s)) << "the 486 was not ACKed?\n" << diagnostics({&busy});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 3c. 486 ends the attempt: the target after it is not called.
TEST_F(SipBridgeTest, A486EndsTheAttemptWithoutTryingFurtherTargets) {
  if (!require_tool("sipp")) return;
  Sipp busy(gw.peer_dir("sipp-busy"));
  ASSERT_TRUE(start_uas(busy, "uas_busy.xml"));
  Sipp spare(gw.peer_dir("sipp-spare"));
  ASSERT_TRUE(start_uas(spare, "uas_answer.xml"));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:busy", "trunk:spare"}, {"sip"},
                                           {{"busy", busy.sip_port()}, {"spare", spare.sip_port()}})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_busy.xml"));
  EXPECT_TRUE(ends_cleanly(caller, 15s)) << diagnostics({&caller, &busy, &spare});
  EXPECT_TRUE(ends_cleanly(busy, 5s)) << diagnostics({&busy});
  std::this_thread::sleep_for(1s);  // time for a wrongly placed INVITE to arrive
  EXPECT_EQ(messages("sipp-spare").find("INVITE"), std::string::npos) << diagnostics({&spare});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 3d. When every target fails, the caller gets the failure's status; a 503
// becomes 500, since the 503 speaks of the far server, not of this gateway
// (RFC 3261 §16.7 step 6, §21.5.4).
TEST_F(SipBridgeTest, EveryTargetFailingWith503GivesTheCaller500) {
  if (!require_tool("sipp")) return;
  Sipp failing(gw.peer_dir("sipp-503"));
  ASSERT_TRUE(start_uas(failing, "uas_unavailable.xml"));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"sip"}, {{"far", failing.sip_port()}})));

  const std::string response = raw_invite_final(15s);
  EXPECT_EQ(sip_status(response), 500) << response << "\n" << diagnostics({&failing});
  EXPECT_TRUE(ends_cleanly(failing, 5s)) << diagnostics({&failing});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 4. The caller cancels while the far end rings: CANCEL reaches the far end,
// the caller gets 487.
TEST_F(SipBridgeTest, CallerCancelsWhileTheFarEndRingsAndTheCancelReachesIt) {
  if (!require_tool("sipp")) return;
  Sipp far(gw.peer_dir("sipp-far"));
  ASSERT_TRUE(start_uas(far, "uas_ring_until_cancel.xml"));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"sip"}, {{"far", far.sip_port()}})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_cancel.xml"));  // needs the relayed 180, then CANCEL, 200, 487
  EXPECT_TRUE(ends_cleanly(caller, 15s)) << diagnostics({&caller, &far});
  EXPECT_TRUE(ends_cleanly(far, 10s)) << "the far end got no CANCEL?\n" << diagnostics({&far});
  EXPECT_EQ(count_of(messages("sipp-far"), "CANCEL sip:"), 1u) << diagnostics({&far});
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

// 5. A rule that admits only the lines: 403 for a SIP caller, nobody called.
TEST_F(SipBridgeTest, RuleForTheLinesOnlyRefusesSipCallersWith403AndCallsNobody) {
  if (!require_tool("sipp")) return;
  Sipp far(gw.peer_dir("sipp-far"));
  ASSERT_TRUE(start_uas(far, "uas_answer.xml"));
  ASSERT_TRUE(start_gateway(bridge_options({"trunk:far"}, {"lines"}, {{"far", far.sip_port()}})));

  const std::string response = raw_invite_final(10s);
  EXPECT_EQ(sip_status(response), 403) << response << "\n" << diagnostics({&far});
  std::this_thread::sleep_for(1s);  // time for a wrongly placed INVITE to arrive
  EXPECT_EQ(messages("sipp-far").find("INVITE"), std::string::npos) << diagnostics({&far});
  EXPECT_EQ(gw.call_count(), 0u) << gw.calls().dump();
}

// 6. An RFC 4733 digit from the caller (sipp playing dtmf_2833_1.pcap)
// reaches a far baresip, which negotiated telephone-event, as an event.
TEST_F(SipBridgeTest, Rfc4733DigitFromTheCallerReachesTheFarEndAsAnEvent) {
  if (!require_tool("sipp") || !require_tool("baresip")) return;
  Baresip far;
  ASSERT_TRUE(far.start({.dir = gw.peer_dir("baresip"), .ausine_hz = 1000, .answermode = "auto", .lifetime_s = 60}))
      << far.error();
  // baresip takes calls for its own user only: a sip: step names it.
  ASSERT_TRUE(start_gateway(bridge_options({far.aor()}, {"sip"}, {})));

  Sipp caller(gw.peer_dir("sipp-caller"));
  ASSERT_TRUE(start_uac(caller, "uac_pcap.xml"));  // after 1 s the digit 1, BYE 2 s later
  ASSERT_TRUE(far.ctrl().wait_event("CALL_ESTABLISHED", "", 15s)) << far.diagnostics() << diagnostics({&caller});
  const bool event = poll_until(
      [&] {
        far.ctrl().pump(20ms);
        return far.ctrl().has_event("CALL_DTMF_START", "1") ||
               far.process().log_text().find("received event: '1'") != std::string::npos;
      },
      10s);
  EXPECT_TRUE(event) << "baresip saw no RFC 4733 '1'\n" << far.diagnostics() << diagnostics({&caller});
  EXPECT_TRUE(ends_cleanly(caller, 15s)) << diagnostics({&caller});
  EXPECT_TRUE(far.ctrl().wait_event("CALL_CLOSED", "", 5s)) << "the caller's BYE did not reach baresip\n"
                                                           << far.diagnostics();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  far.quit();
}

}  // namespace
}  // namespace sipline::test
