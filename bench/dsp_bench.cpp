// Per-frame cost of the dsp chain of one line, beside spandsp's own DTMF
// receiver on the same frame as the in-run reference.
#include <benchmark/benchmark.h>

#include <math.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

// clang-format off
#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/complex.h>
#include <spandsp/tone_detect.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>
// clang-format on

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/call_progress.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/channel.hpp"
#include "sipline/dsp/echo_canceller.hpp"
#include "sipline/dsp/echo_path.hpp"
#include "sipline/dsp/g711.hpp"
#include "unit/dsp/echo_test_signals.hpp"

namespace {

using sipline::base::AudioFrame;

// 1 s of speech-band audio (two sweeping partials) as line input, cycled per frame.
std::vector<AudioFrame> line_audio() {
  std::vector<AudioFrame> frames(50);
  int n = 0;
  for (auto& f : frames) {
    for (auto& s : f) {
      const double t = static_cast<double>(n++) / sipline::base::kSampleRate;
      s = static_cast<int16_t>(3000 * std::sin(2 * std::numbers::pi * (300 + 200 * t) * t) +
                               1500 * std::sin(2 * std::numbers::pi * (1100 - 300 * t) * t));
    }
  }
  return frames;
}

enum class RxMode { pass_through, tone, dtmf };

void BM_ChannelTxRx(benchmark::State& state) {
  const auto mode = static_cast<RxMode>(state.range(0));
  sipline::dsp::Channel ch(*sipline::dsp::find_tone_profile("US"));
  if (mode == RxMode::tone) ch.play_tone(sipline::dsp::ToneKind::ringback);
  if (mode == RxMode::dtmf) ch.start_dtmf('5');
  const auto in = line_audio();
  AudioFrame out{};
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& frame = in[i++ % in.size()];
    auto events = ch.process_tx(frame);
    out = frame;
    ch.process_rx(out);
    benchmark::DoNotOptimize(events);
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(mode == RxMode::pass_through ? "rx pass-through" : mode == RxMode::tone ? "rx ringback" : "rx dtmf");
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ChannelTxRx)->Arg(0)->Arg(1)->Arg(2);

// Reference: spandsp's DTMF receiver alone on one frame.
void BM_SpandspDtmfRxReference(benchmark::State& state) {
  dtmf_rx_state_t* rx = dtmf_rx_init(nullptr, nullptr, nullptr);
  span_log_set_level(dtmf_rx_get_logging_state(rx), SPAN_LOG_NONE);
  const auto in = line_audio();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& frame = in[i++ % in.size()];
    benchmark::DoNotOptimize(dtmf_rx(rx, frame.data(), static_cast<int>(frame.size())));
  }
  dtmf_rx_free(rx);
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SpandspDtmfRxReference);

// An FXO line's receive side: the caller ID receiver with every decoder
// (Bell 202, V.23, JCLIP, DTMF) and the call progress detector, per frame of
// speech-band audio; compare with BM_SpandspDtmfRxReference in the same run.
void BM_CallerIdReceiverAuto(benchmark::State& state) {
  sipline::dsp::CallerIdReceiver rx(sipline::dsp::CallerIdFormat::none, true);
  const auto in = line_audio();
  std::size_t i = 0;
  for (auto _ : state) {
    rx.process(in[i++ % in.size()]);
    benchmark::DoNotOptimize(rx.take());
  }
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CallerIdReceiverAuto);

void BM_CallProgressDetector(benchmark::State& state) {
  sipline::dsp::CallProgressDetector det(*sipline::dsp::find_tone_profile("US"));
  const auto in = line_audio();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(det.process(in[i++ % in.size()]));
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CallProgressDetector);

// Rendering a whole caller ID message (control thread, once per call).
void BM_RenderCallerIdMdmf(benchmark::State& state) {
  const sipline::dsp::CallerId id{.number = "2025550150", .name = "ALICE", .month = 12, .day = 1, .hour = 9,
                                  .minute = 30};
  for (auto _ : state) benchmark::DoNotOptimize(sipline::dsp::render_caller_id(sipline::dsp::CallerIdFormat::bell202_mdmf, id));
}
BENCHMARK(BM_RenderCallerIdMdmf);

void BM_G711EncodeDecodeFrame(benchmark::State& state) {
  const auto in = line_audio();
  std::array<uint8_t, sipline::base::kFrameSamples> coded{};
  AudioFrame out{};
  std::size_t i = 0;
  for (auto _ : state) {
    sipline::dsp::g711_encode(sipline::dsp::G711Law::alaw, in[i++ % in.size()], coded);
    sipline::dsp::g711_decode(sipline::dsp::G711Law::alaw, coded, out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_G711EncodeDecodeFrame);

// Line echo cancellers: one 20 ms frame through a converged canceller. The
// far end's speech-like signal (10 s, cycled) goes through an EchoPath (ERL
// 6 dB, 8 ms bulk delay, 6 ms dispersion) in the loop; BM_EchoPathOnly is
// that part alone, to subtract.
struct EchoBenchSignal {
  std::vector<int16_t> far = sipline::dsp::test::composite_source(10000, {.level_dbm0 = -15, .seed = 1});
  std::size_t frames() const { return far.size() / sipline::base::kFrameSamples; }
};

sipline::dsp::EchoPath bench_echo_path() {
  return sipline::dsp::EchoPath({.erl_db = 6, .delay_ms = 8, .dispersion_ms = 6, .noise_dbm0 = -70});
}

void BM_EchoPathOnly(benchmark::State& state) {
  const EchoBenchSignal signal;
  auto path = bench_echo_path();
  std::size_t f = 0;
  for (auto _ : state) {
    AudioFrame line{};
    path.process(sipline::dsp::test::frame_of(signal.far, f++ % signal.frames()), line);
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_EchoPathOnly);

void echo_canceller_bench(benchmark::State& state, sipline::dsp::EchoCancellerKind kind, int tail_ms) {
  const EchoBenchSignal signal;
  auto path = bench_echo_path();
  auto canceller = sipline::dsp::make_echo_canceller(kind, {.tail_ms = tail_ms});
  std::size_t f = 0;
  auto one_frame = [&] {
    const auto far = sipline::dsp::test::frame_of(signal.far, f++ % signal.frames());
    AudioFrame line{};
    path.process(far, line);
    canceller->process(far, line);
    benchmark::DoNotOptimize(line);
  };
  for (int i = 0; i < 250; ++i) one_frame();   // 5 s: converged
  for (auto _ : state) one_frame();
}

// BM_EchoCanceller/<kind>/<tail ms>, for each kind make_echo_canceller makes.
const bool kEchoCancellerBenchmarks = [] {
  using sipline::dsp::EchoCancellerKind;
  for (EchoCancellerKind kind : {EchoCancellerKind::sipline, EchoCancellerKind::spandsp, EchoCancellerKind::speex}) {
    if (!sipline::dsp::make_echo_canceller(kind, {})) continue;
    for (int tail_ms : {32, 128}) {
      const std::string name =
          "BM_EchoCanceller/" + std::string(sipline::dsp::to_string(kind)) + "/" + std::to_string(tail_ms);
      benchmark::RegisterBenchmark(name.c_str(), echo_canceller_bench, kind, tail_ms);
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
