#include "media/jitter_buffer.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::media {
namespace {

constexpr std::uint32_t kSsrc = 0x1234;

// Pushes packet `seq` carrying its own sequence number as payload.
JitterBuffer::PushResult push(JitterBuffer& jb, std::uint16_t seq, std::uint32_t ssrc = kSsrc,
                              std::uint32_t ts_base = 1000, std::uint16_t seq_base = 0) {
  const std::uint8_t payload[2] = {static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq)};
  const std::uint32_t ts = ts_base + static_cast<std::uint16_t>(seq - seq_base) * 160u;
  return jb.push(ssrc, seq, ts, payload);
}

int payload_seq(const JitterBuffer::Frame& f) { return (f.payload[0] << 8) | f.payload[1]; }

// Pops until the prefill is over; returns the first non-buffering frame.
JitterBuffer::Frame pop_after_prefill(JitterBuffer& jb) {
  for (int i = 0; i < 100; ++i) {
    auto f = jb.pop();
    if (f.kind != JitterBuffer::FrameKind::buffering) return f;
  }
  return {};
}

TEST(JitterBuffer, HoldsFirstPacketForThePlayoutDelay) {
  JitterBuffer jb({.playout_delay_ms = 60});
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::empty);
  push(jb, 10);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::buffering);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::buffering);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::buffering);
  auto f = jb.pop();
  ASSERT_EQ(f.kind, JitterBuffer::FrameKind::audio);
  EXPECT_EQ(payload_seq(f), 10);
}

TEST(JitterBuffer, PlaysInOrderPacketsInOrder) {
  JitterBuffer jb({.playout_delay_ms = 40});
  std::vector<int> played;
  std::uint16_t next = 100;
  for (int tick = 0; tick < 20; ++tick) {
    push(jb, next++);
    auto f = jb.pop();
    if (f.kind == JitterBuffer::FrameKind::audio) played.push_back(payload_seq(f));
  }
  ASSERT_EQ(played.size(), 18u);
  for (std::size_t i = 0; i < played.size(); ++i) EXPECT_EQ(played[i], 100 + static_cast<int>(i));
}

TEST(JitterBuffer, ReordersPacketsWithinTheDelay) {
  JitterBuffer jb({.playout_delay_ms = 60});
  for (std::uint16_t s : {1, 3, 2, 5, 4, 6}) EXPECT_EQ(push(jb, s), JitterBuffer::PushResult::stored);
  std::vector<int> played;
  auto f = pop_after_prefill(jb);
  while (f.kind == JitterBuffer::FrameKind::audio) {
    played.push_back(payload_seq(f));
    f = jb.pop();
  }
  EXPECT_EQ(played, (std::vector<int>{1, 2, 3, 4, 5, 6}));
}

TEST(JitterBuffer, MovesThePlayoutPointBackForAnEarlierPacketDuringPrefill) {
  JitterBuffer jb({.playout_delay_ms = 60});
  push(jb, 11);
  push(jb, 10);  // the first packet sent arrived second
  auto f = pop_after_prefill(jb);
  ASSERT_EQ(f.kind, JitterBuffer::FrameKind::audio);
  EXPECT_EQ(payload_seq(f), 10);
  EXPECT_EQ(jb.stats().late, 0u);
}

TEST(JitterBuffer, DropsDuplicates) {
  JitterBuffer jb({.playout_delay_ms = 40});
  EXPECT_EQ(push(jb, 7), JitterBuffer::PushResult::stored);
  EXPECT_EQ(push(jb, 8), JitterBuffer::PushResult::stored);
  EXPECT_EQ(push(jb, 8), JitterBuffer::PushResult::duplicate);
  EXPECT_EQ(jb.stats().duplicates, 1u);
  auto f = pop_after_prefill(jb);
  EXPECT_EQ(payload_seq(f), 7);
  EXPECT_EQ(payload_seq(jb.pop()), 8);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::empty);
}

TEST(JitterBuffer, ReportsALostPacketAsMissingAndContinues) {
  JitterBuffer jb({.playout_delay_ms = 40});
  for (std::uint16_t s : {20, 21, 23, 24}) push(jb, s);
  auto f = pop_after_prefill(jb);
  EXPECT_EQ(payload_seq(f), 20);
  EXPECT_EQ(payload_seq(jb.pop()), 21);
  f = jb.pop();
  EXPECT_EQ(f.kind, JitterBuffer::FrameKind::missing);
  EXPECT_EQ(f.sequence, 22);
  EXPECT_EQ(payload_seq(jb.pop()), 23);
  EXPECT_EQ(payload_seq(jb.pop()), 24);
  EXPECT_EQ(jb.stats().missing, 1u);
}

TEST(JitterBuffer, DropsPacketsThatArriveAfterTheirPlayoutTime) {
  JitterBuffer jb({.playout_delay_ms = 20});
  push(jb, 1);
  push(jb, 3);
  auto f = pop_after_prefill(jb);
  EXPECT_EQ(payload_seq(f), 1);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::missing);  // 2 not there in time
  EXPECT_EQ(push(jb, 2), JitterBuffer::PushResult::late);
  EXPECT_EQ(payload_seq(jb.pop()), 3);
  EXPECT_EQ(jb.stats().late, 1u);
}

TEST(JitterBuffer, PlaysAcrossSequenceWraparoundAt65535) {
  JitterBuffer jb({.playout_delay_ms = 40});
  std::vector<int> played;
  std::uint16_t seq = 65530;
  for (int tick = 0; tick < 14; ++tick) {
    push(jb, seq++, kSsrc, 5000, 65530);
    auto f = jb.pop();
    if (f.kind == JitterBuffer::FrameKind::audio) played.push_back(payload_seq(f));
  }
  EXPECT_EQ(played, (std::vector<int>{65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(jb.stats().resyncs, 0u);
  EXPECT_EQ(jb.stats().late, 0u);
}

TEST(JitterBuffer, HoldsThePlayoutPointWhenEmpty) {
  JitterBuffer jb({.playout_delay_ms = 20});
  push(jb, 1);
  EXPECT_EQ(payload_seq(pop_after_prefill(jb)), 1);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::empty);
  EXPECT_EQ(jb.pop().kind, JitterBuffer::FrameKind::empty);
  EXPECT_EQ(push(jb, 2), JitterBuffer::PushResult::stored);  // slow, not late
  EXPECT_EQ(payload_seq(jb.pop()), 2);
}

TEST(JitterBuffer, ResynchronisesWhenTheSsrcChanges) {
  JitterBuffer jb({.playout_delay_ms = 20});
  push(jb, 100);
  push(jb, 101);
  EXPECT_EQ(payload_seq(pop_after_prefill(jb)), 100);
  EXPECT_EQ(push(jb, 5, 0x9999), JitterBuffer::PushResult::stored);  // a new source, much lower seq
  EXPECT_EQ(jb.stats().resyncs, 1u);
  auto f = pop_after_prefill(jb);
  ASSERT_EQ(f.kind, JitterBuffer::FrameKind::audio);
  EXPECT_EQ(payload_seq(f), 5);
}

TEST(JitterBuffer, ResynchronisesAfterALargeSequenceJump) {
  JitterBuffer jb({.playout_delay_ms = 20});
  push(jb, 100);
  EXPECT_EQ(payload_seq(pop_after_prefill(jb)), 100);
  push(jb, 30000, kSsrc, 1000, 100);
  EXPECT_EQ(jb.stats().resyncs, 1u);
  auto f = pop_after_prefill(jb);
  ASSERT_EQ(f.kind, JitterBuffer::FrameKind::audio);
  EXPECT_EQ(payload_seq(f), 30000);
}

TEST(JitterBuffer, ResynchronisesWhenTheTimestampJumps) {
  JitterBuffer jb({.playout_delay_ms = 20});
  const std::uint8_t p[2] = {0, 1};
  jb.push(kSsrc, 1, 1000, p);
  jb.push(kSsrc, 2, 1160, p);
  EXPECT_EQ(jb.stats().resyncs, 0u);
  jb.push(kSsrc, 3, 1000 + 8000 * 60, p);  // a minute later in media time
  EXPECT_EQ(jb.stats().resyncs, 1u);
  EXPECT_EQ(pop_after_prefill(jb).sequence, 3);
}

TEST(JitterBuffer, DropsAFrameWhenTheSenderRunsFast) {
  JitterBuffer jb({.playout_delay_ms = 20});
  std::uint16_t seq = 0;
  push(jb, seq++);
  // Two packets per tick for a while: the buffer deepens beyond twice the delay.
  for (int tick = 0; tick < 120; ++tick) {
    push(jb, seq++);
    if (tick % 4 == 0) push(jb, seq++);
    jb.pop();
  }
  EXPECT_GT(jb.stats().drift_drops, 0u);
  EXPECT_LT(jb.depth(), jb.capacity());
}

TEST(JitterBuffer, RejectsOversizedPayloads) {
  JitterBuffer jb;
  std::vector<std::uint8_t> big(JitterBuffer::kMaxPayload + 1);
  EXPECT_EQ(jb.push(kSsrc, 1, 0, big), JitterBuffer::PushResult::too_large);
}

}  // namespace
}  // namespace sipline::gateway::media
