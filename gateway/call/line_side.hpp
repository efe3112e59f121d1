#pragma once
// LineSide: what a call between a line and a SIP dialog asks of the line,
// whichever kind it is (FXS phone or FXO exchange line).
// Thread: control.
#include <string>

#include "sipline/dsp/caller_id.hpp"

namespace sipline::gateway::call {

// Why a call ended or failed, as the line must signal it.
enum class EndCause { normal, busy, unreachable, rejected };

class LineSide {
 public:
  virtual ~LineSide() = default;
  // Whether an incoming SIP call could take the line now.
  virtual bool can_ring() const = 0;
  // An incoming SIP call: false if the line cannot take it (busy). `dial`:
  // for an exchange line, the digits to dial.
  virtual bool offer_incoming_call(const dsp::CallerId& caller, const std::string& dial) = 0;
  // The line's outgoing SIP call is ringing at the far end (early media: the
  // far end sends the ringback itself).
  virtual void on_remote_ringing(bool early_media) = 0;
  virtual void on_remote_answered() = 0;
  // The call ended or failed from the far end (BYE, CANCEL, error response).
  virtual void on_remote_ended(EndCause cause) = 0;
};

}  // namespace sipline::gateway::call
