// libFuzzer target for WAV reading (base/include/sipline/base/wav.hpp).
// read_wav() takes a path, so each input is written to a per-process
// temporary file first (removed at exit).
// Checks, besides memory safety: an accepted file is RIFF/WAVE, has no more
// samples than its bytes can hold, and write_wav/read_wav of the samples at
// the reported rate gives the same samples back (for mono files at plausible rates).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include "sipline/base/wav.hpp"

namespace {

const std::string& temp_path(int which) {
  static const std::string paths[2] = {
      "/tmp/sipline-wav-fuzz-" + std::to_string(::getpid()) + "-in.wav",
      "/tmp/sipline-wav-fuzz-" + std::to_string(::getpid()) + "-out.wav",
  };
  static const bool registered = [] {
    std::atexit([] {
      std::remove(paths[0].c_str());
      std::remove(paths[1].c_str());
    });
    return true;
  }();
  (void)registered;
  return paths[which];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = temp_path(0);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);

  auto wav = sipline::base::read_wav(path);
  if (!wav) {
    if (wav.error().message().empty()) std::abort();
    return 0;
  }
  if (size < 12 || std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0) std::abort();
  if (wav->samples.size() * 2 > size - 12) std::abort();

  // (Rates are limited to plausible ones: write_wav computes the byte rate in int.)
  if (wav->channels == 1 && wav->sample_rate > 0 && wav->sample_rate <= 192000) {
    const std::string& out = temp_path(1);
    if (!sipline::base::write_wav(out, wav->samples, wav->sample_rate)) std::abort();
    auto again = sipline::base::read_wav(out);
    if (!again || again->samples != wav->samples || again->channels != 1 ||
        again->sample_rate != wav->sample_rate) {
      std::abort();
    }
  }
  return 0;
}
