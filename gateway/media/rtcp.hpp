#pragma once
// RTCP (RFC 3550 §6): sender and receiver reports, SDES CNAME, compound
// packets, and the receiver-side statistics behind a report block.
//
// build_rtcp_report() writes a compound packet as §6.1 requires: an SR (when
// `report.sender` is set) or an RR first, then an SDES chunk with the CNAME.
// parse_rtcp() applies the A.2 validity checks (version 2 everywhere, the
// first packet is an SR or RR without padding, lengths add up to the datagram)
// and returns the first SR/RR, the first CNAME and whether a BYE was present;
// other packet types (APP, RTPFB ...) are skipped.
//
// FarEndView keeps what the far end's report blocks say about our stream:
// round-trip time (§6.4.1: RTT = A - LSR - DLSR, A the report's arrival in
// NTP middle-32 form; only when LSR != 0), its fraction lost, cumulative lost
// and interarrival jitter.
//
// RtpReceiverStats follows Appendix A.1 (sequence tracking with probation,
// MIN_SEQUENTIAL = 2, MAX_DROPOUT = 3000, MAX_MISORDER = 100), A.3 (expected,
// lost and fraction lost between reports) and A.8 (interarrival jitter).
// Thread: any; no allocation (fixed arrays), so usable on the media tick.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipline/base/result.hpp"

namespace sipline::gateway::media {

enum class RtcpError { too_short, bad_version, bad_length, not_report, buffer_too_small };

inline constexpr std::size_t kMaxReportBlocks = 31;
inline constexpr std::size_t kMaxCnameLength = 255;

// RFC 3550 §6.4.1 report block.
struct ReportBlock {
  std::uint32_t ssrc = 0;                 // source this block is about
  std::uint8_t fraction_lost = 0;         // fixed point /256, since the last report
  std::int32_t cumulative_lost = 0;       // 24-bit signed
  std::uint32_t extended_highest_seq = 0; // cycles << 16 | highest seq
  std::uint32_t jitter = 0;               // timestamp units
  std::uint32_t lsr = 0;                  // middle 32 bits of the last SR's NTP time
  std::uint32_t dlsr = 0;                 // delay since that SR, 1/65536 s
};

struct SenderInfo {
  std::uint64_t ntp_timestamp = 0;        // 32.32 fixed point seconds since 1900
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
};

struct RtcpReport {
  bool sender = false;                    // SR (true) or RR
  std::uint32_t ssrc = 0;
  SenderInfo sender_info;                 // SR only
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  std::size_t block_count = 0;
};

struct RtcpCompound {
  RtcpReport report;
  bool has_cname = false;
  std::uint32_t cname_ssrc = 0;
  std::array<char, kMaxCnameLength> cname{};
  std::size_t cname_length = 0;
  bool has_bye = false;

  std::string_view cname_view() const { return {cname.data(), cname_length}; }
};

// Realtime: writes SR/RR + SDES(CNAME) into `out`; returns the compound size.
base::Result<std::size_t> build_rtcp_report(const RtcpReport& report, std::string_view cname,
                                            std::span<std::uint8_t> out);
// Realtime: parses a compound RTCP datagram.
base::Result<RtcpCompound> parse_rtcp(std::span<const std::uint8_t> datagram);

// The middle 32 bits of an NTP timestamp, as LSR uses them.
inline std::uint32_t ntp_middle32(std::uint64_t ntp) { return static_cast<std::uint32_t>(ntp >> 16); }

// The NTP form (RFC 3550 §4: 32.32 fixed point seconds since 1900) of a
// wall-clock time given as Unix seconds and nanoseconds.
inline std::uint64_t ntp_from_unix(std::int64_t seconds, std::int64_t nanoseconds) {
  const std::uint64_t secs = static_cast<std::uint64_t>(seconds) + 2208988800ull;  // 1900 -> 1970
  const std::uint64_t frac = (static_cast<std::uint64_t>(nanoseconds) << 32) / 1000000000ull;
  return (secs << 32) | frac;
}

// RFC 3550 §6.4.1: the round-trip time in 1/65536 s from a report block that
// arrived at `arrival_middle32` (our clock, NTP middle 32 bits); -1 when the
// block carries no LSR (the far end has had no SR from us yet) or the result
// is negative (a wrong DLSR) or over 60 s (an LSR from a previous clock era).
std::int64_t rtcp_round_trip_units(std::uint32_t arrival_middle32, std::uint32_t lsr, std::uint32_t dlsr);

// What the far end reports about our stream. Thread: the stream's worker;
// no allocation.
class FarEndView {
 public:
  // Realtime: a report block about our SSRC arrived at `arrival_middle32`;
  // `packets_sent` is how many RTP packets we had sent by then (the
  // denominator of remote_loss_percent).
  void on_report_block(const ReportBlock& block, std::uint32_t arrival_middle32, std::uint64_t packets_sent);

  std::uint64_t reports() const { return reports_; }           // blocks about us so far
  bool rtt_known() const { return rtt_samples_ > 0; }
  double rtt_ms() const { return rtt_last_ms_; }               // the last; -1 while unknown
  double rtt_average_ms() const { return rtt_samples_ ? rtt_sum_ms_ / static_cast<double>(rtt_samples_) : -1; }
  double fraction_lost() const { return fraction_lost_ / 256.0; }  // the last report's, 0..1
  std::int32_t cumulative_lost() const { return cumulative_lost_; }  // may be negative (duplicates)
  // Cumulative lost over the packets we had sent when the report arrived, in
  // percent (0..100; packets still in flight count as received).
  double loss_percent() const { return loss_percent_; }
  // Interarrival jitter in ms, from timestamp units at `clock_hz` (8000 for G.711).
  double jitter_ms(double clock_hz = 8000) const { return jitter_units_ * 1000.0 / clock_hz; }

 private:
  std::uint64_t reports_ = 0;
  std::uint64_t rtt_samples_ = 0;
  double rtt_last_ms_ = -1;
  double rtt_sum_ms_ = 0;
  std::uint8_t fraction_lost_ = 0;
  std::int32_t cumulative_lost_ = 0;
  double loss_percent_ = 0;
  std::uint32_t jitter_units_ = 0;
};

// Receiver statistics of one source (RFC 3550 Appendix A.1, A.3, A.8).
class RtpReceiverStats {
 public:
  // Realtime: accounts a received packet's sequence number. Returns false while
  // the source is on probation or when the packet is a stray far from the
  // sequence (the caller may still use it).
  bool update_seq(std::uint16_t seq);
  // Realtime: A.8 interarrival jitter; `arrival` is the arrival time in
  // timestamp units (any origin, wrapping allowed).
  void update_jitter(std::uint32_t rtp_timestamp, std::uint32_t arrival);
  // A.3: fills the loss fields of a report block and starts a new interval.
  void fill_report_block(ReportBlock& block);
  // Forgets the source (SSRC change).
  void reset() { *this = RtpReceiverStats{}; }

  bool valid() const { return initialized_ && probation_ == 0; }
  std::uint64_t received() const { return received_; }
  std::uint32_t extended_max() const { return cycles_ + max_seq_; }
  std::int64_t expected() const;
  std::int64_t cumulative_lost() const;   // may be negative (duplicates)
  std::uint32_t jitter() const { return jitter_ >> 4; }  // timestamp units

 private:
  void init_seq(std::uint16_t seq);

  bool initialized_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0;   // shifted count of sequence number cycles
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = 0;
  std::uint32_t probation_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t expected_prior_ = 0;
  std::uint64_t received_prior_ = 0;
  bool have_transit_ = false;
  std::int32_t transit_ = 0;
  std::uint32_t jitter_ = 0;   // A.8 scaled by 16
};

}  // namespace sipline::gateway::media
