#include "sipline/dsp/g711.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <vector>

#include "sipline/dsp/goertzel.hpp"

namespace sipline::dsp {
namespace {

std::vector<int16_t> all_linear_values() {
  std::vector<int16_t> v;
  for (int x = -32768; x <= 32767; ++x) v.push_back(static_cast<int16_t>(x));
  return v;
}

// Largest decoding error G.711 allows for an input: half the quantisation step
// of its segment (16 steps per segment, doubling from one segment to the
// next), one more for the asymmetry of negative values, and the clipping of
// mu-law inputs beyond its largest code (32124).
int max_error(G711Law law, int x) {
  const int mag = std::abs(x);
  auto segment_of = [](int v) {
    int seg = 0;
    while (v > 0xFF) {
      v >>= 1;
      ++seg;
    }
    return seg;
  };
  if (law == G711Law::ulaw) {
    const int seg = segment_of(mag + 0x84);
    if (seg >= 8) return mag - 32124;
    return (8 << seg) / 2 + 1;
  }
  const int seg = segment_of(mag);
  return (seg == 0 ? 16 : (8 << seg)) / 2 + 1;
}

void expect_round_trip(G711Law law) {
  const std::vector<int16_t> in = all_linear_values();
  std::vector<uint8_t> coded(in.size());
  std::vector<int16_t> out(in.size());
  g711_encode(law, in, coded);
  g711_decode(law, coded, out);
  int failures = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const int err = std::abs(out[i] - in[i]);
    if (err > max_error(law, in[i]) && ++failures < 5) {
      ADD_FAILURE() << "x=" << in[i] << " decoded " << out[i] << " error " << err << " > " << max_error(law, in[i]);
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(G711, UlawRoundTripStaysWithinHalfAQuantisationStep) { expect_round_trip(G711Law::ulaw); }

TEST(G711, AlawRoundTripStaysWithinHalfAQuantisationStep) { expect_round_trip(G711Law::alaw); }

TEST(G711, EncodesKnownCodePoints) {
  const std::array<int16_t, 4> in = {0, 32767, -32768, -1};
  std::array<uint8_t, 4> u{}, a{};
  g711_encode(G711Law::ulaw, in, u);
  g711_encode(G711Law::alaw, in, a);
  EXPECT_EQ(u[0], 0xFF);  // positive zero
  EXPECT_EQ(u[1], 0x80);  // positive full scale
  EXPECT_EQ(u[2], 0x00);  // negative full scale
  EXPECT_EQ(a[0], 0xD5);  // A-law zero: 0x80 with even bits inverted
  EXPECT_EQ(a[1], 0xAA);
  EXPECT_EQ(a[2], 0x2A);
}

TEST(G711, DecodesKnownCodePoints) {
  const std::array<uint8_t, 4> codes = {0xFF, 0x80, 0x00, 0x7F};
  std::array<int16_t, 4> u{};
  g711_decode(G711Law::ulaw, codes, u);
  EXPECT_EQ(u[0], 0);
  EXPECT_EQ(u[1], 32124);
  EXPECT_EQ(u[2], -32124);
  EXPECT_EQ(u[3], 0);

  const std::array<uint8_t, 4> acodes = {0xD5, 0x55, 0xAA, 0x2A};
  std::array<int16_t, 4> a{};
  g711_decode(G711Law::alaw, acodes, a);
  EXPECT_EQ(a[0], 8);
  EXPECT_EQ(a[1], -8);
  EXPECT_EQ(a[2], 32256);
  EXPECT_EQ(a[3], -32256);
}

// G.711 Table 5 / 6: the digital milliwatt, a 1 kHz sine at 0 dBm0.
TEST(G711, DigitalMilliwattDecodesToOneKilohertzAtZeroDbm0) {
  const std::array<uint8_t, 8> ulaw_dmw = {0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E};
  const std::array<uint8_t, 8> alaw_dmw = {0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4};
  for (const auto* dmw : {&ulaw_dmw, &alaw_dmw}) {
    const G711Law law = dmw == &ulaw_dmw ? G711Law::ulaw : G711Law::alaw;
    std::vector<uint8_t> codes;
    for (int i = 0; i < 100; ++i) codes.insert(codes.end(), dmw->begin(), dmw->end());
    std::vector<int16_t> pcm(codes.size());
    g711_decode(law, codes, pcm);
    EXPECT_GT(tone_power_ratio(pcm, 1000.0), 0.99);
    // 0 dBm0 sine = +3.14 dB below full-scale sine (-3.01 dBFS): -6.15 dBFS.
    EXPECT_NEAR(level_dbfs(pcm), -6.15, 0.3);
  }
}

TEST(G711, ConvertsOnlyTheShorterOfTheTwoSpans) {
  const std::array<int16_t, 4> in = {0, 0, 0, 0};
  std::array<uint8_t, 2> out = {0x12, 0x34};
  g711_encode(G711Law::ulaw, in, out);
  EXPECT_EQ(out[0], 0xFF);
  EXPECT_EQ(out[1], 0xFF);
  std::array<int16_t, 6> pcm = {1, 1, 1, 1, 1, 1};
  g711_decode(G711Law::ulaw, out, pcm);
  EXPECT_EQ(pcm[1], 0);
  EXPECT_EQ(pcm[2], 1);
}

}  // namespace
}  // namespace sipline::dsp
