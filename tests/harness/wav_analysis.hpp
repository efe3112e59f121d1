#pragma once
// WAV analysis for tests that record audio (baresip's sndfile dumps, the
// simulated phones' recordings). Reads any PCM16 rate and channel count with
// base::read_wav, mixes down to mono, and measures tones with
// dsp::tone_power_ratio (Goertzel) and dsp::level_dbfs at the file's own rate.
#include <optional>
#include <string>
#include <vector>

#include <cstdint>

namespace sipline::test {

struct MonoAudio {
  int sample_rate = 8000;
  std::vector<int16_t> samples;
  double seconds() const { return sample_rate > 0 ? double(samples.size()) / sample_rate : 0; }
};

// nullopt (with *error set when given) if the file is missing or not PCM16 WAV.
std::optional<MonoAudio> load_mono(const std::string& path, std::string* error = nullptr);

struct ToneWindows {
  int windows = 0;          // analysed windows
  int above = 0;            // windows whose ratio exceeded the threshold
  double max_ratio = 0;     // best window
};
// Cuts the audio into `window_ms` windows and measures `hz` in each.
ToneWindows tone_windows(const MonoAudio& audio, double hz, double threshold, int window_ms = 100);
// Ratio of `hz` over [start_s, start_s + duration_s).
double tone_ratio(const MonoAudio& audio, double hz, double start_s, double duration_s);
// Level of the whole file in dBFS.
double level_dbfs(const MonoAudio& audio);

}  // namespace sipline::test
