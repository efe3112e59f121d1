#pragma once
// Helpers for the sim driver tests: drive a port's tick by hand and make tones.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "sipline/base/audio_frame.hpp"
#include "sipline/drivers/sim_driver.hpp"

namespace sipline::drivers::test {

// One media tick as the worker does it: read() first, then write().
inline base::AudioFrame tick(LinePort& port, const base::AudioFrame& to_phone = {}) {
  base::AudioFrame from_phone;
  from_phone.fill(12345);  // read() must overwrite it
  port.read(from_phone);
  port.write(to_phone);
  return from_phone;
}

// Ticks `frames` times with silence going to the phone; returns what the phone sent.
inline std::vector<int16_t> ticks(LinePort& port, int frames) {
  std::vector<int16_t> out;
  for (int i = 0; i < frames; ++i) {
    const auto f = tick(port);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

// A phase-continuous sine source.
class Sine {
 public:
  Sine(double freq_hz, double peak) : step_(2 * std::numbers::pi * freq_hz / base::kSampleRate), peak_(peak) {}
  base::AudioFrame next() {
    base::AudioFrame f;
    for (auto& v : f) {
      v = static_cast<int16_t>(std::lround(peak_ * std::sin(phase_)));
      phase_ += step_;
    }
    return f;
  }

 private:
  double step_, peak_, phase_ = 0;
};

inline SimDriverConfig one_phone(int auto_answer_ms = -1) {
  return SimDriverConfig{.phones = {SimPhoneConfig{.name = "fxs1", .auto_answer_ms = auto_answer_ms}}};
}

}  // namespace sipline::drivers::test
