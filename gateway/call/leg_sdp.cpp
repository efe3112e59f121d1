#include "call/leg_sdp.hpp"

namespace sipline::gateway::call {

sip::LocalMedia LegSdp::local() {
  return {.address = config_.media.rtp_address,
          .port = port_,
          .codecs = config_.media.codecs,
          .dtmf_payload_type = config_.media.dtmf_payload_type,
          .session_id = session_id_,
          .session_version = ++version_};
}

base::Result<std::string> LegSdp::answer(const std::string& offer_sdp) {
  auto offer = sip::parse_sdp(offer_sdp);
  if (!offer) return base::fail(offer.error());
  auto answered = sip::answer_offer(*offer, local());
  if (!answered) return base::fail(answered.error());
  negotiated_ = answered->negotiated;
  return sip::print_sdp(answered->answer);
}

std::string LegSdp::offer() {
  offer_ = sip::make_offer(local());
  return sip::print_sdp(offer_);
}

base::Result<void> LegSdp::accept(const std::string& answer_sdp) {
  auto parsed = sip::parse_sdp(answer_sdp);
  if (!parsed) return base::fail(parsed.error());
  auto negotiated = sip::accept_answer(offer_, *parsed);
  if (!negotiated) return base::fail(negotiated.error());
  negotiated_ = *negotiated;
  return {};
}

}  // namespace sipline::gateway::call
