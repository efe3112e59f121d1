#include "ctl/commands.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "ctl/request_params.hpp"
#include "media/call_quality.hpp"
#include "sipline/dsp/tone_profile.hpp"
#include "sipline/base/log.hpp"
#include "version.hpp"

namespace sipline::gateway::ctl {

using nlohmann::json;

namespace {

json fail(const std::string& message) { return {{"ok", false}, {"error", message}}; }

std::string_view absence_name(dsp::Absence a) {
  switch (a) {
    case dsp::Absence::none: return "";
    case dsp::Absence::withheld: return "private";
    case dsp::Absence::unavailable: return "unavailable";
  }
  return "";
}

json caller_id_json(const drivers::SimPhoneStatus& p) {
  const dsp::CallerId& id = p.caller_id.id;
  json j = {{"count", p.caller_id_count},
            {"format", dsp::to_string(p.caller_id.format)},
            {"number", id.number},
            {"name", id.name},
            {"number_absence", absence_name(id.number_absence)},
            {"name_absence", absence_name(id.name_absence)}};
  if (id.month != 0) {
    char when[48];
    std::snprintf(when, sizeof when, "%02d-%02d %02d:%02d", id.month, id.day, id.hour, id.minute);
    j["time"] = when;  // MM-DD HH:MM, as caller ID carries it
  }
  return j;
}

json exchange_json(const drivers::SimExchangeStatus& e) {
  return {{"state", e.state},         {"seized", e.seized},         {"polarity_reversed", e.polarity_reversed},
          {"ringing", e.ringing},     {"digits", e.digits},         {"far_number", e.far_number},
          {"listen_hz", e.listen_hz}, {"listen_ratio", e.listen_ratio}, {"rings", e.rings}};
}

json phone_json(const drivers::SimPhoneStatus& p) {
  return {{"off_hook", p.off_hook},       {"ringing", p.ringing},         {"rings", p.rings},
          {"playing", p.playing},         {"recording", p.recording},     {"heard_digits", p.heard_digits},
          {"listen_hz", p.listen_hz},     {"listen_ratio", p.listen_ratio}, {"level_dbfs", p.level_dbfs},
          {"polarity_reversed", p.polarity_reversed}, {"polarity_changes", p.polarity_changes},
          {"battery", p.battery},         {"battery_drops", p.battery_drops}, {"caller_id", caller_id_json(p)},
          {"ring_segments_ms", p.ring_segments_ms}};
}

// "line": 1-based number or a port name -> 0-based index.
std::optional<std::size_t> line_index(const CommandContext& ctx, const json& request) {
  const auto lines = ctx.board.lines();
  if (!request.contains("line")) return std::nullopt;
  const json& l = request["line"];
  if (l.is_number_integer()) {
    const long n = l.get<long>();
    if (n >= 1 && static_cast<std::size_t>(n) <= lines.size()) return static_cast<std::size_t>(n - 1);
    return std::nullopt;
  }
  if (l.is_string()) {
    const std::string s = l.get<std::string>();
    for (const auto& line : lines)
      if (line.name == s || std::to_string(line.index) == s) return line.index - 1;
  }
  return std::nullopt;
}

// A stream's call quality (media/call_quality.hpp); rtt_ms is null until the
// first RTCP report with a round trip.
json quality_json(const media::StreamStats& stats) {
  const media::CallQuality q = media::assess(stats);
  const auto round_to = [](double v, double scale) { return std::round(v * scale) / scale; };
  return {{"r_factor", round_to(q.r_factor, 10)},
          {"mos", round_to(q.mos, 100)},
          {"rtt_ms", q.rtt_known ? json(round_to(q.rtt_ms, 10)) : json(nullptr)},
          {"loss_percent", round_to(q.loss_percent, 100)},
          {"remote_loss_percent", round_to(q.remote_loss_percent, 100)},
          {"remote_jitter_ms", round_to(q.remote_jitter_ms, 10)}};
}

json result_json(const base::Result<void>& r) { return r ? json{{"ok", true}} : fail(r.error().message()); }

json phone_command(CommandContext& ctx, const json& request) {
  if (!ctx.sim) return fail("phone commands need the sim driver");
  const auto index = line_index(ctx, request);
  if (!index) return fail("unknown line (give its 1-based number or its name)");
  const std::string action = request.value("action", "");
  auto& sim = *ctx.sim;
  const std::size_t i = *index;
  if (action == "offhook") return result_json(sim.off_hook(i));
  if (action == "onhook") return result_json(sim.on_hook(i));
  if (action == "dial") return result_json(sim.dial(i, request.value("digits", ""), request.value("pulse", false)));
  if (action == "flash") return result_json(sim.flash(i, int_param(request, "ms", -1)));
  if (action == "play") return result_json(sim.play_file(i, request.value("file", ""), request.value("loop", false)));
  if (action == "tone")
    return result_json(
        sim.play_tone(i, int_param(request, "hz", 0), int_param(request, "hz2", 0), request.value("level_dbfs", -10.0)));
  if (action == "stop") return result_json(sim.stop_playing(i));
  if (action == "record") return result_json(sim.start_recording(i, request.value("file", "")));
  if (action == "stoprecord") return result_json(sim.stop_recording(i));
  if (action == "listen") return result_json(sim.listen(i, request.value("hz", 0.0)));
  if (action == "autoanswer") return result_json(sim.set_auto_answer(i, int_param(request, "ms", -1)));
  if (action == "status") {
    auto st = sim.status(i);
    if (!st) return fail(st.error().message());
    return {{"ok", true}, {"phone", phone_json(*st)}};
  }
  return fail("unknown phone action '" + action +
              "' (offhook, onhook, dial, flash, play, tone, stop, record, stoprecord, listen, autoanswer, status)");
}

// The simulated exchange behind an FXO port (sim driver): an incoming call
// with a caller identity, the far party hanging up, listening, pressing keys.
json exchange_command(CommandContext& ctx, const json& request) {
  if (!ctx.sim) return fail("exchange commands need the sim driver");
  const auto index = line_index(ctx, request);
  if (!index) return fail("unknown line (give its 1-based number or its name)");
  const std::string action = request.value("action", "");
  auto& sim = *ctx.sim;
  const std::size_t i = *index;
  if (action == "call") {
    drivers::SimIncomingCall call;
    call.caller.number = request.value("number", "");
    call.caller.name = request.value("name", "");
    if (request.value("private", false)) {
      call.caller.number.clear();
      call.caller.name.clear();
      call.caller.number_absence = call.caller.name_absence = dsp::Absence::withheld;
    } else {
      if (call.caller.number.empty()) call.caller.number_absence = dsp::Absence::unavailable;
      if (call.caller.name.empty()) call.caller.name_absence = dsp::Absence::unavailable;
    }
    const std::time_t t = std::time(nullptr);
    std::tm now{};
    localtime_r(&t, &now);
    call.caller.month = now.tm_mon + 1;
    call.caller.day = now.tm_mday;
    call.caller.hour = now.tm_hour;
    call.caller.minute = now.tm_min;
    if (request.contains("format")) {
      const auto format = dsp::caller_id_format_from_string(request.value("format", ""));
      if (!format) return fail("unknown caller ID format (bell202_sdmf, bell202_mdmf, etsi, bt, jclip, dtmf, none)");
      call.format = *format;
    }
    if (request.contains("alert")) {
      const auto alert = dsp::caller_id_alert_from_string(request.value("alert", ""));
      if (!alert) return fail("unknown caller ID alert (first_ring, line_reversal, dt_as, rp_as, ntt_car)");
      call.alert = *alert;
    }
    call.tone_hz = int_param(request, "tone", 0);
    call.listen_hz = request.value("listen", 0.0);
    return result_json(sim.exchange_call(i, call));
  }
  if (action == "hangup") return result_json(sim.exchange_hangup(i));
  if (action == "listen") return result_json(sim.exchange_listen(i, request.value("hz", 0.0)));
  if (action == "dial") return result_json(sim.exchange_dial(i, request.value("digits", "")));
  if (action == "status") {
    auto st = sim.exchange_status(i);
    if (!st) return fail(st.error().message());
    return {{"ok", true}, {"exchange", exchange_json(*st)}};
  }
  return fail("unknown exchange action '" + action + "' (call, hangup, listen, dial, status)");
}

}  // namespace

json handle_request(CommandContext& ctx, const json& request) {
  const std::string cmd = request.value("cmd", "");
  if (cmd == "status") {
    json sip = json::object();
    if (ctx.config) sip = {{"address", ctx.config->sip.address}, {"port", ctx.config->sip.port}};
    return {{"ok", true},
            {"version", kVersion},
            {"sip", sip},
            {"calls", ctx.board.call_count()},
            {"lines", ctx.board.lines().size()}};
  }
  if (cmd == "lines") {
    json lines = json::array();
    for (const auto& l : ctx.board.lines()) {
      json j = {{"index", l.index}, {"name", l.name}, {"kind", l.kind}, {"number", l.number}, {"state", l.state}};
      if (l.kind == "fxs") j["flashes"] = l.flashes;
      // One decimal: a meter, not a measurement to compare bit for bit.
      j["level_tx_dbm0"] = std::round(l.levels.tx_dbm0 * 10) / 10;
      j["level_rx_dbm0"] = std::round(l.levels.rx_dbm0 * 10) / 10;
      j["echo_canceller"] = l.levels.echo_canceller;
      if (l.levels.echo_bypassed) j["echo_canceller_bypassed"] = true;
      if (ctx.sim && l.kind == "fxo") {
        if (auto st = ctx.sim->exchange_status(l.index - 1)) j["exchange"] = exchange_json(*st);
      } else if (ctx.sim) {
        if (auto st = ctx.sim->status(l.index - 1)) j["phone"] = phone_json(*st);
      }
      lines.push_back(std::move(j));
    }
    return {{"ok", true}, {"lines", lines}};
  }
  if (cmd == "calls") {
    json calls = json::array();
    for (const auto& c : ctx.board.calls()) {
      calls.push_back({{"call_id", c.call_id},
                       {"direction", c.inbound ? "inbound" : "outbound"},
                       {"line", c.line},
                       {"remote", c.remote},
                       {"state", c.state},
                       {"codec", c.codec},
                       {"srtp", c.srtp},
                       {"rtp",
                        {{"sent", c.rtp.packets_sent},
                         {"received", c.rtp.packets_received},
                         {"lost", c.rtp.packets_lost},
                         {"jitter_ms", c.rtp.jitter_ms},
                         {"srtp_failures", c.rtp.srtp_failures}}},
                       {"quality", quality_json(c.rtp)}});
      if (c.callee_rtp) calls.back()["callee_quality"] = quality_json(*c.callee_rtp);
    }
    return {{"ok", true}, {"calls", calls}};
  }
  if (cmd == "users") {
    if (!ctx.registrar) return fail("no registrar");
    auto bindings = ctx.registrar->bindings();
    if (!bindings) return fail(bindings.error().message());
    const auto now = std::chrono::system_clock::now();
    json users = json::array();
    for (const auto& b : *bindings) {
      users.push_back({{"user", b.aor},
                       {"contact", b.contact},
                       {"q", registrar::format_qvalue(b.q_milli)},
                       {"expires_in", std::chrono::duration_cast<std::chrono::seconds>(b.expires_at - now).count()},
                       {"source", b.source_address},
                       {"transport", b.transport},
                       {"user_agent", b.user_agent}});
    }
    return {{"ok", true}, {"users", users}};
  }
  if (cmd == "bans") {
    if (!ctx.registrar) return fail("no registrar");
    json bans = json::array();
    for (const auto& b : ctx.registrar->bans().bans())
      bans.push_back({{"address", b.address}, {"remaining_s", b.remaining.count()}});
    return {{"ok", true}, {"bans", bans}};
  }
  if (cmd == "unban") {
    if (!ctx.registrar) return fail("no registrar");
    const std::string address = request.value("address", "");
    if (!ctx.registrar->bans().lift(address)) return fail("not banned: " + address);
    base::log::info(base::Sub::ctl, "event=unbanned source={}", address);
    return {{"ok", true}};
  }
  if (cmd == "phone") return phone_command(ctx, request);
  if (cmd == "exchange") return exchange_command(ctx, request);
  if (cmd == "reload") {
    if (!ctx.reload) return fail("reload is not available");
    return result_json(ctx.reload());
  }
  return fail("unknown command '" + cmd + "' (status, lines, calls, users, bans, unban, phone, exchange, reload)");
}

}  // namespace sipline::gateway::ctl
