#pragma once
// SDP (RFC 4566) parsing and printing, and RFC 3264 offer/answer for one audio
// stream with G.711 (PCMU, PCMA), RFC 4733 telephone-event, and SRTP keyed by
// SDES (RFC 4568 a=crypto; policies and suites in media/srtp.hpp).
//
// sipline runs offer/answer itself (Sofia's nua has its media layer turned off,
// NUTAG_MEDIA_ENABLE(0)) because a gateway that bridges, holds, transfers and
// adds ICE and SRTP attributes needs to own its SDP; see docs/DESIGN.md.
// Parsing is strict on structure (v=, o=, s=, m= lines; known line types) and
// tolerant of unknown attributes, which are kept. Malformed input gives an
// SdpError with the line number; the caller answers 488 (or 400).
// Thread: any; pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/media_engine.hpp"
#include "media/srtp.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::sip {

enum class SdpError { syntax, no_audio, no_common_codec, bad_address, no_common_crypto };

struct SdpFormat {
  std::uint8_t payload_type = 0;
  std::string encoding;        // from a=rtpmap, e.g. "PCMU", "telephone-event"; static types filled in
  int clock_rate = 8000;
  int channels = 1;
  std::string fmtp;            // a=fmtp parameters, e.g. "0-16"
};

// One a=crypto line (RFC 4568 §9.1): a=crypto:<tag> <suite> <key-params> [<session-params>].
struct SdpCrypto {
  unsigned tag = 0;            // 1..999999999
  std::string suite;           // as written, e.g. "AES_CM_128_HMAC_SHA1_80"
  std::string key_params;      // e.g. "inline:<base64 key||salt>|2^31"
  std::string session_params;  // the rest of the line ("" = none)
};

struct SdpMedia {
  std::string type = "audio";
  std::uint16_t port = 0;      // 0 = stream rejected/disabled
  std::string proto = "RTP/AVP";
  std::vector<SdpFormat> formats;            // in m= line order
  std::string connection_address;           // media-level c= (empty: use session-level)
  media::Direction direction = media::Direction::sendrecv;
  int ptime_ms = 0;                          // 0 = not given
  std::vector<SdpCrypto> crypto;             // a=crypto lines, in order
  std::vector<std::string> other_attributes; // unknown a= lines, without "a=", kept in order
};

struct SessionDescription {
  std::string origin_user = "-";
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  std::string origin_address;
  std::string session_name = "-";
  std::string connection_address;            // session-level c= (IP4 or IP6 literal)
  std::vector<SdpMedia> media;
};

base::Result<SessionDescription> parse_sdp(std::string_view text);
std::string print_sdp(const SessionDescription& sdp);

// A key of ours for one SRTP suite (raw master key || salt).
struct LocalKey {
  media::SrtpSuite suite = media::SrtpSuite::aes_cm_128_hmac_sha1_80;
  std::string key;
};

// What this side can do, from config.
struct LocalMedia {
  std::string address;                       // for o= and c=
  std::uint16_t port = 0;                    // RTP port
  std::vector<media::AudioCodec> codecs;     // preference order
  int dtmf_payload_type = 101;               // -1 = do not offer telephone-event
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  int ptime_ms = 20;
  // SRTP: the policy, and one fresh key per suite we accept, in offer order
  // (empty with SrtpPolicy::off).
  media::SrtpPolicy srtp = media::SrtpPolicy::off;
  std::vector<LocalKey> keys;
};

// The result of a completed offer/answer: what media::MediaEngine::connect needs.
struct Negotiated {
  media::StreamParams stream;
  std::string codec_name;                    // "PCMU" / "PCMA", for status output
};

// Builds our offer: every configured codec, then telephone-event 0-16; with
// SRTP optional an RTP/AVP stream with one a=crypto line per key, with SRTP
// mandatory the same as RTP/SAVP.
SessionDescription make_offer(const LocalMedia& local);

struct AnswerResult {
  SessionDescription answer;
  Negotiated negotiated;
};
// Answers a received offer: the first audio stream with a codec both sides have
// (the offerer's order wins, RFC 3264 §6.1), telephone-event if offered, the
// mirrored direction (sendonly -> recvonly ...). Other m= lines are rejected
// with port 0. SRTP: the first offered a=crypto line (offerer's order) whose
// suite we have and whose key is usable (one inline key of the right length,
// no MKI, no session parameters other than WSH) is answered with the same tag
// and suite and our key; an RTP/SAVP offer without one, any RTP/SAVP offer
// under policy off, and an offer without usable crypto under policy mandatory
// are refused (no_common_crypto). Fails with no_audio / no_common_codec /
// no_common_crypto (-> 488).
base::Result<AnswerResult> answer_offer(const SessionDescription& offer, const LocalMedia& local);

// Reads the answer to our offer. With SRTP, the answer's a=crypto must name a
// tag and suite we offered (our key is read back from our offer); an answer
// without crypto is plain RTP unless our offer was RTP/SAVP (no_common_crypto).
base::Result<Negotiated> accept_answer(const SessionDescription& offer, const SessionDescription& answer);

}  // namespace sipline::gateway::sip
