#pragma once
// JitterBuffer: a fixed-delay de-jitter buffer for one RTP stream, keyed by
// RTP sequence number (16-bit, wrapping).
//
// How it works: the first packet (or the first after a resync) starts a
// prefill of `playout_delay_ms` / frame time ticks; then every pop() plays the
// next sequence number. Packets are stored in a ring of `capacity` slots
// indexed by sequence number, so reordering within the ring is free.
//  - duplicates of a stored packet are dropped (kDuplicate);
//  - packets older than the playout point are dropped (kLate);
//  - a gap at the playout point is reported as a missing frame (the caller
//    plays silence or, later, PLC) and skipped;
//  - when nothing at all is buffered the playout point holds (kEmpty), so a
//    slightly slow sender or a pause costs delay, not lost packets;
//  - when the buffer stays deeper than twice the delay (+2 frames) for a
//    second (a fast sender clock) one frame is dropped to pull the delay back;
//  - an SSRC change, a sequence jump beyond the ring (or more than 100 back,
//    RFC 3550 A.1's MAX_MISORDER) or a timestamp that disagrees with the
//    sequence by more than the ring's span restarts the buffer (resync).
// Limits: assumes one frame per packet with a constant frame size
// (`samples_per_frame`); payloads up to kMaxPayload bytes.
// Memory: everything is allocated in the constructor; push()/pop() never allocate.
// Thread: owned by one thread (the media worker of its stream).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sipline::gateway::media {

struct JitterBufferConfig {
  int playout_delay_ms = 60;          // fixed playout delay (MediaEngineConfig::jitter_buffer_ms)
  int frame_ms = 20;
  std::uint32_t samples_per_frame = 160;
  std::size_t capacity = 64;          // slots; rounded up to a power of two, at least 4 x delay
};

struct JitterBufferStats {
  std::uint64_t stored = 0;
  std::uint64_t played = 0;
  std::uint64_t missing = 0;     // gaps played out as missing frames
  std::uint64_t duplicates = 0;
  std::uint64_t late = 0;
  std::uint64_t resyncs = 0;     // not counting the first packet
  std::uint64_t drift_drops = 0; // frames dropped to pull the delay back
  std::uint64_t too_large = 0;
};

class JitterBuffer {
 public:
  static constexpr std::size_t kMaxPayload = 320;

  enum class PushResult { stored, duplicate, late, too_large };
  enum class FrameKind {
    audio,      // payload holds the frame
    missing,    // this sequence number never arrived (play silence / PLC)
    empty,      // nothing buffered (stream paused or starved)
    buffering,  // prefill after start or resync
  };
  struct Frame {
    FrameKind kind = FrameKind::empty;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::span<const std::uint8_t> payload;  // valid until the next push() or pop()
  };

  explicit JitterBuffer(const JitterBufferConfig& config = {});

  // Realtime: offers one received packet.
  PushResult push(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
                  std::span<const std::uint8_t> payload);
  // Realtime: the frame to play for this tick (call exactly once per frame time).
  Frame pop();
  // Forgets everything; the next packet starts a new prefill.
  void reset();

  const JitterBufferStats& stats() const { return stats_; }
  int delay_frames() const { return delay_frames_; }
  std::size_t capacity() const { return slots_.size(); }
  // Packets buffered at or after the playout point.
  std::size_t depth() const;

 private:
  struct Slot {
    bool used = false;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint16_t size = 0;
    std::uint8_t data[kMaxPayload];
  };
  void resync(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp);
  PushResult store(std::uint16_t sequence, std::uint32_t timestamp, std::span<const std::uint8_t> payload);

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int delay_frames_ = 3;
  std::uint32_t samples_per_frame_ = 160;
  bool active_ = false;        // a stream has been seen
  std::uint32_t ssrc_ = 0;
  int prefill_ = 0;            // ticks still to wait before playing
  std::uint16_t next_seq_ = 0; // playout point
  std::uint16_t highest_seq_ = 0;
  std::uint16_t ref_seq_ = 0;  // last stored packet: sequence/timestamp reference
  std::uint32_t ref_ts_ = 0;
  int deep_ticks_ = 0;
  JitterBufferStats stats_;
};

}  // namespace sipline::gateway::media
