#pragma once
// Country tone and ringing profiles: what a line in a given country sounds like.
// Each tone is a list of steps (one or two frequencies, optionally amplitude
// modulated as Japan's ringback, for a duration), repeated. Ring cadences are
// on/off lists. Sources: ITU-T E.180 Supplement 2 (Various tones used in
// national networks) and the national specifications it cites.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipline::dsp {

struct ToneStep {
  int f1_hz = 0;          // 0 = silence (f2 ignored)
  int f2_hz = 0;          // 0 = single frequency
  int mod_hz = 0;         // amplitude modulation frequency (JP ringback: 16 Hz), 0 = none
  int level_dbm0 = -13;   // per frequency
  int duration_ms = 0;    // 0 = until stopped
};

struct ToneSpec {
  std::vector<ToneStep> steps;  // played in order, then repeated from the start
  bool empty() const { return steps.empty(); }
};

enum class ToneKind { none, dial, ringback, busy, congestion, call_waiting, stutter_dial };

struct ToneProfile {
  std::string country;     // ISO 3166 alpha-2 code as configured: "US", "JP", ...
  ToneSpec dial;
  ToneSpec ringback;
  ToneSpec busy;
  ToneSpec congestion;     // reorder
  ToneSpec call_waiting;
  ToneSpec stutter_dial;
  std::vector<int> ring_cadence_ms;  // on, off, on, off ... (ms), repeated

  const ToneSpec& tone(ToneKind kind) const;
};

// The built-in profiles: "US", "JP", "UK", "DE", "FR". Case-insensitive.
// Returns nullptr for an unknown country.
const ToneProfile* find_tone_profile(std::string_view country);
// Names of the built-in profiles, for error messages.
std::vector<std::string> tone_profile_names();

}  // namespace sipline::dsp
