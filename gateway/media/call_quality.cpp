#include "media/call_quality.hpp"

#include <algorithm>
#include <cstdio>

namespace sipline::gateway::media {

double delay_impairment(double ta) {
  if (ta <= 0) return 0;
  constexpr double kKnee = 177.3;  // ms: where the fit's slope changes
  return 0.024 * ta + (ta > kKnee ? 0.11 * (ta - kKnee) : 0.0);
}

double effective_equipment_impairment(double ie, double loss_percent, double burst_ratio, double bpl) {
  const double ppl = std::clamp(loss_percent, 0.0, 100.0);
  const double burst = burst_ratio > 0 ? burst_ratio : 1.0;
  const double denominator = ppl / burst + bpl;
  if (denominator <= 0) return ie;
  return ie + (95.0 - ie) * ppl / denominator;
}

double r_factor(const EModelInput& in) {
  const double r = kDefaultRoMinusIs - delay_impairment(in.one_way_delay_ms) -
                   effective_equipment_impairment(in.ie, in.loss_percent, in.burst_ratio, in.bpl) + in.advantage;
  return std::clamp(r, 0.0, 100.0);
}

double mos_from_r(double r) {
  if (r <= 0) return 1.0;
  if (r >= 100) return 4.5;
  // The polynomial dips below 1 for R under about 6.5 (its slope at 0 is
  // 0.035 - 0.042): held at 1 there, so MOS never falls as R rises.
  return std::max(1.0, 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r));
}

double receive_loss_percent(const StreamStats& s) {
  const double expected = static_cast<double>(s.packets_received) + static_cast<double>(s.packets_lost);
  return expected > 0 ? 100.0 * static_cast<double>(s.packets_lost) / expected : 0.0;
}

CallQuality assess(const StreamStats& s, int jitter_buffer_ms) {
  CallQuality q;
  q.rtt_known = s.rtt_ms >= 0;
  q.rtt_ms = q.rtt_known ? s.rtt_ms : -1;
  const double buffer = jitter_buffer_ms >= 0 ? jitter_buffer_ms : s.playout_delay_ms;
  q.one_way_delay_ms = (q.rtt_known ? s.rtt_ms / 2 : 0.0) + buffer + kPacketisationMs;
  q.loss_percent = receive_loss_percent(s);
  q.remote_loss_percent = s.remote_loss_percent;
  q.remote_jitter_ms = s.remote_jitter_ms;
  q.r_factor = r_factor({.one_way_delay_ms = q.one_way_delay_ms,
                         .loss_percent = std::max(q.loss_percent, q.remote_loss_percent)});
  q.mos = mos_from_r(q.r_factor);
  return q;
}

std::string quality_log_fields(const StreamStats& s, const std::string& p) {
  const CallQuality q = assess(s);
  char rtt[32];
  if (q.rtt_known) std::snprintf(rtt, sizeof rtt, "%.1f", q.rtt_ms);
  else std::snprintf(rtt, sizeof rtt, "unknown");
  char out[512];
  std::snprintf(out, sizeof out,
                "%ssent=%llu %sreceived=%llu %slost=%llu %sloss_percent=%.2f %sjitter_ms=%.1f %srtt_ms=%s "
                "%sremote_loss_percent=%.2f %sremote_jitter_ms=%.1f %sr_factor=%.1f %smos=%.2f",
                p.c_str(), static_cast<unsigned long long>(s.packets_sent), p.c_str(),
                static_cast<unsigned long long>(s.packets_received), p.c_str(),
                static_cast<unsigned long long>(s.packets_lost), p.c_str(), q.loss_percent, p.c_str(), s.jitter_ms,
                p.c_str(), rtt, p.c_str(), q.remote_loss_percent, p.c_str(), q.remote_jitter_ms, p.c_str(),
                q.r_factor, p.c_str(), q.mos);
  return out;
}

}  // namespace sipline::gateway::media
