#include "dahdi_events.hpp"

#include <cstdio>
#include <string>

#include <dahdi/user.h>

#include "sipline/drivers/dahdi_driver.hpp"

namespace sipline::drivers {

// DAHDI names signalling after what it talks to: a card's FXS module feeds a
// phone, which is an FXO device, so the channel is configured `fxoks` in
// system.conf and reports DAHDI_SIG_FXO*; a card's FXO module hangs off an
// exchange line, an FXS device, and reports DAHDI_SIG_FXS*. Our PortKind names
// the port as the card's module is labelled, hence the swap.
std::optional<PortKind> dahdi_kind_for_sigtype(int sigtype) {
  switch (sigtype) {
    case DAHDI_SIG_FXOLS:
    case DAHDI_SIG_FXOGS:
    case DAHDI_SIG_FXOKS:
      return PortKind::fxs;
    case DAHDI_SIG_FXSLS:
    case DAHDI_SIG_FXSGS:
    case DAHDI_SIG_FXSKS:
      return PortKind::fxo;
    default:
      return std::nullopt;
  }
}

std::string dahdi_sigtype_name(int sigtype) {
  switch (sigtype) {
    case DAHDI_SIG_FXOLS: return "fxo_ls";
    case DAHDI_SIG_FXOGS: return "fxo_gs";
    case DAHDI_SIG_FXOKS: return "fxo_ks";
    case DAHDI_SIG_FXSLS: return "fxs_ls";
    case DAHDI_SIG_FXSGS: return "fxs_gs";
    case DAHDI_SIG_FXSKS: return "fxs_ks";
    case DAHDI_SIG_NONE: return "none";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "sigtype 0x%x", static_cast<unsigned>(sigtype));
      return buf;
    }
  }
}

namespace dahdi {
namespace {

EventMeaning one(LineEventType type, char digit = 0) {
  EventMeaning m;
  m.count = 1;
  m.types[0] = type;
  m.digit = digit;
  return m;
}

}  // namespace

EventMeaning EventMapper::map(int event) {
  if (event & DAHDI_EVENT_PULSEDIGIT) {
    if (kind_ != PortKind::fxs) return {};
    return one(LineEventType::pulse_digit, static_cast<char>(event & 0xff));
  }
  if (event & (DAHDI_EVENT_DTMFDOWN | DAHDI_EVENT_DTMFUP)) return {};

  switch (event) {
    case DAHDI_EVENT_ALARM:
    case DAHDI_EVENT_REMOVED: {
      auto m = one(LineEventType::alarm);
      m.alarm = AlarmChange::raised;
      return m;
    }
    case DAHDI_EVENT_NOALARM: {
      EventMeaning m;
      m.alarm = AlarmChange::cleared;
      return m;
    }
    default:
      break;
  }

  if (kind_ == PortKind::fxs) {
    switch (event) {
      case DAHDI_EVENT_RINGOFFHOOK: return one(LineEventType::off_hook);
      case DAHDI_EVENT_ONHOOK: return one(LineEventType::on_hook);
      case DAHDI_EVENT_WINKFLASH: return one(LineEventType::flash);
      default: return {};
    }
  }

  switch (event) {
    case DAHDI_EVENT_RINGBEGIN:
      if (ringing_) return {};
      ringing_ = true;
      return one(LineEventType::ring_start);
    case DAHDI_EVENT_RINGOFFHOOK: {
      EventMeaning m;
      if (!ringing_) m.types[m.count++] = LineEventType::ring_start;
      m.types[m.count++] = LineEventType::ring_stop;
      ringing_ = false;
      return m;
    }
    case DAHDI_EVENT_POLARITY: return one(LineEventType::polarity_reversal);
    case DAHDI_EVENT_DIALCOMPLETE: return one(LineEventType::dial_complete);
    case DAHDI_EVENT_ONHOOK:
      ringing_ = false;
      return one(LineEventType::loop_drop);
    default: return {};
  }
}

}  // namespace dahdi
}  // namespace sipline::drivers
