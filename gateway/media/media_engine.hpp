#pragma once
// MediaEngine: the media threads. A fixed pool of workers, each running a
// 20 ms timerfd tick over the lines it owns. Every line of the driver is
// attached to one worker for the life of the engine (an idle line still needs
// its audio read: dial tone, DTMF dialing). A line can be connected to one RTP
// stream at a time (StreamId); later issues (call waiting, 3-way) let a line
// mix several.
//
// A relay (open_relay) joins two RTP streams with no line between them, for a
// SIP caller bridged to a SIP destination: each tick the audio played out of
// one stream's jitter buffer is sent on the other, decoded to linear PCM and
// re-encoded, so the two legs may use different codecs. DTMF crosses as the
// receiving leg negotiated it: RFC 4733 events are relayed as events, or
// played in-band into the other leg's audio when that leg has no
// telephone-event; in-band digits heard on a leg without events are sent as
// events to a leg that has them.
//
// Per line and tick:
//   port.read -> dsp::Channel::process_tx (DTMF detect) -> encode -> RTP send
//     (+ RFC 4733 events for detected digits when the peer negotiated them)
//   RTP receive -> jitter buffer -> decode -> dsp::Channel::process_rx
//     (tones / DTMF overlay; RFC 4733 events received are played as DTMF) -> port.write
//
// Thread: the public methods are called on the control thread only. Commands
// go down to the worker through an SPSC queue; events come back up through one
// SPSC queue per worker, signalled on event_fd(). The tick allocates nothing,
// locks nothing and does not log.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "media/srtp.hpp"
#include "sipline/base/result.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/echo_canceller.hpp"
#include "sipline/dsp/tone_profile.hpp"
#include "sipline/drivers/line_driver.hpp"

namespace sipline::gateway::media {

using LineId = std::size_t;   // the driver's port index
using StreamId = std::uint32_t;
// MediaEvent::line of a relay stream's events (no line is involved).
inline constexpr LineId kNoLine = static_cast<LineId>(-1);

enum class MediaError { no_port, socket, bad_address, unknown_stream };

enum class AudioCodec { pcmu, pcma };
// StreamParams::direction is this side's direction as offer/answer agreed it
// (RFC 3264 §6.1; gateway/sip/sdp.cpp fills it with the mirror of the peer's):
// sendonly => audio is sent, received audio is not played; recvonly =>
// received audio is played, none is sent; inactive => neither. RTCP always
// flows, and rtp_timeout only watches streams that expect to receive.
enum class Direction { sendrecv, sendonly, recvonly, inactive };

struct MediaEngineConfig {
  std::string rtp_address = "127.0.0.1";  // local address RTP sockets bind to
  std::uint16_t port_min = 16384;         // even ports from this range; RTCP on port + 1
  std::uint16_t port_max = 16999;
  int workers = 1;                        // >= 1
  int jitter_buffer_ms = 60;              // playout delay
  int rtp_timeout_ms = 60000;             // rtp_timeout event after this long without RTP; 0 = never
  int max_relays = 64;                    // relays (SIP-to-SIP calls) the engine carries at once
};

// What offer/answer agreed for one stream.
struct StreamParams {
  std::string remote_address;             // IPv4 or IPv6 literal from SDP c=
  std::uint16_t remote_port = 0;          // 0 = no remote yet (only receive)
  AudioCodec codec = AudioCodec::pcmu;
  std::uint8_t payload_type = 0;
  int dtmf_payload_type = -1;             // RFC 4733 telephone-event, -1 = not negotiated
  Direction direction = Direction::sendrecv;
  std::optional<SrtpKeys> srtp;           // SDES keys when the stream is SRTP; none = plain RTP
};

struct StreamInfo {
  StreamId id = 0;
  std::uint16_t local_port = 0;           // RTP; RTCP is local_port + 1
};

struct StreamStats {
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_lost = 0;         // RFC 3550 cumulative lost (expected - received)
  double jitter_ms = 0;                   // RFC 3550 interarrival jitter
  std::uint64_t rtcp_sent = 0;
  std::uint64_t rtcp_received = 0;
  std::uint64_t srtp_failures = 0;        // SRTP/SRTCP packets dropped: failed authentication or replay check
  std::uint32_t ssrc = 0;
  // The far end's RTCP report blocks about our stream (RFC 3550 §6.4.1).
  // Round-trip times are -1 while unknown: no report with an LSR yet (the
  // first SR goes out 1.25-3.75 s into the call, the answer to it up to
  // 7.5 s later) or a peer that sends no RTCP.
  double rtt_ms = -1;                     // the last round-trip time
  double rtt_average_ms = -1;             // mean of all round-trip times so far
  std::uint64_t remote_reports = 0;       // report blocks about us received
  double remote_fraction_lost = 0;        // the last report's fraction lost, 0..1
  std::int64_t remote_lost = 0;           // cumulative lost (may be negative: duplicates)
  double remote_loss_percent = 0;         // remote_lost over the packets we had sent then, 0..100
  double remote_jitter_ms = 0;            // its interarrival jitter, at the 8 kHz G.711 clock
  int playout_delay_ms = 0;               // our jitter buffer's fixed delay (call quality's delay estimate)
};

enum class MediaEventType {
  line_digit_begin,   // DTMF digit started in the line audio (digit)
  line_digit_end,     // ... and ended
  remote_dtmf,        // an RFC 4733 event arrived from the network (digit), reported once per event
  rtp_started,        // first RTP packet received on the stream
  rtp_timeout,        // no RTP for rtp_timeout_ms on a connected stream
  line_caller_id,     // caller ID decoded in an FXO line's audio (caller_id)
  line_progress,      // a call progress tone confirmed on an FXO line (digit = dsp::ProgressTone)
  line_voice,         // audio that is no progress tone has lasted 500 ms on an FXO line
  line_quiet,         // an FXO line has been quiet (below -45 dBm0) for 1 s
  line_sound,         // ... and has sound again
  echo_bypassed,      // the line's echo canceller stepped aside for a fax/modem answer tone
  echo_restored,      // ... and is back (the data call ended)
};

// A line's meters, as `siplinectl lines` shows them.
struct LineLevels {
  float tx_dbm0 = -99;           // from the line (after echo cancellation and gain), ~100 ms average
  float rx_dbm0 = -99;           // to the line
  std::string echo_canceller = "off";
  bool echo_bypassed = false;    // stepped aside for a fax/modem answer tone
};

// Written by a line's worker, read by the control thread.
struct LineMeter {
  std::atomic<float> tx_dbm0{-99};
  std::atomic<float> rx_dbm0{-99};
  std::atomic<bool> echo_bypassed{false};
};

// A caller ID message in fixed-size form, so that it crosses the worker's
// allocation-free event queue.
struct CallerIdText {
  dsp::CallerIdFormat format = dsp::CallerIdFormat::none;
  std::array<char, dsp::kMaxCallerIdNumber> number{};
  std::uint8_t number_size = 0;
  std::array<char, dsp::kMaxCallerIdName> name{};
  std::uint8_t name_size = 0;
  dsp::Absence number_absence = dsp::Absence::none, name_absence = dsp::Absence::none;
  std::int8_t month = 0, day = 0, hour = 0, minute = 0;

  static CallerIdText from(const dsp::CallerIdMessage& m);  // realtime
  dsp::CallerIdMessage message() const;                     // allocates
};

struct MediaEvent {
  MediaEventType type = MediaEventType::line_digit_begin;
  LineId line = 0;
  StreamId stream = 0;
  char digit = 0;
  CallerIdText caller_id{};  // line_caller_id
};

class MediaEngine {
 public:
  // `profiles[i]` is the tone profile of driver port i.
  MediaEngine(const MediaEngineConfig& config, drivers::LineDriver& driver,
              std::vector<const dsp::ToneProfile*> profiles);
  ~MediaEngine();  // stops the workers if still running
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  // Starts the workers; every driver port is attached to one of them.
  base::Result<void> start();
  // Stops the workers and closes every stream.
  void stop();

  // Opens an RTP/RTCP socket pair for `line` (not yet sending).
  base::Result<StreamInfo> open_stream(LineId line);
  // Connects the line's audio to the stream with the negotiated parameters.
  // Calling it again updates the parameters (re-INVITE, early media -> answer).
  base::Result<void> connect(StreamId stream, const StreamParams& params);
  // Opens two streams joined to each other (see the relay above), each with
  // its own sockets; connect() each with its leg's parameters. Closing one
  // leaves the other sending nothing; close both.
  base::Result<std::pair<StreamInfo, StreamInfo>> open_relay();
  // Closes the stream and its sockets; the line goes back to silence.
  void close_stream(StreamId stream);

  // Before start(): an FXO line. Decode caller ID in its audio, and detect
  // call progress tones (the profile's) and voice.
  void detect_caller_id(LineId line, dsp::CallerIdFormat format, bool automatic);
  // Before start(): cancel the line's hybrid echo (dsp::EchoCanceller) in
  // the audio read from it; off on fax/modem answer tone with phase reversals
  // (ITU-T G.165/G.168) until the data call ends.
  void cancel_echo(LineId line, dsp::EchoCancellerKind kind, const dsp::EchoCancellerOptions& options);
  // Before start(): gains in dB (-24..+24) to the line (rx) and from it (tx).
  void set_gains(LineId line, double rx_db, double tx_db);
  // A line's levels and echo canceller state (updated about every 100 ms).
  LineLevels line_levels(LineId line) const;
  // DTMF digits into the line (100 ms on, 100 ms off); at most 32.
  void dial_line(LineId line, const std::string& digits);

  // Local tones towards the line (dial tone, ringback, busy ...). ToneKind::none stops.
  void play_tone(LineId line, dsp::ToneKind kind);
  // Line signal audio (caller ID data, an alerting tone) played once towards
  // the line in place of everything else; an empty vector stops it.
  void play_signal(LineId line, std::vector<int16_t> samples);

  // A snapshot of a stream's counters (updated by the worker about every 100 ms).
  StreamStats stats(StreamId stream) const;

  int event_fd() const;
  void drain_events(const std::function<void(const MediaEvent&)>& handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::gateway::media
