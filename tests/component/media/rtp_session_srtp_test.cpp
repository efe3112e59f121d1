// RtpSession with SRTP over loopback UDP (component: real sockets): audio
// both ways through SRTP, an attacker's plain (or wrongly keyed) packet can
// neither play nor move the latch, SRTCP reports arrive, and a re-key (new
// contexts on both sides, as after a re-INVITE) keeps the audio going.
#include <chrono>
#include <cmath>
#include <numbers>
#include <thread>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "media/rtp_packet.hpp"
#include "media/rtp_session.hpp"
#include "component/media/sine_frame.hpp"
#include "media/srtp.hpp"
#include "sipline/base/c_ptr.hpp"

namespace sipline::gateway::media {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<RtpSession> open_session(std::size_t& cursor, std::uint32_t ssrc) {
  RtpSessionOptions o;
  o.bind_address = "127.0.0.1";
  o.port_min = 42000;
  o.port_max = 42999;
  o.jitter_buffer_ms = 40;
  o.ssrc = ssrc;
  o.initial_sequence = 65530;  // the sequence wraps during the test (SRTP's rollover counter)
  auto s = RtpSession::open(o, cursor);
  EXPECT_TRUE(s);
  return s ? std::move(*s) : nullptr;
}

SessionParams srtp_params_to(std::uint16_t port) {
  StreamParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = port;
  p.srtp = SrtpKeys{};  // only its presence matters to resolve_stream_params
  auto r = resolve_stream_params(p, AF_INET);
  EXPECT_TRUE(r && r->srtp);
  return *r;
}

using test::sine_frame;

struct NullListener final : RtpSessionListener {
  int first_packets = 0;
  void on_first_packet() noexcept override { ++first_packets; }
  void on_remote_dtmf_begin(char) noexcept override {}
  void on_remote_dtmf_end(char, int, bool) noexcept override {}
};

// Installs a fresh pair of keys: a protects with ka, b with kb.
void key(RtpSession& a, RtpSession& b, SrtpSuite suite) {
  const std::string ka = make_srtp_key(suite), kb = make_srtp_key(suite);
  auto ca = SrtpContext::create({suite, ka, kb}, a.ssrc());
  auto cb = SrtpContext::create({suite, kb, ka}, b.ssrc());
  ASSERT_TRUE(ca && cb);
  a.swap_srtp(std::move(*ca));  // the old contexts are freed here, on the "control" thread
  b.swap_srtp(std::move(*cb));
}

// Runs `frames` ticks with a sending 697 Hz to b; returns the frames b played.
int exchange(RtpSession& a, RtpSession& b, NullListener& la, NullListener& lb, int frames, int start) {
  int played = 0;
  for (int i = 0; i < frames; ++i) {
    a.send_frame(sine_frame(697, start + i));
    b.send_frame(sine_frame(1209, start + i));
    std::this_thread::sleep_for(5ms);
    const auto now = std::chrono::steady_clock::now();
    a.receive(now, la);
    b.receive(now, lb);
    base::AudioFrame out{};
    if (b.playout(out)) ++played;
    a.playout(out);
  }
  return played;
}

TEST(RtpSessionSrtp, CarriesAudioRefusesForgeriesAndSurvivesARekey) {
  std::size_t cursor = 0;
  auto a = open_session(cursor, 0xaaaa);
  auto b = open_session(cursor, 0xbbbb);
  ASSERT_TRUE(a && b);
  key(*a, *b, SrtpSuite::aes_cm_128_hmac_sha1_80);
  const auto now = std::chrono::steady_clock::now();
  // b is told a wrong port for a: only the latch (on an authentic packet) finds it.
  a->connect(srtp_params_to(b->local_port()), now);
  b->connect(srtp_params_to(9), now);
  NullListener la, lb;

  // An intruder's plain RTP packet reaches b first: dropped, counted, no latch.
  base::UniqueFd intruder(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(b->local_port());
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  RtpHeader h;
  h.ssrc = 0xaaaa;
  std::array<std::uint8_t, 160> payload{};
  std::array<std::uint8_t, 200> buf{};
  const std::size_t n = *write_rtp(h, payload, buf);
  ::sendto(intruder.get(), buf.data(), n, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  std::this_thread::sleep_for(5ms);
  b->receive(std::chrono::steady_clock::now(), lb);
  b->publish_stats();
  EXPECT_EQ(b->published_stats().srtp_failures, 1u);
  EXPECT_EQ(b->published_stats().packets_received, 0u);
  EXPECT_EQ(lb.first_packets, 0);

  EXPECT_GE(exchange(*a, *b, la, lb, 20, 0), 15);
  EXPECT_EQ(lb.first_packets, 1);
  EXPECT_EQ(la.first_packets, 1) << "b's answer must have gone to a's real port (latched on an authentic packet)";

  // Re-key both sides (a re-INVITE with new a=crypto keys) and go on: the
  // jitter buffer and the sequence continue, the new keys decrypt.
  key(*a, *b, SrtpSuite::aead_aes_128_gcm);
  a->connect(srtp_params_to(b->local_port()), std::chrono::steady_clock::now());
  b->connect(srtp_params_to(a->local_port()), std::chrono::steady_clock::now());
  EXPECT_GE(exchange(*a, *b, la, lb, 20, 20), 15);

  // SRTCP: force a report each way and check it authenticated.
  const auto later = std::chrono::steady_clock::now() + 20s;
  a->tick_rtcp(later);
  b->tick_rtcp(later);
  std::this_thread::sleep_for(5ms);
  a->receive(later, la);
  b->receive(later, lb);
  a->publish_stats();
  b->publish_stats();
  EXPECT_EQ(a->published_stats().rtcp_received, 1u);
  EXPECT_EQ(b->published_stats().rtcp_received, 1u);
  EXPECT_EQ(a->published_stats().srtp_failures, 0u);
  EXPECT_EQ(b->published_stats().srtp_failures, 1u);  // only the intruder's packet
}

}  // namespace
}  // namespace sipline::gateway::media
