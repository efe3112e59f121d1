// Two simulated phones on one gateway call each other over SIP loopback: the
// dial plan sends 2XX to the gateway's own SIP port, so each call has an
// outbound SIP leg (the caller's line) and an inbound one (the callee's line).
// Everything is checked by listening on the phones: tones, not shortcuts.
#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sip_udp.hpp"

namespace sipline::test {
namespace {

constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;


TEST_F(GatewayTest, OffHookPhoneHearsDialTone) {
  ASSERT_TRUE(start_gateway());
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  // US dial tone is 350 + 440 Hz continuous: 350 Hz carries about half the power.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 350}})));
  const auto heard = gw.wait_listen_ratio(kPhone1, 0.3, 3s);
  EXPECT_TRUE(heard.sustained) << "350 Hz ratio readings: " << heard.history;
  // ... and it is not some other tone: 1000 Hz is absent.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 1000}})));
  std::this_thread::sleep_for(400ms);
  const Json l = gw.line(kPhone1);
  EXPECT_LT(l["phone"].value("listen_ratio", 1.0), 0.1) << l.dump();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.describe();
}

TEST_F(GatewayTest, TwoPhonesTalkBothWaysThroughSipLoopback) {
  GatewayOptions options;
  options.phones[1].auto_answer_ms = 400;
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(gw.call_phone(kPhone1, "202", kPhone2));

  // One call per leg: phone 1's outbound INVITE and the inbound one ringing phone 2.
  const Json calls = gw.calls();
  ASSERT_TRUE(is_ok(calls));
  ASSERT_EQ(calls["calls"].size(), 2u) << calls.dump();
  int inbound = 0;
  int outbound = 0;
  for (const auto& c : calls["calls"]) {
    EXPECT_EQ(c.value("state", ""), "connected") << c.dump();
    EXPECT_EQ(c.value("codec", ""), "PCMU") << c.dump();
    if (c.value("direction", "") == "inbound") {
      ++inbound;
      EXPECT_EQ(c.value("line", ""), "fxs2") << c.dump();
    } else if (c.value("direction", "") == "outbound") {
      ++outbound;
      EXPECT_EQ(c.value("line", ""), "fxs1") << c.dump();
      EXPECT_NE(c.value("remote", "").find("202@127.0.0.1"), std::string::npos) << c.dump();
    }
  }
  EXPECT_EQ(inbound, 1) << calls.dump();
  EXPECT_EQ(outbound, 1) << calls.dump();

  // Two-way audio: each phone plays its own tone and listens for the other's.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 1209}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "listen", {{"hz", 697}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "tone", {{"hz", 1209}, {"hz2", 0}, {"level_dbfs", -10}})));
  const auto at_phone1 = gw.wait_listen_ratio(kPhone1, 0.5, 4s);
  const auto at_phone2 = gw.wait_listen_ratio(kPhone2, 0.5, 4s);
  EXPECT_TRUE(at_phone1.sustained) << "phone 1 listening for phone 2's 1209 Hz: " << at_phone1.history;
  EXPECT_TRUE(at_phone2.sustained) << "phone 2 listening for phone 1's 697 Hz: " << at_phone2.history;

  // RTP flowed both ways on both legs.
  // (The answer must outlive the loop: a range-for over a member of a
  // temporary reads freed memory before C++23.)
  const Json after = gw.calls();
  for (const auto& c : after["calls"]) {
    EXPECT_GT(c["rtp"].value("sent", 0), 0) << c.dump();
    EXPECT_GT(c["rtp"].value("received", 0), 0) << c.dump();
  }

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "stop")));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "stop")));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 5s)) << gw.describe();
  // Phone 2 (still off hook) is told the far end left: disconnected, with busy or reorder tone (480 + 620 Hz).
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "disconnected", 5s)) << gw.describe();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "listen", {{"hz", 480}})));
  const auto disconnect_tone = gw.wait_listen_ratio(kPhone2, 0.3, 3s, 1);
  EXPECT_TRUE(disconnect_tone.sustained) << "480 Hz at phone 2: " << disconnect_tone.history;
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "idle", 5s)) << gw.describe();
}

TEST_F(GatewayTest, CallingAnOffHookPhoneGivesBusyTone) {
  ASSERT_TRUE(start_gateway());
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone2, "dialtone", 3s)) << gw.describe();

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "dial", {{"digits", "202"}})));
  ASSERT_TRUE(gw.wait_line_state(kPhone1, "disconnected", 15s)) << gw.describe();
  // US busy: 480 + 620 Hz, 0.5 s on / 0.5 s off; one full 200 ms window in the tone suffices.
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "listen", {{"hz", 480}})));
  const auto busy = gw.wait_listen_ratio(kPhone1, 0.3, 3s, 1);
  EXPECT_TRUE(busy.sustained) << "480 Hz at phone 1: " << busy.history;
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.describe();
  // The busy phone was not disturbed.
  EXPECT_EQ(gw.line_state(kPhone2), "dialtone");

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.describe();
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "idle", 3s)) << gw.describe();
}

TEST_F(GatewayTest, SipInviteToAnOffHookPhoneGets486) {
  ASSERT_TRUE(start_gateway());
  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(kPhone2, "dialtone", 3s)) << gw.describe();

  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  InviteSpec invite;
  invite.user = "202";
  invite.remote_port = gw.sip_port();
  invite.local_port = peer.port();
  invite.body = pcmu_offer(static_cast<std::uint16_t>(peer.port() + 2));
  ASSERT_TRUE(peer.send_to(gw.sip_port(), make_invite(invite)));
  const auto response = peer.receive_final(invite.call_id, 5s);
  ASSERT_TRUE(response.has_value()) << "no final response to the INVITE";
  EXPECT_EQ(sip_status(*response), 486) << *response;
  peer.send_to(gw.sip_port(), make_ack(invite, *response));
  EXPECT_TRUE(gw.wait_call_count(0, 3s)) << gw.describe();
  EXPECT_EQ(gw.line_state(kPhone2), "dialtone");
}

TEST_F(GatewayTest, SipInviteToAnUnknownNumberGets404) {
  ASSERT_TRUE(start_gateway());
  SipUdpPeer peer;
  ASSERT_TRUE(peer.ok());
  InviteSpec invite;
  invite.user = "399";
  invite.remote_port = gw.sip_port();
  invite.local_port = peer.port();
  invite.body = pcmu_offer(static_cast<std::uint16_t>(peer.port() + 2));
  ASSERT_TRUE(peer.send_to(gw.sip_port(), make_invite(invite)));
  const auto response = peer.receive_final(invite.call_id, 5s);
  ASSERT_TRUE(response.has_value()) << "no final response to the INVITE";
  EXPECT_EQ(sip_status(*response), 404) << *response;
  peer.send_to(gw.sip_port(), make_ack(invite, *response));
}

}  // namespace
}  // namespace sipline::test
