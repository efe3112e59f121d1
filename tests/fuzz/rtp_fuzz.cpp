// libFuzzer target for RTP packet parsing (RFC 3550 §5.1) and RFC 4733
// telephone-event payloads (gateway/media/rtp_packet.hpp).
// Checks, besides memory safety:
//  - an accepted packet's header, CSRC list, extension, payload and padding
//    account for every byte of the datagram, and the spans lie inside it;
//  - write_rtp(parse_rtp(x)) parses again to the same header and payload;
//  - a payload accepted as a telephone event survives write/parse, and the
//    DTMF event <-> digit mapping is a bijection on the events it knows.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "media/rtp_packet.hpp"

namespace {

using namespace sipline::gateway::media;

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_event(std::span<const std::uint8_t> payload) {
  auto ev = parse_telephone_event(payload);
  if (payload.size() < kTelephoneEventSize) {
    if (ev) std::abort();
    return;
  }
  if (!ev || ev->volume > 63) std::abort();
  std::array<std::uint8_t, kTelephoneEventSize> out{};
  write_telephone_event(*ev, out);
  auto again = parse_telephone_event(out);
  if (!again || again->event != ev->event || again->end != ev->end || again->volume != ev->volume ||
      again->duration != ev->duration) {
    std::abort();
  }
  // The R bit is always written as 0; everything else is the input's.
  if (out[0] != payload[0] || out[1] != (payload[1] & 0xbf) || out[2] != payload[2] || out[3] != payload[3]) {
    std::abort();
  }
  const char digit = dtmf_event_to_digit(ev->event);
  if (digit != 0 && dtmf_digit_to_event(digit) != ev->event) std::abort();
  if ((digit != 0) != (ev->event <= 15)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> datagram(data, size);
  // The digit mapping on arbitrary characters: only known digits map, and back.
  for (std::size_t i = 0; i < size && i < 16; ++i) {
    const int e = dtmf_digit_to_event(static_cast<char>(data[i]));
    if (e < -1 || e > 15) std::abort();
    if (e >= 0 && dtmf_event_to_digit(e) == 0) std::abort();
  }

  auto pkt = parse_rtp(datagram);
  if (!pkt) return 0;
  const RtpHeader& h = pkt->header;
  if (size < kRtpHeaderSize || (data[0] >> 6) != 2 || h.csrc_count > kMaxCsrc || h.payload_type > 127) std::abort();
  if (!inside(pkt->payload, datagram) || !inside(pkt->extension, datagram)) std::abort();
  const std::size_t ext_bytes = h.extension ? 4 + pkt->extension.size() : 0;
  const std::size_t total = kRtpHeaderSize + 4u * h.csrc_count + ext_bytes + pkt->payload.size() + pkt->padding_size;
  if (total != size) std::abort();
  if (h.padding != (pkt->padding_size > 0)) std::abort();
  if (h.padding && pkt->padding_size != data[size - 1]) std::abort();

  // Round trip through the writer (which never writes padding or an extension).
  std::array<std::uint8_t, 2048> buf{};
  auto written = write_rtp(h, pkt->payload, buf);
  const std::size_t want = kRtpHeaderSize + 4u * h.csrc_count + pkt->payload.size();
  if (want > buf.size()) {
    if (written) std::abort();
  } else {
    if (!written || *written != want) std::abort();
    auto again = parse_rtp(std::span<const std::uint8_t>(buf.data(), *written));
    if (!again) std::abort();
    const RtpHeader& g = again->header;
    if (g.padding || g.extension || g.csrc_count != h.csrc_count || g.marker != h.marker ||
        g.payload_type != h.payload_type || g.sequence != h.sequence || g.timestamp != h.timestamp ||
        g.ssrc != h.ssrc) {
      std::abort();
    }
    for (std::size_t i = 0; i < h.csrc_count; ++i) {
      if (g.csrc[i] != h.csrc[i]) std::abort();
    }
    if (again->payload.size() != pkt->payload.size() ||
        (!pkt->payload.empty() && std::memcmp(again->payload.data(), pkt->payload.data(), pkt->payload.size()) != 0)) {
      std::abort();
    }
  }
  // A too-small output buffer is refused, never overrun.
  if (want > 0) {
    std::array<std::uint8_t, 2048> small{};
    auto refused = write_rtp(h, pkt->payload, std::span<std::uint8_t>(small.data(), std::min(want - 1, small.size())));
    if (refused) std::abort();
  }

  check_event(pkt->payload);
  return 0;
}
