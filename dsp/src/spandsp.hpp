#pragma once
// The one place that includes spandsp 0.0.6 (Debian's package ships no
// umbrella <spandsp.h>): its headers depend on each other and on <math.h>
// being seen first (echo.h's fir.h: <string.h> and <stdlib.h>), so the
// order below matters. Private to sipline_dsp.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmath>
#include <cstdint>

// clang-format off
#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/complex.h>
#include <spandsp/dds.h>
#include <spandsp/tone_detect.h>
#include <spandsp/tone_generate.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>
#include <spandsp/echo.h>
// clang-format on

namespace sipline::dsp::detail {

// Silences a spandsp logging context: level none and a handler that drops
// anything that still gets through, so nothing reaches the daemon's stdout.
void quiet_spandsp_log(logging_state_t* log);

}  // namespace sipline::dsp::detail
