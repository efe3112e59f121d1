// RTP data-path costs per 20 ms packet: jitter buffer push+pop, and
// packetize (G.711 encode + RTP header) + parse (+ decode), with a memcpy of
// the same frame as the reference measured in the same run.
#include <array>
#include <cstdint>
#include <cstring>

#include <benchmark/benchmark.h>

#include "media/jitter_buffer.hpp"
#include "media/rtp_packet.hpp"
#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/g711.hpp"

namespace {

using namespace sipline;
using gateway::media::JitterBuffer;

base::AudioFrame test_frame() {
  base::AudioFrame f{};
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::int16_t>((i * 397) % 16000 - 8000);
  return f;
}

void BM_ReferenceFrameCopy(benchmark::State& state) {
  const auto in = test_frame();
  std::array<std::uint8_t, 512> out{};
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), sizeof in);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReferenceFrameCopy);

void BM_JitterBufferPushPop(benchmark::State& state) {
  JitterBuffer jb({.playout_delay_ms = 60});
  std::array<std::uint8_t, 160> payload{};
  std::uint16_t seq = 0;
  std::uint32_t ts = 0;
  for (int i = 0; i < 3; ++i, ++seq, ts += 160) jb.push(1, seq, ts, payload);
  for (auto _ : state) {
    jb.push(1, seq++, ts, payload);
    ts += 160;
    auto f = jb.pop();
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JitterBufferPushPop);

void BM_JitterBufferReordered(benchmark::State& state) {
  // Pairs of packets swapped: every push goes through the reorder path.
  JitterBuffer jb({.playout_delay_ms = 60});
  std::array<std::uint8_t, 160> payload{};
  std::uint16_t seq = 0;
  for (auto _ : state) {
    jb.push(1, static_cast<std::uint16_t>(seq + 1), (seq + 1u) * 160u, payload);
    jb.push(1, seq, seq * 160u, payload);
    seq = static_cast<std::uint16_t>(seq + 2);
    benchmark::DoNotOptimize(jb.pop());
    benchmark::DoNotOptimize(jb.pop());
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_JitterBufferReordered);

void BM_RtpPacketizeAndParse(benchmark::State& state) {
  const auto pcm = test_frame();
  std::array<std::uint8_t, 160> encoded{};
  std::array<std::uint8_t, 256> datagram{};
  base::AudioFrame decoded{};
  gateway::media::RtpHeader h;
  h.ssrc = 0x12345678;
  for (auto _ : state) {
    dsp::g711_encode(dsp::G711Law::ulaw, pcm, encoded);
    ++h.sequence;
    h.timestamp += 160;
    auto n = gateway::media::write_rtp(h, encoded, datagram);
    auto v = gateway::media::parse_rtp(std::span<const std::uint8_t>(datagram.data(), *n));
    dsp::g711_decode(dsp::G711Law::ulaw, v->payload, decoded);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpPacketizeAndParse);

void BM_RtpHeaderOnly(benchmark::State& state) {
  std::array<std::uint8_t, 160> payload{};
  std::array<std::uint8_t, 256> datagram{};
  gateway::media::RtpHeader h;
  for (auto _ : state) {
    ++h.sequence;
    auto n = gateway::media::write_rtp(h, payload, datagram);
    auto v = gateway::media::parse_rtp(std::span<const std::uint8_t>(datagram.data(), *n));
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpHeaderOnly);

}  // namespace
