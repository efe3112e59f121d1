#include "media/jitter_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace sipline::gateway::media {
namespace {

constexpr int kMaxMisorder = 100;   // RFC 3550 A.1
constexpr int kDeepTicksBeforeDrop = 50;  // 1 s of 20 ms frames

// Signed distance a - b in sequence space.
int seq_diff(std::uint16_t a, std::uint16_t b) { return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b)); }

std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

JitterBuffer::JitterBuffer(const JitterBufferConfig& config) {
  const int frame_ms = std::max(1, config.frame_ms);
  delay_frames_ = std::max(0, (config.playout_delay_ms + frame_ms - 1) / frame_ms);
  samples_per_frame_ = config.samples_per_frame;
  const std::size_t cap = round_up_pow2(std::max<std::size_t>({config.capacity, 4u * static_cast<std::size_t>(delay_frames_), 8}));
  slots_.resize(std::min<std::size_t>(cap, 16384));
  mask_ = slots_.size() - 1;
}

void JitterBuffer::reset() {
  for (auto& s : slots_) s.used = false;
  active_ = false;
  prefill_ = 0;
  deep_ticks_ = 0;
}

std::size_t JitterBuffer::depth() const {
  if (!active_) return 0;
  const int d = seq_diff(highest_seq_, next_seq_);
  return d < 0 ? 0 : static_cast<std::size_t>(d) + 1;
}

void JitterBuffer::resync(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp) {
  if (active_) ++stats_.resyncs;
  for (auto& s : slots_) s.used = false;
  active_ = true;
  ssrc_ = ssrc;
  next_seq_ = sequence;
  highest_seq_ = sequence;
  ref_seq_ = sequence;
  ref_ts_ = timestamp;
  prefill_ = delay_frames_;
  deep_ticks_ = 0;
}

JitterBuffer::PushResult JitterBuffer::push(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
                                            std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxPayload) {
    ++stats_.too_large;
    return PushResult::too_large;
  }
  const int cap = static_cast<int>(slots_.size());
  if (!active_ || ssrc != ssrc_) {
    resync(ssrc, sequence, timestamp);
    return store(sequence, timestamp, payload);
  }
  const int d = seq_diff(sequence, next_seq_);
  // The timestamp must agree with the sequence number (one frame per packet);
  // a disagreement larger than the ring means the sender restarted its clock.
  const std::int64_t expected_ts =
      static_cast<std::int64_t>(static_cast<std::int32_t>(seq_diff(sequence, ref_seq_) * static_cast<std::int32_t>(samples_per_frame_)));
  const std::int64_t ts_delta = static_cast<std::int32_t>(timestamp - ref_ts_);
  const bool ts_jump = std::llabs(ts_delta - expected_ts) > static_cast<std::int64_t>(cap) * samples_per_frame_;
  if (d >= cap || d < -kMaxMisorder || ts_jump) {
    resync(ssrc, sequence, timestamp);
    return store(sequence, timestamp, payload);
  }
  if (d < 0) {
    // Before the playout point: during prefill the point can still move back
    // (the first packet to arrive was not the first sent) if the ring holds it.
    if (prefill_ > 0 && seq_diff(highest_seq_, sequence) < cap) {
      const auto r = store(sequence, timestamp, payload);
      if (r == PushResult::stored) next_seq_ = sequence;
      return r;
    }
    ++stats_.late;
    return PushResult::late;
  }
  return store(sequence, timestamp, payload);
}

JitterBuffer::PushResult JitterBuffer::store(std::uint16_t sequence, std::uint32_t timestamp,
                                             std::span<const std::uint8_t> payload) {
  Slot& s = slots_[sequence & mask_];
  if (s.used && s.sequence == sequence) {
    ++stats_.duplicates;
    return PushResult::duplicate;
  }
  s.used = true;
  s.sequence = sequence;
  s.timestamp = timestamp;
  s.size = static_cast<std::uint16_t>(payload.size());
  if (!payload.empty()) std::memcpy(s.data, payload.data(), payload.size());
  if (seq_diff(sequence, highest_seq_) > 0) highest_seq_ = sequence;
  ref_seq_ = sequence;
  ref_ts_ = timestamp;
  ++stats_.stored;
  return PushResult::stored;
}

JitterBuffer::Frame JitterBuffer::pop() {
  Frame f;
  if (!active_) return f;  // empty
  if (prefill_ > 0) {
    --prefill_;
    f.kind = FrameKind::buffering;
    return f;
  }
  std::size_t dep = depth();
  if (dep == 0) return f;  // empty: hold the playout point

  // Drift: a sender clock faster than ours slowly deepens the buffer.
  if (static_cast<int>(dep) > 2 * delay_frames_ + 2) {
    if (++deep_ticks_ >= kDeepTicksBeforeDrop) {
      deep_ticks_ = 0;
      slots_[next_seq_ & mask_].used = false;
      ++next_seq_;
      ++stats_.drift_drops;
    }
  } else {
    deep_ticks_ = 0;
  }

  Slot& s = slots_[next_seq_ & mask_];
  f.sequence = next_seq_;
  if (s.used && s.sequence == next_seq_) {
    s.used = false;
    f.kind = FrameKind::audio;
    f.timestamp = s.timestamp;
    f.payload = std::span<const std::uint8_t>(s.data, s.size);
    ++stats_.played;
  } else {
    f.kind = FrameKind::missing;
    ++stats_.missing;
  }
  ++next_seq_;
  return f;
}

}  // namespace sipline::gateway::media
