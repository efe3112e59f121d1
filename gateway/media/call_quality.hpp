#pragma once
// Call quality: an estimate of how a call sounds, from its RTP statistics,
// with the E-model of ITU-T G.107 in its simplified transmission-planning form
//
//   R = (Ro - Is) - Id - Ie,eff + A,  Ro - Is = 93.2 at G.107's default values,
//
// and the mapping of R to an estimated MOS (G.107 Annex B):
//   MOS = 1                                         R <= 0
//   MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)   0 < R < 100
//   MOS = 4.5                                       R >= 100
// (held at 1 where the polynomial dips below it, R < ~6.5)
//
// Delay impairment Id: the common piecewise-linear fit of G.107's Id at the
// default echo values (Cole and Rosenbluth, "Voice over IP performance
// monitoring", ACM SIGCOMM CCR 31(2), 2001), from the one-way mouth-to-ear
// delay Ta in ms:
//   Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3),  H the unit step.
// It is not G.107's full Idte + Idle + Idd, which needs echo loss, talker
// echo path and the like that a gateway does not know.
//
// Effective equipment impairment (G.107 §3.5, loss-dependent):
//   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)
// with Ppl the packet loss in percent and BurstR = 1 for random loss. G.711
// with packet loss concealment: Ie = 0, Bpl = 25.1 (ITU-T G.113 Appendix I).
//
// The inputs of a call (assess()):
//  - Ta = RTT / 2 + the jitter buffer's delay + 20 ms packetisation; an
//    unknown RTT (no RTCP report yet, or a peer without RTCP) counts as 0;
//  - Ppl = the worse of our receive loss (RFC 3550 cumulative lost over
//    expected) and the far end's report about our stream.
// Limits: codec-independent beyond the Ie/Bpl parameters; one-way delay is
// assumed symmetric (RTT / 2); no burst ratio is measured (BurstR = 1).
// Thread: any (pure functions).
#include <string>

#include "media/media_engine.hpp"

namespace sipline::gateway::media {

inline constexpr double kDefaultRoMinusIs = 93.2;  // G.107 defaults
inline constexpr double kPacketisationMs = 20;     // ptime of our G.711 streams

struct EModelInput {
  double one_way_delay_ms = 0;   // Ta, mouth to ear
  double loss_percent = 0;       // Ppl, 0..100
  double burst_ratio = 1;        // BurstR (1: random loss)
  double ie = 0;                 // equipment impairment of the codec (G.711: 0)
  double bpl = 25.1;             // packet-loss robustness (G.711 with PLC: 25.1)
  double advantage = 0;          // A, the advantage factor
};

// Id from the one-way delay (the piecewise fit above); 0 for Ta <= 0.
double delay_impairment(double one_way_delay_ms);
// Ie,eff (G.107 §3.5); loss is clamped to 0..100.
double effective_equipment_impairment(double ie, double loss_percent, double burst_ratio, double bpl);
// R, clamped to 0..100.
double r_factor(const EModelInput& input);
// G.107 Annex B: estimated MOS (1..4.5) of R.
double mos_from_r(double r);

// One stream's quality, for the `calls` command and the end-of-call log.
struct CallQuality {
  bool rtt_known = false;
  double rtt_ms = -1;            // the last RTT; -1 unknown
  double one_way_delay_ms = 0;   // Ta as estimated
  double loss_percent = 0;       // our receive loss
  double remote_loss_percent = 0;
  double remote_jitter_ms = 0;
  double r_factor = 0;
  double mos = 1;
};

// Our receive loss in percent: cumulative lost over expected (received + lost).
double receive_loss_percent(const StreamStats& stats);
// Assesses a stream; `jitter_buffer_ms` < 0 takes the stream's own playout delay.
CallQuality assess(const StreamStats& stats, int jitter_buffer_ms = -1);

// The end-of-call summary's fields, one place for every call kind:
// `sent=.. received=.. lost=.. loss_percent=.. jitter_ms=.. rtt_ms=..|unknown
// remote_loss_percent=.. r_factor=.. mos=..`; `prefix` goes before each key
// (e.g. "a_" for a bridge's caller leg).
std::string quality_log_fields(const StreamStats& stats, const std::string& prefix = "");

}  // namespace sipline::gateway::media
