#pragma once
// Country profiles as TOML: the format of dsp/profiles/*.toml (the built-in
// profiles, compiled into the binary) and of a user's [countries.XX] override
// tables in sipline.toml.
//
//   country = "US"                       # ISO 3166 alpha-2
//   ring_cadence_ms = [2000, 4000]       # on, off ...: an even count, none 0
//   [tones]      dial, ringback, busy, congestion, call_waiting, stutter_dial,
//                special_information = [{f1 = 440, f2 = 480, mod = 0,
//                level = -19, ms = 2000}, {f1 = 0, ms = 4000}, ...]
//                (f1 = 0: silence; f2, mod: 0 when absent; level: required
//                when f1 > 0; ms = 0: until stopped, last step only)
//   [caller_id]  format, alert, reversal_ms, alert_ms, data_delay_ms,
//                ring_delay_ms, level_dbm0, car_cadence_ms, car_timeout_ms
//   [hook]       flash_min_ms, flash_max_ms, debounce_ms
//   [disconnect] polarity_reversal, loop_drop_ms, busy_tone
//
// Limits checked: frequencies 0..4000 Hz, modulation 0..100 Hz, levels
// -60..0 dBm0, durations 0..60000 ms, flash_min_ms < flash_max_ms,
// debounce_ms <= flash_min_ms, no unknown keys.
// Thread: any (pure functions; the parse allocates).
#include <span>
#include <string>
#include <string_view>

#include <tl/expected.hpp>
#include <toml++/toml.h>

#include "sipline/dsp/tone_profile.hpp"

namespace sipline::dsp {

// What is wrong, and where. `message` starts with the key's path inside the
// profile table ("caller_id.format: unknown format \"x\" (none, ...)",
// "tones.busy[0].f1: ..."); line and column (1-based) locate the offending
// value, or the table holding a missing key; 0 when the source is unknown.
struct ProfileError {
  std::string message;
  int line = 0;
  int column = 0;
};

using ProfileResult = tl::expected<ToneProfile, ProfileError>;

// Reads a profile table. base == nullptr: every key is required (a complete
// profile such as a built-in file). With a base: the result is a copy of
// *base with the keys present in `t` replaced; a tone or a list given
// replaces the base's whole tone or list. The checks apply to the result.
ProfileResult parse_tone_profile(const toml::table& t, const ToneProfile* base);

// "a table", "an integer", ...: a TOML value's type for error messages
// (shared with the configuration loader).
const char* toml_type_name(toml::node_type type);

// Parses TOML text (a whole profile file) and then the table, as above. A
// TOML syntax error is reported with its position, not thrown.
ProfileResult parse_tone_profile_text(std::string_view toml_text, const ToneProfile* base = nullptr);

// The text of the built-in profile files, compiled in from dsp/profiles/, in
// the order of tone_profile_names(): us.toml, jp.toml, uk.toml, de.toml,
// fr.toml.
struct BuiltInProfileFile {
  std::string_view name;  // "us.toml"
  std::string_view text;
};
std::span<const BuiltInProfileFile> built_in_profile_files();

}  // namespace sipline::dsp
