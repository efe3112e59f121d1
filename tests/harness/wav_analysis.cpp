#include "harness/wav_analysis.hpp"

#include <algorithm>
#include <span>

#include "sipline/base/wav.hpp"
#include "sipline/dsp/goertzel.hpp"

namespace sipline::test {

std::optional<MonoAudio> load_mono(const std::string& path, std::string* error) {
  auto wav = base::read_wav(path);
  if (!wav) {
    if (error != nullptr) *error = path + ": " + wav.error().message();
    return std::nullopt;
  }
  MonoAudio out;
  out.sample_rate = wav->sample_rate;
  const int ch = std::max(1, wav->channels);
  out.samples.reserve(wav->samples.size() / static_cast<std::size_t>(ch));
  for (std::size_t i = 0; i + static_cast<std::size_t>(ch) <= wav->samples.size(); i += static_cast<std::size_t>(ch)) {
    int sum = 0;
    for (int c = 0; c < ch; ++c) sum += wav->samples[i + static_cast<std::size_t>(c)];
    out.samples.push_back(static_cast<int16_t>(sum / ch));
  }
  return out;
}

ToneWindows tone_windows(const MonoAudio& audio, double hz, double threshold, int window_ms) {
  ToneWindows r;
  const std::size_t n = static_cast<std::size_t>(audio.sample_rate) * static_cast<std::size_t>(window_ms) / 1000;
  if (n == 0) return r;
  for (std::size_t pos = 0; pos + n <= audio.samples.size(); pos += n) {
    const double ratio = dsp::tone_power_ratio(std::span(audio.samples).subspan(pos, n), hz, audio.sample_rate);
    ++r.windows;
    if (ratio > threshold) ++r.above;
    r.max_ratio = std::max(r.max_ratio, ratio);
  }
  return r;
}

double tone_ratio(const MonoAudio& audio, double hz, double start_s, double duration_s) {
  const auto first = std::min(audio.samples.size(), static_cast<std::size_t>(start_s * audio.sample_rate));
  const auto count = std::min(audio.samples.size() - first, static_cast<std::size_t>(duration_s * audio.sample_rate));
  return dsp::tone_power_ratio(std::span(audio.samples).subspan(first, count), hz, audio.sample_rate);
}

double level_dbfs(const MonoAudio& audio) { return dsp::level_dbfs(audio.samples); }

}  // namespace sipline::test
