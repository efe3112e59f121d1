// Caller ID over spandsp 0.0.6's ADSI modems (adsi_tx / adsi_rx).
//
// Message contents per format:
//   bell202_mdmf  CLASS 0x80: date/time (MMDDHHMM), number or its absence
//                 ('P' private, 'O' unavailable), name or its absence.
//   bell202_sdmf  CLASS 0x04: MMDDHHMM followed by the number, or 'P'/'O'.
//   etsi, bt      CLIP 0x80 (EN 300 659-3 call set-up): the same parameters
//                 as MDMF, with the CLIP parameter codes.
//   jclip         NTT 0x40 with the number or its absence reason.
//   dtmf          A<digits>C, or B<reason>C (ES 200 778-1 Annex B: "10"
//                 presentation restricted, "00" unavailable).
// A CallerId with neither number nor a reason for its absence is sent as
// "unavailable": every format needs one of the two. A missing name is simply
// left out.
//
// spandsp quirks handled here:
//  - Levels: adsi_tx has no level control; its FSK runs at -14 dBm0 and its
//    DTMF at -10 dBm0 per tone, so the rendered samples are scaled.
//  - adsi_add_field() doubles a field length octet equal to DLE (0x10) for
//    CLASS and CLIP as it must for JCLIP, corrupting any 16-octet field; the
//    stuffed octet is removed again (add_ie()).
//  - Bell 202 (1200/2200 Hz) and V.23 (1300/2100 Hz) are both 1200 baud and
//    spandsp's FSK demodulators decode each other's audio. The receiver
//    therefore measures the energy at the four frequencies and accepts a
//    message only from the demodulator whose modem matches the line.
//  - adsi_rx drops messages whose sumcheck (CLASS, CLIP) or CRC (JCLIP)
//    fails, so a damaged message never reaches us.
//  - JCLIP: when the message length octet is DLE (16: a 14-digit number)
//    adsi_tx stuffs it as NTT's transparency rule asks, but adsi_rx counts
//    the message one octet short and fails its CRC: such a message is sent
//    correctly but our receiver cannot decode it.
#include "sipline/dsp/caller_id.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "sipline/base/c_ptr.hpp"
#include "sipline/dsp/goertzel.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "spandsp.hpp"

// spandsp.hpp does not carry the ADSI headers yet; adsi.h needs async.h
// (put_msg_func_t) and fsk.h's dependencies seen first.
// clang-format off
#include <spandsp/power_meter.h>
#include <spandsp/async.h>
#include <spandsp/fsk.h>
#include <spandsp/adsi.h>
// clang-format on

namespace sipline::dsp {
namespace {

using AdsiTx = base::CPtr<adsi_tx_state_t, adsi_tx_free>;
using AdsiRx = base::CPtr<adsi_rx_state_t, adsi_rx_free>;

constexpr double kSpandspFskDbm0 = -14.0;   // fsk_tx_init()'s level
constexpr double kSpandspDtmfDbm0 = -10.0;  // dtmf_tx_init()'s level, per tone
constexpr uint8_t kDle = 0x10;
constexpr std::size_t kBellNameMax = 15;  // GR-30 MDMF name: at most 15 characters

// BT SIN 227: 96 to 315 bits of channel seizure, then 55 to 90 marks. Both
// are taken from the middle of the range, leaving margin for the exchange's
// tolerance at either end; ETSI keeps spandsp's defaults (300 seizure bits,
// 80 marks: EN 300 659-1's 80 +/- 25 for data sent in the ringing silence).
constexpr int kBtSeizureBits = 200;
constexpr int kBtMarkBits = 72;

// Bell 202 and V.23 carrier frequencies, all whole Goertzel bins of a
// 160-sample frame, so a pure tone of one modem is a null for the other's.
constexpr double kBellMarkHz = 1200, kBellSpaceHz = 2200;
constexpr double kV23MarkHz = 1300, kV23SpaceHz = 2100;
constexpr double kModemScoreDecay = 0.95;  // per frame: about 0.4 s memory

constexpr std::array<std::string_view, 7> kFormatNames = {"none", "bell202_sdmf", "bell202_mdmf", "etsi",
                                                          "bt",   "jclip",        "dtmf"};

std::string_view as_view(const uint8_t* p, int n) {
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(std::max(0, n))};
}
const uint8_t* as_bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// ------------------------------------------------------------------ render

// The number as sent: no leading '+', at most kMaxCallerIdNumber characters;
// digits only when `digits_only` (DTMF has no other symbols to spare).
std::string sendable_number(const std::string& number, bool digits_only) {
  std::string_view n = number;
  if (!n.empty() && n.front() == '+') n.remove_prefix(1);
  std::string out;
  for (char c : n) {
    if (out.size() >= kMaxCallerIdNumber) break;
    if (digits_only && (c < '0' || c > '9')) continue;
    out.push_back(c);
  }
  return out;
}

char absence_code(Absence a) { return a == Absence::withheld ? 'P' : 'O'; }

// "MMDDHHMM", or empty when the id carries no time (month == 0).
std::string date_time(const CallerId& id) {
  if (id.month == 0) return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d%02d", std::clamp(id.month, 1, 12), std::clamp(id.day, 0, 31),
                std::clamp(id.hour, 0, 23), std::clamp(id.minute, 0, 59));
  return buf;
}

// adsi_add_field() for CLASS/CLIP information elements, undoing spandsp's
// DLE stuffing of a 16-octet length (see the file comment).
int add_ie(adsi_tx_state_t* tx, uint8_t* msg, int len, uint8_t type, std::string_view body) {
  const int n = static_cast<int>(body.size());
  const int start = len;
  len = adsi_add_field(tx, msg, len, type, as_bytes(body), n);
  if (type != 0 && n == kDle && len == start + 3 + n) {
    std::memmove(msg + start + 2, msg + start + 3, static_cast<std::size_t>(n));
    --len;
  }
  return len;
}

// Builds the message for `format` into msg; returns its length.
int build_message(adsi_tx_state_t* tx, CallerIdFormat format, const CallerId& id, uint8_t* msg) {
  const std::string number = sendable_number(id.number, format == CallerIdFormat::dtmf);
  const char number_absent = absence_code(id.number_absence);
  switch (format) {
    case CallerIdFormat::bell202_sdmf: {
      int len = adsi_add_field(tx, msg, -1, CLASS_SDMF_CALLERID, nullptr, 0);
      // SDMF has no optional fields: the date and time are mandatory. Without
      // a time we send "00000000" (month 00 is no date at all) rather than
      // inventing one: displays show the number, and our receiver reads it
      // back as "no time".
      std::string body = date_time(id);
      if (body.empty()) body = "00000000";
      body += number.empty() ? std::string(1, number_absent) : number;
      return add_ie(tx, msg, len, 0, body);
    }
    case CallerIdFormat::bell202_mdmf:
    case CallerIdFormat::etsi:
    case CallerIdFormat::bt: {
      // CLASS MDMF and CLIP share the parameter codes used here.
      static_assert(int{MCLASS_DATETIME} == int{CLIP_DATETIME} && int{MCLASS_CALLER_NUMBER} == int{CLIP_CALLER_NUMBER} &&
                    int{MCLASS_ABSENCE1} == int{CLIP_ABSENCE1} && int{MCLASS_CALLER_NAME} == int{CLIP_CALLER_NAME} &&
                    int{MCLASS_ABSENCE2} == int{CLIP_ABSENCE2} && int{CLASS_MDMF_CALLERID} == int{CLIP_MDMF_CALLERID});
      const bool bell = format == CallerIdFormat::bell202_mdmf;
      const uint8_t type = bell ? uint8_t{CLASS_MDMF_CALLERID} : uint8_t{CLIP_MDMF_CALLERID};
      int len = adsi_add_field(tx, msg, -1, type, nullptr, 0);
      if (const std::string dt = date_time(id); !dt.empty()) len = add_ie(tx, msg, len, CLIP_DATETIME, dt);
      if (!number.empty()) {
        len = add_ie(tx, msg, len, CLIP_CALLER_NUMBER, number);
      } else {
        len = add_ie(tx, msg, len, CLIP_ABSENCE1, std::string_view(&number_absent, 1));
      }
      const std::size_t name_max = bell ? kBellNameMax : kMaxCallerIdName;
      if (!id.name.empty()) {
        len = add_ie(tx, msg, len, CLIP_CALLER_NAME, std::string_view(id.name).substr(0, name_max));
      } else if (id.name_absence != Absence::none) {
        const char name_absent = absence_code(id.name_absence);
        len = add_ie(tx, msg, len, CLIP_ABSENCE2, std::string_view(&name_absent, 1));
      }
      return len;
    }
    case CallerIdFormat::jclip: {
      int len = adsi_add_field(tx, msg, -1, JCLIP_MDMF_CALLERID, nullptr, 0);
      if (!number.empty()) {
        return adsi_add_field(tx, msg, len, JCLIP_CALLER_NUMBER, as_bytes(number), static_cast<int>(number.size()));
      }
      return adsi_add_field(tx, msg, len, JCLIP_ABSENCE, reinterpret_cast<const uint8_t*>(&number_absent), 1);
    }
    case CallerIdFormat::dtmf: {
      // The first "field" is the terminator; spandsp keeps it at the end.
      int len = adsi_add_field(tx, msg, -1, CLIP_DTMF_C_TERMINATED, nullptr, 0);
      if (!number.empty()) {
        return adsi_add_field(tx, msg, len, CLIP_DTMF_C_CALLER_NUMBER, as_bytes(number),
                              static_cast<int>(number.size()));
      }
      const std::string_view reason = id.number_absence == Absence::withheld ? "10" : "00";
      return adsi_add_field(tx, msg, len, CLIP_DTMF_C_ABSENCE, as_bytes(reason), 2);
    }
    case CallerIdFormat::none:
      break;
  }
  return 0;
}

int adsi_standard(CallerIdFormat format) {
  switch (format) {
    case CallerIdFormat::bell202_sdmf:
    case CallerIdFormat::bell202_mdmf: return ADSI_STANDARD_CLASS;
    case CallerIdFormat::etsi:
    case CallerIdFormat::bt: return ADSI_STANDARD_CLIP;
    case CallerIdFormat::jclip: return ADSI_STANDARD_JCLIP;
    case CallerIdFormat::dtmf: return ADSI_STANDARD_CLIP_DTMF;
    case CallerIdFormat::none: break;
  }
  return ADSI_STANDARD_NONE;
}

void scale(std::vector<int16_t>& samples, double gain) {
  for (int16_t& s : samples) {
    const double v = std::clamp(std::round(s * gain), -32768.0, 32767.0);
    s = static_cast<int16_t>(v);
  }
}

// ----------------------------------------------------------------- receive

// Fills `out` from a field body within its reserved capacity.
void assign_within(std::string& out, const uint8_t* body, int len, std::size_t max) {
  const std::size_t n = std::min({static_cast<std::size_t>(std::max(0, len)), max, out.capacity()});
  out.assign(reinterpret_cast<const char*>(body), n);
}

Absence absence_from(const uint8_t* body, int len) {
  return len >= 1 && body[0] == 'P' ? Absence::withheld : Absence::unavailable;
}

int two_digits(std::string_view s) {
  if (s.size() < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// "MMDDHHMM" into id; month 00 (or anything malformed) leaves "no time".
void parse_date_time(std::string_view s, CallerId& id) {
  if (s.size() < 8) return;
  const int month = two_digits(s.substr(0, 2)), day = two_digits(s.substr(2, 2));
  const int hour = two_digits(s.substr(4, 2)), minute = two_digits(s.substr(6, 2));
  if (month <= 0 || month > 12 || day < 0 || hour < 0 || minute < 0) return;
  id.month = month;
  id.day = day;
  id.hour = hour;
  id.minute = minute;
}

}  // namespace

std::string_view to_string(CallerIdFormat format) {
  const auto i = static_cast<std::size_t>(format);
  return i < kFormatNames.size() ? kFormatNames[i] : std::string_view("none");
}

std::optional<CallerIdFormat> caller_id_format_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kFormatNames.size(); ++i) {
    if (kFormatNames[i] == name) return static_cast<CallerIdFormat>(i);
  }
  return std::nullopt;
}

std::vector<int16_t> render_caller_id(CallerIdFormat format, const CallerId& id, double level_dbm0) {
  if (format == CallerIdFormat::none) return {};
  AdsiTx tx(adsi_tx_init(nullptr, adsi_standard(format)));
  if (!tx) return {};
  if (format == CallerIdFormat::bt) adsi_tx_set_preamble(tx.get(), kBtSeizureBits, kBtMarkBits, -1, -1);
  std::array<uint8_t, 256> msg{};
  const int len = build_message(tx.get(), format, id, msg.data());
  if (len <= 0 || adsi_tx_put_message(tx.get(), msg.data(), len) <= 0) return {};

  std::vector<int16_t> out;
  std::array<int16_t, base::kFrameSamples> block{};
  for (;;) {
    const int n = adsi_tx(tx.get(), block.data(), static_cast<int>(block.size()));
    if (n <= 0) break;
    out.insert(out.end(), block.begin(), block.begin() + n);
  }
  const double native = format == CallerIdFormat::dtmf ? kSpandspDtmfDbm0 : kSpandspFskDbm0;
  scale(out, std::pow(10.0, (level_dbm0 - native) / 20.0));
  return out;
}

std::vector<int16_t> render_alert_tone(int duration_ms, double level_dbm0) {
  constexpr int kFadeMs = 2;  // ToneGenerator's ramp; the tone fades out within duration_ms
  const int total = std::max(0, duration_ms) * base::kSampleRate / 1000;
  // ToneGenerator takes whole dB; the fraction is applied afterwards.
  const int whole_db = static_cast<int>(std::lround(level_dbm0));
  ToneSpec spec;
  spec.steps.push_back(ToneStep{.f1_hz = 2130,
                                .f2_hz = 2750,
                                .mod_hz = 0,
                                .level_dbm0 = whole_db,
                                .duration_ms = duration_ms > 2 * kFadeMs ? duration_ms - kFadeMs : 0});
  if (duration_ms > 2 * kFadeMs) spec.steps.push_back(ToneStep{});  // silence until stopped: the fade-out

  std::vector<int16_t> out;
  out.reserve(static_cast<std::size_t>(total) + base::kFrameSamples);
  ToneGenerator gen;
  gen.start(&spec);
  base::AudioFrame frame{};
  while (out.size() < static_cast<std::size_t>(total)) {
    gen.generate(frame);
    out.insert(out.end(), frame.begin(), frame.end());
  }
  out.resize(static_cast<std::size_t>(total));
  scale(out, std::pow(10.0, (level_dbm0 - whole_db) / 20.0));
  return out;
}

// ---------------------------------------------------------------- receiver

struct CallerIdReceiver::Impl {
  // One demodulator; `owner` and `standard` for its callback.
  struct Demod {
    AdsiRx rx;
    int standard = ADSI_STANDARD_NONE;
    Impl* owner = nullptr;
  };

  bool automatic = false;
  CallerIdFormat format = CallerIdFormat::none;
  std::array<Demod, 4> demods;  // CLASS, CLIP, JCLIP, CLIP_DTMF; unused ones have no rx
  bool listen_fsk = false;
  // > 0: the line carries Bell 202, < 0: V.23 (a leaky sum of per-frame
  // Goertzel power ratios).
  double modem_score = 0;
  CallerIdMessage message;
  CallerId scratch;  // parsed into, then swapped with message.id when valid
  bool ready = false;
  bool delivered_this_frame = false;

  Impl(CallerIdFormat f, bool automatic_) : automatic(automatic_), format(f) {
    for (CallerId* id : {&message.id, &scratch}) {
      id->number.reserve(kMaxCallerIdNumber + 4);
      id->name.reserve(kMaxCallerIdName + 4);
    }
    const int wanted = automatic ? -1 : adsi_standard(format);
    const std::array<int, 4> standards = {ADSI_STANDARD_CLASS, ADSI_STANDARD_CLIP, ADSI_STANDARD_JCLIP,
                                          ADSI_STANDARD_CLIP_DTMF};
    for (std::size_t i = 0; i < demods.size(); ++i) {
      if (wanted != -1 && wanted != standards[i]) continue;
      demods[i].standard = standards[i];
      demods[i].owner = this;
      demods[i].rx.reset(adsi_rx_init(nullptr, standards[i], &Impl::on_message, &demods[i]));
      if (demods[i].rx) detail::quiet_spandsp_log(adsi_rx_get_logging_state(demods[i].rx.get()));
      if (standards[i] != ADSI_STANDARD_CLIP_DTMF) listen_fsk = true;
    }
  }

  void reset() {
    for (Demod& d : demods) {
      if (!d.rx) continue;
      adsi_rx_init(d.rx.get(), d.standard, &Impl::on_message, &d);  // re-initialises in place
      detail::quiet_spandsp_log(adsi_rx_get_logging_state(d.rx.get()));
    }
    modem_score = 0;
    ready = false;
  }

  void process(base::ConstFrameSpan audio) {
    if (listen_fsk) {
      const std::span<const int16_t> s(audio.data(), audio.size());
      const double bell = tone_power_ratio(s, kBellMarkHz) + tone_power_ratio(s, kBellSpaceHz);
      const double v23 = tone_power_ratio(s, kV23MarkHz) + tone_power_ratio(s, kV23SpaceHz);
      modem_score = modem_score * kModemScoreDecay + (bell - v23);
    }
    delivered_this_frame = false;
    for (Demod& d : demods) {
      // adsi_rx() only reads the samples; 0.0.6 declares them const.
      if (d.rx) adsi_rx(d.rx.get(), audio.data(), static_cast<int>(audio.size()));
    }
  }

  static void on_message(void* user_data, const uint8_t* msg, int len) noexcept {
    auto* d = static_cast<Demod*>(user_data);
    d->owner->deliver(*d, msg, len);
  }

  void deliver(Demod& d, const uint8_t* msg, int len) {
    if (delivered_this_frame) return;  // the first complete message wins
    const bool bell = d.standard == ADSI_STANDARD_CLASS;
    const bool v23 = d.standard == ADSI_STANDARD_CLIP || d.standard == ADSI_STANDARD_JCLIP;
    if ((bell && modem_score <= 0) || (v23 && modem_score >= 0)) return;  // the other modem's audio
    CallerId& id = scratch;
    id.number.clear();
    id.name.clear();
    id.number_absence = id.name_absence = Absence::none;
    id.month = id.day = id.hour = id.minute = 0;
    CallerIdFormat recognised = CallerIdFormat::none;
    if (d.standard == ADSI_STANDARD_CLIP_DTMF) {
      recognised = parse_dtmf(msg, len) ? CallerIdFormat::dtmf : CallerIdFormat::none;
    } else {
      recognised = parse_fields(d, msg, len);
    }
    if (recognised == CallerIdFormat::none) return;
    std::swap(message.id, scratch);  // moves strings: no allocation
    message.format = recognised;
    ready = true;
    delivered_this_frame = true;
  }

  // CLASS, CLIP and JCLIP: information elements through adsi_next_field().
  CallerIdFormat parse_fields(Demod& d, const uint8_t* msg, int len) {
    CallerId& id = scratch;
    uint8_t type = 0;
    const uint8_t* body = nullptr;
    int body_len = 0;
    int pos = adsi_next_field(d.rx.get(), msg, len, -1, &type, &body, &body_len);
    if (pos < 0) return CallerIdFormat::none;
    CallerIdFormat recognised = CallerIdFormat::none;
    if (d.standard == ADSI_STANDARD_CLASS && type == CLASS_SDMF_CALLERID) recognised = CallerIdFormat::bell202_sdmf;
    if (d.standard == ADSI_STANDARD_CLASS && type == CLASS_MDMF_CALLERID) recognised = CallerIdFormat::bell202_mdmf;
    if (d.standard == ADSI_STANDARD_CLIP && type == CLIP_MDMF_CALLERID) recognised = CallerIdFormat::etsi;
    if (d.standard == ADSI_STANDARD_JCLIP && type == JCLIP_MDMF_CALLERID) recognised = CallerIdFormat::jclip;
    if (recognised == CallerIdFormat::none) return recognised;  // message waiting etc.
    bool any = false;
    while ((pos = adsi_next_field(d.rx.get(), msg, len, pos, &type, &body, &body_len)) > 0) {
      any = true;
      if (recognised == CallerIdFormat::bell202_sdmf) {
        // MMDDHHMM, then the number or a one-letter reason for its absence.
        const std::string_view all = as_view(body, body_len);
        if (all.size() < 8) return CallerIdFormat::none;
        parse_date_time(all, id);
        const std::string_view rest = all.substr(8);
        if (rest == "P" || rest == "O") {
          id.number_absence = rest == "P" ? Absence::withheld : Absence::unavailable;
        } else {
          assign_within(id.number, body + 8, body_len - 8, kMaxCallerIdNumber);
        }
        continue;
      }
      if (recognised == CallerIdFormat::jclip) {
        if (type == JCLIP_CALLER_NUMBER) assign_within(id.number, body, body_len, kMaxCallerIdNumber);
        if (type == JCLIP_ABSENCE) id.number_absence = absence_from(body, body_len);
        continue;
      }
      switch (type) {  // MCLASS_* and CLIP_* agree (see build_message)
        case CLIP_DATETIME: parse_date_time(as_view(body, body_len), id); break;
        case CLIP_CALLER_NUMBER: assign_within(id.number, body, body_len, kMaxCallerIdNumber); break;
        case CLIP_ABSENCE1: id.number_absence = absence_from(body, body_len); break;
        case CLIP_CALLER_NAME: assign_within(id.name, body, body_len, kMaxCallerIdName); break;
        case CLIP_ABSENCE2: id.name_absence = absence_from(body, body_len); break;
        default: break;
      }
    }
    if (pos == -2 || !any) return CallerIdFormat::none;  // structure corrupt, or empty
    return recognised;
  }

  // DTMF: spandsp hands over the digits up to and including the 'C' (or
  // '#') that ends a message. Accepted: A<number>C, B<reason>C, and the
  // '#'-terminated variant's A<number># and D<1|2|3>#.
  bool parse_dtmf(const uint8_t* msg, int len) {
    CallerId& id = scratch;
    const std::string_view s = as_view(msg, len);
    if (s.size() < 2) return false;
    const char end = s.back();
    const char start = s.front();
    const std::string_view body = s.substr(1, s.size() - 2);
    if (body.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (start == CLIP_DTMF_C_CALLER_NUMBER && !body.empty()) {
      assign_within(id.number, msg + 1, static_cast<int>(body.size()), kMaxCallerIdNumber);
      return true;
    }
    if (end == CLIP_DTMF_C_TERMINATED && start == CLIP_DTMF_C_ABSENCE && body.size() == 2) {
      id.number_absence = body == "10" ? Absence::withheld : Absence::unavailable;
      return true;
    }
    if (end == CLIP_DTMF_HASH_TERMINATED && start == CLIP_DTMF_HASH_ABSENCE && body.size() == 1) {
      id.number_absence = body == "1" ? Absence::withheld : Absence::unavailable;
      return true;
    }
    return false;
  }
};

CallerIdReceiver::CallerIdReceiver(CallerIdFormat format, bool automatic)
    : impl_(std::make_unique<Impl>(format, automatic)) {}
CallerIdReceiver::~CallerIdReceiver() = default;
CallerIdReceiver::CallerIdReceiver(CallerIdReceiver&&) noexcept = default;
CallerIdReceiver& CallerIdReceiver::operator=(CallerIdReceiver&&) noexcept = default;

void CallerIdReceiver::process(base::ConstFrameSpan audio) { impl_->process(audio); }

const CallerIdMessage* CallerIdReceiver::take() {
  if (!impl_->ready) return nullptr;
  impl_->ready = false;
  return &impl_->message;
}

void CallerIdReceiver::reset() { impl_->reset(); }

}  // namespace sipline::dsp
