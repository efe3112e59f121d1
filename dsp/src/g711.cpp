// G.711 over spans, with spandsp's inline codecs (ITU-T G.711 tables 1a/2a).
#include "sipline/dsp/g711.hpp"

#include <algorithm>

#include "spandsp.hpp"

namespace sipline::dsp {

void g711_encode(G711Law law, std::span<const int16_t> in, std::span<uint8_t> out) {
  const std::size_t n = std::min(in.size(), out.size());
  if (law == G711Law::ulaw) {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(in[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(in[i]);
  }
}

void g711_decode(G711Law law, std::span<const uint8_t> in, std::span<int16_t> out) {
  const std::size_t n = std::min(in.size(), out.size());
  if (law == G711Law::ulaw) {
    for (std::size_t i = 0; i < n; ++i) out[i] = ulaw_to_linear(in[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = alaw_to_linear(in[i]);
  }
}

}  // namespace sipline::dsp
