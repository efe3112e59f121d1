#include "media/rtp_packet.hpp"

#include <cctype>
#include <cstring>

#include "media/byte_order.hpp"

namespace sipline::gateway::media {

base::Result<RtpPacketView> parse_rtp(std::span<const std::uint8_t> d) {
  if (d.size() < kRtpHeaderSize) return base::fail(RtpError::too_short, "rtp: too short");
  const std::uint8_t* p = d.data();
  if ((p[0] >> 6) != 2) return base::fail(RtpError::bad_version, "rtp: version");
  RtpPacketView v;
  RtpHeader& h = v.header;
  h.padding = (p[0] & 0x20) != 0;
  h.extension = (p[0] & 0x10) != 0;
  h.csrc_count = p[0] & 0x0f;
  h.marker = (p[1] & 0x80) != 0;
  h.payload_type = p[1] & 0x7f;
  h.sequence = get16(p + 2);
  h.timestamp = get32(p + 4);
  h.ssrc = get32(p + 8);

  std::size_t pos = kRtpHeaderSize;
  if (d.size() < pos + 4u * h.csrc_count) return base::fail(RtpError::bad_csrc, "rtp: csrc");
  for (std::size_t i = 0; i < h.csrc_count; ++i, pos += 4) h.csrc[i] = get32(p + pos);

  if (h.extension) {
    if (d.size() < pos + 4) return base::fail(RtpError::bad_extension, "rtp: extension");
    v.extension_profile = get16(p + pos);
    const std::size_t words = get16(p + pos + 2);
    pos += 4;
    if (d.size() < pos + 4 * words) return base::fail(RtpError::bad_extension, "rtp: extension");
    v.extension = d.subspan(pos, 4 * words);
    pos += 4 * words;
  }

  std::size_t end = d.size();
  if (h.padding) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    const std::size_t pad = p[d.size() - 1];
    if (pad == 0 || pad > end - pos) return base::fail(RtpError::bad_padding, "rtp: padding");
    end -= pad;
    v.padding_size = pad;
  }
  v.payload = d.subspan(pos, end - pos);
  return v;
}

base::Result<std::size_t> write_rtp(const RtpHeader& h, std::span<const std::uint8_t> payload,
                                    std::span<std::uint8_t> out) {
  if (h.csrc_count > kMaxCsrc) return base::fail(RtpError::bad_csrc, "rtp: csrc");
  const std::size_t header = kRtpHeaderSize + 4u * h.csrc_count;
  const std::size_t total = header + payload.size();
  if (out.size() < total) return base::fail(RtpError::buffer_too_small, "rtp: no room");
  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>(0x80 | h.csrc_count);
  p[1] = static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7f));
  put16(p + 2, h.sequence);
  put32(p + 4, h.timestamp);
  put32(p + 8, h.ssrc);
  for (std::size_t i = 0; i < h.csrc_count; ++i) put32(p + kRtpHeaderSize + 4 * i, h.csrc[i]);
  if (!payload.empty()) std::memcpy(p + header, payload.data(), payload.size());
  return total;
}

base::Result<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload) {
  if (payload.size() < kTelephoneEventSize) return base::fail(RtpError::bad_payload, "rfc4733: short");
  TelephoneEvent e;
  e.event = payload[0];
  e.end = (payload[1] & 0x80) != 0;
  e.volume = payload[1] & 0x3f;
  e.duration = get16(payload.data() + 2);
  return e;
}

void write_telephone_event(const TelephoneEvent& e, std::span<std::uint8_t, kTelephoneEventSize> out) {
  out[0] = e.event;
  out[1] = static_cast<std::uint8_t>((e.end ? 0x80 : 0) | (e.volume & 0x3f));
  put16(out.data() + 2, e.duration);
}

int dtmf_digit_to_event(char digit) {
  if (digit >= '0' && digit <= '9') return digit - '0';
  if (digit == '*') return 10;
  if (digit == '#') return 11;
  const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(digit)));
  if (u >= 'A' && u <= 'D') return 12 + (u - 'A');
  return -1;
}

char dtmf_event_to_digit(int event) {
  if (event >= 0 && event <= 9) return static_cast<char>('0' + event);
  if (event == 10) return '*';
  if (event == 11) return '#';
  if (event >= 12 && event <= 15) return static_cast<char>('A' + (event - 12));
  return 0;
}

}  // namespace sipline::gateway::media
