#include "sip/sdp.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <string>
#include <utility>

#include "sipline/base/base64.hpp"

// Notes on representation (the header's structs are the contract):
// - For an m= line whose protocol is not RTP-based (e.g. "udptl t38",
//   "TCP/MSRP *"), the format tokens are not payload types: each is kept in
//   SdpFormat::encoding with payload_type 0, so that the stream can be echoed
//   (rejected) in an answer and printed back unchanged.
// - Session-level attributes other than the direction are not kept (the
//   struct has no place for them); a session-level direction applies to every
//   m= line that does not carry its own.

namespace sipline::gateway::sip {
namespace {

using base::fail;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Splits on runs of spaces.
std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    std::size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_rtp_proto(std::string_view proto) {
  // RTP/AVP, RTP/SAVP, RTP/AVPF, UDP/TLS/RTP/SAVPF ... (RFC 4566 §5.14, RFC 5764)
  for (std::size_t i = 0; i + 4 <= proto.size(); ++i) {
    if (iequals(proto.substr(i, 4), "RTP/")) return true;
  }
  return false;
}

// RFC 3551 §6, Table 4: static audio payload types.
void fill_static(SdpFormat& f) {
  struct Static { std::uint8_t pt; const char* name; int rate; };
  static constexpr Static kStatic[] = {
      {0, "PCMU", 8000}, {3, "GSM", 8000},  {4, "G723", 8000}, {8, "PCMA", 8000},
      {9, "G722", 8000}, {13, "CN", 8000},  {18, "G729", 8000},
  };
  for (const auto& s : kStatic) {
    if (s.pt == f.payload_type) {
      f.encoding = s.name;
      f.clock_rate = s.rate;
      f.channels = 1;
      return;
    }
  }
}

std::string addr_type(std::string_view address) {
  return address.find(':') != std::string_view::npos ? "IP6" : "IP4";
}

bool valid_address(std::string_view addrtype, std::string_view address) {
  std::string a(address);
  unsigned char buf[16];
  if (addrtype == "IP4") return inet_pton(AF_INET, a.c_str(), buf) == 1;
  if (addrtype == "IP6") return inet_pton(AF_INET6, a.c_str(), buf) == 1;
  return false;
}

std::optional<media::Direction> parse_direction(std::string_view attr) {
  if (attr == "sendrecv") return media::Direction::sendrecv;
  if (attr == "sendonly") return media::Direction::sendonly;
  if (attr == "recvonly") return media::Direction::recvonly;
  if (attr == "inactive") return media::Direction::inactive;
  return std::nullopt;
}

const char* direction_name(media::Direction d) {
  switch (d) {
    case media::Direction::sendrecv: return "sendrecv";
    case media::Direction::sendonly: return "sendonly";
    case media::Direction::recvonly: return "recvonly";
    case media::Direction::inactive: return "inactive";
  }
  return "sendrecv";
}

// What the other side's direction means for ours (RFC 3264 §6.1).
media::Direction mirror(media::Direction d) {
  switch (d) {
    case media::Direction::sendonly: return media::Direction::recvonly;
    case media::Direction::recvonly: return media::Direction::sendonly;
    default: return d;
  }
}

// A peer whose connection address is 0.0.0.0 does not want to receive
// (RFC 3264 §8.4, the RFC 2543 way to hold): drop the "receive" part of its
// direction.
media::Direction without_receive(media::Direction d) {
  switch (d) {
    case media::Direction::sendrecv: return media::Direction::sendonly;
    case media::Direction::recvonly: return media::Direction::inactive;
    default: return d;
  }
}

SdpFormat format(std::uint8_t pt, std::string encoding, std::string fmtp = {}) {
  SdpFormat f;
  f.payload_type = pt;
  f.encoding = std::move(encoding);
  f.fmtp = std::move(fmtp);
  return f;
}

bool is_hold_address(std::string_view address) { return address == "0.0.0.0" || address == "::"; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  base::Result<SessionDescription> run() {
    std::size_t pos = 0;
    bool saw_version = false, saw_origin = false, saw_name = false;
    std::optional<media::Direction> session_direction;
    std::vector<std::optional<media::Direction>> media_direction;
    while (pos < text_.size()) {
      std::size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos, end - pos);
      pos = end + 1;
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      if (line.find('\0') != std::string_view::npos) return error(SdpError::syntax, "NUL byte in line");
      if (line.size() < 2 || line[1] != '=') return error(SdpError::syntax, "expected <type>=<value>");
      const char type = line[0];
      const std::string_view value = line.substr(2);

      if (!saw_version) {
        if (type != 'v') return error(SdpError::syntax, "the first line must be v=0");
        if (value != "0") return error(SdpError::syntax, "unsupported version v=" + std::string(value));
        saw_version = true;
        continue;
      }
      const bool in_media = !sdp_.media.empty();
      switch (type) {
        case 'v':
          return error(SdpError::syntax, "repeated v= line");
        case 'o':
          if (saw_origin) return error(SdpError::syntax, "repeated o= line");
          if (in_media) return error(SdpError::syntax, "o= after m=");
          if (auto r = parse_origin(value); !r) return fail(r.error());
          saw_origin = true;
          break;
        case 's':
          if (saw_name) return error(SdpError::syntax, "repeated s= line");
          if (in_media) return error(SdpError::syntax, "s= after m=");
          sdp_.session_name = std::string(value);
          saw_name = true;
          break;
        case 'c': {
          auto address = parse_connection(value);
          if (!address) return fail(address.error());
          if (in_media) {
            sdp_.media.back().connection_address = std::move(*address);
          } else {
            sdp_.connection_address = std::move(*address);
          }
          break;
        }
        case 'm': {
          if (!saw_origin) return error(SdpError::syntax, "missing o= line before m=");
          if (!saw_name) return error(SdpError::syntax, "missing s= line before m=");
          auto m = parse_media(value);
          if (!m) return fail(m.error());
          sdp_.media.push_back(std::move(*m));
          media_direction.emplace_back();
          break;
        }
        case 'a': {
          if (value.empty()) return error(SdpError::syntax, "empty a= line");
          if (auto d = parse_direction(value)) {
            (in_media ? media_direction.back() : session_direction) = *d;
            break;
          }
          if (in_media) {
            if (auto r = parse_media_attribute(sdp_.media.back(), value); !r) return fail(r.error());
          }
          break;
        }
        case 't': case 'r': case 'z': case 'u': case 'e': case 'p':
          if (in_media) return error(SdpError::syntax, std::string(1, type) + "= after m=");
          break;
        case 'b': case 'i': case 'k':
          break;  // accepted, content not used
        default:
          return error(SdpError::syntax, "unknown line type '" + std::string(1, type) + "='");
      }
    }
    if (!saw_version) return error(SdpError::syntax, "empty SDP: missing v=0");
    if (!saw_origin) return error(SdpError::syntax, "missing o= line");
    if (!saw_name) return error(SdpError::syntax, "missing s= line");
    for (std::size_t i = 0; i < sdp_.media.size(); ++i) {
      sdp_.media[i].direction = media_direction[i].value_or(session_direction.value_or(media::Direction::sendrecv));
    }
    return std::move(sdp_);
  }

 private:
  tl::unexpected<base::Error> error(SdpError code, const std::string& message) const {
    return fail(code, "SDP line " + std::to_string(line_no_) + ": " + message);
  }

  base::Result<void> parse_origin(std::string_view value) {
    // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
    auto f = split_fields(value);
    if (f.size() != 6) return error(SdpError::syntax, "o= needs 6 fields");
    if (!parse_int(f[1], sdp_.session_id) || !parse_int(f[2], sdp_.session_version)) {
      return error(SdpError::syntax, "o= session id and version must be numbers");
    }
    if (f[3] != "IN" || (f[4] != "IP4" && f[4] != "IP6")) {
      return error(SdpError::syntax, "o= must be IN IP4 or IN IP6");
    }
    sdp_.origin_user = std::string(f[0]);
    sdp_.origin_address = std::string(f[5]);  // may be a host name (RFC 4566 §5.2)
    return {};
  }

  base::Result<std::string> parse_connection(std::string_view value) {
    // c=<nettype> <addrtype> <connection-address>
    auto f = split_fields(value);
    if (f.size() != 3) return error(SdpError::syntax, "c= needs 3 fields");
    if (f[0] != "IN") return error(SdpError::bad_address, "c= network type must be IN");
    if (f[1] != "IP4" && f[1] != "IP6") return error(SdpError::bad_address, "c= address type must be IP4 or IP6");
    if (!valid_address(f[1], f[2])) {
      return error(SdpError::bad_address,
                   "c= address \"" + std::string(f[2]) + "\" is not an " + std::string(f[1]) + " literal");
    }
    return std::string(f[2]);
  }

  base::Result<SdpMedia> parse_media(std::string_view value) {
    // m=<media> <port>[/<number of ports>] <proto> <fmt> ...
    auto f = split_fields(value);
    if (f.size() < 4) return error(SdpError::syntax, "m= needs <media> <port> <proto> <fmt>...");
    SdpMedia m;
    m.type = std::string(f[0]);
    std::string_view port = f[1];
    if (auto slash = port.find('/'); slash != std::string_view::npos) {
      unsigned count = 0;
      if (!parse_int(port.substr(slash + 1), count) || count == 0) {
        return error(SdpError::syntax, "m= bad port count \"" + std::string(port) + "\"");
      }
      port = port.substr(0, slash);
    }
    if (!parse_int(port, m.port)) return error(SdpError::syntax, "m= bad port \"" + std::string(port) + "\"");
    m.proto = std::string(f[2]);
    const bool rtp = is_rtp_proto(m.proto);
    for (std::size_t i = 3; i < f.size(); ++i) {
      SdpFormat fmt;
      if (rtp) {
        unsigned pt = 0;
        if (!parse_int(f[i], pt) || pt > 127) {
          return error(SdpError::syntax, "m= payload type \"" + std::string(f[i]) + "\" is not 0..127");
        }
        fmt.payload_type = static_cast<std::uint8_t>(pt);
        fill_static(fmt);
      } else {
        fmt.encoding = std::string(f[i]);
      }
      m.formats.push_back(std::move(fmt));
    }
    return m;
  }

  base::Result<void> parse_media_attribute(SdpMedia& m, std::string_view attr) {
    const bool rtp = is_rtp_proto(m.proto);
    if (rtp && attr.starts_with("rtpmap:")) {
      // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
      auto f = split_fields(attr.substr(7));
      unsigned pt = 0;
      if (f.size() != 2 || !parse_int(f[0], pt) || pt > 127) return error(SdpError::syntax, "bad a=rtpmap");
      std::string_view enc = f[1];
      auto s1 = enc.find('/');
      if (s1 == std::string_view::npos || s1 == 0) return error(SdpError::syntax, "bad a=rtpmap encoding");
      std::string_view name = enc.substr(0, s1);
      std::string_view rest = enc.substr(s1 + 1);
      int rate = 0, channels = 1;
      auto s2 = rest.find('/');
      if (s2 != std::string_view::npos) {
        if (!parse_int(rest.substr(s2 + 1), channels) || channels <= 0) {
          return error(SdpError::syntax, "bad a=rtpmap channels");
        }
        rest = rest.substr(0, s2);
      }
      if (!parse_int(rest, rate) || rate <= 0) return error(SdpError::syntax, "bad a=rtpmap clock rate");
      bool found = false;
      for (auto& fmt : m.formats) {
        if (fmt.payload_type != pt) continue;
        fmt.encoding = std::string(name);
        fmt.clock_rate = rate;
        fmt.channels = channels;
        found = true;
      }
      if (!found) m.other_attributes.emplace_back(attr);  // for a format not on the m= line: keep as is
      return {};
    }
    if (rtp && attr.starts_with("fmtp:")) {
      // a=fmtp:<format> <format specific parameters>
      std::string_view rest = attr.substr(5);
      auto sp = rest.find(' ');
      unsigned pt = 0;
      if (sp == std::string_view::npos || !parse_int(rest.substr(0, sp), pt)) {
        return error(SdpError::syntax, "bad a=fmtp");
      }
      bool found = false;
      for (auto& fmt : m.formats) {
        if (fmt.payload_type != pt) continue;
        fmt.fmtp = std::string(rest.substr(sp + 1));
        found = true;
      }
      if (!found) m.other_attributes.emplace_back(attr);
      return {};
    }
    if (rtp && attr.starts_with("crypto:")) {
      if (auto c = parse_crypto(attr.substr(7))) {
        m.crypto.push_back(std::move(*c));
        return {};
      }
      // RFC 4568 §5.1.1: a malformed a=crypto line is ignored (kept as unknown).
    }
    if (attr.starts_with("ptime:")) {
      int ptime = 0;
      if (parse_int(attr.substr(6), ptime) && ptime > 0 && ptime <= 1000) {
        m.ptime_ms = ptime;
        return {};
      }
    }
    m.other_attributes.emplace_back(attr);
    return {};
  }

  // a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]
  static std::optional<SdpCrypto> parse_crypto(std::string_view value) {
    auto f = split_fields(value);
    SdpCrypto c;
    if (f.size() < 3 || f[0].size() > 9 || !parse_int(f[0], c.tag)) return std::nullopt;
    c.suite = std::string(f[1]);
    c.key_params = std::string(f[2]);
    if (f.size() > 3) {
      const std::size_t start = static_cast<std::size_t>(f[3].data() - value.data());
      c.session_params = std::string(value.substr(start));
    }
    return c;
  }

  std::string_view text_;
  int line_no_ = 0;
  SessionDescription sdp_;
};

const SdpFormat* find_format(const SdpMedia& m, std::uint8_t pt) {
  for (const auto& f : m.formats) {
    if (f.payload_type == pt) return &f;
  }
  return nullptr;
}

std::optional<media::AudioCodec> codec_of(const SdpFormat& f) {
  if (f.clock_rate != 8000 || f.channels != 1) return std::nullopt;
  if (iequals(f.encoding, "PCMU")) return media::AudioCodec::pcmu;
  if (iequals(f.encoding, "PCMA")) return media::AudioCodec::pcma;
  return std::nullopt;
}

bool is_telephone_event(const SdpFormat& f) {
  return iequals(f.encoding, "telephone-event") && f.clock_rate == 8000;
}

const char* codec_name(media::AudioCodec c) { return c == media::AudioCodec::pcma ? "PCMA" : "PCMU"; }
std::uint8_t static_pt(media::AudioCodec c) { return c == media::AudioCodec::pcma ? 8 : 0; }

bool supported(const LocalMedia& local, media::AudioCodec c) {
  return std::find(local.codecs.begin(), local.codecs.end(), c) != local.codecs.end();
}

bool is_savp(const SdpMedia& m) { return iequals(m.proto, "RTP/SAVP"); }

bool accepts_stream(const SdpMedia& m) {
  return m.type == "audio" && m.port != 0 && (iequals(m.proto, "RTP/AVP") || is_savp(m));
}

// The raw key of `key_params` when we can use it: one inline key (no ';'
// list of keys) of `length` bytes, an optional lifetime, no MKI.
std::optional<std::string> inline_key(std::string_view params, std::size_t length) {
  if (params.find(';') != std::string_view::npos || !params.starts_with("inline:")) return std::nullopt;
  params.remove_prefix(7);
  const std::size_t bar = params.find('|');
  std::string text(params.substr(0, bar));
  if (bar != std::string_view::npos) {
    const std::string_view lifetime = params.substr(bar + 1);
    if (lifetime.empty() || lifetime.find_first_of("|:") != std::string_view::npos) return std::nullopt;  // MKI
    const std::string_view digits = lifetime.starts_with("2^") ? lifetime.substr(2) : lifetime;
    unsigned long long ignored = 0;
    if (!parse_int(digits, ignored)) return std::nullopt;
  }
  while (text.size() % 4 != 0) text.push_back('=');  // some peers leave the padding out
  auto raw = base::base64_decode(text, base::Base64::standard);
  if (!raw || raw->size() != length) return std::nullopt;
  return std::string(raw->begin(), raw->end());
}

// Session parameters we can honour: none, or only a window size hint.
bool usable_session_params(std::string_view params) {
  for (auto p : split_fields(params)) {
    if (!p.starts_with("WSH=")) return false;
  }
  return true;
}

std::string inline_param(const std::string& key) {
  return "inline:" + base::base64_encode(
                         std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()),
                         base::Base64::standard);
}

// The first offered a=crypto line we can answer, with our key for its suite.
struct CryptoChoice {
  SdpCrypto answer;
  media::SrtpKeys keys;
};
std::optional<CryptoChoice> choose_crypto(const SdpMedia& offered, const LocalMedia& local) {
  for (const SdpCrypto& c : offered.crypto) {
    auto suite = media::srtp_suite_from_name(c.suite);
    if (!suite || !usable_session_params(c.session_params)) continue;
    auto ours = std::find_if(local.keys.begin(), local.keys.end(), [&](const LocalKey& k) { return k.suite == *suite; });
    if (ours == local.keys.end()) continue;
    auto theirs = inline_key(c.key_params, media::srtp_key_length(*suite));
    if (!theirs) continue;
    return CryptoChoice{{c.tag, c.suite, inline_param(ours->key), ""}, {*suite, ours->key, *theirs}};
  }
  return std::nullopt;
}

const std::string& remote_address(const SessionDescription& sdp, const SdpMedia& m) {
  return m.connection_address.empty() ? sdp.connection_address : m.connection_address;
}

SdpMedia rejected_copy(const SdpMedia& offered) {
  SdpMedia r;
  r.type = offered.type;
  r.port = 0;
  r.proto = offered.proto;
  r.formats = offered.formats;  // RFC 3264 §6: at least one format; echo the offer's
  for (auto& f : r.formats) f.fmtp.clear();
  if (r.formats.empty()) r.formats.push_back(SdpFormat{});
  r.direction = offered.direction;
  return r;
}

// The SRTP keys of an answer to our offer `ours`, into stream.srtp.
base::Result<void> answered_crypto(const SdpMedia& ours, const SdpMedia& theirs, media::StreamParams& stream) {
  if (ours.crypto.empty()) return {};  // we offered plain RTP
  if (theirs.crypto.empty()) {
    if (is_savp(ours)) return fail(SdpError::no_common_crypto, "answer to our RTP/SAVP offer has no a=crypto");
    return {};  // best-effort SRTP declined: plain RTP
  }
  const SdpCrypto& c = theirs.crypto.front();
  auto suite = media::srtp_suite_from_name(c.suite);
  const std::size_t length = suite ? media::srtp_key_length(*suite) : 0;
  // The offered line with this tag and suite (and a key we can read back).
  std::optional<std::string> local_key;
  for (const SdpCrypto& o : ours.crypto) {
    if (o.tag == c.tag && o.suite == c.suite && suite && (local_key = inline_key(o.key_params, length))) break;
  }
  if (!local_key) {
    return fail(SdpError::no_common_crypto, "answer's a=crypto:" + std::to_string(c.tag) + " " + c.suite +
                                                " is not one we offered");
  }
  auto remote_key = inline_key(c.key_params, length);
  if (!remote_key || !usable_session_params(c.session_params)) {
    return fail(SdpError::no_common_crypto, "answer's a=crypto key is unusable (length, MKI or session parameters)");
  }
  stream.srtp = media::SrtpKeys{*suite, *local_key, *remote_key};
  return {};
}

}  // namespace

base::Result<SessionDescription> parse_sdp(std::string_view text) { return Parser(text).run(); }

std::string print_sdp(const SessionDescription& sdp) {
  std::string out;
  out.reserve(512);
  auto line = [&out](std::string_view s) {
    out.append(s);
    out.append("\r\n");
  };
  line("v=0");
  const std::string& origin =
      !sdp.origin_address.empty() ? sdp.origin_address
                                  : (!sdp.connection_address.empty() ? sdp.connection_address : std::string("0.0.0.0"));
  line("o=" + sdp.origin_user + " " + std::to_string(sdp.session_id) + " " + std::to_string(sdp.session_version) +
       " IN " + addr_type(origin) + " " + origin);
  line("s=" + sdp.session_name);
  if (!sdp.connection_address.empty()) {
    line("c=IN " + addr_type(sdp.connection_address) + " " + sdp.connection_address);
  }
  line("t=0 0");
  for (const SdpMedia& m : sdp.media) {
    const bool rtp = is_rtp_proto(m.proto);
    std::string mline = "m=" + m.type + " " + std::to_string(m.port) + " " + m.proto;
    for (const auto& f : m.formats) {
      mline += " ";
      mline += rtp ? std::to_string(f.payload_type) : f.encoding;
    }
    if (m.formats.empty()) mline += rtp ? " 0" : " *";
    line(mline);
    if (!m.connection_address.empty()) {
      line("c=IN " + addr_type(m.connection_address) + " " + m.connection_address);
    }
    if (rtp) {
      for (const auto& f : m.formats) {
        if (f.encoding.empty()) continue;
        std::string rtpmap = "a=rtpmap:" + std::to_string(f.payload_type) + " " + f.encoding + "/" +
                             std::to_string(f.clock_rate);
        if (f.channels != 1) rtpmap += "/" + std::to_string(f.channels);
        line(rtpmap);
      }
      for (const auto& f : m.formats) {
        if (!f.fmtp.empty()) line("a=fmtp:" + std::to_string(f.payload_type) + " " + f.fmtp);
      }
    }
    if (m.ptime_ms > 0) line("a=ptime:" + std::to_string(m.ptime_ms));
    line(std::string("a=") + direction_name(m.direction));
    for (const auto& c : m.crypto) {
      line("a=crypto:" + std::to_string(c.tag) + " " + c.suite + " " + c.key_params +
           (c.session_params.empty() ? "" : " " + c.session_params));
    }
    for (const auto& a : m.other_attributes) line("a=" + a);
  }
  return out;
}

SessionDescription make_offer(const LocalMedia& local) {
  SessionDescription sdp;
  sdp.origin_user = "-";
  sdp.session_id = local.session_id;
  sdp.session_version = local.session_version;
  sdp.origin_address = local.address;
  sdp.session_name = "-";
  sdp.connection_address = local.address;
  SdpMedia m;
  m.type = "audio";
  m.port = local.port;
  m.proto = local.srtp == media::SrtpPolicy::mandatory ? "RTP/SAVP" : "RTP/AVP";
  if (local.srtp != media::SrtpPolicy::off) {
    unsigned tag = 1;
    for (const LocalKey& k : local.keys) {
      m.crypto.push_back({tag++, std::string(media::srtp_suite_name(k.suite)), inline_param(k.key), ""});
    }
  }
  for (auto c : local.codecs) {
    m.formats.push_back(format(static_pt(c), codec_name(c)));
  }
  if (local.dtmf_payload_type >= 0 && local.dtmf_payload_type <= 127) {
    m.formats.push_back(format(static_cast<std::uint8_t>(local.dtmf_payload_type), "telephone-event", "0-16"));
  }
  m.ptime_ms = local.ptime_ms;
  m.direction = media::Direction::sendrecv;
  sdp.media.push_back(std::move(m));
  return sdp;
}

base::Result<AnswerResult> answer_offer(const SessionDescription& offer, const LocalMedia& local) {
  AnswerResult result;
  SessionDescription& answer = result.answer;
  answer.origin_user = "-";
  answer.session_id = local.session_id;
  answer.session_version = local.session_version;
  answer.origin_address = local.address;
  answer.session_name = "-";
  answer.connection_address = local.address;

  bool chosen = false;
  bool saw_audio = false;
  std::string crypto_refusal;
  for (const SdpMedia& offered : offer.media) {
    if (chosen || !accepts_stream(offered)) {
      answer.media.push_back(rejected_copy(offered));
      continue;
    }
    saw_audio = true;
    std::optional<CryptoChoice> crypto;
    if (local.srtp != media::SrtpPolicy::off) crypto = choose_crypto(offered, local);
    if (!crypto && (is_savp(offered) || local.srtp == media::SrtpPolicy::mandatory)) {
      crypto_refusal = local.srtp == media::SrtpPolicy::off ? "offer is RTP/SAVP and media.srtp is off"
                       : is_savp(offered)                  ? "RTP/SAVP offer has no a=crypto line we can use"
                                                           : "media.srtp is mandatory and the offer has no usable a=crypto";
      answer.media.push_back(rejected_copy(offered));
      continue;
    }
    // RFC 3264 §6.1: the offerer's order of preference wins.
    const SdpFormat* codec_fmt = nullptr;
    media::AudioCodec codec = media::AudioCodec::pcmu;
    for (const auto& f : offered.formats) {
      auto c = codec_of(f);
      if (c && supported(local, *c)) {
        codec_fmt = &f;
        codec = *c;
        break;
      }
    }
    if (codec_fmt == nullptr) {
      answer.media.push_back(rejected_copy(offered));
      continue;
    }
    const std::string& address = remote_address(offer, offered);
    if (address.empty()) {
      return fail(SdpError::bad_address, "offer has no c= line for its audio stream");
    }
    const SdpFormat* dtmf_fmt = nullptr;
    if (local.dtmf_payload_type >= 0) {
      for (const auto& f : offered.formats) {
        if (is_telephone_event(f)) {
          dtmf_fmt = &f;
          break;
        }
      }
    }

    media::Direction offer_dir = offered.direction;
    if (is_hold_address(address)) offer_dir = without_receive(offer_dir);
    const media::Direction our_dir = mirror(offer_dir);

    SdpMedia m;
    m.type = "audio";
    m.port = local.port;
    m.proto = offered.proto;
    m.formats.push_back(format(codec_fmt->payload_type, codec_name(codec)));
    if (dtmf_fmt != nullptr) {
      m.formats.push_back(
          format(dtmf_fmt->payload_type, "telephone-event", dtmf_fmt->fmtp.empty() ? "0-16" : dtmf_fmt->fmtp));
    }
    m.ptime_ms = local.ptime_ms;
    m.direction = our_dir;
    if (crypto) m.crypto.push_back(crypto->answer);
    answer.media.push_back(std::move(m));

    Negotiated& n = result.negotiated;
    n.stream.remote_address = address;
    n.stream.remote_port = offered.port;
    n.stream.codec = codec;
    n.stream.payload_type = codec_fmt->payload_type;
    n.stream.dtmf_payload_type = dtmf_fmt != nullptr ? dtmf_fmt->payload_type : -1;
    n.stream.direction = our_dir;
    if (crypto) n.stream.srtp = crypto->keys;
    n.codec_name = codec_name(codec);
    chosen = true;
  }
  if (!chosen) {
    if (!saw_audio) return fail(SdpError::no_audio, "offer has no RTP/AVP or RTP/SAVP audio stream");
    if (!crypto_refusal.empty()) return fail(SdpError::no_common_crypto, crypto_refusal);
    return fail(SdpError::no_common_codec, "offer has no codec in common with ours");
  }
  return result;
}

base::Result<Negotiated> accept_answer(const SessionDescription& offer, const SessionDescription& answer) {
  if (answer.media.size() != offer.media.size()) {
    return fail(SdpError::syntax, "answer has " + std::to_string(answer.media.size()) + " m= lines, the offer had " +
                                      std::to_string(offer.media.size()) + " (RFC 3264 §6)");
  }
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const SdpMedia& ours = offer.media[i];
    const SdpMedia& theirs = answer.media[i];
    if (!accepts_stream(ours)) continue;
    if (theirs.port == 0) continue;  // rejected by the answerer
    if (theirs.type != ours.type) {
      return fail(SdpError::syntax, "answer m= line " + std::to_string(i + 1) + " is " + theirs.type +
                                        ", the offer's is " + ours.type);
    }
    const std::string& address = remote_address(answer, theirs);
    if (address.empty()) return fail(SdpError::bad_address, "answer has no c= line for its audio stream");

    Negotiated n;
    bool found = false;
    std::string listed;
    for (const auto& f : theirs.formats) {
      if (is_telephone_event(f)) continue;
      listed += (listed.empty() ? "" : " ") + (f.encoding.empty() ? std::to_string(f.payload_type) : f.encoding);
      const SdpFormat* offered = find_format(ours, f.payload_type);
      if (offered == nullptr) continue;
      auto c = codec_of(f.encoding.empty() ? *offered : f);
      auto oc = codec_of(*offered);
      if (!c || !oc || *c != *oc) continue;
      n.stream.codec = *c;
      n.stream.payload_type = f.payload_type;
      n.codec_name = codec_name(*c);
      found = true;
      break;
    }
    if (!found) {
      return fail(SdpError::no_common_codec, "answer's codecs (" + listed + ") are not among those offered");
    }
    bool offered_dtmf = std::any_of(ours.formats.begin(), ours.formats.end(), is_telephone_event);
    for (const auto& f : theirs.formats) {
      if (offered_dtmf && is_telephone_event(f)) {
        n.stream.dtmf_payload_type = f.payload_type;
        break;
      }
    }
    media::Direction their_dir = theirs.direction;
    if (is_hold_address(address)) their_dir = without_receive(their_dir);
    n.stream.direction = mirror(their_dir);
    n.stream.remote_address = address;
    n.stream.remote_port = theirs.port;
    if (auto r = answered_crypto(ours, theirs, n.stream); !r) return fail(r.error());
    return n;
  }
  return fail(SdpError::no_audio, "the answer rejected our audio stream");
}

}  // namespace sipline::gateway::sip
