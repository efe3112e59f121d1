#include "media/rtcp.hpp"

#include <algorithm>
#include <cstdlib>

#include "media/byte_order.hpp"

namespace sipline::gateway::media {
namespace {

constexpr std::uint8_t kSr = 200, kRr = 201, kSdes = 202, kBye = 203;
constexpr std::uint8_t kSdesCname = 1;


void write_block(std::uint8_t* p, const ReportBlock& b) {
  put32(p, b.ssrc);
  // Cumulative lost is a 24-bit signed value, clamped (RFC 3550 §6.4.1).
  const std::int32_t lost = std::clamp<std::int32_t>(b.cumulative_lost, -0x800000, 0x7fffff);
  put32(p + 4, (std::uint32_t{b.fraction_lost} << 24) | (static_cast<std::uint32_t>(lost) & 0xffffff));
  put32(p + 8, b.extended_highest_seq);
  put32(p + 12, b.jitter);
  put32(p + 16, b.lsr);
  put32(p + 20, b.dlsr);
}

ReportBlock read_block(const std::uint8_t* p) {
  ReportBlock b;
  b.ssrc = get32(p);
  const std::uint32_t w = get32(p + 4);
  b.fraction_lost = static_cast<std::uint8_t>(w >> 24);
  std::int32_t lost = static_cast<std::int32_t>(w & 0xffffff);
  if (lost & 0x800000) lost -= 0x1000000;
  b.cumulative_lost = lost;
  b.extended_highest_seq = get32(p + 8);
  b.jitter = get32(p + 12);
  b.lsr = get32(p + 16);
  b.dlsr = get32(p + 20);
  return b;
}

}  // namespace

base::Result<std::size_t> build_rtcp_report(const RtcpReport& r, std::string_view cname, std::span<std::uint8_t> out) {
  const std::size_t blocks = std::min(r.block_count, kMaxReportBlocks);
  const std::size_t report_len = 8 + (r.sender ? 20 : 0) + 24 * blocks;
  const std::size_t name_len = std::min(cname.size(), kMaxCnameLength);
  // SDES: header 4, SSRC 4, item type+len 2 + text, then null octets to a
  // 32-bit boundary (at least one: the end of the item list).
  const std::size_t chunk = 4 + 2 + name_len;
  const std::size_t chunk_padded = (chunk + 1 + 3) & ~std::size_t{3};
  const std::size_t sdes_len = 4 + chunk_padded;
  if (out.size() < report_len + sdes_len) return base::fail(RtcpError::buffer_too_small, "rtcp: no room");

  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>(0x80 | blocks);
  p[1] = r.sender ? kSr : kRr;
  put16(p + 2, static_cast<std::uint16_t>(report_len / 4 - 1));
  put32(p + 4, r.ssrc);
  std::size_t pos = 8;
  if (r.sender) {
    put32(p + 8, static_cast<std::uint32_t>(r.sender_info.ntp_timestamp >> 32));
    put32(p + 12, static_cast<std::uint32_t>(r.sender_info.ntp_timestamp));
    put32(p + 16, r.sender_info.rtp_timestamp);
    put32(p + 20, r.sender_info.packet_count);
    put32(p + 24, r.sender_info.octet_count);
    pos = 28;
  }
  for (std::size_t i = 0; i < blocks; ++i, pos += 24) write_block(p + pos, r.blocks[i]);

  std::uint8_t* s = p + pos;
  s[0] = 0x81;  // V=2, one chunk
  s[1] = kSdes;
  put16(s + 2, static_cast<std::uint16_t>(sdes_len / 4 - 1));
  put32(s + 4, r.ssrc);
  s[8] = kSdesCname;
  s[9] = static_cast<std::uint8_t>(name_len);
  for (std::size_t i = 0; i < name_len; ++i) s[10 + i] = static_cast<std::uint8_t>(cname[i]);
  for (std::size_t i = 4 + chunk; i < sdes_len; ++i) s[i] = 0;
  return report_len + sdes_len;
}

base::Result<RtcpCompound> parse_rtcp(std::span<const std::uint8_t> d) {
  if (d.size() < 8) return base::fail(RtcpError::too_short, "rtcp: too short");
  const std::uint8_t* p = d.data();
  // A.2: the first packet is SR or RR, without padding.
  if ((p[0] >> 6) != 2) return base::fail(RtcpError::bad_version, "rtcp: version");
  if ((p[0] & 0x20) != 0 || (p[1] != kSr && p[1] != kRr)) return base::fail(RtcpError::not_report, "rtcp: not SR/RR");

  RtcpCompound c;
  bool have_report = false;
  std::size_t pos = 0;
  while (pos < d.size()) {
    if (d.size() - pos < 4) return base::fail(RtcpError::bad_length, "rtcp: length");
    const std::uint8_t* h = p + pos;
    if ((h[0] >> 6) != 2) return base::fail(RtcpError::bad_version, "rtcp: version");
    const std::size_t len = (std::size_t{get16(h + 2)} + 1) * 4;
    if (len > d.size() - pos) return base::fail(RtcpError::bad_length, "rtcp: length");
    std::size_t body_end = len;
    if (h[0] & 0x20) {
      // Only the last packet of a compound may be padded.
      if (pos + len != d.size()) return base::fail(RtcpError::bad_length, "rtcp: padding");
      const std::size_t pad = h[len - 1];
      if (pad == 0 || pad > len - 4) return base::fail(RtcpError::bad_length, "rtcp: padding");
      body_end -= pad;
    }
    const std::size_t count = h[0] & 0x1f;
    const std::uint8_t type = h[1];
    if ((type == kSr || type == kRr) && !have_report) {
      const std::size_t fixed = type == kSr ? 28 : 8;
      if (body_end < fixed + 24 * count) return base::fail(RtcpError::bad_length, "rtcp: length");
      RtcpReport& r = c.report;
      r.sender = type == kSr;
      r.ssrc = get32(h + 4);
      if (r.sender) {
        r.sender_info.ntp_timestamp = (std::uint64_t{get32(h + 8)} << 32) | get32(h + 12);
        r.sender_info.rtp_timestamp = get32(h + 16);
        r.sender_info.packet_count = get32(h + 20);
        r.sender_info.octet_count = get32(h + 24);
      }
      r.block_count = count;
      for (std::size_t i = 0; i < count; ++i) r.blocks[i] = read_block(h + fixed + 24 * i);
      have_report = true;
    } else if (type == kSdes && !c.has_cname) {
      // Walk the chunks: SSRC, then items until a null type, padded to 32 bits.
      std::size_t q = 4;
      for (std::size_t chunk = 0; chunk < count && q + 4 <= body_end && !c.has_cname; ++chunk) {
        const std::uint32_t ssrc = get32(h + q);
        q += 4;
        while (q < body_end && h[q] != 0) {
          if (q + 2 > body_end) break;
          const std::size_t ilen = h[q + 1];
          if (q + 2 + ilen > body_end) return base::fail(RtcpError::bad_length, "rtcp: sdes");
          if (h[q] == kSdesCname && !c.has_cname) {
            c.has_cname = true;
            c.cname_ssrc = ssrc;
            c.cname_length = ilen;
            for (std::size_t i = 0; i < ilen; ++i) c.cname[i] = static_cast<char>(h[q + 2 + i]);
          }
          q += 2 + ilen;
        }
        q = (q + 1 + 3) & ~std::size_t{3};  // the null item, then pad
      }
    } else if (type == kBye) {
      c.has_bye = true;
    }
    pos += len;
  }
  return c;
}

// --- The far end's view of our stream (RFC 3550 §6.4.1) ---

std::int64_t rtcp_round_trip_units(std::uint32_t arrival_middle32, std::uint32_t lsr, std::uint32_t dlsr) {
  if (lsr == 0) return -1;
  // Modulo 2^32 (the middle 32 bits wrap every 18 hours), then signed: a
  // DLSR larger than the time since our SR gives a negative RTT.
  const auto rtt = static_cast<std::int32_t>(arrival_middle32 - lsr - dlsr);
  constexpr std::int32_t kMaxRtt = 60 * 65536;
  if (rtt < 0 || rtt > kMaxRtt) return -1;
  return rtt;
}

void FarEndView::on_report_block(const ReportBlock& b, std::uint32_t arrival_middle32, std::uint64_t packets_sent) {
  ++reports_;
  fraction_lost_ = b.fraction_lost;
  cumulative_lost_ = b.cumulative_lost;
  jitter_units_ = b.jitter;
  loss_percent_ = packets_sent == 0 || b.cumulative_lost <= 0
                      ? 0
                      : std::min(100.0, 100.0 * b.cumulative_lost / static_cast<double>(packets_sent));
  const std::int64_t rtt = rtcp_round_trip_units(arrival_middle32, b.lsr, b.dlsr);
  if (rtt < 0) return;
  rtt_last_ms_ = static_cast<double>(rtt) * 1000.0 / 65536.0;
  rtt_sum_ms_ += rtt_last_ms_;
  ++rtt_samples_;
}

// --- Receiver statistics (RFC 3550 Appendix A) ---

namespace {
constexpr std::uint32_t kMaxDropout = 3000;
constexpr std::uint32_t kMaxMisorder = 100;
constexpr std::uint32_t kMinSequential = 2;
constexpr std::uint32_t kSeqMod = 1u << 16;
}  // namespace

void RtpReceiverStats::init_seq(std::uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;  // so seq == bad_seq is false
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

bool RtpReceiverStats::update_seq(std::uint16_t seq) {
  if (!initialized_) {
    // A new source: on probation until kMinSequential packets in sequence.
    init_seq(seq);
    max_seq_ = static_cast<std::uint16_t>(seq - 1);
    probation_ = kMinSequential;
    initialized_ = true;
  }
  const std::uint16_t udelta = static_cast<std::uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    if (seq == static_cast<std::uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        init_seq(seq);
        ++received_;
        return true;
      }
    } else {
      probation_ = kMinSequential - 1;
      max_seq_ = seq;
    }
    return false;
  }
  if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    // A very large jump: restart if two sequential packets confirm it.
    if (seq == bad_seq_) {
      init_seq(seq);
    } else {
      bad_seq_ = (std::uint32_t{seq} + 1) & (kSeqMod - 1);
      return false;
    }
  } else {
    // duplicate or reordered packet
  }
  ++received_;
  return true;
}

std::int64_t RtpReceiverStats::expected() const {
  if (!valid()) return 0;
  return static_cast<std::int64_t>(extended_max()) - base_seq_ + 1;
}

std::int64_t RtpReceiverStats::cumulative_lost() const {
  if (!valid()) return 0;
  return expected() - static_cast<std::int64_t>(received_);
}

void RtpReceiverStats::update_jitter(std::uint32_t rtp_timestamp, std::uint32_t arrival) {
  const auto transit = static_cast<std::int32_t>(arrival - rtp_timestamp);
  if (have_transit_) {
    // Transit times wrap like the timestamps: subtract modulo 2^32 and take
    // the magnitude in 64 bits (a peer controls both values).
    const auto d = static_cast<std::int32_t>(static_cast<std::uint32_t>(transit) - static_cast<std::uint32_t>(transit_));
    const auto magnitude = static_cast<std::uint32_t>(std::llabs(static_cast<long long>(d)));
    // J += (|D| - J) / 16, kept scaled by 16 (A.8).
    jitter_ += magnitude - ((jitter_ + 8) >> 4);
  }
  transit_ = transit;
  have_transit_ = true;
}

void RtpReceiverStats::fill_report_block(ReportBlock& b) {
  const std::int64_t exp = expected();
  const std::int64_t lost = cumulative_lost();
  b.cumulative_lost = static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7fffff));
  b.extended_highest_seq = extended_max();
  b.jitter = jitter();
  const std::int64_t expected_interval = exp - static_cast<std::int64_t>(expected_prior_);
  const std::int64_t received_interval = static_cast<std::int64_t>(received_ - received_prior_);
  expected_prior_ = static_cast<std::uint64_t>(std::max<std::int64_t>(exp, 0));
  received_prior_ = received_;
  const std::int64_t lost_interval = expected_interval - received_interval;
  b.fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                        ? 0
                        : static_cast<std::uint8_t>(std::min<std::int64_t>((lost_interval << 8) / expected_interval, 255));
}

}  // namespace sipline::gateway::media
