#pragma once
// RtpSession: one RTP stream (RFC 3550) of one line: an RTP socket on an even
// port and an RTCP socket on port + 1, G.711 audio, RFC 4733 DTMF events,
// symmetric RTP latching, a jitter buffer and RTCP reports.
//
// Life cycle: open() binds the sockets on the control thread; the session is
// then moved to its media worker, which calls everything else from its 20 ms
// tick; it comes back to the control thread to be destroyed. The published
// stats are atomics, readable from any thread while the object lives.
//
// Sending (send_frame, once per tick): SSRC, first sequence number and first
// timestamp are random (RFC 3550 §5.1); the timestamp advances by 160 per
// 20 ms frame whether or not a packet goes out; the first packet after
// connect() has the marker bit. While an RFC 4733 event is being sent no audio
// goes out (RFC 4733 §2.5.1.2 allows that): the event is refreshed every
// 20 ms with the timestamp of its start and a growing duration (marker on the
// first), and its end is sent three times, one per tick (§2.5.1.4). Durations
// stop growing at 65535 (no §2.5.1.3 segments for digits over 8 s).
//
// Receiving (receive, once per tick): drains both sockets (bounded), drops
// malformed packets and unknown payload types. Symmetric RTP: the first valid
// packet after connect() fixes the peer's address (the NAT's public side) as
// the destination and other sources are ignored from then on; RTCP latches the
// same way on its own socket. Audio goes to the jitter buffer; telephone-event
// packets are deduplicated by timestamp and reported once per event to the
// listener (begin, then end; an event whose end never comes is ended after 1 s
// without updates).
//
// Direction (StreamParams::direction, this side's agreed direction, RFC 3264
// §6.1): sendrecv and sendonly send audio; sendrecv and recvonly play what is
// received. RTCP flows in every direction.
// SRTP (SessionParams::srtp): every RTP and RTCP packet sent is protected and
// every one received must authenticate (media/srtp.hpp) before anything else
// looks at it, the latch included, so a stray or forged packet can neither
// play nor move the stream; failures are counted (srtp_failures) and dropped.
// The SrtpContext is built on the control thread and handed over with the
// connect command (swap_srtp).
// Limits: one 20 ms frame per received packet is assumed (ptime 20; a longer
// packet plays its first 20 ms); no RTCP BYE on close.
// Call quality: report blocks about our SSRC give the round-trip time (RFC
// 3550 §6.4.1, against the kernel's arrival time of the RTCP datagram, the
// same wall clock our SR's NTP time comes from) and the far end's view of
// our stream (media/rtcp.hpp FarEndView); published with the other stats.
// The DLSR we send runs from the far end's SR's kernel arrival time to the
// moment our report is built, on that same wall clock (not the 20 ms tick).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <netinet/in.h>
#include <sys/socket.h>

#include "media/jitter_buffer.hpp"
#include "media/media_engine.hpp"
#include "media/rtcp.hpp"
#include "media/srtp.hpp"
#include "sipline/base/audio_frame.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::media {

struct RtpSessionOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 or IPv6 literal
  std::uint16_t port_min = 16384;
  std::uint16_t port_max = 16999;
  int jitter_buffer_ms = 60;
  std::uint32_t ssrc = 0;
  std::uint16_t initial_sequence = 0;
  std::uint32_t initial_timestamp = 0;
  std::uint64_t seed = 1;                  // RTCP interval randomisation
  std::string cname = "sipline";           // RTCP SDES CNAME (<= 255 bytes)
};

// StreamParams resolved for the worker (no strings: trivially copyable).
struct SessionParams {
  sockaddr_storage remote{};
  socklen_t remote_len = 0;                // 0 = no remote address yet
  AudioCodec codec = AudioCodec::pcmu;
  std::uint8_t payload_type = 0;
  int dtmf_payload_type = -1;
  Direction direction = Direction::sendrecv;
  bool srtp = false;                       // packets are SRTP/SRTCP (the context comes with swap_srtp)
};

// Thread: control. Checks the address literal and its family against the
// session's (`family` is AF_INET or AF_INET6).
base::Result<SessionParams> resolve_stream_params(const StreamParams& params, int family);

// Callbacks from receive(), on the worker.
class RtpSessionListener {
 public:
  virtual ~RtpSessionListener() = default;
  virtual void on_first_packet() noexcept = 0;
  virtual void on_remote_dtmf_begin(char digit) noexcept = 0;
  // `begin_seen`: false when only the end packets of the event arrived.
  virtual void on_remote_dtmf_end(char digit, int duration_ms, bool begin_seen) noexcept = 0;
};

class RtpSession {
 public:
  // Thread: control. Binds an even RTP port and the next odd one for RTCP in
  // [port_min, port_max], trying ports in order from `port_cursor` (an index in
  // the range, advanced past the port taken, so consecutive calls rotate).
  static base::Result<std::unique_ptr<RtpSession>> open(const RtpSessionOptions& options,
                                                        std::size_t& port_cursor);
  ~RtpSession();
  RtpSession(const RtpSession&) = delete;
  RtpSession& operator=(const RtpSession&) = delete;

  std::uint16_t local_port() const { return local_port_; }
  int family() const { return family_; }
  std::uint32_t ssrc() const { return ssrc_; }

  // --- Worker thread (Realtime: no allocation, no locks, no logging) ---
  // Realtime: (re)connects; resets the latch and sets the marker for the next packet.
  void connect(const SessionParams& params, base::TimePoint now);
  // Realtime: installs the SRTP context for the next connect() (null: plain
  // RTP) and returns the previous one, for the control thread to destroy.
  std::unique_ptr<SrtpContext> swap_srtp(std::unique_ptr<SrtpContext> next) {
    srtp_.swap(next);
    return next;
  }
  // Realtime: stops sending and playing (sockets stay open and are drained).
  void disconnect();
  bool connected() const { return connected_; }
  // Whether the agreed direction lets us send / play received audio.
  bool may_send() const;
  bool may_receive() const;
  // Realtime: a DTMF digit started / ended in the line audio.
  void dtmf_begin(char digit);
  void dtmf_end();
  bool sending_event() const { return tx_event_ != TxEvent::none; }
  // Whether digits travel as RFC 4733 events on this stream (negotiated).
  bool relays_dtmf() const { return connected_ && params_.dtmf_payload_type >= 0; }
  // Realtime: one 20 ms frame of line audio; sends audio or the current event.
  void send_frame(base::ConstFrameSpan pcm);
  // Realtime: drains both sockets.
  void receive(base::TimePoint now, RtpSessionListener& listener);
  // Realtime: the received audio for this tick; silence (and false) when
  // nothing plays.
  bool playout(base::FrameSpan out);
  // Realtime: sends an RTCP report when its interval has passed.
  void tick_rtcp(base::TimePoint now);
  // Realtime: copies the counters to the published snapshot.
  void publish_stats();

  bool received_any() const { return rtp_received_ > 0; }
  base::TimePoint last_receive() const { return last_receive_; }
  const JitterBuffer& jitter_buffer() const { return jitter_; }

  // --- Any thread ---
  StreamStats published_stats() const;

 private:
  enum class TxEvent { none, sending, ending };
  RtpSession(const RtpSessionOptions& options, base::UniqueFd rtp, base::UniqueFd rtcp, int family,
             std::uint16_t port);
  void send_packet(bool marker, std::uint8_t pt, std::uint32_t timestamp, std::span<const std::uint8_t> payload);
  void send_event_packet(bool end);
  // SRTP: protects tx_buf_[0, length) in place; false: send nothing.
  bool protect(std::size_t& length, bool rtcp);
  // SRTP: authenticates and decrypts rx_buf_[0, length) in place; false: drop it.
  bool unprotect(std::size_t& length, bool rtcp);
  void handle_rtp(std::span<const std::uint8_t> datagram, const sockaddr_storage& from, socklen_t from_len,
                  std::uint32_t arrival_units, base::TimePoint now, RtpSessionListener& listener);
  // `arrival_ntp`: the datagram's (kernel) arrival in NTP form, for RTT.
  void handle_rtcp(std::span<const std::uint8_t> datagram, const sockaddr_storage& from, socklen_t from_len,
                   std::uint64_t arrival_ntp);
  std::uint64_t next_random();

  base::UniqueFd rtp_fd_;
  base::UniqueFd rtcp_fd_;
  int family_ = AF_INET;
  std::uint16_t local_port_ = 0;
  std::array<char, kMaxCnameLength> cname_{};
  std::size_t cname_length_ = 0;
  std::uint64_t rng_ = 1;

  // Connection.
  bool connected_ = false;
  SessionParams params_{};
  sockaddr_storage rtp_dest_{};
  socklen_t rtp_dest_len_ = 0;
  sockaddr_storage rtcp_dest_{};
  socklen_t rtcp_dest_len_ = 0;
  bool rtp_latched_ = false;
  bool rtcp_latched_ = false;

  // Sending.
  std::uint32_t ssrc_ = 0;
  std::uint16_t seq_ = 0;
  std::uint32_t timestamp_ = 0;
  bool marker_pending_ = true;
  std::uint64_t rtp_sent_ = 0;
  std::uint64_t octets_sent_ = 0;
  bool sent_since_report_ = false;
  TxEvent tx_event_ = TxEvent::none;
  std::uint8_t tx_event_code_ = 0;
  std::uint32_t tx_event_ts_ = 0;
  std::uint32_t tx_event_duration_ = 0;
  bool tx_event_first_ = false;
  int tx_end_left_ = 0;

  // Receiving.
  JitterBuffer jitter_;
  RtpReceiverStats rx_stats_;
  bool have_remote_ssrc_ = false;
  std::uint32_t remote_ssrc_ = 0;
  std::uint64_t rtp_received_ = 0;
  base::TimePoint last_receive_{};
  bool rx_event_known_ = false;
  bool rx_event_active_ = false;
  std::uint32_t rx_event_ts_ = 0;
  char rx_event_digit_ = 0;
  base::TimePoint rx_event_update_{};
  std::array<std::uint8_t, 2048> rx_buf_{};
  std::unique_ptr<SrtpContext> srtp_;
  std::uint64_t srtp_failures_ = 0;
  std::array<std::uint8_t, 1500> tx_buf_{};

  // RTCP.
  std::uint64_t rtcp_sent_ = 0;
  std::uint64_t rtcp_received_ = 0;
  bool rtcp_scheduled_ = false;
  base::TimePoint next_rtcp_{};
  bool have_sr_ = false;
  std::uint32_t last_sr_middle_ = 0;
  std::uint32_t last_sr_arrival_ = 0;      // its kernel arrival time, NTP middle 32 bits
  FarEndView far_end_;                     // the far end's reports about our SSRC

  struct Published {
    std::atomic<std::uint64_t> packets_sent{0};
    std::atomic<std::uint64_t> packets_received{0};
    std::atomic<std::uint64_t> packets_lost{0};
    std::atomic<double> jitter_ms{0};
    std::atomic<std::uint64_t> rtcp_sent{0};
    std::atomic<std::uint64_t> rtcp_received{0};
    std::atomic<std::uint64_t> srtp_failures{0};
    std::atomic<double> rtt_ms{-1};
    std::atomic<double> rtt_average_ms{-1};
    std::atomic<std::uint64_t> remote_reports{0};
    std::atomic<double> remote_fraction_lost{0};
    std::atomic<std::int64_t> remote_lost{0};
    std::atomic<double> remote_loss_percent{0};
    std::atomic<double> remote_jitter_ms{0};
  } published_;
};

}  // namespace sipline::gateway::media
