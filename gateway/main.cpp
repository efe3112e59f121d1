// sipline: the SIP-to-analog-line gateway daemon. This is the composition root:
// it reads the configuration, builds the driver, the media engine, the
// switchboard, the SIP stack and the control socket, and runs the control
// thread's GLib main loop until SIGTERM.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <glib-unix.h>
#include <glib.h>

#include "call/glib_timers.hpp"
#include "call/switchboard.hpp"
#include "config/config.hpp"
#include "config/default_config.hpp"
#include "ctl/commands.hpp"
#include "registrar/registrar.hpp"
#include "ctl/control_server.hpp"
#include "media/media_engine.hpp"
#include "route/router.hpp"
#include "sip/sip_stack.hpp"
#include "sipline/base/log.hpp"
#include "sipline/drivers/dahdi_driver.hpp"
#include "sipline/drivers/sim_driver.hpp"
#include "sipline/enum/resolver.hpp"
#include "version.hpp"

namespace {

using namespace sipline;
using base::Sub;
namespace log = base::log;

base::Result<gateway::config::Config> load(const std::string& path) {
  return path.empty() ? gateway::config::default_config() : gateway::config::load_config_file(path);
}

// [sip] transports "tls" and [tls] as the SIP stack takes them.
std::optional<gateway::sip::SipTlsConfig> tls_settings(const gateway::config::Config& c) {
  if (!c.sip.tls) return std::nullopt;
  return gateway::sip::SipTlsConfig{.port = c.sip.tls_port,
                                    .certificate = c.tls.certificate,
                                    .private_key = c.tls.private_key,
                                    .ca_file = c.tls.ca_file,
                                    .verify_peer = c.tls.verify_peer,
                                    .min_version = c.tls.min_version};
}

// GLib's own warnings (and libnice's later) go through our logger.
GLogWriterOutput glib_writer(GLogLevelFlags level, const GLogField* fields, gsize n, gpointer) noexcept {
  for (gsize i = 0; i < n; ++i) {
    if (std::string_view(fields[i].key) != "MESSAGE") continue;
    const char* msg = static_cast<const char*>(fields[i].value);
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
      log::warn(Sub::main, "glib: {}", msg ? msg : "");
    else
      log::debug(Sub::main, "glib: {}", msg ? msg : "");
  }
  return G_LOG_WRITER_HANDLED;
}

struct Daemon {
  std::string config_path;
  gateway::config::Config config;
  GMainLoop* loop = nullptr;
  std::unique_ptr<drivers::SimDriver> sim;     // lines.driver = "sim"
  std::unique_ptr<drivers::DahdiIo> dahdi_io;  // lines.driver = "dahdi"
  std::unique_ptr<drivers::LineDriver> driver;  // the one in use (sim or dahdi)
  std::unique_ptr<gateway::media::MediaEngine> media;
  gateway::call::GlibTimers timers;
  base::SteadyClock clock;
  std::unique_ptr<e164::EnumResolver> resolver;
  std::unique_ptr<gateway::route::Router> router;
  std::unique_ptr<gateway::call::Switchboard> board;
  std::unique_ptr<gateway::sip::SipStack> sip;
  gateway::registrar::SystemWallClock wall_clock;
  std::unique_ptr<gateway::registrar::Registrar> registrar;
  std::unique_ptr<gateway::ctl::CommandContext> commands;
  std::unique_ptr<gateway::ctl::ControlServer> control;
  std::vector<guint> sources;
  bool stopping = false;

  int run();
  void stop();
  base::Result<void> start_registrar();
  base::Result<void> reload();
};

base::Result<void> Daemon::reload() {
  auto fresh = load(config_path);
  if (!fresh) {
    log::error(Sub::config, "event=reload_failed error=\"{}\"", fresh.error().message());
    return base::fail(fresh.error());
  }
  board->set_dial_plan(fresh->dial_plan);
  return {};
}

void Daemon::stop() {
  if (stopping) return;
  stopping = true;
  log::info(Sub::main, "event=stopping calls={}", board->call_count());
  board->hangup_all();
  // Let the BYEs and CANCELs go out and their answers arrive; give up after 5 s.
  sip->shutdown([this] { g_main_loop_quit(loop); });
  g_timeout_add_seconds(5, [](gpointer data) noexcept -> gboolean {
    log::warn(Sub::main, "event=shutdown_timeout");
    g_main_loop_quit(static_cast<GMainLoop*>(data));
    return G_SOURCE_REMOVE;
  }, loop);
}

// The registrar: digest-authenticated REGISTER from the [[user]]s, bindings
// in SQLite (registrar.database; "" keeps them in memory).
base::Result<void> Daemon::start_registrar() {
  namespace reg = gateway::registrar;
  namespace auth = gateway::auth;
  reg::RegistrarOptions o;
  o.digest.realm = config.auth.realm;
  o.digest.nonce_lifetime = std::chrono::seconds(config.auth.nonce_lifetime_s);
  o.digest.algorithms.clear();
  for (const auto& name : config.auth.algorithms)
    if (auto a = auth::parse_algorithm(name)) o.digest.algorithms.push_back(*a);
  const auto& rc = config.registrar;
  o.store.path = rc.database.empty() ? ":memory:" : rc.database;
  o.store.max_bindings_per_aor = static_cast<std::size_t>(rc.max_contacts);
  o.store.min_expires = std::chrono::seconds(rc.min_expires_s);
  o.store.max_expires = std::chrono::seconds(rc.max_expires_s);
  o.store.default_expires = std::chrono::seconds(rc.default_expires_s);
  o.ban = {.failures = config.auth.ban_after_failures,
           .window = std::chrono::seconds(config.auth.ban_window_s),
           .duration = std::chrono::seconds(config.auth.ban_duration_s),
           .max_tracked = 10000};
  for (const auto& u : config.users)
    o.users.push_back({.name = u.name, .password = u.password, .ha1_md5 = u.ha1_md5, .ha1_sha256 = u.ha1_sha256});
  auto made = reg::Registrar::create(std::move(o), clock, wall_clock);
  if (!made) return base::fail(made.error());
  registrar = std::move(*made);
  sip->set_register_handler(registrar.get());
  board->set_registrar(registrar.get());
  // "user:<name>" dial-plan steps call the user's registered contacts.
  router->set_user_contacts([this](std::string_view user) { return registrar->contacts(user); });
  if (rc.database.empty()) log::warn(Sub::sip, "event=registrar_in_memory hint=\"set registrar.database to keep registrations over a restart\"");
  log::info(Sub::sip, "event=registrar_ready users={} realm={} database=\"{}\"", config.users.size(), config.auth.realm,
            rc.database);
  return {};
}

int Daemon::run() {
  loop = g_main_loop_new(nullptr, FALSE);
  const auto& lc = config.lines;

  drivers::SimDriverConfig sim_config;
  std::vector<const dsp::ToneProfile*> profiles;
  // The loader puts the FXS ports first, as the sim driver numbers its ports.
  for (const auto& port : lc.ports) {
    if (port.kind == gateway::config::PortKind::fxo) {
      using Disconnect = drivers::SimExchangeLineConfig::Disconnect;
      sim_config.exchange_lines.push_back(
          {.name = port.name,
           .number = port.number,
           .profile = lc.profile(port.country),
           .answer_polarity_reversal = port.sim_answer_polarity,
           .disconnect = port.sim_disconnect == "polarity_reversal" ? Disconnect::polarity_reversal
                         : port.sim_disconnect == "busy_tone"       ? Disconnect::busy_tone
                         : port.sim_disconnect == "silence"         ? Disconnect::silence
                                                                    : Disconnect::loop_drop,
           .loop_drop_ms = 800,
           .hook = lc.profile(port.country)->hook,
           .echo = port.sim_echo});
    } else {
      sim_config.phones.push_back({.name = port.name,
                                   .auto_answer_ms = port.auto_answer_ms,
                                   .caller_id = port.phone_caller_id.value_or(dsp::CallerIdFormat::none),
                                   .caller_id_auto = !port.phone_caller_id.has_value(),
                                   .hook = lc.profile(port.country)->hook,
                                   .echo = port.sim_echo});
    }
    profiles.push_back(lc.profile(port.country));
  }
  for (const auto& sub : config.sim.subscribers) {
    using Behaviour = drivers::SimSubscriberConfig::Behaviour;
    sim_config.subscribers.push_back({.number = sub.number,
                                      .behaviour = sub.behaviour == "busy"        ? Behaviour::busy
                                                   : sub.behaviour == "no_answer" ? Behaviour::no_answer
                                                                                  : Behaviour::answer,
                                      .answer_after_ms = sub.answer_after_ms,
                                      .tone_hz = sub.tone_hz,
                                      .hangup_after_ms = sub.hangup_after_ms});
  }
  drivers::LineDriver* line_driver = nullptr;
  if (lc.driver == "dahdi") {
    // A channel that fails to open stays as an alarm port; the others work.
    drivers::DahdiDriverConfig dahdi_config{.ports = {}, .device = lc.dahdi_device};
    for (const auto& port : lc.ports) {
      dahdi_config.ports.push_back({.name = port.name,
                                    .span = port.dahdi_span,
                                    .channel = port.dahdi_channel,
                                    .kind = port.kind == gateway::config::PortKind::fxo ? drivers::PortKind::fxo
                                                                                       : drivers::PortKind::fxs,
                                    .hook = lc.profile(port.country)->hook});
    }
    dahdi_io = drivers::make_system_dahdi_io();
    auto dahdi = std::make_unique<drivers::DahdiDriver>(dahdi_config, *dahdi_io);
    // (the driver has logged each failed channel)
    log::info(Sub::driver, "event=dahdi_ready ports={} working={}", dahdi->port_count(), dahdi->working_port_count());
    line_driver = dahdi.get();
    driver = std::move(dahdi);
  } else {
    sim = std::make_unique<drivers::SimDriver>(sim_config);
    line_driver = sim.get();
  }

  media = std::make_unique<gateway::media::MediaEngine>(
      gateway::media::MediaEngineConfig{.rtp_address = config.media.rtp_address,
                                        .port_min = config.media.rtp_port_min,
                                        .port_max = config.media.rtp_port_max,
                                        .workers = config.media.workers,
                                        .jitter_buffer_ms = config.media.jitter_buffer_ms,
                                        .rtp_timeout_ms = config.media.rtp_timeout_s * 1000,
                                        .max_relays = config.media.max_relays},
      *line_driver, profiles);
  for (std::size_t i = 0; i < lc.ports.size(); ++i) {
    const auto& port = lc.ports[i];
    if (port.kind == gateway::config::PortKind::fxo)
      media->detect_caller_id(i, port.caller_id.value_or(dsp::CallerIdFormat::none), !port.caller_id.has_value());
    if (port.echo_cancel && config.media.echo_canceller)
      media->cancel_echo(i, *config.media.echo_canceller, {.tail_ms = config.media.echo_tail_ms});
    if (port.rx_gain_db != 0 || port.tx_gain_db != 0) media->set_gains(i, port.rx_gain_db, port.tx_gain_db);
  }
  if (auto r = media->start(); !r) {
    log::error(Sub::media, "event=start_failed error=\"{}\"", r.error().message());
    return 1;
  }

  const auto& ec = config.enum_lookup;
  auto made = e164::EnumResolver::create({.servers = ec.servers,
                                          .suffixes = ec.suffixes,
                                          .timeout_ms = ec.timeout_ms,
                                          .max_depth = ec.max_depth,
                                          .cache_entries = static_cast<std::size_t>(ec.cache_entries),
                                          .max_cache_ttl = std::chrono::seconds(86400)},
                                         nullptr, clock);
  if (!made) {
    log::error(Sub::e164, "event=start_failed error=\"{}\"", made.error().message());
    media->stop();
    return 1;
  }
  resolver = std::move(*made);
  router = std::make_unique<gateway::route::Router>(config, resolver.get());
  board = std::make_unique<gateway::call::Switchboard>(config, timers, clock, *line_driver, *media, *router);
  auto stack = gateway::sip::SipStack::create({.address = config.sip.address,
                                               .port = config.sip.port,
                                               .udp = config.sip.udp,
                                               .tcp = config.sip.tcp,
                                               .tls = tls_settings(config),
                                               .user_agent = config.sip.user_agent},
                                              *board);
  if (!stack) {
    log::error(Sub::sip, "event=start_failed error=\"{}\"", stack.error().message());
    media->stop();
    return 1;
  }
  sip = std::move(*stack);
  board->set_sip(sip.get());
  if (auto r = start_registrar(); !r) {
    log::error(Sub::sip, "event=start_failed error=\"{}\"", r.error().message());
    sip->shutdown([this] { g_main_loop_quit(loop); });
    g_main_loop_run(loop);
    media->stop();
    return 1;
  }

  commands = std::make_unique<gateway::ctl::CommandContext>(
      gateway::ctl::CommandContext{.board = *board,
                                   .sim = sim.get(),
                                   .config = &config,
                                   .reload = [this] { return reload(); },
                                   .registrar = registrar.get()});
  auto control_server = gateway::ctl::ControlServer::create(
      config.control.socket, [this](const nlohmann::json& req) { return gateway::ctl::handle_request(*commands, req); });
  if (!control_server) {
    log::error(Sub::ctl, "event=start_failed error=\"{}\"", control_server.error().message());
    sip->shutdown([this] { g_main_loop_quit(loop); });
    g_main_loop_run(loop);
    media->stop();
    return 1;
  }
  control = std::move(*control_server);

  sources.push_back(g_unix_fd_add(line_driver->event_fd(), G_IO_IN, [](gint, GIOCondition, gpointer data) noexcept -> gboolean {
    auto* d = static_cast<Daemon*>(data);
    drivers::LineDriver& ld = d->sim ? static_cast<drivers::LineDriver&>(*d->sim) : *d->driver;
    ld.drain_events([d](const drivers::LineEvent& e) { d->board->on_line_event(e); });
    return G_SOURCE_CONTINUE;
  }, this));
  sources.push_back(g_unix_fd_add(media->event_fd(), G_IO_IN, [](gint, GIOCondition, gpointer data) noexcept -> gboolean {
    auto* d = static_cast<Daemon*>(data);
    d->media->drain_events([d](const gateway::media::MediaEvent& e) { d->board->on_media_event(e); });
    return G_SOURCE_CONTINUE;
  }, this));
  for (int sig : {SIGTERM, SIGINT}) {
    sources.push_back(g_unix_signal_add(sig, [](gpointer data) noexcept -> gboolean {
      static_cast<Daemon*>(data)->stop();
      return G_SOURCE_CONTINUE;
    }, this));
  }
  sources.push_back(g_unix_signal_add(SIGHUP, [](gpointer data) noexcept -> gboolean {
    log::info(Sub::config, "event=reload signal=SIGHUP");
    (void)static_cast<Daemon*>(data)->reload();
    return G_SOURCE_CONTINUE;
  }, this));

  log::info(Sub::main, "event=ready version={} config=\"{}\" sip={}:{} lines={} control={}", gateway::kVersion,
            config.source, config.sip.address, config.sip.port, lc.ports.size(), config.control.socket);
  g_main_loop_run(loop);

  for (guint s : sources) g_source_remove(s);
  control.reset();
  media->stop();
  board.reset();
  if (sip->shut_down()) {
    sip.reset();
  } else {
    // Sofia cannot be destroyed before its shutdown completes; the process is
    // exiting, so leave it to the operating system.
    (void)sip.release();
  }
  g_main_loop_unref(loop);
  log::info(Sub::main, "event=stopped");
  return 0;
}

// Points fd 1 at /dev/null (the C library's stdout buffer is flushed first).
void silence_stdout() {
  std::fflush(stdout);
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDOUT_FILENO);
  ::close(null);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sipline: a SIP gateway for analog telephone lines"};
  std::string config_path;
  std::string check_path;
  std::string log_level;
  bool print_default = false;
  bool version = false;
  app.add_option("-c,--config", config_path, "TOML configuration file (default: the embedded configuration)");
  app.add_option("--check-config", check_path, "validate a configuration file and exit");
  app.add_option("--log-level", log_level, "override [log] level: trace, debug, info, warn, error");
  app.add_flag("--print-default-config", print_default, "print the embedded default configuration and exit");
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::printf("sipline %s\n", gateway::kVersion);
    return 0;
  }
  if (print_default) {
    std::fwrite(gateway::config::kDefaultConfigToml.data(), 1, gateway::config::kDefaultConfigToml.size(), stdout);
    return 0;
  }
  if (!check_path.empty()) {
    auto r = gateway::config::load_config_file(check_path);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
      return 1;
    }
    std::printf("%s: ok\n", check_path.c_str());
    return 0;
  }

  std::signal(SIGPIPE, SIG_IGN);
  g_log_set_writer_func(glib_writer, nullptr, nullptr);
  // The daemon's own output is its log, on stderr. Libraries that print to
  // stdout (spandsp 0.0.6's echo canceller writes debug lines per sample)
  // write into /dev/null, so that whoever reads stdout sees nothing of them.
  silence_stdout();
  auto config = load(config_path);
  if (!config) {
    std::fprintf(stderr, "sipline: %s\n", config.error().message().c_str());
    return 2;
  }
  log::init(log_level.empty() ? config->log.level : log_level);
  Daemon daemon;
  daemon.config_path = config_path;
  daemon.config = std::move(*config);
  return daemon.run();
}
