#pragma once
// Call progress detection for FXO lines: from the audio the exchange sends
// after the gateway seizes the line and dials, tells dial tone, ringback,
// busy, congestion (reorder) and the special information tone (SIT, ITU-T
// Q.35 / E.180 §7) apart, using the country's ToneProfile, and notices audio
// that is no tone (an answer) for lines that give no polarity reversal.
//
// How: each 20 ms frame is measured with Goertzel filters at every frequency
// the profile's tones use (SIT frequencies with a +-50 Hz filter bank, as
// Q.35 allows). A frame is a tone frame when it is above -42 dBm0 and the
// frequencies of one of the tones carry most of its energy (each of a pair
// at least 20%; a run already under way goes on at 50% / 12%, down to
// -48 dBm0, so AM troughs and noise do not split it). Consecutive frames of the same frequencies form runs; a run
// of a 16 Hz amplitude modulated tone (JP ringback) is told from a steady one
// by its frame-to-frame level swing. The run lengths are then matched
// against each tone's on/off steps (tolerance 20% or 60 ms, whichever is
// larger, plus one frame):
//  - a steady tone (a last step of 0 ms, e.g. dial tone) is confirmed after
//    1 s, or once it has outlasted every on-step of the same frequencies in
//    the profile's cadenced tones (FR: ringback is 1.5 s of the dial tone's
//    440 Hz, so FR dial tone takes 1.82 s);
//  - ringback after one on-step of the right length and 100 ms of the pause;
//  - SIT after its three tones and 100 ms of what follows them;
//  - busy, congestion and other cadenced tones after max(4, steps + 1)
//    matching runs, the last being 100 ms into a pause.
// A confirmed tone is dropped (reported as ProgressTone::none) as soon as the
// runs stop fitting its cadence.
// Limits: tones whose specs are identical (JP busy and congestion) are
// reported as the first of them (busy); a burst cut short at the start of
// detection is not counted, so a cadenced tone joined mid-step needs one
// more cycle; frequencies other than the profile's (+-10 Hz, SIT +-60 Hz)
// are not tones. Measured (tests/unit/dsp/call_progress_test.cpp): twist up
// to 7 dB, tones down to -42 dBm0 per frame, white noise down to 10 dB SNR
// (6 dB for all but JP ringback); no tone reported in 225 x 30 s of
// synthetic speech at three levels.
// Thread: built on the control thread (allocates), then owned by one media
// worker; process(), current(), non_tone_audio_for() and reset() are realtime.
#include <memory>
#include <optional>
#include <string_view>

#include "sipline/base/audio_frame.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::dsp {

enum class ProgressTone { none, dial, ringback, busy, congestion, special_information };
std::string_view to_string(ProgressTone tone);

class CallProgressDetector {
 public:
  // Thread: control (allocates). Copies what it needs from `profile`.
  explicit CallProgressDetector(const ToneProfile& profile);
  ~CallProgressDetector();
  CallProgressDetector(CallProgressDetector&&) noexcept;
  CallProgressDetector& operator=(CallProgressDetector&&) noexcept;

  // Realtime, no allocation: one 20 ms frame (160 samples, 8 kHz). Returns the
  // tone recognised when it is first confirmed (once per change), none when a
  // confirmed tone stops fitting its cadence, else std::nullopt.
  std::optional<ProgressTone> process(base::ConstFrameSpan frame);
  // Realtime: the last confirmed tone, none while unknown.
  ProgressTone current() const;
  // Realtime: energy present that is not a known tone (speech, an answer),
  // above the line's tracked noise floor; true once such audio has lasted
  // `ms` (pauses up to 300 ms do not end it, 100 ms of a known tone does).
  bool non_tone_audio_for(int ms) const;
  // Realtime: forgets all history (e.g. after the gateway dials).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::dsp
