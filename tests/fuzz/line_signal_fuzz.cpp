// libFuzzer target for what an FXO port hears from the exchange: the caller
// ID receiver (every decoder side by side, as the gateway runs it) and the
// call progress detector, fed with the input as 16-bit little-endian audio
// in 20 ms frames. The audio of a telephone line is outside input like any
// network packet: a hostile or broken exchange (or a card's noise) must not
// crash the media worker.
// Checks, besides memory safety: a decoded message stays within the
// documented sizes, and the detector reports only known tones.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/call_progress.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/tone_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipline;
  static const dsp::ToneProfile* profiles[] = {dsp::find_tone_profile("US"), dsp::find_tone_profile("UK"),
                                               dsp::find_tone_profile("JP")};
  // The first byte picks the country (its tones and cadences), the rest is audio.
  if (size < 1) return 0;
  const dsp::ToneProfile* profile = profiles[data[0] % 3];
  ++data;
  --size;
  dsp::CallerIdReceiver cid(dsp::CallerIdFormat::none, true);
  dsp::CallProgressDetector progress(*profile);
  base::AudioFrame frame{};
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    frame[n++] = static_cast<int16_t>(static_cast<uint16_t>(data[i]) | (static_cast<uint16_t>(data[i + 1]) << 8));
    if (n < frame.size()) continue;
    n = 0;
    cid.process(frame);
    if (const dsp::CallerIdMessage* m = cid.take()) {
      if (m->id.number.size() > dsp::kMaxCallerIdNumber || m->id.name.size() > dsp::kMaxCallerIdName) std::abort();
      if (m->format == dsp::CallerIdFormat::none) std::abort();
    }
    if (const auto tone = progress.process(frame)) {
      if (static_cast<int>(*tone) < 0 || static_cast<int>(*tone) > static_cast<int>(dsp::ProgressTone::special_information))
        std::abort();
    }
    (void)progress.non_tone_audio_for(500);
  }
  return 0;
}
