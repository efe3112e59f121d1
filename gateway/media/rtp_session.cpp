#include "media/rtp_session.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "media/rtp_packet.hpp"
#include "sipline/dsp/g711.hpp"

namespace sipline::gateway::media {
namespace {

constexpr std::uint32_t kSamplesPerFrame = 160;
constexpr int kMaxRtpPerTick = 64;
constexpr int kMaxRtcpPerTick = 8;
constexpr std::uint8_t kEventVolume = 10;  // -10 dBm0
constexpr int kEndRepeats = 3;             // RFC 4733 §2.5.1.4
constexpr auto kRtcpInterval = std::chrono::milliseconds(5000);
constexpr auto kRemoteEventTimeout = std::chrono::milliseconds(1000);
constexpr int kRcvBuf = 256 * 1024;

dsp::G711Law law_of(AudioCodec c) { return c == AudioCodec::pcma ? dsp::G711Law::alaw : dsp::G711Law::ulaw; }

bool parse_literal(const std::string& text, std::uint16_t port, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  std::string t = text;
  if (t.size() > 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
  if (inet_pton(AF_INET6, t.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

void set_port(sockaddr_storage& a, std::uint16_t port) {
  if (a.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&a)->sin_port = htons(port);
  else reinterpret_cast<sockaddr_in6*>(&a)->sin6_port = htons(port);
}
std::uint16_t get_port(const sockaddr_storage& a) {
  return ntohs(a.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&a)->sin_port
                                      : reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

base::Result<base::UniqueFd> make_socket(int family) {
  base::UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return base::fail(MediaError::socket, std::string("socket: ") + std::strerror(errno));
  const int rcvbuf = kRcvBuf;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // best effort
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);   // kernel arrival times
  if (family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  return fd;
}

// Wall-clock arrival time in 8 kHz timestamp units (for A.8 jitter).
std::uint32_t to_rtp_units(const timespec& ts) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ts.tv_sec) * 8000u +
                                    static_cast<std::uint64_t>(ts.tv_nsec) / 125000u);
}

// Receives one datagram with its kernel timestamp; returns its size or -1.
ssize_t receive_one(int fd, std::span<std::uint8_t> buf, sockaddr_storage& from, socklen_t& from_len,
                    timespec& arrival) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return n;
  from_len = msg.msg_namelen;
  bool stamped = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      std::memcpy(&arrival, CMSG_DATA(c), sizeof arrival);
      stamped = true;
    }
  }
  if (!stamped) ::clock_gettime(CLOCK_REALTIME, &arrival);
  if (msg.msg_flags & MSG_TRUNC) {  // larger than any RTP we accept
    errno = EMSGSIZE;
    return -1;
  }
  return n;
}

}  // namespace

base::Result<SessionParams> resolve_stream_params(const StreamParams& p, int family) {
  SessionParams s;
  s.codec = p.codec;
  s.payload_type = p.payload_type;
  s.dtmf_payload_type = p.dtmf_payload_type;
  s.direction = p.direction;
  s.srtp = p.srtp.has_value();
  if (p.payload_type > 127 || p.dtmf_payload_type > 127)
    return base::fail(MediaError::bad_address, "payload type out of range");
  if (p.remote_port != 0) {
    if (!parse_literal(p.remote_address, p.remote_port, s.remote, s.remote_len))
      return base::fail(MediaError::bad_address, "not an IP address literal: " + p.remote_address);
    if (s.remote.ss_family != family)
      return base::fail(MediaError::bad_address, "address family differs from the local RTP socket: " + p.remote_address);
  }
  return s;
}

base::Result<std::unique_ptr<RtpSession>> RtpSession::open(const RtpSessionOptions& o, std::size_t& port_cursor) {
  sockaddr_storage local{};
  socklen_t local_len = 0;
  if (!parse_literal(o.bind_address, 0, local, local_len))
    return base::fail(MediaError::bad_address, "rtp_address is not an IP literal: " + o.bind_address);
  const std::uint32_t first = (o.port_min + 1u) & ~1u;
  if (first == 0 || first + 1 > o.port_max) return base::fail(MediaError::no_port, "empty RTP port range");
  const std::size_t count = (o.port_max - 1u - first) / 2 + 1;

  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t index = (port_cursor + i) % count;
    const auto port = static_cast<std::uint16_t>(first + 2 * index);
    auto rtp = make_socket(local.ss_family);
    if (!rtp) return base::fail(rtp.error());
    auto rtcp = make_socket(local.ss_family);
    if (!rtcp) return base::fail(rtcp.error());
    set_port(local, port);
    if (::bind(rtp->get(), reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
      if (errno == EADDRINUSE || errno == EACCES) continue;
      return base::fail(MediaError::socket, "bind " + o.bind_address + ": " + std::strerror(errno));
    }
    set_port(local, static_cast<std::uint16_t>(port + 1));
    if (::bind(rtcp->get(), reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
      if (errno == EADDRINUSE || errno == EACCES) continue;
      return base::fail(MediaError::socket, "bind " + o.bind_address + ": " + std::strerror(errno));
    }
    port_cursor = (index + 1) % count;
    return std::unique_ptr<RtpSession>(
        new RtpSession(o, std::move(*rtp), std::move(*rtcp), local.ss_family, port));
  }
  return base::fail(MediaError::no_port, "no free RTP port pair in range");
}

RtpSession::RtpSession(const RtpSessionOptions& o, base::UniqueFd rtp, base::UniqueFd rtcp, int family,
                       std::uint16_t port)
    : rtp_fd_(std::move(rtp)),
      rtcp_fd_(std::move(rtcp)),
      family_(family),
      local_port_(port),
      rng_(o.seed | 1),
      ssrc_(o.ssrc),
      seq_(o.initial_sequence),
      timestamp_(o.initial_timestamp),
      jitter_(JitterBufferConfig{.playout_delay_ms = o.jitter_buffer_ms}) {
  cname_length_ = std::min(o.cname.size(), cname_.size());
  std::memcpy(cname_.data(), o.cname.data(), cname_length_);
}

RtpSession::~RtpSession() = default;

std::uint64_t RtpSession::next_random() {
  // xorshift64
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

void RtpSession::connect(const SessionParams& params, base::TimePoint now) {
  const bool new_remote = !connected_ || params.remote_len != params_.remote_len ||
                          (params.remote_len != 0 && !same_address(params.remote, params_.remote));
  params_ = params;
  connected_ = true;
  marker_pending_ = true;
  if (new_remote || !rtp_latched_) {
    rtp_latched_ = false;
    rtcp_latched_ = false;
    rtp_dest_len_ = params.remote_len;
    rtp_dest_ = params.remote;
    rtcp_dest_len_ = params.remote_len;
    rtcp_dest_ = params.remote;
    if (rtcp_dest_len_ != 0) set_port(rtcp_dest_, static_cast<std::uint16_t>(get_port(params.remote) + 1));
  }
  last_receive_ = now;
  if (!rtcp_scheduled_) {
    // RFC 3550 §6.2: the first report after half the (randomised) interval.
    const auto span = kRtcpInterval.count();
    next_rtcp_ = now + std::chrono::milliseconds(span / 4 + static_cast<long>(next_random() % static_cast<std::uint64_t>(span / 2)));
    rtcp_scheduled_ = true;
  }
}

bool RtpSession::may_send() const {
  return params_.direction == Direction::sendrecv || params_.direction == Direction::sendonly;
}

bool RtpSession::may_receive() const {
  return params_.direction == Direction::sendrecv || params_.direction == Direction::recvonly;
}

void RtpSession::disconnect() {
  connected_ = false;
  tx_event_ = TxEvent::none;
}

void RtpSession::dtmf_begin(char digit) {
  if (!connected_ || params_.dtmf_payload_type < 0) return;
  const int code = dtmf_digit_to_event(digit);
  if (code < 0) return;
  if (tx_event_ == TxEvent::ending && tx_end_left_ == kEndRepeats) send_event_packet(true);  // end at least once
  tx_event_ = TxEvent::sending;
  tx_event_code_ = static_cast<std::uint8_t>(code);
  tx_event_ts_ = timestamp_;
  tx_event_duration_ = 0;
  tx_event_first_ = true;
}

void RtpSession::dtmf_end() {
  if (tx_event_ != TxEvent::sending) return;
  tx_event_ = TxEvent::ending;
  tx_end_left_ = kEndRepeats;
}

void RtpSession::send_packet(bool marker, std::uint8_t pt, std::uint32_t timestamp,
                             std::span<const std::uint8_t> payload) {
  if (rtp_dest_len_ == 0) return;
  RtpHeader h;
  h.marker = marker;
  h.payload_type = pt;
  h.sequence = seq_;
  h.timestamp = timestamp;
  h.ssrc = ssrc_;
  auto n = write_rtp(h, payload, std::span(tx_buf_).first(tx_buf_.size() - kSrtpMaxOverhead));
  if (!n) return;
  std::size_t length = *n;
  if (!protect(length, false)) return;
  ++seq_;
  ++rtp_sent_;
  octets_sent_ += payload.size();
  sent_since_report_ = true;
  // Failures (ICMP unreachable reported as ECONNREFUSED, full buffers) are not
  // fatal for RTP: the next frame tries again.
  (void)::sendto(rtp_fd_.get(), tx_buf_.data(), length, 0, reinterpret_cast<const sockaddr*>(&rtp_dest_), rtp_dest_len_);
}

bool RtpSession::protect(std::size_t& length, bool rtcp) {
  if (!params_.srtp) return true;
  if (!srtp_) return false;  // SRTP agreed but no context: never send in the clear
  return rtcp ? srtp_->protect_rtcp(tx_buf_, length) : srtp_->protect_rtp(tx_buf_, length);
}

bool RtpSession::unprotect(std::size_t& length, bool rtcp) {
  if (!params_.srtp) return true;
  const std::span<std::uint8_t> packet(rx_buf_.data(), length);
  if (srtp_ && (rtcp ? srtp_->unprotect_rtcp(packet, length) : srtp_->unprotect_rtp(packet, length))) return true;
  ++srtp_failures_;
  return false;
}

void RtpSession::send_event_packet(bool end) {
  TelephoneEvent e;
  e.event = tx_event_code_;
  e.end = end;
  e.volume = kEventVolume;
  e.duration = static_cast<std::uint16_t>(std::min<std::uint32_t>(tx_event_duration_, 0xffff));
  std::array<std::uint8_t, kTelephoneEventSize> payload;
  write_telephone_event(e, payload);
  send_packet(tx_event_first_, static_cast<std::uint8_t>(params_.dtmf_payload_type), tx_event_ts_, payload);
  tx_event_first_ = false;
  if (end && tx_end_left_ > 0 && --tx_end_left_ == 0) tx_event_ = TxEvent::none;
}

void RtpSession::send_frame(base::ConstFrameSpan pcm) {
  if (!connected_) return;
  const bool sending = may_send();
  if (tx_event_ == TxEvent::sending) {
    tx_event_duration_ = std::min<std::uint32_t>(tx_event_duration_ + kSamplesPerFrame, 0xffff);
    if (sending) send_event_packet(false);
  } else if (tx_event_ == TxEvent::ending) {
    if (sending) send_event_packet(true);
    else tx_event_ = TxEvent::none;
  } else if (sending) {
    std::array<std::uint8_t, base::kFrameSamples> payload;
    dsp::g711_encode(law_of(params_.codec), pcm, payload);
    send_packet(marker_pending_, params_.payload_type, timestamp_, payload);
    if (rtp_dest_len_ != 0) marker_pending_ = false;
  }
  timestamp_ += kSamplesPerFrame;
}

void RtpSession::receive(base::TimePoint now, RtpSessionListener& listener) {
  sockaddr_storage from{};
  socklen_t from_len = 0;
  timespec arrival{};
  for (int i = 0; i < kMaxRtpPerTick; ++i) {
    const ssize_t n = receive_one(rtp_fd_.get(), rx_buf_, from, from_len, arrival);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      continue;  // truncated datagram or a transient error (ICMP): skip it
    }
    if (!connected_) continue;  // nothing negotiated yet: drop
    std::size_t length = static_cast<std::size_t>(n);
    if (!unprotect(length, false)) continue;
    handle_rtp(std::span<const std::uint8_t>(rx_buf_.data(), length), from, from_len, to_rtp_units(arrival), now,
               listener);
  }
  for (int i = 0; i < kMaxRtcpPerTick; ++i) {
    const ssize_t n = receive_one(rtcp_fd_.get(), rx_buf_, from, from_len, arrival);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      continue;
    }
    std::size_t length = static_cast<std::size_t>(n);
    if (!unprotect(length, true)) continue;
    handle_rtcp(std::span<const std::uint8_t>(rx_buf_.data(), length), from, from_len,
                ntp_from_unix(arrival.tv_sec, arrival.tv_nsec));
  }
  if (rx_event_active_ && now - rx_event_update_ > kRemoteEventTimeout) {
    rx_event_active_ = false;
    listener.on_remote_dtmf_end(rx_event_digit_, static_cast<int>(kRemoteEventTimeout.count()), true);
  }
}

void RtpSession::handle_rtp(std::span<const std::uint8_t> datagram, const sockaddr_storage& from, socklen_t from_len,
                            std::uint32_t arrival_units, base::TimePoint now, RtpSessionListener& listener) {
  auto pkt = parse_rtp(datagram);
  if (!pkt) return;
  const RtpHeader& h = pkt->header;
  const bool audio = h.payload_type == params_.payload_type;
  const bool event = params_.dtmf_payload_type >= 0 && h.payload_type == params_.dtmf_payload_type;
  if (!audio && !event) return;
  if (rtp_latched_) {
    if (!same_address(from, rtp_dest_)) return;
  } else {
    // Symmetric RTP: answer to where the peer's packets come from.
    rtp_dest_ = from;
    rtp_dest_len_ = from_len;
    rtp_latched_ = true;
    if (!rtcp_latched_) {
      rtcp_dest_ = from;
      rtcp_dest_len_ = from_len;
      set_port(rtcp_dest_, static_cast<std::uint16_t>(get_port(from) + 1));
    }
  }
  if (!have_remote_ssrc_ || h.ssrc != remote_ssrc_) {
    have_remote_ssrc_ = true;
    remote_ssrc_ = h.ssrc;
    rx_stats_.reset();
  }
  rx_stats_.update_seq(h.sequence);
  last_receive_ = now;
  if (rtp_received_++ == 0) listener.on_first_packet();

  if (audio) {
    rx_stats_.update_jitter(h.timestamp, arrival_units);
    jitter_.push(h.ssrc, h.sequence, h.timestamp, pkt->payload);
    return;
  }
  auto te = parse_telephone_event(pkt->payload);
  if (!te) return;
  const char digit = dtmf_event_to_digit(te->event);
  if (digit == 0) return;  // flash and other non-DTMF events are not played
  const int duration_ms = te->duration / 8;
  if (!rx_event_known_ || h.timestamp != rx_event_ts_) {
    if (rx_event_active_) listener.on_remote_dtmf_end(rx_event_digit_, duration_ms, true);
    rx_event_known_ = true;
    rx_event_ts_ = h.timestamp;
    rx_event_digit_ = digit;
    rx_event_active_ = !te->end;
    if (te->end) listener.on_remote_dtmf_end(digit, duration_ms, false);
    else listener.on_remote_dtmf_begin(digit);
  } else if (te->end && rx_event_active_) {
    rx_event_active_ = false;
    listener.on_remote_dtmf_end(digit, duration_ms, true);
  }
  rx_event_update_ = now;
}

void RtpSession::handle_rtcp(std::span<const std::uint8_t> datagram, const sockaddr_storage& from, socklen_t from_len,
                             std::uint64_t arrival_ntp) {
  auto c = parse_rtcp(datagram);
  if (!c) return;
  if (rtcp_latched_) {
    if (!same_address(from, rtcp_dest_)) return;
  } else if (connected_) {
    rtcp_dest_ = from;
    rtcp_dest_len_ = from_len;
    rtcp_latched_ = true;
  }
  ++rtcp_received_;
  if (c->report.sender) {
    have_sr_ = true;
    last_sr_middle_ = ntp_middle32(c->report.sender_info.ntp_timestamp);
    last_sr_arrival_ = ntp_middle32(arrival_ntp);
  }
  for (std::size_t i = 0; i < c->report.block_count; ++i) {
    const ReportBlock& b = c->report.blocks[i];
    if (b.ssrc == ssrc_) far_end_.on_report_block(b, ntp_middle32(arrival_ntp), rtp_sent_);
  }
}

void RtpSession::tick_rtcp(base::TimePoint now) {
  if (!connected_ || !rtcp_scheduled_ || now < next_rtcp_) return;
  const auto span = kRtcpInterval.count();
  // RFC 3550 §6.3.1: the interval randomised over [0.5, 1.5] x nominal.
  next_rtcp_ = now + std::chrono::milliseconds(span / 2 + static_cast<long>(next_random() % static_cast<std::uint64_t>(span)));
  if (rtcp_dest_len_ == 0) return;

  RtcpReport r;
  r.ssrc = ssrc_;
  r.sender = sent_since_report_;
  sent_since_report_ = false;
  timespec wall{};
  ::clock_gettime(CLOCK_REALTIME, &wall);
  const std::uint64_t wall_ntp = ntp_from_unix(wall.tv_sec, wall.tv_nsec);
  if (r.sender) {
    r.sender_info.ntp_timestamp = wall_ntp;
    r.sender_info.rtp_timestamp = timestamp_;
    r.sender_info.packet_count = static_cast<std::uint32_t>(rtp_sent_);
    r.sender_info.octet_count = static_cast<std::uint32_t>(octets_sent_);
  }
  if (have_remote_ssrc_ && rx_stats_.valid()) {
    ReportBlock& b = r.blocks[0];
    b.ssrc = remote_ssrc_;
    rx_stats_.fill_report_block(b);
    if (have_sr_) {
      b.lsr = last_sr_middle_;
      // DLSR from the SR's kernel arrival time to now on the same wall clock
      // (not the 20 ms tick), so the far end's RTT is not off by up to a
      // tick; 0 if the clock stepped back.
      const auto held = static_cast<std::int32_t>(ntp_middle32(wall_ntp) - last_sr_arrival_);
      b.dlsr = held > 0 ? static_cast<std::uint32_t>(held) : 0;
    }
    r.block_count = 1;
  }
  auto n = build_rtcp_report(r, std::string_view(cname_.data(), cname_length_),
                             std::span(tx_buf_).first(tx_buf_.size() - kSrtpMaxOverhead));
  if (!n) return;
  std::size_t length = *n;
  if (!protect(length, true)) return;
  if (::sendto(rtcp_fd_.get(), tx_buf_.data(), length, 0, reinterpret_cast<const sockaddr*>(&rtcp_dest_), rtcp_dest_len_) >= 0)
    ++rtcp_sent_;
}

bool RtpSession::playout(base::FrameSpan out) {
  const auto frame = jitter_.pop();  // keeps the playout clock running
  const bool may_play = connected_ && may_receive();
  if (!may_play || frame.kind != JitterBuffer::FrameKind::audio) {
    std::fill(out.begin(), out.end(), std::int16_t{0});
    return false;
  }
  const std::size_t n = std::min(frame.payload.size(), out.size());
  dsp::g711_decode(law_of(params_.codec), frame.payload.first(n), out.first(n));
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), std::int16_t{0});
  return true;
}

void RtpSession::publish_stats() {
  published_.packets_sent.store(rtp_sent_, std::memory_order_relaxed);
  published_.packets_received.store(rtp_received_, std::memory_order_relaxed);
  published_.packets_lost.store(static_cast<std::uint64_t>(std::max<std::int64_t>(rx_stats_.cumulative_lost(), 0)),
                                std::memory_order_relaxed);
  published_.jitter_ms.store(rx_stats_.jitter() / 8.0, std::memory_order_relaxed);
  published_.rtcp_sent.store(rtcp_sent_, std::memory_order_relaxed);
  published_.rtcp_received.store(rtcp_received_, std::memory_order_relaxed);
  published_.srtp_failures.store(srtp_failures_, std::memory_order_relaxed);
  published_.rtt_ms.store(far_end_.rtt_ms(), std::memory_order_relaxed);
  published_.rtt_average_ms.store(far_end_.rtt_average_ms(), std::memory_order_relaxed);
  published_.remote_reports.store(far_end_.reports(), std::memory_order_relaxed);
  published_.remote_fraction_lost.store(far_end_.fraction_lost(), std::memory_order_relaxed);
  published_.remote_lost.store(far_end_.cumulative_lost(), std::memory_order_relaxed);
  published_.remote_loss_percent.store(far_end_.loss_percent(), std::memory_order_relaxed);
  published_.remote_jitter_ms.store(far_end_.jitter_ms(), std::memory_order_relaxed);
}

StreamStats RtpSession::published_stats() const {
  StreamStats s;
  s.packets_sent = published_.packets_sent.load(std::memory_order_relaxed);
  s.packets_received = published_.packets_received.load(std::memory_order_relaxed);
  s.packets_lost = published_.packets_lost.load(std::memory_order_relaxed);
  s.jitter_ms = published_.jitter_ms.load(std::memory_order_relaxed);
  s.rtcp_sent = published_.rtcp_sent.load(std::memory_order_relaxed);
  s.rtcp_received = published_.rtcp_received.load(std::memory_order_relaxed);
  s.srtp_failures = published_.srtp_failures.load(std::memory_order_relaxed);
  s.ssrc = ssrc_;
  s.rtt_ms = published_.rtt_ms.load(std::memory_order_relaxed);
  s.rtt_average_ms = published_.rtt_average_ms.load(std::memory_order_relaxed);
  s.remote_reports = published_.remote_reports.load(std::memory_order_relaxed);
  s.remote_fraction_lost = published_.remote_fraction_lost.load(std::memory_order_relaxed);
  s.remote_lost = published_.remote_lost.load(std::memory_order_relaxed);
  s.remote_loss_percent = published_.remote_loss_percent.load(std::memory_order_relaxed);
  s.remote_jitter_ms = published_.remote_jitter_ms.load(std::memory_order_relaxed);
  s.playout_delay_ms = jitter_.delay_frames() * 20;  // fixed after construction
  return s;
}

}  // namespace sipline::gateway::media
