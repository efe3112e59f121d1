#include "call/leg_sdp.hpp"

namespace sipline::gateway::call {

// Every SDP we send carries fresh SRTP keys, so a re-INVITE re-keys the
// stream (RFC 4568 §7.1.4 lets each offer/answer choose new ones).
sip::LocalMedia LegSdp::local() {
  sip::LocalMedia local{.address = config_.media.rtp_address,
                        .port = port_,
                        .codecs = config_.media.codecs,
                        .dtmf_payload_type = config_.media.dtmf_payload_type,
                        .session_id = session_id_,
                        .session_version = ++version_,
                        .srtp = config_.media.srtp,
                        .keys = {}};
  if (local.srtp != media::SrtpPolicy::off) {
    for (media::SrtpSuite suite : config_.media.srtp_suites) local.keys.push_back({suite, media::make_srtp_key(suite)});
  }
  return local;
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
