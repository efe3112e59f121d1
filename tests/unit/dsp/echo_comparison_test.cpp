// G.168-style comparison of the line echo cancellers behind
// dsp::EchoCanceller (sipline's own, spandsp's, speexdsp's), on one set of
// hybrids (dsp::EchoPath) with a speech-like composite source.
//
// For each canceller, NLP off and on, and each hybrid it measures, while only
// the far end talks: ERLE in 200 ms windows, the time until a window first
// reaches 30 dB, the ERLE of the window ending at 1 s and the ERLE over 3..6 s;
// then, the far end still talking, the near end starts (double talk, 2 s) and
// it measures how much weaker the near end's speech leaves the canceller than
// it came in (level drop; residual echo counts against it).
//
// The numbers are printed as a table (README, "Echo cancellation", has it).
// The assertions check that they are numbers, that each library canceller
// cancels at all, and the reasons sipline's canceller is the default: 30 dB
// within 1 s and the near end whole in double talk, on every hybrid.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "echo_test_signals.hpp"
#include "sipline/dsp/echo_canceller.hpp"
#include "sipline/dsp/echo_path.hpp"

namespace sipline::dsp {
namespace {

using base::AudioFrame;
using base::kFrameSamples;

constexpr int kFarOnlyMs = 6000;
constexpr int kDoubleTalkMs = 2000;
constexpr std::size_t kWindow = 1600;   // 200 ms
constexpr double kTalkerDbm0 = -15;
constexpr double kLineNoiseDbm0 = -70;

struct Hybrid {
  double erl_db;
  int delay_ms;
  int tail_ms;
};

const Hybrid kHybrids[] = {
    {6, 4, 32}, {6, 8, 32}, {6, 12, 32}, {12, 4, 32}, {12, 8, 32}, {12, 12, 32}, {6, 12, 128},
};

constexpr EchoCancellerKind kKinds[] = {EchoCancellerKind::sipline, EchoCancellerKind::spandsp,
                                        EchoCancellerKind::speex};

struct Numbers {
  std::vector<double> erle_db;   // per 200 ms window of the far-end-only part
  double converge_ms = -1;       // end of the first window at 30 dB or more; -1: never
  double erle_1s_db = 0;
  double erle_after_3s_db = 0;
  double double_talk_drop_db = 0;
};

// ERLE of one stretch: energy in over energy out, out floored at 1 LSB RMS
// (an NLP without comfort noise may send exact zeros).
double erle(const std::vector<int16_t>& in, const std::vector<int16_t>& out, std::size_t from, std::size_t to) {
  const std::span<const int16_t> a(in.data() + from, to - from), b(out.data() + from, to - from);
  return 10.0 * std::log10(std::max(test::energy(a), 1.0) / std::max(test::energy(b), static_cast<double>(to - from)));
}

Numbers measure(EchoCanceller& canceller, const Hybrid& hybrid) {
  const std::size_t far_only = kFarOnlyMs * 8, total = (kFarOnlyMs + kDoubleTalkMs) * 8;
  const auto far = test::composite_source(kFarOnlyMs + kDoubleTalkMs, {.level_dbm0 = kTalkerDbm0, .seed = 1});
  const auto near = test::composite_source(kDoubleTalkMs, {.level_dbm0 = kTalkerDbm0, .seed = 2});
  EchoPath path({.erl_db = hybrid.erl_db,
                 .delay_ms = hybrid.delay_ms,
                 .dispersion_ms = 6,
                 .noise_dbm0 = kLineNoiseDbm0,
                 .seed = 5});
  std::vector<int16_t> in(total), out(total);
  for (std::size_t f = 0; f < total / kFrameSamples; ++f) {
    const std::size_t at = f * kFrameSamples;
    AudioFrame line{};
    if (at >= far_only) std::copy_n(near.begin() + static_cast<std::ptrdiff_t>(at - far_only), kFrameSamples, line.begin());
    path.process(test::frame_of(far, f), line);
    std::copy(line.begin(), line.end(), in.begin() + static_cast<std::ptrdiff_t>(at));
    canceller.process(test::frame_of(far, f), line);
    std::copy(line.begin(), line.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
  }
  Numbers r;
  for (std::size_t w = 0; w + kWindow <= far_only; w += kWindow) {
    r.erle_db.push_back(erle(in, out, w, w + kWindow));
    if (r.converge_ms < 0 && r.erle_db.back() >= 30) r.converge_ms = static_cast<double>(w + kWindow) / 8.0;
  }
  r.erle_1s_db = r.erle_db.at(8000 / kWindow - 1);
  r.erle_after_3s_db = erle(in, out, 3 * 8000, far_only);
  const std::span<const int16_t> near_in(near.data(), total - far_only), near_out(out.data() + far_only, total - far_only);
  r.double_talk_drop_db = 10.0 * std::log10(test::energy(near_in) / std::max(test::energy(near_out), 1.0));
  return r;
}

TEST(EchoCancellerComparison, ConvergenceAndDoubleTalkTable) {
  std::printf("\nEcho canceller comparison: composite source at %.0f dBm0, line noise %.0f dBm0, dispersion 6 ms\n",
              kTalkerDbm0, kLineNoiseDbm0);
  std::printf("ERLE (dB) per 200 ms window; to30: first window >= 30 dB; dt drop: near-end level drop in double talk\n");
  std::printf("%-8s %-3s %4s %5s %5s | %7s %7s %7s %7s | %s\n", "kind", "nlp", "erl", "delay", "tail", "to30ms",
              "erle1s", "erle3s+", "dtdrop", "ERLE windows 0.2..3 s");
  int measured = 0;
  for (EchoCancellerKind kind : kKinds) {
    for (bool nlp : {false, true}) {
      for (const Hybrid& hybrid : kHybrids) {
        auto canceller = make_echo_canceller(kind, {.tail_ms = hybrid.tail_ms, .nlp = nlp, .comfort_noise = true});
        ASSERT_TRUE(canceller) << to_string(kind);
        const Numbers r = measure(*canceller, hybrid);
        ++measured;
        std::string windows;
        for (std::size_t w = 0; w < 15 && w < r.erle_db.size(); ++w) {
          char cell[16];
          std::snprintf(cell, sizeof cell, "%5.1f", r.erle_db[w]);
          windows += cell;
        }
        char to30[16];
        if (r.converge_ms < 0) std::snprintf(to30, sizeof to30, "never");
        else std::snprintf(to30, sizeof to30, "%.0f", r.converge_ms);
        std::printf("%-8s %-3s %4.0f %5d %5d | %7s %7.1f %7.1f %7.1f |%s\n", std::string(to_string(kind)).c_str(),
                    nlp ? "on" : "off", hybrid.erl_db, hybrid.delay_ms, hybrid.tail_ms, to30, r.erle_1s_db,
                    r.erle_after_3s_db, r.double_talk_drop_db, windows.c_str());
        const std::string what = std::string(to_string(kind)) + (nlp ? " nlp" : "") + " erl " +
                                 std::to_string(hybrid.erl_db) + " delay " + std::to_string(hybrid.delay_ms) +
                                 " tail " + std::to_string(hybrid.tail_ms);
        for (double v : r.erle_db) EXPECT_TRUE(std::isfinite(v)) << what;
        EXPECT_TRUE(std::isfinite(r.converge_ms)) << what;
        EXPECT_TRUE(std::isfinite(r.erle_1s_db)) << what;
        EXPECT_TRUE(std::isfinite(r.erle_after_3s_db)) << what;
        EXPECT_TRUE(std::isfinite(r.double_talk_drop_db)) << what;
        // Each library canceller cancels at all in its default configuration
        // (NLP on). Not asserted with the NLP off for spandsp: measured, its
        // linear filter alone does not converge on these hybrids (ERLE 2..5 dB
        // at ERL 6, worse than none at ERL 12), and the table shows it.
        if (kind == EchoCancellerKind::speex || (kind == EchoCancellerKind::spandsp && nlp)) {
          EXPECT_GT(r.erle_after_3s_db, 3.0) << what;
        }
        // Why sipline's is the default (README, "Echo cancellation"): on every
        // hybrid it is at 30 dB within 1 s with the NLP (speex needs 1.4 s or
        // more, spandsp's linear filter never gets there) and double talk
        // leaves the near end whole (spandsp's comfort noise costs it 7 dB).
        if (kind == EchoCancellerKind::sipline && nlp) {
          EXPECT_GE(r.converge_ms, 0) << what;
          EXPECT_LE(r.converge_ms, 1000) << what;
          EXPECT_LT(std::abs(r.double_talk_drop_db), 3.0) << what;
          EXPECT_GE(r.erle_after_3s_db, 30.0) << what;
        }
      }
    }
  }
  std::fflush(stdout);
  EXPECT_EQ(measured, 3 * 2 * static_cast<int>(std::size(kHybrids)));
}

TEST(EchoCancellerFactory, MakesEachKindByName) {
  for (EchoCancellerKind kind : kKinds) {
    EchoCancellerKind parsed{};
    ASSERT_TRUE(parse_echo_canceller_kind(to_string(kind), parsed));
    EXPECT_EQ(parsed, kind);
    auto canceller = make_echo_canceller(kind, {});
    ASSERT_TRUE(canceller) << to_string(kind);
    EXPECT_EQ(canceller->name(), to_string(kind));
  }
  EchoCancellerKind untouched = EchoCancellerKind::speex;
  EXPECT_FALSE(parse_echo_canceller_kind("g168", untouched));
  EXPECT_FALSE(parse_echo_canceller_kind("", untouched));
  EXPECT_EQ(untouched, EchoCancellerKind::speex);
}

// Debian's spandsp 0.0.6 printf()s twice per sample from echo_can_update.
TEST(SpandspEchoCanceller, WritesNothingToStdout) {
  auto canceller = make_echo_canceller(EchoCancellerKind::spandsp, {});
  ASSERT_TRUE(canceller);
  const auto far = test::composite_source(1000, {.seed = 3});
  EchoPath path({.erl_db = 6, .delay_ms = 4});
  testing::internal::CaptureStdout();
  for (std::size_t f = 0; f < far.size() / kFrameSamples; ++f) {
    AudioFrame line{};
    path.process(test::frame_of(far, f), line);
    canceller->process(test::frame_of(far, f), line);
  }
  canceller->reset();
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(printed.size(), 0u) << printed.substr(0, 200);
}

// speexdsp's only: spandsp's linear filter does not converge here (see the
// table), and sipline's canceller has its own tests.
TEST(SpeexEchoCanceller, ResetForgetsTheEchoPath) {
  for (EchoCancellerKind kind : {EchoCancellerKind::speex}) {
    auto canceller = make_echo_canceller(kind, {.nlp = false});
    if (!canceller) continue;
    const auto far = test::composite_source(4000, {.seed = 6});
    EchoPath path({.erl_db = 6, .delay_ms = 8});
    std::vector<int16_t> in(far.size()), out(far.size());
    auto run = [&](std::size_t from_frame, std::size_t to_frame) {
      for (std::size_t f = from_frame; f < to_frame; ++f) {
        AudioFrame line{};
        path.process(test::frame_of(far, f), line);
        std::copy(line.begin(), line.end(), in.begin() + static_cast<std::ptrdiff_t>(f * kFrameSamples));
        canceller->process(test::frame_of(far, f), line);
        std::copy(line.begin(), line.end(), out.begin() + static_cast<std::ptrdiff_t>(f * kFrameSamples));
      }
    };
    run(0, 150);                     // 3 s: converged
    const double before = erle(in, out, 2 * 8000, 3 * 8000);
    canceller->reset();
    run(150, 160);                   // the first 200 ms after the reset
    const double after = erle(in, out, 3 * 8000, 3 * 8000 + kWindow);
    EXPECT_GT(before, after + 3) << to_string(kind);
  }
}

}  // namespace
}  // namespace sipline::dsp
