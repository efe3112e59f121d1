#pragma once
// G.711 mu-law (PCMU) and A-law (PCMA) conversion of whole frames (ITU-T G.711).
// Realtime: no allocation.
#include <cstdint>
#include <span>

namespace sipline::dsp {

enum class G711Law { ulaw, alaw };

void g711_encode(G711Law law, std::span<const int16_t> in, std::span<uint8_t> out);
void g711_decode(G711Law law, std::span<const uint8_t> in, std::span<int16_t> out);

}  // namespace sipline::dsp
