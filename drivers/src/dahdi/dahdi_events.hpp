#pragma once
// EventMapper: what one DAHDI event (DAHDI_GETEVENT) means on one port, as
// LineEvents (private to the dahdi driver).
//
// The meaning depends on the port kind, because DAHDI reports hook signalling
// from the card's point of view (dahdi-base.c, __dahdi_hooksig_pvt and the
// per-chunk ring trailer / pulse timers; wctdm24xxp for the FXO module):
//
// FXS port (FXO signalling, a phone on the line):
//   RINGOFFHOOK         the phone went off hook                 -> off_hook
//   ONHOOK              on hook longer than the flash time      -> on_hook
//   WINKFLASH           on hook shorter than the flash time     -> flash
//   PULSEDIGIT | c      a rotary digit ('0'..'9', '*', '#')     -> pulse_digit
//   PULSE_START, RINGERON/RINGEROFF, HOOKCOMPLETE               ignored
//                       (HOOKCOMPLETE also ends an OSI's DAHDI_KEWLTIME)
// FXO port (FXS signalling, a line from the exchange):
//   RINGBEGIN           ring voltage appeared                   -> ring_start
//   RINGOFFHOOK         ring voltage gone for the ring trailer  -> ring_stop
//                       (preceded by ring_start when RINGBEGIN was suppressed
//                       by DAHDI's ring debounce)
//   POLARITY            the exchange reversed the battery       -> polarity_reversal
//   ONHOOK              loop current / battery lost while we hold the line
//                       (kewlstart disconnect supervision)      -> loop_drop
//   DIALCOMPLETE        the DAHDI_DIAL string is done (__do_dtmf) -> dial_complete
// Both:
//   ALARM, REMOVED      -> alarm (in_alarm set); NOALARM clears in_alarm and
//                       produces no LineEvent (LineEventType has no "cleared").
//   Anything else (DTMFDOWN/UP, EC and fax tone events, overruns) is ignored.
//
// Thread: the driver's event thread.
#include <array>
#include <cstddef>

#include "sipline/drivers/line_driver.hpp"

namespace sipline::drivers::dahdi {

enum class AlarmChange { none, raised, cleared };

struct EventMeaning {
  std::size_t count = 0;                 // line events produced (0..2)
  std::array<LineEventType, 2> types{};  // in order
  char digit = 0;                        // pulse_digit
  AlarmChange alarm = AlarmChange::none;
};

class EventMapper {
 public:
  explicit EventMapper(PortKind kind) : kind_(kind) {}
  EventMeaning map(int dahdi_event);

 private:
  PortKind kind_;
  bool ringing_ = false;  // FXO: between ring_start and ring_stop
};

}  // namespace sipline::drivers::dahdi
