#pragma once
// Internal audio: 8 kHz, 16-bit signed linear, 160-sample frames (20 ms).
// Wideband is a later step: code that needs the rate takes it from kSampleRate
// rather than hard-coding 8000.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sipline::base {

inline constexpr int kSampleRate = 8000;
inline constexpr std::size_t kFrameSamples = 160;
inline constexpr int kFrameMs = 20;

using AudioFrame = std::array<int16_t, kFrameSamples>;
using FrameSpan = std::span<int16_t, kFrameSamples>;
using ConstFrameSpan = std::span<const int16_t, kFrameSamples>;

}  // namespace sipline::base
