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

#include "sipline/dsp/caller_id.hpp"

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

enum class ToneKind {
  none,
  dial,
  ringback,
  busy,
  congestion,
  call_waiting,
  stutter_dial,
  special_information,
  howler,  // receiver off hook: a loud tone for a phone left off hook
};

// The alerting that announces caller ID on an FXS port (ETSI EN 300 659-1 §6,
// Bellcore GR-30, BT SIN 227, NTT).
enum class CallerIdAlert {
  first_ring,     // data in the silence after the first ring (Bellcore; ETSI "during ringing")
  line_reversal,  // line reversal, data, then ringing (DTMF caller ID)
  dt_as,          // line reversal, DT-AS (BT: idle-state tone alert), data, then ringing
  rp_as,          // a short ring pulse (RP-AS), data, then ringing
  ntt_car,        // NTT: CAR ring signal until the phone's off-hook primary response, data, then ringing
};
std::string_view to_string(CallerIdAlert alert);
std::optional<CallerIdAlert> caller_id_alert_from_string(std::string_view name);

// How and when an FXS port sends caller ID.
struct CallerIdTiming {
  CallerIdFormat format = CallerIdFormat::bell202_mdmf;
  CallerIdAlert alert = CallerIdAlert::first_ring;
  int reversal_ms = 0;      // line reversal -> DT-AS, or -> data when there is no tone
  int alert_ms = 100;       // DT-AS / TAS tone, or RP-AS ring pulse, length
  int data_delay_ms = 500;  // end of the alert (ring, tone, pulse, primary response) -> first data bit
  int ring_delay_ms = 200;  // end of the data -> first (normal) ring
  double level_dbm0 = -13;  // FSK / DTMF level
  std::vector<int> car_cadence_ms{500, 500};  // ntt_car: CAR on/off
  int car_timeout_ms = 6000;  // ntt_car: no primary response in this time -> ring without caller ID
};

// How a phone's hook switch is read.
// A break (on hook) is read in this order: shorter than debounce_ms, a
// bounce; up to pulse_break_max_ms, a rotary dial pulse; from flash_min_ms
// to flash_max_ms, a hook flash (recall); longer, a hang-up. A make (off
// hook) of pulse_interdigit_ms ends a dialed digit (its pulses counted:
// 1-9, ten is 0).
struct HookTiming {
  int flash_min_ms = 100;
  int flash_max_ms = 900;
  int debounce_ms = 30;
  int pulse_break_max_ms = 80;   // 10 pps with a 2:1 break ratio breaks for 67 ms
  int pulse_interdigit_ms = 250; // pulse makes last about 33-40 ms; dials pause >= 300 ms between digits
};

// How the line tells the phone (FXS) or the gateway (FXO) that the other
// party hung up.
struct DisconnectSignalling {
  bool polarity_reversal = false;  // the line's polarity returns to normal / reverses
  int loop_drop_ms = 0;            // open loop current (CPC) for this long; 0 = none
  bool busy_tone = true;           // busy (or congestion) tone until on hook
};

struct ToneProfile {
  std::string country;     // ISO 3166 alpha-2 code as configured: "US", "JP", ...
  ToneSpec dial;
  ToneSpec ringback;
  ToneSpec busy;
  ToneSpec congestion;     // reorder
  ToneSpec call_waiting;
  ToneSpec stutter_dial;
  ToneSpec special_information;  // SIT (ITU-T Q.35 / E.180 §7)
  ToneSpec howler;               // receiver off hook; empty: the line stays on congestion tone
  std::vector<int> ring_cadence_ms;  // on, off, on, off ... (ms), repeated
  CallerIdTiming caller_id;
  HookTiming hook;
  DisconnectSignalling disconnect;

  const ToneSpec& tone(ToneKind kind) const;
};

// The built-in profiles: "US", "JP", "UK", "DE", "FR". Case-insensitive.
// Returns nullptr for an unknown country.
const ToneProfile* find_tone_profile(std::string_view country);
// Names of the built-in profiles, for error messages.
std::vector<std::string> tone_profile_names();

}  // namespace sipline::dsp
