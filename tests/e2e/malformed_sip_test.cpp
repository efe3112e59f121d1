// Broken SIP over UDP from the test to the gateway. Every message names
// 127.0.0.1 only (Via, Contact, URIs), so no answer can leave the machine.
// Each must get a 4xx final response or be dropped; the daemon must survive
// and still complete a normal call afterwards. (Sofia-SIP answers some broken
// messages itself, before the application sees them.)
#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sip_udp.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

// Sends `message`, then collects every datagram for `window`; ACKs non-2xx
// final responses to stop retransmissions. Returns the status codes seen.
std::vector<int> send_and_collect(SipUdpPeer& peer, std::uint16_t port, const std::string& message,
                                  const InviteSpec& spec, std::chrono::milliseconds window, std::string* transcript) {
  std::vector<int> statuses;
  peer.send_to(port, message);
  const auto deadline = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto msg = peer.receive(left);
    if (!msg) break;
    *transcript += "<<<\n" + *msg + "\n";
    const int status = sip_status(*msg);
    if (status == 0) continue;  // a request (the gateway should not send any here)
    statuses.push_back(status);
    if (status >= 300 && sip_header(*msg, "CSeq").find("INVITE") != std::string::npos) {
      peer.send_to(port, make_ack(spec, *msg));
    }
  }
  return statuses;
}

std::string describe(const std::vector<int>& statuses) {
  std::string out;
  for (int s : statuses) out += std::to_string(s) + " ";
  return out.empty() ? "(dropped)" : out;
}

TEST_F(GatewayTest, SurvivesMalformedInvitesAndStillCompletesACall) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));
  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  const auto base = [&] {
    InviteSpec s;
    s.user = "201";
    s.remote_port = gw.sip_port();
    s.local_port = peer.port();
    s.body = pcmu_offer(static_cast<std::uint16_t>(peer.port() + 2));
    return s;
  };
  const auto final_statuses = [](const std::vector<int>& all) {
    std::vector<int> finals;
    for (int s : all) {
      if (s >= 200) finals.push_back(s);
    }
    return finals;
  };

  // 1. Truncated in the middle of its headers: no blank line, no body.
  {
    const InviteSpec spec = base();
    std::string full = make_invite(spec);
    const std::string truncated = full.substr(0, full.find("Call-ID:") + 12);
    std::string transcript;
    const auto got = send_and_collect(peer, gw.sip_port(), truncated, spec, 2s, &transcript);
    std::cout << "[ malformed ] truncated headers -> " << describe(got) << "\n";
    for (int s : final_statuses(got)) EXPECT_TRUE(s >= 400 && s < 500) << transcript;
    ASSERT_TRUE(gw.process().running()) << gw.process().describe_exit();
    EXPECT_TRUE(is_ok(gw.status()));
  }
  // 2. Content-Length larger than the body (RFC 3261 18.3: an error over UDP).
  {
    InviteSpec spec = base();
    spec.content_length = static_cast<long>(spec.body.size()) + 200;
    std::string transcript;
    const auto got = send_and_collect(peer, gw.sip_port(), make_invite(spec), spec, 2s, &transcript);
    std::cout << "[ malformed ] Content-Length too large -> " << describe(got) << "\n";
    for (int s : final_statuses(got)) EXPECT_TRUE(s >= 400 && s < 500) << transcript;
    ASSERT_TRUE(gw.process().running()) << gw.process().describe_exit();
    EXPECT_TRUE(is_ok(gw.status()));
  }
  // 3. Well-formed INVITE, garbage SDP: a transaction that must be answered (488 expected).
  {
    InviteSpec spec = base();
    spec.body = "v=banana\r\nthis is not SDP\r\nm=audio seventeen RTP/AVP zero\r\n\x01\x02\x03\r\n";
    std::string transcript;
    const auto got = send_and_collect(peer, gw.sip_port(), make_invite(spec), spec, 3s, &transcript);
    std::cout << "[ malformed ] garbage SDP -> " << describe(got) << "\n";
    const auto finals = final_statuses(got);
    ASSERT_FALSE(finals.empty()) << "a well-formed INVITE got no final response\n" << transcript;
    for (int s : finals) EXPECT_TRUE(s >= 400 && s < 500) << transcript;
    ASSERT_TRUE(gw.process().running()) << gw.process().describe_exit();
  }
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  EXPECT_EQ(gw.line_state(1), "idle");

  // A normal call still works.
  Sipp sipp(gw.dir());
  SippOptions so;
  so.scenario_file = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp/uac_pcap.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "201";
  so.timeout_s = 30;
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(40s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(gw.process().running()) << gw.process().describe_exit();
  EXPECT_TRUE(is_ok(gw.status()));
}

}  // namespace
}  // namespace sipline::test
