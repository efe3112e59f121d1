#pragma once
// SDP (RFC 4566) parsing and printing, and RFC 3264 offer/answer for one audio
// stream with G.711 (PCMU, PCMA) and RFC 4733 telephone-event.
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
#include "sipline/base/result.hpp"

namespace sipline::gateway::sip {

enum class SdpError { syntax, no_audio, no_common_codec, bad_address };

struct SdpFormat {
  std::uint8_t payload_type = 0;
  std::string encoding;        // from a=rtpmap, e.g. "PCMU", "telephone-event"; static types filled in
  int clock_rate = 8000;
  int channels = 1;
  std::string fmtp;            // a=fmtp parameters, e.g. "0-16"
};

struct SdpMedia {
  std::string type = "audio";
  std::uint16_t port = 0;      // 0 = stream rejected/disabled
  std::string proto = "RTP/AVP";
  std::vector<SdpFormat> formats;            // in m= line order
  std::string connection_address;           // media-level c= (empty: use session-level)
  media::Direction direction = media::Direction::sendrecv;
  int ptime_ms = 0;                          // 0 = not given
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

// What this side can do, from config.
struct LocalMedia {
  std::string address;                       // for o= and c=
  std::uint16_t port = 0;                    // RTP port
  std::vector<media::AudioCodec> codecs;     // preference order
  int dtmf_payload_type = 101;               // -1 = do not offer telephone-event
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  int ptime_ms = 20;
};

// The result of a completed offer/answer: what media::MediaEngine::connect needs.
struct Negotiated {
  media::StreamParams stream;
  std::string codec_name;                    // "PCMU" / "PCMA", for status output
};

// Builds our offer: every configured codec, then telephone-event 0-16.
SessionDescription make_offer(const LocalMedia& local);

struct AnswerResult {
  SessionDescription answer;
  Negotiated negotiated;
};
// Answers a received offer: the first audio stream with a codec both sides have
// (the offerer's order wins, RFC 3264 §6.1), telephone-event if offered, the
// mirrored direction (sendonly -> recvonly ...). Other m= lines are rejected
// with port 0. Fails with no_audio / no_common_codec (-> 488).
base::Result<AnswerResult> answer_offer(const SessionDescription& offer, const LocalMedia& local);

// Reads the answer to our offer.
base::Result<Negotiated> accept_answer(const SessionDescription& offer, const SessionDescription& answer);

}  // namespace sipline::gateway::sip
