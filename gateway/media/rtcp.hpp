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
