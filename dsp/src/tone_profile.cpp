// The built-in country profiles. Frequencies and cadences follow ITU-T E.180
// Supplement 2 (Various tones used in national networks, 1994 and its
// national entries) and the national specifications it cites:
//   US: Telcordia GR-506 / LSSGR (precise tone plan), levels per ANSI T1.401.
//   JP: NTT "Interfaces for telephone network services" (dial, ringback with
//       16 Hz modulation, busy; special dial tone 0.125/0.125).
//   UK: BT SIN 350.
//   DE: Deutsche Telekom 1 TR 110 (425 Hz tones).
//   FR: France Telecom STI (440 Hz tones).
// Where a national spec leaves a tone undefined (e.g. stutter dial outside the
// US), the value used by common PBX tables for that country is taken.
#include "sipline/dsp/tone_profile.hpp"

#include <array>
#include <cctype>
#include <initializer_list>

namespace sipline::dsp {
namespace {

// One sounding step: f1 (+ f2) at `level` dBm0 per frequency for `ms`.
ToneStep on(int f1, int f2, int level, int ms) {
  return ToneStep{.f1_hz = f1, .f2_hz = f2, .mod_hz = 0, .level_dbm0 = level, .duration_ms = ms};
}
// Amplitude-modulated step (JP ringback: 400 Hz modulated by 16 Hz).
ToneStep am(int carrier, int mod, int level, int ms) {
  return ToneStep{.f1_hz = carrier, .f2_hz = 0, .mod_hz = mod, .level_dbm0 = level, .duration_ms = ms};
}
ToneStep off(int ms) { return ToneStep{.f1_hz = 0, .f2_hz = 0, .mod_hz = 0, .level_dbm0 = 0, .duration_ms = ms}; }

ToneSpec spec(std::initializer_list<ToneStep> steps) { return ToneSpec{.steps = steps}; }

// `n` bursts of `burst` on/off, then `steady` until stopped.
ToneSpec stutter(const ToneStep& burst, int on_ms, int off_ms, int n, const ToneStep& steady) {
  ToneSpec s;
  for (int i = 0; i < n; ++i) {
    ToneStep b = burst;
    b.duration_ms = on_ms;
    s.steps.push_back(b);
    s.steps.push_back(off(off_ms));
  }
  ToneStep last = steady;
  last.duration_ms = 0;
  s.steps.push_back(last);
  return s;
}

ToneProfile make_us() {
  ToneProfile p;
  p.country = "US";
  p.dial = spec({on(350, 440, -13, 0)});
  p.ringback = spec({on(440, 480, -19, 2000), off(4000)});
  p.busy = spec({on(480, 620, -24, 500), off(500)});
  p.congestion = spec({on(480, 620, -24, 250), off(250)});
  // A 300 ms burst, repeated every 10 s while the call waits.
  p.call_waiting = spec({on(440, 0, -13, 300), off(9700)});
  // Stutter (message waiting) dial tone: 10 x 0.1 s on / 0.1 s off, then steady.
  p.stutter_dial = stutter(on(350, 440, -13, 0), 100, 100, 10, on(350, 440, -13, 0));
  p.ring_cadence_ms = {2000, 4000};
  return p;
}

ToneProfile make_jp() {
  ToneProfile p;
  p.country = "JP";
  p.dial = spec({on(400, 0, -13, 0)});
  p.ringback = spec({am(400, 16, -16, 1000), off(2000)});
  p.busy = spec({on(400, 0, -13, 500), off(500)});
  p.congestion = spec({on(400, 0, -13, 500), off(500)});  // NTT uses the busy tone
  p.call_waiting = spec({am(400, 16, -16, 500), off(8000)});
  p.stutter_dial = spec({on(400, 0, -13, 125), off(125)});  // NTT special dial tone
  p.ring_cadence_ms = {1000, 2000};
  return p;
}

ToneProfile make_uk() {
  ToneProfile p;
  p.country = "UK";
  p.dial = spec({on(350, 450, -13, 0)});
  p.ringback = spec({on(400, 450, -16, 400), off(200), on(400, 450, -16, 400), off(2000)});
  p.busy = spec({on(400, 0, -13, 375), off(375)});
  p.congestion = spec({on(400, 0, -13, 400), off(350), on(400, 0, -13, 225), off(525)});
  p.call_waiting = spec({on(400, 0, -13, 100), off(4000)});
  p.stutter_dial = spec({on(350, 450, -13, 750), on(440, 0, -13, 750)});  // special dial tone
  p.ring_cadence_ms = {400, 200, 400, 2000};
  return p;
}

ToneProfile make_de() {
  ToneProfile p;
  p.country = "DE";
  p.dial = spec({on(425, 0, -13, 0)});
  p.ringback = spec({on(425, 0, -13, 1000), off(4000)});
  p.busy = spec({on(425, 0, -13, 480), off(480)});
  p.congestion = spec({on(425, 0, -13, 240), off(240)});
  p.call_waiting = spec({on(425, 0, -13, 200), off(200), on(425, 0, -13, 200), off(5000)});
  p.stutter_dial = spec({on(400, 425, -13, 0)});  // Sonderwaehlton
  p.ring_cadence_ms = {1000, 4000};
  return p;
}

ToneProfile make_fr() {
  ToneProfile p;
  p.country = "FR";
  p.dial = spec({on(440, 0, -13, 0)});
  p.ringback = spec({on(440, 0, -13, 1500), off(3500)});
  p.busy = spec({on(440, 0, -13, 500), off(500)});
  p.congestion = spec({on(440, 0, -13, 250), off(250)});
  p.call_waiting = spec({on(440, 0, -13, 300), off(10000)});
  p.stutter_dial = stutter(on(440, 0, -13, 0), 100, 100, 6, on(440, 0, -13, 0));
  p.ring_cadence_ms = {1500, 3500};
  return p;
}

const std::array<ToneProfile, 5>& profiles() {
  static const std::array<ToneProfile, 5> kProfiles = {make_us(), make_jp(), make_uk(), make_de(), make_fr()};
  return kProfiles;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const ToneSpec& ToneProfile::tone(ToneKind kind) const {
  static const ToneSpec kNone;
  switch (kind) {
    case ToneKind::none: return kNone;
    case ToneKind::dial: return dial;
    case ToneKind::ringback: return ringback;
    case ToneKind::busy: return busy;
    case ToneKind::congestion: return congestion;
    case ToneKind::call_waiting: return call_waiting;
    case ToneKind::stutter_dial: return stutter_dial;
  }
  return kNone;
}

const ToneProfile* find_tone_profile(std::string_view country) {
  // "GB" is the ISO 3166 code of the United Kingdom; accept it beside "UK".
  if (iequals(country, "GB")) country = "UK";
  for (const ToneProfile& p : profiles()) {
    if (iequals(p.country, country)) return &p;
  }
  return nullptr;
}

std::vector<std::string> tone_profile_names() {
  std::vector<std::string> names;
  for (const ToneProfile& p : profiles()) names.push_back(p.country);
  return names;
}

}  // namespace sipline::dsp
