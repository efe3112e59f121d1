#pragma once
// The caller ID an analog phone is given for a SIP call: who the INVITE says
// is calling (P-Asserted-Identity from a trusted peer, else From), whether
// they asked for privacy (RFC 3323 Privacy: id/user/header, or an anonymous
// From, RFC 3325 §9.1), and the local date and time.
// Thread: any (pure).
#include <ctime>

#include "sip/sip_stack.hpp"
#include "sipline/dsp/caller_id.hpp"

namespace sipline::gateway::call {

// `trusted_peer`: the INVITE came from a trusted address, so its
// P-Asserted-Identity is believed. `now`: local time of the call.
dsp::CallerId caller_id_from_invite(const sip::InviteInfo& invite, bool trusted_peer, const std::tm& now);

}  // namespace sipline::gateway::call
