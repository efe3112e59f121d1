#pragma once
// CallStatus: one call as `siplinectl calls` shows it.
#include <optional>
#include <string>

#include "media/media_engine.hpp"

namespace sipline::gateway::call {

struct CallStatus {
  std::string call_id;
  bool inbound = false;
  std::string line;    // the port's name; "sip" for a SIP-to-SIP bridge
  std::string remote;
  std::string state;   // routing, ringing, early, connected
  std::string codec;
  std::string srtp;    // the SRTP suite, or "off"; a bridge: "<caller leg>/<callee leg>" when they differ
  media::StreamStats rtp;   // the call's stream; a bridge: the caller's leg (A)
  std::optional<media::StreamStats> callee_rtp;  // a bridge: the callee's leg (B)
};

}  // namespace sipline::gateway::call
