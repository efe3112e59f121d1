#pragma once
// Caller ID (calling line identification) as line audio, with spandsp's ADSI
// modems: the message formats of every supported country, rendered to audio
// for an FXS port to send, and a receiver that decodes them from what a phone
// (or an FXO port) hears.
//
//   bell202_sdmf  Bellcore GR-30 single data message (0x04), Bell 202 FSK
//   bell202_mdmf  Bellcore GR-30 multiple data message (0x80), Bell 202 FSK
//   etsi          ETSI EN 300 659-3 call set-up message (0x80), V.23 FSK
//   bt            BT SIN 227 / SIN 242 (ETSI's message, BT's own
//                 channel-seizure and mark lengths), V.23 FSK
//   jclip         NTT "Number Display" (JCLIP) message, V.23 FSK with DLE
//                 framing and CRC
//   dtmf          ETSI ES 200 778-1 Annex B DTMF caller ID (A<number>C, or
//                 B<reason>C when withheld ("10") or unavailable ("00"))
// The alerting signals around the data (first ring, line reversal, DT-AS,
// RP-AS, NTT's CAR) belong to the line's timing (CallerIdTiming in
// tone_profile.hpp); render_alert_tone() makes DT-AS and BT's idle-state tone
// alert (both 2130 + 2750 Hz).
// Thread: render_* on any thread (they allocate). CallerIdReceiver is owned by
// one thread; process() and take() are realtime (no allocation).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/audio_frame.hpp"

namespace sipline::dsp {

enum class CallerIdFormat { none, bell202_sdmf, bell202_mdmf, etsi, bt, jclip, dtmf };
std::string_view to_string(CallerIdFormat format);
// "none", "bell202_sdmf", "bell202_mdmf", "etsi", "bt", "jclip", "dtmf".
std::optional<CallerIdFormat> caller_id_format_from_string(std::string_view name);

// Why a number or name is not presented.
enum class Absence { none, withheld, unavailable };  // withheld = "private" ('P'), unavailable = 'O'

// At most this many characters of number and name are sent or kept.
inline constexpr std::size_t kMaxCallerIdNumber = 20;
inline constexpr std::size_t kMaxCallerIdName = 32;

struct CallerId {
  std::string number{};                // digits (a leading '+' is dropped when sent); empty when absent
  std::string name{};                  // empty when absent
  Absence number_absence = Absence::none;  // set when number is empty
  Absence name_absence = Absence::none;    // set when name is empty
  // Local date and time of the call; month == 0 means "no time".
  int month = 0, day = 0, hour = 0, minute = 0;
  bool operator==(const CallerId&) const = default;
};

// The data burst of one caller ID message as 8 kHz audio, level_dbm0 per
// tone (FSK carriers / DTMF tones), including the format's channel seizure,
// mark and trailing marks; no alerting signal, no leading silence. What each
// format cannot carry is left out (SDMF and DTMF: no name; JCLIP: no name or
// time; DTMF: no time). Empty for CallerIdFormat::none.
std::vector<int16_t> render_caller_id(CallerIdFormat format, const CallerId& id, double level_dbm0 = -13.0);
// The dual-tone alerting signal (ETSI DT-AS, BT idle-state TAS): 2130 Hz +
// 2750 Hz for `duration_ms`, level_dbm0 per tone.
std::vector<int16_t> render_alert_tone(int duration_ms = 100, double level_dbm0 = -20.0);

struct CallerIdMessage {
  CallerIdFormat format = CallerIdFormat::none;  // as recognised (V.23 ETSI and BT both report etsi)
  CallerId id;
};

class CallerIdReceiver {
 public:
  // One format, or `automatic` = true: Bell 202, V.23 (ETSI/BT), JCLIP and
  // DTMF demodulators run side by side and the first complete, valid message
  // wins, reporting which format the line uses.
  explicit CallerIdReceiver(CallerIdFormat format, bool automatic = false);
  ~CallerIdReceiver();
  CallerIdReceiver(CallerIdReceiver&&) noexcept;
  CallerIdReceiver& operator=(CallerIdReceiver&&) noexcept;

  // Realtime: feeds one frame of line audio.
  void process(base::ConstFrameSpan audio);
  // Realtime: the message completed since the last take(), if any (valid
  // until the next process()). A message with a bad checksum is dropped.
  const CallerIdMessage* take();
  // Realtime: forget partial state (e.g. when the line goes off hook).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::dsp
