// libFuzzer target for the jitter buffer (gateway/media/jitter_buffer.hpp)
// and the RTCP receiver statistics (gateway/media/rtcp.hpp, RFC 3550 A.1,
// A.3, A.8), fed with parsed RTP packets whose sequence numbers, timestamps
// and SSRCs are chaos: reordering, duplicates, jumps, wraps, SSRC changes,
// clock restarts, oversized payloads.
// Input: byte 0 = playout delay (ms), byte 1 = frame size (low 2 bits) and
// capacity (high 6 bits), then operations, one byte each plus arguments:
//   op % 4 == 0  raw datagram: length byte, then that many bytes (parse_rtp);
//   op % 4 == 1  synthesised packet: int8 sequence step, int16 timestamp
//                jitter; op bit 2 picks one of two SSRCs, bits 3-7 the size;
//   op % 4 == 2  one pop();
//   op % 4 == 3  (op >> 2) + 1 pops.
// Checks, besides memory safety:
//  - a played frame carries exactly the payload and timestamp last stored
//    for its sequence number;
//  - played/missing frames advance one sequence number per pop (two after a
//    drift drop) unless the buffer resynced;
//  - depth() never exceeds capacity(); the receiver statistics' cumulative
//    loss fits the 24-bit report field.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <unordered_map>
#include <vector>

#include "media/jitter_buffer.hpp"
#include "media/rtcp.hpp"
#include "media/rtp_packet.hpp"

namespace {

using namespace sipline::gateway::media;

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::span<const std::uint8_t> take(std::size_t k) {
    k = std::min(k, n);
    std::span<const std::uint8_t> s(p, k);
    p += k;
    n -= k;
    return s;
  }
};

struct Stored {
  std::uint32_t timestamp = 0;
  std::vector<std::uint8_t> payload;
};

class Harness {
 public:
  Harness(const JitterBufferConfig& config) : jb_(config), spf_(config.samples_per_frame) {}

  void packet(std::span<const std::uint8_t> datagram) {
    auto pkt = parse_rtp(datagram);
    if (!pkt) return;
    const RtpHeader& h = pkt->header;
    if (!stats_started_ || h.ssrc != stats_ssrc_) {
      stats_.reset();
      stats_ssrc_ = h.ssrc;
      stats_started_ = true;
    }
    stats_.update_seq(h.sequence);
    stats_.update_jitter(h.timestamp, arrival_);
    if (++packets_ % 16 == 0) {
      ReportBlock block;
      stats_.fill_report_block(block);
      if (block.cumulative_lost < -0x800000 || block.cumulative_lost > 0x7fffff) std::abort();
      if (stats_.valid() && block.extended_highest_seq != stats_.extended_max()) std::abort();
    }

    const auto r = jb_.push(h.ssrc, h.sequence, h.timestamp, pkt->payload);
    if (pkt->payload.size() > JitterBuffer::kMaxPayload) {
      if (r != JitterBuffer::PushResult::too_large) std::abort();
      return;
    }
    if (r == JitterBuffer::PushResult::too_large) std::abort();
    if (r == JitterBuffer::PushResult::stored) {
      Stored& s = stored_[h.sequence];
      s.timestamp = h.timestamp;
      s.payload.assign(pkt->payload.begin(), pkt->payload.end());
    }
    check_depth();
  }

  void synthesised(std::uint8_t op, Reader& in) {
    const auto step = static_cast<std::int8_t>(in.u8());
    const auto jitter = static_cast<std::int16_t>((in.u8() << 8) | in.u8());
    seq_ = static_cast<std::uint16_t>(seq_ + step);
    ts_ += static_cast<std::uint32_t>(step) * spf_;
    RtpHeader h;
    h.payload_type = 0;
    h.sequence = seq_;
    h.timestamp = ts_ + static_cast<std::uint32_t>(static_cast<std::int32_t>(jitter));
    h.ssrc = (op & 4) ? 0x11223344u : 0xcafef00du;
    const std::size_t size = static_cast<std::size_t>(op >> 3) * 12;
    std::array<std::uint8_t, 512> payload{};
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(seq_ ^ (i * 7));
    std::array<std::uint8_t, 600> buf{};
    auto n = write_rtp(h, std::span<const std::uint8_t>(payload.data(), size), buf);
    if (!n) std::abort();
    packet(std::span<const std::uint8_t>(buf.data(), *n));
  }

  void pop() {
    arrival_ += spf_;
    const std::uint64_t resyncs = jb_.stats().resyncs;
    const std::uint64_t drops = jb_.stats().drift_drops;
    const JitterBuffer::Frame f = jb_.pop();
    const std::uint64_t dropped = jb_.stats().drift_drops - drops;
    if (resyncs != seen_resyncs_) {
      seen_resyncs_ = resyncs;
      have_last_ = false;
    }
    switch (f.kind) {
      case JitterBuffer::FrameKind::audio: {
        auto it = stored_.find(f.sequence);
        if (it == stored_.end() || it->second.timestamp != f.timestamp ||
            it->second.payload.size() != f.payload.size() ||
            (!f.payload.empty() && std::memcmp(it->second.payload.data(), f.payload.data(), f.payload.size()) != 0)) {
          std::abort();
        }
        [[fallthrough]];
      }
      case JitterBuffer::FrameKind::missing:
        if (have_last_ && f.sequence != static_cast<std::uint16_t>(last_ + 1 + dropped)) std::abort();
        last_ = f.sequence;
        have_last_ = true;
        break;
      case JitterBuffer::FrameKind::buffering:
        have_last_ = false;
        break;
      case JitterBuffer::FrameKind::empty:
        break;
    }
    check_depth();
  }

  // Resyncs happen in push(): a sequence after one is not a continuation.
  void note_push_resyncs() {
    if (jb_.stats().resyncs != seen_resyncs_) {
      seen_resyncs_ = jb_.stats().resyncs;
      have_last_ = false;
    }
  }

 private:
  void check_depth() const {
    if (jb_.depth() > jb_.capacity()) std::abort();
    const auto& s = jb_.stats();
    if (s.played > s.stored) std::abort();
  }

  JitterBuffer jb_;
  std::uint32_t spf_;
  RtpReceiverStats stats_;
  bool stats_started_ = false;
  std::uint32_t stats_ssrc_ = 0;
  std::uint64_t packets_ = 0;
  std::uint32_t arrival_ = 0x12345678;
  std::uint16_t seq_ = 65500;  // close to the wrap
  std::uint32_t ts_ = 0xfffff000u;
  std::unordered_map<std::uint16_t, Stored> stored_;
  std::uint64_t seen_resyncs_ = 0;
  bool have_last_ = false;
  std::uint16_t last_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in{data, size};
  JitterBufferConfig config;
  config.playout_delay_ms = in.u8() % 201;
  const std::uint8_t shape = in.u8();
  static constexpr int kFrameMs[] = {10, 20, 30, 40};
  config.frame_ms = kFrameMs[shape & 3];
  config.samples_per_frame = static_cast<std::uint32_t>(config.frame_ms * 8);
  config.capacity = static_cast<std::size_t>(shape >> 2) * 4;
  Harness h(config);
  int ops = 0;
  while (!in.empty() && ops++ < 4096) {
    const std::uint8_t op = in.u8();
    switch (op % 4) {
      case 0:
        h.packet(in.take(in.u8()));
        break;
      case 1:
        h.synthesised(op, in);
        break;
      case 2:
        h.pop();
        break;
      default:
        for (int i = 0; i <= (op >> 2); ++i) h.pop();
        break;
    }
    h.note_push_resyncs();
  }
  return 0;
}
