// RtpSession over loopback UDP (component: real sockets on 127.0.0.1 / ::1).
#include "media/rtp_session.hpp"

#include <chrono>
#include <cmath>
#include <numbers>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "media/rtcp.hpp"
#include "media/rtp_packet.hpp"
#include "component/media/sine_frame.hpp"
#include "sipline/base/c_ptr.hpp"

namespace sipline::gateway::media {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kPortMin = 41000;
constexpr std::uint16_t kPortMax = 41999;

RtpSessionOptions options(std::string address = "127.0.0.1", std::uint32_t ssrc = 0x1111) {
  RtpSessionOptions o;
  o.bind_address = std::move(address);
  o.port_min = kPortMin;
  o.port_max = kPortMax;
  o.jitter_buffer_ms = 40;
  o.ssrc = ssrc;
  o.initial_sequence = 65500;  // wraps during the tests
  o.initial_timestamp = 0xfffff000u;
  o.cname = "test@sipline";
  return o;
}

std::unique_ptr<RtpSession> open_session(std::size_t& cursor, std::string address = "127.0.0.1",
                                         std::uint32_t ssrc = 0x1111) {
  auto s = RtpSession::open(options(std::move(address), ssrc), cursor);
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return s ? std::move(*s) : nullptr;
}

SessionParams params_to(std::uint16_t port, const char* address = "127.0.0.1", int dtmf_pt = 101,
                        Direction dir = Direction::sendrecv) {
  StreamParams p;
  p.remote_address = address;
  p.remote_port = port;
  p.codec = AudioCodec::pcmu;
  p.payload_type = 0;
  p.dtmf_payload_type = dtmf_pt;
  p.direction = dir;
  auto r = resolve_stream_params(p, std::string(address).find(':') != std::string::npos ? AF_INET6 : AF_INET);
  EXPECT_TRUE(r);
  return *r;
}

// A plain UDP socket standing in for a peer.
struct Peer {
  base::UniqueFd fd;
  std::uint16_t port = 0;
  explicit Peer(const char* address = "127.0.0.1") {
    fd.reset(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, address, &a.sin_addr);
    ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  // Receives one datagram (waits up to 500 ms); empty on timeout.
  std::vector<std::uint8_t> receive() {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 500) != 1) return {};
    std::vector<std::uint8_t> buf(2048);
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return buf;
  }
  bool nothing_pending() {
    pollfd p{fd.get(), POLLIN, 0};
    return ::poll(&p, 1, 50) == 0;
  }
  void send_to(std::uint16_t to_port, std::span<const std::uint8_t> data) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(to_port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ::sendto(fd.get(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
};

struct RecordingListener final : RtpSessionListener {
  int first_packets = 0;
  std::string begins;
  std::string ends;
  std::vector<bool> end_begin_seen;
  void on_first_packet() noexcept override { ++first_packets; }
  void on_remote_dtmf_begin(char digit) noexcept override { begins += digit; }
  void on_remote_dtmf_end(char digit, int, bool begin_seen) noexcept override {
    ends += digit;
    end_begin_seen.push_back(begin_seen);
  }
};

using test::sine_frame;

// Lets loopback datagrams land before the receiver drains.
void settle() { std::this_thread::sleep_for(5ms); }

TEST(RtpSession, BindsEvenPortsInRangeAndRotatesBetweenSessions) {
  std::size_t cursor = 0;
  auto a = open_session(cursor);
  auto b = open_session(cursor);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->local_port() % 2, 0);
  EXPECT_EQ(b->local_port() % 2, 0);
  EXPECT_GE(a->local_port(), kPortMin);
  EXPECT_LE(b->local_port() + 1, kPortMax);
  EXPECT_NE(a->local_port(), b->local_port());
}

TEST(RtpSession, FailsWhenTheRangeIsExhausted) {
  std::size_t cursor = 0;
  auto o = options();
  o.port_min = 41500;
  o.port_max = 41501;  // one pair
  auto a = RtpSession::open(o, cursor);
  ASSERT_TRUE(a);
  auto b = RtpSession::open(o, cursor);
  ASSERT_FALSE(b);
  EXPECT_TRUE(b.error().is(MediaError::no_port));
}

TEST(RtpSession, RejectsAddressesThatAreNotLiteralsOrOfTheWrongFamily) {
  StreamParams p;
  p.remote_address = "example.com";
  p.remote_port = 4000;
  EXPECT_TRUE(resolve_stream_params(p, AF_INET).error().is(MediaError::bad_address));
  p.remote_address = "::1";
  EXPECT_TRUE(resolve_stream_params(p, AF_INET).error().is(MediaError::bad_address));
  EXPECT_TRUE(resolve_stream_params(p, AF_INET6));
}

TEST(RtpSession, SendsG711WithMarkerOnFirstPacketAndTimestampStepsOf160) {
  std::size_t cursor = 10;
  auto a = open_session(cursor);
  Peer peer;
  a->connect(params_to(peer.port), std::chrono::steady_clock::now());
  const auto frame = sine_frame(1000, 0);
  for (int i = 0; i < 3; ++i) a->send_frame(frame);
  std::vector<RtpPacketView> got;
  std::vector<std::vector<std::uint8_t>> raw;
  for (int i = 0; i < 3; ++i) raw.push_back(peer.receive());
  for (auto& r : raw) {
    auto v = parse_rtp(r);
    ASSERT_TRUE(v);
    got.push_back(*v);
  }
  EXPECT_TRUE(got[0].header.marker);
  EXPECT_FALSE(got[1].header.marker);
  EXPECT_EQ(got[0].header.payload_type, 0);
  EXPECT_EQ(got[0].header.ssrc, 0x1111u);
  EXPECT_EQ(got[0].header.sequence, 65500);
  EXPECT_EQ(got[1].header.sequence, 65501);
  EXPECT_EQ(got[0].header.timestamp, 0xfffff000u);
  EXPECT_EQ(got[1].header.timestamp - got[0].header.timestamp, 160u);
  EXPECT_EQ(got[2].header.timestamp - got[1].header.timestamp, 160u);
  EXPECT_EQ(got[0].payload.size(), 160u);
}

TEST(RtpSession, SendsRfc4733EventsInsteadOfAudioAndEndsThemThreeTimes) {
  std::size_t cursor = 20;
  auto a = open_session(cursor);
  Peer peer;
  a->connect(params_to(peer.port), std::chrono::steady_clock::now());
  const auto frame = sine_frame(1000, 0);
  a->send_frame(frame);  // audio
  a->dtmf_begin('#');
  for (int i = 0; i < 4; ++i) a->send_frame(frame);
  a->dtmf_end();
  for (int i = 0; i < 3; ++i) a->send_frame(frame);
  a->send_frame(frame);  // audio again

  std::vector<std::vector<std::uint8_t>> raw;
  for (int i = 0; i < 9; ++i) raw.push_back(peer.receive());
  std::vector<RtpPacketView> p;
  for (auto& r : raw) {
    auto v = parse_rtp(r);
    ASSERT_TRUE(v);
    p.push_back(*v);
  }
  EXPECT_EQ(p[0].header.payload_type, 0);
  const std::uint32_t event_ts = p[1].header.timestamp;
  EXPECT_EQ(event_ts, p[0].header.timestamp + 160);
  for (int i = 1; i <= 7; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(p[i].header.payload_type, 101);
    EXPECT_EQ(p[i].header.timestamp, event_ts);
    EXPECT_EQ(p[i].header.marker, i == 1);
    auto e = parse_telephone_event(p[i].payload);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->event, 11);
    EXPECT_EQ(e->end, i >= 5);
    EXPECT_EQ(e->duration, 160 * std::min(i, 4));
  }
  EXPECT_EQ(p[8].header.payload_type, 0);
  EXPECT_EQ(p[8].header.timestamp, event_ts + 7 * 160);
  for (int i = 1; i < 9; ++i) EXPECT_EQ(static_cast<std::uint16_t>(p[i].header.sequence - p[i - 1].header.sequence), 1);
}

TEST(RtpSession, SendsNoAudioWhenRecvonlyOrInactiveAndPlaysNoneWhenSendonly) {
  std::size_t cursor = 30;
  auto a = open_session(cursor);
  Peer peer;
  const auto frame = sine_frame(1000, 0);
  a->connect(params_to(peer.port, "127.0.0.1", 101, Direction::recvonly), std::chrono::steady_clock::now());
  a->send_frame(frame);
  a->connect(params_to(peer.port, "127.0.0.1", 101, Direction::inactive), std::chrono::steady_clock::now());
  a->send_frame(frame);
  EXPECT_TRUE(peer.nothing_pending());
  a->connect(params_to(peer.port, "127.0.0.1", 101, Direction::sendonly), std::chrono::steady_clock::now());
  a->send_frame(frame);
  EXPECT_FALSE(peer.receive().empty());

  // sendonly (we hold the peer): packets are received but not played.
  RtpHeader h;
  h.ssrc = 77;
  std::uint8_t buf[200];
  std::array<std::uint8_t, 160> payload;
  payload.fill(0x10);
  RecordingListener l;
  for (int i = 0; i < 6; ++i) {
    h.sequence = static_cast<std::uint16_t>(i);
    h.timestamp = static_cast<std::uint32_t>(i * 160);
    peer.send_to(a->local_port(), std::span<const std::uint8_t>(buf, *write_rtp(h, payload, buf)));
  }
  settle();
  a->receive(std::chrono::steady_clock::now(), l);
  EXPECT_EQ(l.first_packets, 1);
  base::AudioFrame out{};
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(a->playout(out));
}

TEST(RtpSession, CarriesAudioBothWaysThroughTheJitterBuffer) {
  std::size_t cursor = 40;
  auto a = open_session(cursor, "127.0.0.1", 0xaaaa);
  auto b = open_session(cursor, "127.0.0.1", 0xbbbb);
  const auto now = std::chrono::steady_clock::now();
  a->connect(params_to(b->local_port()), now);
  b->connect(params_to(a->local_port()), now);
  RecordingListener la, lb;
  int played = 0;
  std::vector<std::int16_t> heard;
  for (int i = 0; i < 20; ++i) {
    a->send_frame(sine_frame(697, i));
    b->send_frame(sine_frame(1209, i));
    settle();
    a->receive(now, la);
    b->receive(now, lb);
    base::AudioFrame out{};
    if (b->playout(out)) {
      ++played;
      heard.insert(heard.end(), out.begin(), out.end());
    }
    a->playout(out);
  }
  EXPECT_EQ(lb.first_packets, 1);
  EXPECT_EQ(la.first_packets, 1);
  EXPECT_GE(played, 15);
  // The decoded audio is the sine that was sent (G.711 keeps it within ~1%).
  const auto expected = sine_frame(697, 0);
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < 160; ++i) {
    err += std::pow(heard[i] - expected[i], 2);
    ref += std::pow(expected[i], 2);
  }
  EXPECT_LT(err / ref, 0.01);
  a->publish_stats();
  b->publish_stats();
  EXPECT_EQ(a->published_stats().packets_sent, 20u);
  EXPECT_EQ(b->published_stats().packets_received, 20u);
  EXPECT_EQ(b->published_stats().packets_lost, 0u);
}

TEST(RtpSession, LatchesToTheFirstSourceAndIgnoresOthers) {
  std::size_t cursor = 50;
  auto a = open_session(cursor);
  Peer nat_side;  // the peer's real (NATed) address
  Peer intruder;
  // SDP said port 9 (a private address behind the NAT, unreachable).
  a->connect(params_to(9), std::chrono::steady_clock::now());
  RtpHeader h;
  h.ssrc = 5;
  std::uint8_t buf[200];
  std::array<std::uint8_t, 160> payload{};
  auto n = *write_rtp(h, payload, buf);
  nat_side.send_to(a->local_port(), std::span<const std::uint8_t>(buf, n));
  settle();
  RecordingListener l;
  a->receive(std::chrono::steady_clock::now(), l);
  h.sequence = 1;
  n = *write_rtp(h, payload, buf);
  intruder.send_to(a->local_port(), std::span<const std::uint8_t>(buf, n));
  settle();
  a->receive(std::chrono::steady_clock::now(), l);
  a->publish_stats();
  EXPECT_EQ(a->published_stats().packets_received, 1u);

  a->send_frame(sine_frame(500, 0));
  EXPECT_FALSE(nat_side.receive().empty());  // our audio goes where theirs came from
  EXPECT_TRUE(intruder.nothing_pending());
}

TEST(RtpSession, ReportsEachRemoteDtmfEventOnceDespiteRepeatedPackets) {
  std::size_t cursor = 60;
  auto a = open_session(cursor);
  auto b = open_session(cursor);
  const auto now = std::chrono::steady_clock::now();
  a->connect(params_to(b->local_port()), now);
  b->connect(params_to(a->local_port()), now);
  RecordingListener l;
  const base::AudioFrame silence{};
  a->dtmf_begin('4');
  for (int i = 0; i < 5; ++i) a->send_frame(silence);
  a->dtmf_end();
  for (int i = 0; i < 3; ++i) a->send_frame(silence);
  a->dtmf_begin('4');  // the same digit again is a new event (new timestamp)
  a->send_frame(silence);
  a->dtmf_end();
  for (int i = 0; i < 3; ++i) a->send_frame(silence);
  settle();
  b->receive(now, l);
  EXPECT_EQ(l.begins, "44");
  EXPECT_EQ(l.ends, "44");
  EXPECT_EQ(l.end_begin_seen, (std::vector<bool>{true, true}));
}

TEST(RtpSession, ReportsAnEventWhoseBeginWasLost) {
  std::size_t cursor = 70;
  auto a = open_session(cursor);
  Peer peer;
  a->connect(params_to(peer.port), std::chrono::steady_clock::now());
  RtpHeader h;
  h.ssrc = 9;
  h.payload_type = 101;
  h.timestamp = 8000;
  std::uint8_t buf[64];
  std::array<std::uint8_t, 4> ev;
  write_telephone_event({.event = 3, .end = true, .volume = 10, .duration = 800}, ev);
  for (int i = 0; i < 3; ++i) {
    h.sequence = static_cast<std::uint16_t>(i);
    peer.send_to(a->local_port(), std::span<const std::uint8_t>(buf, *write_rtp(h, ev, buf)));
  }
  settle();
  RecordingListener l;
  a->receive(std::chrono::steady_clock::now(), l);
  EXPECT_EQ(l.begins, "");
  EXPECT_EQ(l.ends, "3");
  EXPECT_EQ(l.end_begin_seen, (std::vector<bool>{false}));
}

TEST(RtpSession, SendsAndCountsRtcpReports) {
  std::size_t cursor = 80;
  auto a = open_session(cursor);
  Peer rtcp_peer;
  a->connect(params_to(static_cast<std::uint16_t>(rtcp_peer.port - 1)), std::chrono::steady_clock::now());
  a->send_frame(sine_frame(300, 0));
  a->tick_rtcp(std::chrono::steady_clock::now() + 10s);
  auto r = rtcp_peer.receive();
  ASSERT_FALSE(r.empty());
  auto c = parse_rtcp(r);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->report.sender);  // it has sent RTP
  EXPECT_EQ(c->report.ssrc, 0x1111u);
  EXPECT_EQ(c->report.sender_info.packet_count, 1u);
  EXPECT_EQ(c->cname_view(), "test@sipline");
  // Not again before the next interval.
  a->tick_rtcp(std::chrono::steady_clock::now() + 10s);
  EXPECT_TRUE(rtcp_peer.nothing_pending());

  // An incoming RR is counted.
  RtcpReport rr;
  rr.ssrc = 5;
  std::uint8_t buf[128];
  rtcp_peer.send_to(static_cast<std::uint16_t>(a->local_port() + 1),
                    std::span<const std::uint8_t>(buf, *build_rtcp_report(rr, "peer", buf)));
  settle();
  RecordingListener l;
  a->receive(std::chrono::steady_clock::now(), l);
  a->publish_stats();
  EXPECT_EQ(a->published_stats().rtcp_sent, 1u);
  EXPECT_EQ(a->published_stats().rtcp_received, 1u);
}

TEST(RtpSession, WorksOverIpv6) {
  std::size_t cursor = 90;
  auto a = RtpSession::open(options("::1", 1), cursor);
  if (!a) GTEST_SKIP() << "no IPv6 loopback: " << a.error().message();
  auto b = RtpSession::open(options("::1", 2), cursor);
  ASSERT_TRUE(b);
  const auto now = std::chrono::steady_clock::now();
  (*a)->connect(params_to((*b)->local_port(), "::1"), now);
  (*b)->connect(params_to((*a)->local_port(), "::1"), now);
  (*a)->send_frame(sine_frame(697, 0));
  settle();
  RecordingListener l;
  (*b)->receive(now, l);
  EXPECT_EQ(l.first_packets, 1);
}

}  // namespace
}  // namespace sipline::gateway::media
