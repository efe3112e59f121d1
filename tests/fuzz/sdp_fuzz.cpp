// libFuzzer target for the SDP parser and offer/answer (gateway/sip/sdp.hpp).
// Checks, besides memory safety:
//  - print_sdp(parse_sdp(x)) parses again to the same description;
//  - when answer_offer accepts x as an offer, its answer is printable,
//    parses again, and accept_answer takes it: once without SRTP and once
//    with SRTP optional (the answer's a=crypto, when there is one, names an
//    offered tag and suite, and the keys agreed are the right length).
// Build (clang): clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
//   -I gateway -I base/include -I dsp/include -I drivers/include
//   tests/fuzz/sdp_fuzz.cpp gateway/sip/sdp.cpp
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip/sdp.hpp"

namespace {

using namespace sipline::gateway::sip;

bool same(const SdpFormat& a, const SdpFormat& b) {
  return a.payload_type == b.payload_type && a.encoding == b.encoding && a.clock_rate == b.clock_rate &&
         a.channels == b.channels && a.fmtp == b.fmtp;
}

bool same(const SdpMedia& a, const SdpMedia& b) {
  if (a.type != b.type || a.port != b.port || a.proto != b.proto || a.connection_address != b.connection_address ||
      a.direction != b.direction || a.ptime_ms != b.ptime_ms || a.other_attributes != b.other_attributes ||
      a.formats.size() != b.formats.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.formats.size(); ++i) {
    if (!same(a.formats[i], b.formats[i])) return false;
  }
  return true;
}

bool same(const SessionDescription& a, const SessionDescription& b) {
  if (a.origin_user != b.origin_user || a.session_id != b.session_id || a.session_version != b.session_version ||
      a.origin_address != b.origin_address || a.session_name != b.session_name ||
      a.connection_address != b.connection_address || a.media.size() != b.media.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.media.size(); ++i) {
    if (!same(a.media[i], b.media[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sdp = parse_sdp(text);
  if (!sdp) return 0;

  auto again = parse_sdp(print_sdp(*sdp));
  if (!again || !same(*sdp, *again)) std::abort();

  LocalMedia local;
  local.address = "127.0.0.1";
  local.port = 16384;
  local.codecs = {sipline::gateway::media::AudioCodec::pcma, sipline::gateway::media::AudioCodec::pcmu};
  for (const bool srtp : {false, true}) {
    if (srtp) {
      using sipline::gateway::media::SrtpSuite;
      local.srtp = sipline::gateway::media::SrtpPolicy::optional;
      local.keys = {{SrtpSuite::aes_cm_128_hmac_sha1_80, std::string(30, 'k')},
                    {SrtpSuite::aead_aes_128_gcm, std::string(28, 'g')}};
    }
    auto answered = answer_offer(*sdp, local);
    if (!answered) continue;
    auto answer = parse_sdp(print_sdp(answered->answer));
    if (!answer || answer->media.size() != sdp->media.size()) std::abort();
    auto accepted = accept_answer(*sdp, *answer);
    if (!accepted) std::abort();
    const auto& keys = answered->negotiated.stream.srtp;
    if (keys && (keys->local_key.size() != sipline::gateway::media::srtp_key_length(keys->suite) ||
                 keys->remote_key.size() != keys->local_key.size() || !accepted->stream.srtp ||
                 accepted->stream.srtp->suite != keys->suite)) {
      std::abort();
    }
  }
  return 0;
}
