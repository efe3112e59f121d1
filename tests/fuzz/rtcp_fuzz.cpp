// libFuzzer target for RTCP compound parsing (RFC 3550 §6, A.2 validity
// checks; gateway/media/rtcp.hpp).
// Checks, besides memory safety:
//  - an accepted compound starts with SR/RR, has at most 31 report blocks
//    and a CNAME of at most 255 octets;
//  - build_rtcp_report() of the parsed report and CNAME parses again to the
//    same report and CNAME (cumulative lost survives the 24-bit encoding).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "media/rtcp.hpp"

namespace {

using namespace sipline::gateway::media;

bool same(const ReportBlock& a, const ReportBlock& b) {
  return a.ssrc == b.ssrc && a.fraction_lost == b.fraction_lost && a.cumulative_lost == b.cumulative_lost &&
         a.extended_highest_seq == b.extended_highest_seq && a.jitter == b.jitter && a.lsr == b.lsr &&
         a.dlsr == b.dlsr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto c = parse_rtcp(std::span<const std::uint8_t>(data, size));
  if (!c) return 0;
  if (size < 8 || (data[1] != 200 && data[1] != 201)) std::abort();
  const RtcpReport& r = c->report;
  if (r.sender != (data[1] == 200)) std::abort();
  if (r.block_count > kMaxReportBlocks || c->cname_length > kMaxCnameLength) std::abort();
  if (!c->has_cname && c->cname_length != 0) std::abort();
  for (std::size_t i = 0; i < r.block_count; ++i) {
    if (r.blocks[i].cumulative_lost < -0x800000 || r.blocks[i].cumulative_lost > 0x7fffff) std::abort();
  }

  std::array<std::uint8_t, 1500> buf{};
  auto n = build_rtcp_report(r, c->cname_view(), buf);
  if (!n || *n % 4 != 0 || *n > buf.size()) std::abort();
  auto again = parse_rtcp(std::span<const std::uint8_t>(buf.data(), *n));
  if (!again) std::abort();
  const RtcpReport& g = again->report;
  if (g.sender != r.sender || g.ssrc != r.ssrc || g.block_count != r.block_count) std::abort();
  if (r.sender && (g.sender_info.ntp_timestamp != r.sender_info.ntp_timestamp ||
                   g.sender_info.rtp_timestamp != r.sender_info.rtp_timestamp ||
                   g.sender_info.packet_count != r.sender_info.packet_count ||
                   g.sender_info.octet_count != r.sender_info.octet_count)) {
    std::abort();
  }
  for (std::size_t i = 0; i < r.block_count; ++i) {
    if (!same(g.blocks[i], r.blocks[i])) std::abort();
  }
  if (!again->has_cname || again->cname_ssrc != r.ssrc || again->cname_view() != c->cname_view() ||
      again->has_bye) {
    std::abort();
  }
  // Too small an output buffer is refused.
  if (build_rtcp_report(r, c->cname_view(), std::span<std::uint8_t>(buf.data(), *n - 1))) std::abort();
  return 0;
}
