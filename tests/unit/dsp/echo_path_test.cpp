// The hybrid echo model used by the echo canceller tests and the sim driver.
#include "sipline/dsp/echo_path.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "echo_test_signals.hpp"

namespace sipline::dsp {
namespace {

using base::AudioFrame;
using base::kFrameSamples;

// Runs `to_line` through the path with silence on the line; returns what
// comes back (whole frames).
std::vector<int16_t> echo_of(EchoPath& path, const std::vector<int16_t>& to_line) {
  std::vector<int16_t> back(to_line.size(), 0);
  for (std::size_t f = 0; f < to_line.size() / kFrameSamples; ++f) {
    base::FrameSpan out(back.data() + f * kFrameSamples, kFrameSamples);
    path.process(test::frame_of(to_line, f), out);
  }
  return back;
}

double erl_db(const std::vector<int16_t>& to_line, const std::vector<int16_t>& back) {
  return 10.0 * std::log10(test::energy(to_line) / test::energy(back));
}

TEST(EchoPath, ImpulseComesBackAtTheBulkDelayWithTheResponse) {
  for (int delay_ms : {0, 4, 12}) {
    EchoPath path({.erl_db = 6, .delay_ms = delay_ms, .dispersion_ms = 6, .seed = 3});
    const auto& h = path.response();
    ASSERT_EQ(h.size(), 48u);
    // An impulse late in the first frame, so the echo crosses frame boundaries.
    std::vector<int16_t> to_line(5 * kFrameSamples, 0);
    const std::size_t at = 150;
    const double amplitude = 20000;
    to_line[at] = static_cast<int16_t>(amplitude);
    const auto back = echo_of(path, to_line);
    const std::size_t start = at + static_cast<std::size_t>(delay_ms) * 8;
    for (std::size_t n = 0; n < back.size(); ++n) {
      const double expected = n >= start && n < start + h.size() ? amplitude * h[n - start] : 0.0;
      EXPECT_NEAR(back[n], expected, 1.0) << "delay " << delay_ms << " ms, sample " << n;
    }
  }
}

TEST(EchoPath, SingleTapWithoutDispersion) {
  EchoPath path({.erl_db = 6, .delay_ms = 8, .dispersion_ms = 0});
  ASSERT_EQ(path.response().size(), 1u);
  EXPECT_NEAR(path.response()[0], std::pow(10.0, -6.0 / 20.0), 1e-6);
}

TEST(EchoPath, WhiteNoiseComesBackWeakerByTheErl) {
  const auto noise = test::white_noise(10 * 8000, 4000.0);
  for (double erl : {3.0, 6.0, 12.0, 20.0}) {
    for (int dispersion_ms : {0, 6, 24}) {
      EchoPath path({.erl_db = erl, .delay_ms = 8, .dispersion_ms = dispersion_ms});
      const auto back = echo_of(path, noise);
      EXPECT_NEAR(erl_db(noise, back), erl, 0.5) << "dispersion " << dispersion_ms << " ms";
    }
  }
}

TEST(EchoPath, ResponseIsBandLimitedAndDecays) {
  EchoPath path({.erl_db = 6, .delay_ms = 0, .dispersion_ms = 24, .seed = 9});
  const auto& h = path.response();
  double first_half = 0, last_quarter = 0, dc = 0;
  for (std::size_t k = 0; k < h.size(); ++k) {
    if (k < h.size() / 2) first_half += h[k] * h[k];
    if (k >= h.size() * 3 / 4) last_quarter += h[k] * h[k];
    dc += h[k];
  }
  EXPECT_GT(first_half, 100 * last_quarter);
  // Gain at DC well below the broadband gain: the hybrid passes no DC.
  EXPECT_LT(dc * dc, 0.25 * (first_half + last_quarter));
}

TEST(EchoPath, AddsNoiseAtTheConfiguredLevel) {
  for (double noise : {-60.0, -45.0, -30.0}) {
    EchoPath path({.erl_db = 6, .delay_ms = 4, .noise_dbm0 = noise});
    const std::vector<int16_t> silence(5 * 8000, 0);
    const auto back = echo_of(path, silence);
    EXPECT_NEAR(test::level_dbm0(back), noise, 0.5);
  }
  EchoPath quiet({.erl_db = 6, .delay_ms = 4, .noise_dbm0 = -99});
  const std::vector<int16_t> silence(8000, 0);
  EXPECT_EQ(test::energy(echo_of(quiet, silence)), 0.0);
}

TEST(EchoPath, AddsTheEchoToWhatTheLineCarries) {
  EchoPath path({.erl_db = 6, .delay_ms = 0, .dispersion_ms = 0});
  AudioFrame to_line{}, from_line{};
  to_line.fill(1000);
  from_line.fill(-300);
  path.process(to_line, from_line);
  EXPECT_EQ(from_line[10], -300 + 501);   // 1000 * 10^(-6/20) = 501.2
  to_line.fill(32767);
  from_line.fill(32000);
  path.process(to_line, from_line);
  EXPECT_EQ(from_line[10], 32767);   // saturates
}

TEST(EchoPath, IsDeterministicBySeed) {
  const auto speech = test::composite_source(2000, {.seed = 4});
  EchoPathOptions options{.erl_db = 9, .delay_ms = 6, .dispersion_ms = 8, .noise_dbm0 = -50, .seed = 17};
  EchoPath a(options), b(options);
  EXPECT_EQ(a.response(), b.response());
  EXPECT_EQ(echo_of(a, speech), echo_of(b, speech));
  options.seed = 18;
  EchoPath c(options);
  EXPECT_NE(a.response(), c.response());
}

}  // namespace
}  // namespace sipline::dsp
