#pragma once
// RTP packets (RFC 3550 §5.1) and RFC 4733 telephone-event payloads (§2.3).
//
// parse_rtp() validates a received datagram: version 2, the CSRC list, the
// header extension (RFC 3550 §5.3.1) and the padding count must all fit in the
// datagram; anything else is rejected with an RtpError. The result points into
// the caller's buffer (no copy). write_rtp() serialises a header and payload
// into a caller buffer; it never writes padding or an extension (sipline does
// not send them) but writes the CSRC list.
//
// Error messages are kept under 16 characters so that building an Error does
// not allocate (short-string optimisation): these functions run on the media
// tick. Thread: any; pure functions.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sipline/base/result.hpp"

namespace sipline::gateway::media {

enum class RtpError { too_short, bad_version, bad_csrc, bad_extension, bad_padding, buffer_too_small, bad_payload };

inline constexpr std::size_t kRtpHeaderSize = 12;
inline constexpr std::size_t kMaxCsrc = 15;

struct RtpHeader {
  bool padding = false;        // set by parse_rtp when the P bit was set
  bool extension = false;      // set by parse_rtp when the X bit was set
  std::uint8_t csrc_count = 0;
  bool marker = false;
  std::uint8_t payload_type = 0;  // 0..127
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::array<std::uint32_t, kMaxCsrc> csrc{};
};

// A parsed packet; the spans point into the datagram given to parse_rtp().
struct RtpPacketView {
  RtpHeader header;
  std::uint16_t extension_profile = 0;        // "defined by profile" field, when header.extension
  std::span<const std::uint8_t> extension;    // extension data (without its 4-byte header)
  std::span<const std::uint8_t> payload;      // without padding
  std::size_t padding_size = 0;
};

// Realtime: parses one RTP datagram.
base::Result<RtpPacketView> parse_rtp(std::span<const std::uint8_t> datagram);

// Realtime: writes header (12 + 4 * csrc_count bytes) followed by `payload`
// into `out`; returns the datagram size. header.padding/extension are ignored.
base::Result<std::size_t> write_rtp(const RtpHeader& header, std::span<const std::uint8_t> payload,
                                    std::span<std::uint8_t> out);

// RFC 4733 §2.3: the telephone-event payload (4 bytes).
//   0                   1                   2                   3
//  |     event     |E|R| volume    |          duration             |
struct TelephoneEvent {
  std::uint8_t event = 0;      // §3.2: 0-9, 10 = '*', 11 = '#', 12-15 = A-D
  bool end = false;            // E bit
  std::uint8_t volume = 10;    // 0..63, power in -dBm0
  std::uint16_t duration = 0;  // in timestamp units (1/8000 s for 8 kHz)
};

inline constexpr std::size_t kTelephoneEventSize = 4;

// Realtime: parses the first 4 bytes of an RFC 4733 payload (longer payloads
// carry redundant events per RFC 2198 only with a different PT; extra bytes are ignored).
base::Result<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload);
// Realtime: writes the 4-byte payload; the R bit is always 0.
void write_telephone_event(const TelephoneEvent& event, std::span<std::uint8_t, kTelephoneEventSize> out);

// RFC 4733 §3.2 DTMF event codes <-> digits. Returns -1 / 0 when not a DTMF event.
int dtmf_digit_to_event(char digit);
char dtmf_event_to_digit(int event);

}  // namespace sipline::gateway::media
