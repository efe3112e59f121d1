#pragma once
// LegSdp: the offer/answer state (RFC 3264) of the audio stream of one SIP
// dialog: our o= session id (fixed for the dialog) and version (one higher
// with every SDP we send, §5 and §8), our last offer, and what was agreed.
// Thread: control.
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "sip/sdp.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::call {

class LegSdp {
 public:
  LegSdp(const config::Config& config, std::uint64_t session_id, std::uint16_t local_port)
      : config_(config), session_id_(session_id), port_(local_port) {}

  // Answers the far end's offer; the answer's text. Errors: unparsable SDP or
  // nothing acceptable (the caller answers 488).
  base::Result<std::string> answer(const std::string& offer_sdp);
  // A new offer of ours (an INVITE, or a 2xx to an INVITE without SDP).
  std::string offer();
  // Reads the far end's answer to our last offer.
  base::Result<void> accept(const std::string& answer_sdp);
  // Forgets what was agreed (a new target is about to be tried).
  void reset() { negotiated_.reset(); }

  const std::optional<sip::Negotiated>& negotiated() const { return negotiated_; }
  std::string codec() const { return negotiated_ ? negotiated_->codec_name : ""; }
  // The agreed SRTP suite's name, or "off" (plain RTP, or nothing agreed yet).
  std::string srtp() const {
    return negotiated_ && negotiated_->stream.srtp ? std::string(media::srtp_suite_name(negotiated_->stream.srtp->suite))
                                                   : "off";
  }

 private:
  sip::LocalMedia local();

  const config::Config& config_;
  std::uint64_t session_id_;
  std::uint64_t version_ = 0;
  std::uint16_t port_;
  sip::SessionDescription offer_;
  std::optional<sip::Negotiated> negotiated_;
};

}  // namespace sipline::gateway::call
