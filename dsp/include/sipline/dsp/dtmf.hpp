#pragma once
// DTMF (ITU-T Q.23/Q.24) detection and generation, backed by spandsp's
// dtmf_rx/dtmf_tx. The detector reports the start and the end of each digit
// (needed for RFC 4733 event durations). Limits: spandsp's defaults, as
// measured by tests/unit/dsp: the low group may be up to 8 dB above the high
// group and the high group about 3 dB above the low; detection down to about
// -40 dBm0 per tone; 40 ms minimum tone; a start is reported 2 blocks of
// 102 samples (~26 ms) after the tone begins.
// Thread: one owner at a time.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp {

// '0'-'9', '*', '#', 'A'-'D' (and 'a'-'d'): the sixteen DTMF keys.
bool is_dtmf_digit(char c);

struct DtmfEvent {
  char digit = 0;     // '0'-'9', '*', '#', 'A'-'D'
  bool end = false;   // false: the tone started; true: it ended
};

class DtmfDetector {
 public:
  DtmfDetector();
  ~DtmfDetector();
  DtmfDetector(DtmfDetector&&) noexcept;
  DtmfDetector& operator=(DtmfDetector&&) noexcept;
  // Realtime: analyses one frame; returns the events found in it (valid until the next call).
  std::span<const DtmfEvent> process(base::ConstFrameSpan in);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class DtmfGenerator {
 public:
  DtmfGenerator();
  ~DtmfGenerator();
  DtmfGenerator(DtmfGenerator&&) noexcept;
  DtmfGenerator& operator=(DtmfGenerator&&) noexcept;
  // Queues digits to play with the given tone and pause lengths (defaults 100/100 ms).
  // Realtime (no allocation); at most 128 digits queued.
  void queue(std::string_view digits, int on_ms = 100, int off_ms = 100);
  // Plays one digit until stop() (used for RFC 4733 events received from the network).
  void start(char digit);
  void stop();
  bool active() const;
  // Realtime: writes the next frame (overwrites); silence when idle.
  void generate(base::FrameSpan out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::dsp
