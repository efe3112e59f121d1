#include "config/config.hpp"

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <toml++/toml.h>

#include "config/default_config.hpp"
#include "sipline/dsp/tone_profile.hpp"
#include "sipline/dsp/tone_profile_toml.hpp"
#include "sipline/enum/e164.hpp"

// Defaults that are not plain member initializers of the structs in
// config.hpp, mirroring default_config.toml:
// - a file without any [[lines.port]] gets the two simulated phones of the
//   embedded default: fxs1 (201) and fxs2 (202);
// - a file without any [[dialplan]] gets the single rule
//   2XX -> sip:$digits@<sip.address>:<sip.port>.
// An explicitly empty list (`port = []`, `dialplan = []`) is an error.
//
// toml++ (the Debian build is a shared library built with exceptions) throws
// toml::parse_error; it is caught here, at the config-load boundary.

namespace sipline::gateway::config {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  base::Result<Config> load(const toml::table& root) {
    Config c;
    c.source = source_;
    if (auto r = check_keys(root, "", {"sip", "media", "control", "log", "lines", "enum", "routing", "trunk",
                                       "dialplan", "auth", "registrar", "user", "tls", "countries", "sim"});
        !r) {
      return base::fail(r.error());
    }
    const toml::table* sip = nullptr;
    const toml::table* media = nullptr;
    const toml::table* control = nullptr;
    const toml::table* log = nullptr;
    const toml::table* lines = nullptr;
    const toml::table* enum_lookup = nullptr;
    const toml::table* routing = nullptr;
    const toml::table* auth = nullptr;
    const toml::table* registrar = nullptr;
    const toml::table* tls = nullptr;
    const toml::table* countries = nullptr;
    for (auto [name, out] : {std::pair{"countries", &countries}, std::pair{"sip", &sip}, std::pair{"media", &media}, std::pair{"control", &control},
                             std::pair{"log", &log}, std::pair{"lines", &lines}, std::pair{"enum", &enum_lookup},
                             std::pair{"routing", &routing}, std::pair{"auth", &auth},
                             std::pair{"registrar", &registrar}, std::pair{"tls", &tls}}) {
      auto t = section(root, name);
      if (!t) return base::fail(t.error());
      *out = *t;
    }
    if (auto r = load_sip(sip, c.sip); !r) return base::fail(r.error());
    if (auto r = load_media(media, c); !r) return base::fail(r.error());
    if (auto r = load_control(control, c.control); !r) return base::fail(r.error());
    if (auto r = load_log(log, c.log); !r) return base::fail(r.error());
    if (auto r = load_countries(countries, c.lines); !r) return base::fail(r.error());
    if (auto r = load_lines(lines, c.lines); !r) return base::fail(r.error());
    if (auto r = load_enum(enum_lookup, c.enum_lookup); !r) return base::fail(r.error());
    if (auto r = load_routing(routing, c); !r) return base::fail(r.error());
    if (auto r = load_trunks(root, c); !r) return base::fail(r.error());
    if (auto r = load_dialplan(root, c); !r) return base::fail(r.error());
    if (auto r = load_auth(auth, c); !r) return base::fail(r.error());
    if (auto r = load_registrar(registrar, c.registrar); !r) return base::fail(r.error());
    if (auto r = load_users(root, c); !r) return base::fail(r.error());
    if (auto r = load_sim(root, c.sim); !r) return base::fail(r.error());
    if (auto r = load_tls(tls, sip, c); !r) return base::fail(r.error());
    return c;
  }

 private:
  using Void = base::Result<void>;

  std::string where(const toml::source_region& r) const {
    const auto line = r.begin.line == 0 ? 1u : r.begin.line;
    const auto column = r.begin.column == 0 ? 1u : r.begin.column;
    return source_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  tl::unexpected<base::Error> invalid(const toml::source_region& r, const std::string& message) const {
    return base::fail(ConfigError::invalid, where(r) + message);
  }

  static std::string path(std::string_view table, std::string_view key) {
    return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
  }

  Void check_keys(const toml::table& t, std::string_view table, std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : t) {
      (void)node;
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      if (table.empty()) return invalid(key.source(), "unknown key '" + std::string(key.str()) + "'");
      return invalid(key.source(), "unknown key '" + std::string(key.str()) + "' in [" + std::string(table) + "]");
    }
    return {};
  }

  base::Result<const toml::table*> section(const toml::table& root, std::string_view name) const {
    const toml::node* n = root.get(name);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) {
      return invalid(n->source(), std::string(name) + ": expected a table, got " + dsp::toml_type_name(n->type()));
    }
    return n->as_table();
  }

  const toml::node* find(const toml::table* t, std::string_view key) const {
    return t == nullptr ? nullptr : t->get(key);
  }

  tl::unexpected<base::Error> wrong_type(const toml::node& n, const std::string& name, const char* expected) const {
    return invalid(n.source(), name + ": expected " + expected + ", got " + dsp::toml_type_name(n.type()));
  }

  // Reads a boolean key into `out` if present.
  Void get_bool(const toml::table* t, std::string_view table, std::string_view key, bool& out) const {
    const toml::node* n = find(t, key);
    if (n == nullptr) return {};
    if (!n->is_boolean()) return wrong_type(*n, path(table, key), "a boolean");
    out = n->as_boolean()->get();
    return {};
  }

  // Reads an integer key into `out` if present, checking [min, max].
  template <class Int>
  Void get_int(const toml::table* t, std::string_view table, std::string_view key, std::int64_t min,
               std::int64_t max, Int& out) const {
    const toml::node* n = find(t, key);
    if (n == nullptr) return {};
    const std::string name = path(table, key);
    if (!n->is_integer()) return wrong_type(*n, name, "an integer");
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      return invalid(n->source(), name + ": " + std::to_string(v) + " is out of range " + std::to_string(min) +
                                      ".." + std::to_string(max));
    }
    out = static_cast<Int>(v);
    return {};
  }

  // Reads a number (integer or float) into `out` if present, checking [min, max].
  Void get_number(const toml::table* t, std::string_view table, std::string_view key, double min, double max,
                  double& out) const {
    const toml::node* n = find(t, key);
    if (n == nullptr) return {};
    const std::string name = path(table, key);
    if (!n->is_number()) return wrong_type(*n, name, "a number");
    const double v = n->value<double>().value_or(0);
    if (v < min || v > max) {
      return invalid(n->source(), name + ": " + std::to_string(v) + " is out of range " + std::to_string(min) + ".." +
                                      std::to_string(max));
    }
    out = v;
    return {};
  }

  Void get_string(const toml::table* t, std::string_view table, std::string_view key, std::string& out) const {
    const toml::node* n = find(t, key);
    if (n == nullptr) return {};
    if (!n->is_string()) return wrong_type(*n, path(table, key), "a string");
    out = n->as_string()->get();
    return {};
  }

  // Reads an array of strings; `nodes` receives each element for positions.
  Void get_strings(const toml::table* t, std::string_view table, std::string_view key, bool& present,
                   std::vector<std::pair<std::string, const toml::node*>>& out, bool allow_empty = false) const {
    present = false;
    const toml::node* n = find(t, key);
    if (n == nullptr) return {};
    const std::string name = path(table, key);
    if (!n->is_array()) return wrong_type(*n, name, "an array of strings");
    present = true;
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) return wrong_type(e, name + " element", "a string");
      out.emplace_back(e.as_string()->get(), &e);
    }
    if (out.empty() && !allow_empty) return invalid(n->source(), name + ": must not be empty");
    return {};
  }

  Void check_address(const toml::table* t, std::string_view table, std::string_view key, const std::string& value,
                     bool allow_empty) const {
    if (value.empty() && allow_empty) return {};
    const toml::node* n = find(t, key);
    const toml::source_region region = n ? n->source() : toml::source_region{};
    const std::string name = path(table, key);
    if (!is_ip_literal(value)) {
      return invalid(region, name + ": \"" + value + "\" is not an IPv4 or IPv6 address");
    }
    if (value == "0.0.0.0" || value == "::") {
      return invalid(region, name + ": must be a specific address, it is sent in SIP and SDP");
    }
    return {};
  }

  Void load_sip(const toml::table* t, SipConfig& sip) const {
    if (t == nullptr) return {};
    if (auto r = check_keys(*t, "sip", {"address", "port", "transports", "tls_port", "user_agent",
                                        "no_answer_timeout_s"});
        !r) {
      return r;
    }
    if (auto r = get_string(t, "sip", "address", sip.address); !r) return r;
    if (auto r = check_address(t, "sip", "address", sip.address, false); !r) return r;
    if (auto r = get_int(t, "sip", "port", 1, 65535, sip.port); !r) return r;
    bool present = false;
    std::vector<std::pair<std::string, const toml::node*>> transports;
    if (auto r = get_strings(t, "sip", "transports", present, transports); !r) return r;
    if (present) {
      sip.udp = sip.tcp = sip.tls = false;
      for (const auto& [name, node] : transports) {
        const std::string l = lower(name);
        if (l == "udp") {
          sip.udp = true;
        } else if (l == "tcp") {
          sip.tcp = true;
        } else if (l == "tls") {
          sip.tls = true;
        } else {
          return invalid(node->source(), "sip.transports: unknown transport \"" + name + "\" (udp, tcp, tls)");
        }
      }
    }
    if (auto r = get_int(t, "sip", "tls_port", 1, 65535, sip.tls_port); !r) return r;
    if (sip.tls && sip.tls_port == sip.port) {
      const toml::node* n = find(t, "tls_port");
      return invalid(n ? n->source() : t->source(), "sip.tls_port: must differ from sip.port (" +
                                                        std::to_string(sip.port) + ")");
    }
    if (auto r = get_string(t, "sip", "user_agent", sip.user_agent); !r) return r;
    if (sip.user_agent.empty()) return invalid(find(t, "user_agent")->source(), "sip.user_agent: must not be empty");
    return get_int(t, "sip", "no_answer_timeout_s", 1, 3600, sip.no_answer_timeout_s);
  }

  Void load_media(const toml::table* t, Config& c) const {
    MediaConfig& m = c.media;
    if (t != nullptr) {
      if (auto r = check_keys(*t, "media",
                              {"rtp_address", "rtp_port_min", "rtp_port_max", "codecs", "dtmf_payload_type",
                               "jitter_buffer_ms", "rtp_timeout_s", "workers", "max_relays", "srtp",
                               "srtp_suites", "echo_canceller", "echo_tail_ms"});
          !r) {
        return r;
      }
      if (auto r = get_string(t, "media", "rtp_address", m.rtp_address); !r) return r;
      if (auto r = check_address(t, "media", "rtp_address", m.rtp_address, true); !r) return r;
      if (auto r = get_int(t, "media", "rtp_port_min", 1024, 65535, m.rtp_port_min); !r) return r;
      if (auto r = get_int(t, "media", "rtp_port_max", 1024, 65535, m.rtp_port_max); !r) return r;
      const toml::node* min_node = find(t, "rtp_port_min");
      const toml::source_region min_region = min_node ? min_node->source() : t->source();
      if (m.rtp_port_min % 2 != 0) return invalid(min_region, "media.rtp_port_min: must be even (RTP even, RTCP odd)");
      if (m.rtp_port_min >= m.rtp_port_max) {
        return invalid(min_region, "media.rtp_port_min: must be less than media.rtp_port_max (" +
                                       std::to_string(m.rtp_port_max) + ")");
      }
      bool present = false;
      std::vector<std::pair<std::string, const toml::node*>> codecs;
      if (auto r = get_strings(t, "media", "codecs", present, codecs); !r) return r;
      if (present) {
        m.codecs.clear();
        for (const auto& [name, node] : codecs) {
          const std::string u = upper(name);
          media::AudioCodec codec;
          if (u == "PCMU") {
            codec = media::AudioCodec::pcmu;
          } else if (u == "PCMA") {
            codec = media::AudioCodec::pcma;
          } else {
            return invalid(node->source(), "media.codecs: unknown codec \"" + name + "\" (PCMU, PCMA)");
          }
          if (std::find(m.codecs.begin(), m.codecs.end(), codec) != m.codecs.end()) {
            return invalid(node->source(), "media.codecs: \"" + name + "\" is listed twice");
          }
          m.codecs.push_back(codec);
        }
      }
      const toml::node* dtmf = find(t, "dtmf_payload_type");
      if (auto r = get_int(t, "media", "dtmf_payload_type", -1, 127, m.dtmf_payload_type); !r) return r;
      if (m.dtmf_payload_type != -1 && m.dtmf_payload_type < 96) {
        return invalid(dtmf->source(), "media.dtmf_payload_type: must be a dynamic payload type 96..127, or -1");
      }
      const toml::node* jb = find(t, "jitter_buffer_ms");
      if (auto r = get_int(t, "media", "jitter_buffer_ms", 20, 500, m.jitter_buffer_ms); !r) return r;
      if (m.jitter_buffer_ms % 20 != 0) {
        return invalid(jb->source(), "media.jitter_buffer_ms: must be a multiple of 20 (the frame length)");
      }
      if (auto r = get_int(t, "media", "rtp_timeout_s", 0, 86400, m.rtp_timeout_s); !r) return r;
      if (auto r = get_int(t, "media", "workers", 0, 256, m.workers); !r) return r;
      if (auto r = get_int(t, "media", "max_relays", 0, 10000, m.max_relays); !r) return r;
      if (auto r = load_srtp(t, m); !r) return r;
      if (auto r = load_echo_canceller(t, m); !r) return r;
    }
    if (m.rtp_address.empty()) m.rtp_address = c.sip.address;
    if (m.workers == 0) m.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return {};
  }

  Void load_echo_canceller(const toml::table* t, MediaConfig& m) const {
    std::string kind;
    if (auto r = get_string(t, "media", "echo_canceller", kind); !r) return r;
    if (!kind.empty()) {
      dsp::EchoCancellerKind k;
      if (kind == "off") {
        m.echo_canceller.reset();
      } else if (dsp::parse_echo_canceller_kind(kind, k)) {
        m.echo_canceller = k;
      } else {
        return invalid(find(t, "echo_canceller")->source(),
                       "media.echo_canceller: \"" + kind + "\" is not sipline, spandsp, speex or off");
      }
    }
    return get_int(t, "media", "echo_tail_ms", 8, 128, m.echo_tail_ms);
  }

  // `sim_echo = { erl_db = 6, delay_ms = 8, dispersion_ms = 6, noise_dbm0 = -70 }`.
  Void load_sim_echo(const toml::table& pt, PortConfig& port) const {
    const toml::node* n = pt.get("sim_echo");
    if (n == nullptr) return {};
    if (!n->is_table()) return wrong_type(*n, "lines.port.sim_echo", "a table");
    const toml::table& e = *n->as_table();
    if (auto r = check_keys(e, "lines.port.sim_echo", {"erl_db", "delay_ms", "dispersion_ms", "noise_dbm0", "seed"});
        !r) {
      return r;
    }
    dsp::EchoPathOptions echo;
    if (auto r = get_number(&e, "lines.port.sim_echo", "erl_db", 0, 60, echo.erl_db); !r) return r;
    if (auto r = get_number(&e, "lines.port.sim_echo", "noise_dbm0", -99, -20, echo.noise_dbm0); !r) return r;
    if (auto r = get_int(&e, "lines.port.sim_echo", "delay_ms", 0, 100, echo.delay_ms); !r) return r;
    if (auto r = get_int(&e, "lines.port.sim_echo", "dispersion_ms", 0, 24, echo.dispersion_ms); !r) return r;
    if (auto r = get_int(&e, "lines.port.sim_echo", "seed", 1, 1000000, echo.seed); !r) return r;
    port.sim_echo = echo;
    return {};
  }

  // `permissions = ["international", "premium"]` in table `where`.
  Void get_permissions(const toml::table* t, const std::string& where, route::Permissions& out) const {
    bool present = false;
    std::vector<std::pair<std::string, const toml::node*>> words;
    if (auto r = get_strings(t, where, "permissions", present, words, true); !r) return r;
    out = {};
    for (const auto& [word, node] : words) {
      if (!route::add_permission(out, lower(word))) {
        return invalid(node->source(), where + ".permissions: \"" + word + "\" is not \"international\" or \"premium\"");
      }
    }
    return {};
  }

  // routing.international_prefixes / premium_prefixes: E.164 prefixes ("+1900").
  Void get_toll_prefixes(const toml::table* t, const char* key, std::vector<std::string>& out) const {
    bool present = false;
    std::vector<std::pair<std::string, const toml::node*>> items;
    if (auto r = get_strings(t, "routing", key, present, items, true); !r) return r;
    if (!present) return {};
    out.clear();
    for (const auto& [text, node] : items) {
      const bool ok = text.size() >= 2 && text.size() <= 16 && text[0] == '+' &&
                      std::all_of(text.begin() + 1, text.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      if (!ok) return invalid(node->source(), std::string("routing.") + key + ": \"" + text + "\" is not \"+\" and digits");
      out.push_back(text);
    }
    return {};
  }

  // media.srtp (the policy) and media.srtp_suites (offer order).
  Void load_srtp(const toml::table* t, MediaConfig& m) const {
    std::string policy(media::srtp_policy_name(m.srtp));
    if (auto r = get_string(t, "media", "srtp", policy); !r) return r;
    if (auto p = media::srtp_policy_from_name(policy)) {
      m.srtp = *p;
    } else {
      return invalid(find(t, "srtp")->source(),
                     "media.srtp: unknown policy \"" + policy + "\" (off, optional, mandatory)");
    }
    bool present = false;
    std::vector<std::pair<std::string, const toml::node*>> suites;
    if (auto r = get_strings(t, "media", "srtp_suites", present, suites); !r) return r;
    if (!present) return {};
    m.srtp_suites.clear();
    for (const auto& [name, node] : suites) {
      auto suite = media::srtp_suite_from_name(upper(name));
      if (!suite) {
        return invalid(node->source(), "media.srtp_suites: unknown suite \"" + name +
                                           "\" (AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM)");
      }
      if (std::find(m.srtp_suites.begin(), m.srtp_suites.end(), *suite) != m.srtp_suites.end()) {
        return invalid(node->source(), "media.srtp_suites: \"" + name + "\" is listed twice");
      }
      m.srtp_suites.push_back(*suite);
    }
    return {};
  }

  // [tls]: checked after [sip], because "tls" in sip.transports makes the
  // certificate and key required (and they must be readable files).
  Void load_tls(const toml::table* t, const toml::table* sip, Config& c) const {
    TlsConfig& tls = c.tls;
    if (t != nullptr) {
      if (auto r = check_keys(*t, "tls", {"certificate", "private_key", "ca_file", "verify_peer", "min_version"}); !r)
        return r;
      for (auto [key, out] : {std::pair{"certificate", &tls.certificate}, std::pair{"private_key", &tls.private_key},
                              std::pair{"ca_file", &tls.ca_file}, std::pair{"min_version", &tls.min_version}}) {
        if (auto r = get_string(t, "tls", key, *out); !r) return r;
      }
      if (const toml::node* n = find(t, "verify_peer")) {
        if (!n->is_boolean()) return wrong_type(*n, "tls.verify_peer", "a boolean");
        tls.verify_peer = n->as_boolean()->get();
      }
      if (tls.min_version != "1.2" && tls.min_version != "1.3")
        return invalid(find(t, "min_version")->source(),
                       "tls.min_version: \"" + tls.min_version + "\" is not \"1.2\" or \"1.3\"");
    }
    if (!c.sip.tls) return {};
    const toml::node* transports = find(sip, "transports");
    for (auto [key, value] : {std::pair{"certificate", &tls.certificate}, std::pair{"private_key", &tls.private_key},
                              std::pair{"ca_file", &tls.ca_file}}) {
      const toml::node* n = find(t, key);
      const toml::source_region at = n ? n->source() : transports ? transports->source() : toml::source_region{};
      if (value->empty()) {
        if (std::string_view(key) == "ca_file") continue;  // the system bundle
        return invalid(at, std::string("tls.") + key + ": required when sip.transports has \"tls\"");
      }
      std::ifstream in(*value);
      if (!in) {
        return invalid(at, std::string("tls.") + key + ": cannot read \"" + *value + "\": " + std::strerror(errno));
      }
    }
    return {};
  }

  Void load_control(const toml::table* t, ControlConfig& control) const {
    if (t == nullptr) return {};
    if (auto r = check_keys(*t, "control", {"socket"}); !r) return r;
    if (auto r = get_string(t, "control", "socket", control.socket); !r) return r;
    const toml::node* n = find(t, "socket");
    if (n != nullptr) {
      if (control.socket.empty()) return invalid(n->source(), "control.socket: must not be empty");
      if (control.socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
        return invalid(n->source(), "control.socket: path longer than a Unix socket address allows (" +
                                        std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + ")");
      }
    }
    return {};
  }

  Void load_log(const toml::table* t, LogConfig& log) const {
    if (t == nullptr) return {};
    if (auto r = check_keys(*t, "log", {"level"}); !r) return r;
    if (auto r = get_string(t, "log", "level", log.level); !r) return r;
    log.level = lower(log.level);
    for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
      if (log.level == level) return {};
    }
    return invalid(find(t, "level")->source(),
                   "log.level: unknown level \"" + log.level + "\" (trace, debug, info, warn, error)");
  }

  // [countries.XX]: a built-in profile's keys overridden, or (for a country
  // with no built-in profile) a complete profile of its own.
  Void load_countries(const toml::table* t, LinesConfig& lines) const {
    if (t == nullptr) return {};
    for (const auto& [key, node] : *t) {
      std::string name = upper(std::string(key.str()));
      if (name == "GB") name = "UK";  // the built-in profile's name
      const std::string path = "countries." + std::string(key.str());
      const toml::table* table = node.as_table();
      if (table == nullptr) return wrong_type(node, path, "a table");
      if (name.empty() || name.size() > 8 || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
        return invalid(node.source(), path + ": the country must be a code of letters (\"US\", \"IT\")");
      }
      const dsp::ToneProfile* base = dsp::find_tone_profile(name);
      auto profile = dsp::parse_tone_profile(*table, base);
      if (!profile) {
        const auto& e = profile.error();
        const std::string message = path + "." + e.message +
                                    (base ? "" : " (no built-in profile for " + name + ": every key is needed)");
        return base::fail(ConfigError::invalid, source_ + ":" + std::to_string(std::max(e.line, 1)) + ":" +
                                                    std::to_string(std::max(e.column, 1)) + ": " + message);
      }
      if (upper(profile->country) != name) {
        const toml::node* c = table->get("country");
        return invalid(c ? c->source() : node.source(),
                       path + ".country: \"" + profile->country + "\" does not match the table's name");
      }
      profile->country = name;
      lines.profiles.push_back(std::move(*profile));
    }
    return {};
  }

  Void check_country(const toml::node* n, const std::string& name, std::string& country,
                     const LinesConfig& lines) const {
    if (lines.profile(country) != nullptr) {
      country = upper(country);
      return {};
    }
    std::string known;
    for (const auto& p : dsp::tone_profile_names()) known += (known.empty() ? "" : ", ") + p;
    for (const auto& p : lines.profiles)
      if (dsp::find_tone_profile(p.country) == nullptr) known += ", " + p.country;
    return invalid(n ? n->source() : toml::source_region{},
                   name + ": unknown country \"" + country + "\" (" + known + ")");
  }

  Void load_lines(const toml::table* t, LinesConfig& lines) const {
    const toml::node* ports = nullptr;
    if (t != nullptr) {
      if (auto r = check_keys(*t, "lines",
                              {"driver", "country", "interdigit_timeout_ms", "first_digit_timeout_ms", "howler_after_ms",
                               "howler_ms", "port",
                               "dahdi_device"});
          !r) {
        return r;
      }
      if (auto r = get_string(t, "lines", "driver", lines.driver); !r) return r;
      if (lines.driver != "sim" && lines.driver != "dahdi") {
        return invalid(find(t, "driver")->source(),
                       "lines.driver: unknown driver \"" + lines.driver + "\" (sim, dahdi)");
      }
      if (auto r = get_string(t, "lines", "dahdi_device", lines.dahdi_device); !r) return r;
      if (auto r = get_string(t, "lines", "country", lines.country); !r) return r;
      if (auto r = get_int(t, "lines", "interdigit_timeout_ms", 500, 30000, lines.interdigit_timeout_ms); !r) {
        return r;
      }
      if (auto r = get_int(t, "lines", "first_digit_timeout_ms", 1000, 120000, lines.first_digit_timeout_ms); !r) {
        return r;
      }
      if (auto r = get_int(t, "lines", "howler_after_ms", 1000, 600000, lines.howler_after_ms); !r) return r;
      if (auto r = get_int(t, "lines", "howler_ms", 0, 600000, lines.howler_ms); !r) return r;
      ports = find(t, "port");
    }
    if (auto r = check_country(t ? find(t, "country") : nullptr, "lines.country", lines.country, lines); !r) {
      return r;
    }

    lines.ports.clear();
    if (ports == nullptr) {
      lines.ports.push_back(PortConfig{.name = "fxs1", .kind = PortKind::fxs, .number = "201",
                                       .country = lines.country, .auto_answer_ms = -1, .did = {}, .permissions = {}});
      lines.ports.push_back(PortConfig{.name = "fxs2", .kind = PortKind::fxs, .number = "202",
                                       .country = lines.country, .auto_answer_ms = -1, .did = {}, .permissions = {}});
      return {};
    }
    if (ports->is_array() && ports->as_array()->empty()) {
      return invalid(ports->source(), "lines.port: at least one [[lines.port]] is needed");
    }
    if (!ports->is_array_of_tables()) return wrong_type(*ports, "lines.port", "an array of tables ([[lines.port]])");
    const toml::array& array = *ports->as_array();
    std::set<std::string> names, numbers;
    std::set<int> dahdi_channels;
    for (const toml::node& element : array) {
      const toml::table& pt = *element.as_table();
      const std::string table = "lines.port";
      if (auto r = check_keys(pt, "[lines.port]", {"name", "kind", "number", "country", "auto_answer_ms", "did",
                                                      "permissions", "caller_id", "phone_caller_id", "forward_to",
                                                      "rings_before_forward", "answer_on", "sim_answer_polarity",
                                                      "sim_disconnect", "dahdi_channel", "dahdi_span", "dial_mode",
                                                      "silence_timeout_s", "disa_pin", "disa_allow",
                                                      "polarity_on_answer", "reoriginate", "echo_cancel",
                                                      "sim_echo", "rx_gain_db", "tx_gain_db"});
          !r) {
        return r;
      }
      PortConfig port;
      for (const char* required : {"name", "number"}) {
        if (pt.get(required) == nullptr) {
          return invalid(pt.source(), std::string("[[lines.port]]: missing key '") + required + "'");
        }
      }
      if (auto r = get_string(&pt, table, "name", port.name); !r) return r;
      if (port.name.empty()) return invalid(pt.get("name")->source(), "lines.port.name: must not be empty");
      if (!names.insert(port.name).second) {
        return invalid(pt.get("name")->source(), "lines.port.name: duplicate port name \"" + port.name + "\"");
      }
      std::string kind = "fxs";
      if (auto r = get_string(&pt, table, "kind", kind); !r) return r;
      if (lower(kind) == "fxs") {
        port.kind = PortKind::fxs;
      } else if (lower(kind) == "fxo") {
        port.kind = PortKind::fxo;
      } else {
        return invalid(pt.get("kind")->source(), "lines.port.kind: unknown kind \"" + kind + "\" (fxs, fxo)");
      }
      if (auto r = get_string(&pt, table, "number", port.number); !r) return r;
      if (auto r = get_permissions(&pt, table, port.permissions); !r) return r;
      const toml::node* number = pt.get("number");
      if (port.number.empty() ||
          port.number.find_first_not_of("0123456789+*#") != std::string::npos) {
        return invalid(number->source(), "lines.port.number: \"" + port.number +
                                             "\" must be digits (and + * #) only");
      }
      if (!numbers.insert(port.number).second) {
        return invalid(number->source(), "lines.port.number: duplicate number \"" + port.number + "\"");
      }
      if (auto r = get_string(&pt, table, "country", port.country); !r) return r;
      if (port.country.empty()) {
        port.country = lines.country;
      } else if (auto r = check_country(pt.get("country"), "lines.port.country", port.country, lines); !r) {
        return r;
      }
      if (auto r = get_int(&pt, table, "auto_answer_ms", -1, 600000, port.auto_answer_ms); !r) return r;
      // FXS: the format sent (the profile's by default). FXO: the format
      // detected, "auto" (every decoder side by side) by default.
      if (auto r = get_caller_id_format(pt, "caller_id", port.kind == PortKind::fxo, port.caller_id); !r) return r;
      if (auto r = get_caller_id_format(pt, "phone_caller_id", true, port.phone_caller_id); !r) return r;
      if (auto r = load_fxo_keys(pt, port); !r) return r;
      if (auto r = load_dahdi_keys(pt, lines, port, dahdi_channels); !r) return r;
      if (auto r = get_bool(&pt, table, "echo_cancel", port.echo_cancel); !r) return r;
      if (auto r = get_number(&pt, table, "rx_gain_db", -24, 24, port.rx_gain_db); !r) return r;
      if (auto r = get_number(&pt, table, "tx_gain_db", -24, 24, port.tx_gain_db); !r) return r;
      if (auto r = load_sim_echo(pt, port); !r) return r;
      bool present = false;
      std::vector<std::pair<std::string, const toml::node*>> dids;
      if (auto r = get_strings(&pt, table, "did", present, dids); !r) return r;
      for (const auto& [did, node] : dids) {
        if (!e164::E164::parse(did)) {
          return invalid(node->source(), "lines.port.did: \"" + did + "\" is not an E.164 number (\"+12025550100\")");
        }
        if (!numbers.insert(did).second) {
          return invalid(node->source(), "lines.port.did: \"" + did + "\" is used twice");
        }
        port.did.push_back(did);
      }
      lines.ports.push_back(std::move(port));
    }
    // Line numbers: the FXS ports first, then the FXO ports, each in file order.
    std::stable_partition(lines.ports.begin(), lines.ports.end(),
                          [](const PortConfig& p) { return p.kind == PortKind::fxs; });
    return {};
  }

  // The dahdi driver: each port names its card channel (lsdahdi's global number).
  Void load_dahdi_keys(const toml::table& pt, const LinesConfig& lines, PortConfig& port,
                       std::set<int>& channels) const {
    const toml::node* channel = pt.get("dahdi_channel");
    if (lines.driver != "dahdi") {
      if (channel) return invalid(channel->source(), "lines.port.dahdi_channel: only with lines.driver = \"dahdi\"");
      return {};
    }
    if (!channel) {
      return invalid(pt.source(), "[[lines.port]] \"" + port.name + "\": the dahdi driver needs dahdi_channel");
    }
    if (auto r = get_int(&pt, "lines.port", "dahdi_channel", 1, 1024, port.dahdi_channel); !r) return r;
    if (!channels.insert(port.dahdi_channel).second) {
      return invalid(channel->source(),
                     "lines.port.dahdi_channel: channel " + std::to_string(port.dahdi_channel) + " is used twice");
    }
    return get_int(&pt, "lines.port", "dahdi_span", 0, 256, port.dahdi_span);
  }

  // FXO ports: where PSTN calls go (required: a PSTN caller is never given a
  // dial tone of ours, so there is no other way in), and when.
  Void load_fxo_keys(const toml::table& pt, PortConfig& port) const {
    const toml::node* forward = pt.get("forward_to");
    if (port.kind == PortKind::fxs) {
      for (const char* key : {"forward_to", "rings_before_forward", "answer_on", "sim_answer_polarity",
                              "sim_disconnect", "dial_mode", "silence_timeout_s", "disa_pin", "disa_allow"}) {
        if (const toml::node* n = pt.get(key)) {
          return invalid(n->source(), std::string("lines.port.") + key + ": only for kind = \"fxo\" ports");
        }
      }
      if (auto r = get_bool(&pt, "lines.port", "polarity_on_answer", port.polarity_on_answer); !r) return r;
      return get_bool(&pt, "lines.port", "reoriginate", port.reoriginate);
    }
    for (const char* key : {"polarity_on_answer", "reoriginate"}) {
      if (const toml::node* n = pt.get(key)) {
        return invalid(n->source(), std::string("lines.port.") + key + ": only for kind = \"fxs\" ports");
      }
    }
    if (auto r = get_string(&pt, "lines.port", "dial_mode", port.dial_mode); !r) return r;
    if (port.dial_mode != "dtmf" && port.dial_mode != "pulse") {
      return invalid(pt.get("dial_mode")->source(),
                     "lines.port.dial_mode: \"" + port.dial_mode + "\" is not dtmf or pulse");
    }
    if (auto r = get_int(&pt, "lines.port", "silence_timeout_s", 0, 86400, port.silence_timeout_s); !r) return r;
    if (auto r = load_disa_keys(pt, port); !r) return r;
    std::string answer_on = "polarity";
    if (auto r = get_string(&pt, "lines.port", "answer_on", answer_on); !r) return r;
    if (answer_on == "polarity" || answer_on == "dialed" || answer_on == "voice") {
      port.answer_on = answer_on;
    } else {
      return invalid(pt.get("answer_on")->source(),
                     "lines.port.answer_on: \"" + answer_on + "\" is not polarity, dialed or voice");
    }
    if (auto r = get_bool(&pt, "lines.port", "sim_answer_polarity", port.sim_answer_polarity); !r) return r;
    if (auto r = get_string(&pt, "lines.port", "sim_disconnect", port.sim_disconnect); !r) return r;
    if (port.sim_disconnect != "loop_drop" && port.sim_disconnect != "polarity_reversal" &&
        port.sim_disconnect != "busy_tone" && port.sim_disconnect != "silence") {
      return invalid(pt.get("sim_disconnect")->source(),
                     "lines.port.sim_disconnect: \"" + port.sim_disconnect +
                         "\" is not loop_drop, polarity_reversal, busy_tone or silence");
    }
    if (!forward && port.disa_pin.empty()) {
      return invalid(pt.source(), "[[lines.port]] \"" + port.name +
                                      "\": an FXO port needs forward_to (a SIP URI, or \"user:NAME\"), "
                                      "or disa_pin when every caller is to key a PIN");
    }
    if (forward) {
      if (auto r = get_string(&pt, "lines.port", "forward_to", port.forward_to); !r) return r;
      const std::string& f = port.forward_to;
      const bool user = f.rfind("user:", 0) == 0 && f.size() > 5;
      const bool uri = f.rfind("sip:", 0) == 0 || f.rfind("sips:", 0) == 0;
      if (!user && !uri) {
        return invalid(forward->source(),
                       "lines.port.forward_to: \"" + f + "\" is neither a sip:/sips: URI nor user:NAME");
      }
    }
    return get_int(&pt, "lines.port", "rings_before_forward", 1, 10, port.rings_before_forward);
  }

  // DISA on an FXO port: a PIN of 4 to 16 digits, and/or caller numbers
  // that need none.
  Void load_disa_keys(const toml::table& pt, PortConfig& port) const {
    if (auto r = get_string(&pt, "lines.port", "disa_pin", port.disa_pin); !r) return r;
    if (const toml::node* pin = pt.get("disa_pin")) {
      if (port.disa_pin.size() < 4 || port.disa_pin.size() > 16 ||
          port.disa_pin.find_first_not_of("0123456789") != std::string::npos) {
        return invalid(pin->source(), "lines.port.disa_pin: must be 4 to 16 digits");
      }
    }
    bool present = false;
    std::vector<std::pair<std::string, const toml::node*>> allow;
    if (auto r = get_strings(&pt, "lines.port", "disa_allow", present, allow); !r) return r;
    for (const auto& [number, node] : allow) {
      const std::size_t digits_from = number.rfind('+', 0) == 0 ? 1 : 0;
      if (number.size() <= digits_from || number.find_first_not_of("0123456789", digits_from) != std::string::npos) {
        return invalid(node->source(), "lines.port.disa_allow: \"" + number +
                                           "\" is not a caller ID number (digits, optionally after +)");
      }
      port.disa_allow.push_back(number);
    }
    return {};
  }

  // lines.port.caller_id / phone_caller_id: a dsp::CallerIdFormat name
  // ("auto" too when `allow_auto`, which leaves `out` empty).
  Void get_caller_id_format(const toml::table& pt, const char* key, bool allow_auto,
                            std::optional<dsp::CallerIdFormat>& out) const {
    std::string name;
    if (auto r = get_string(&pt, "lines.port", key, name); !r) return r;
    if (pt.get(key) == nullptr || (allow_auto && lower(name) == "auto")) return {};
    if (auto f = dsp::caller_id_format_from_string(lower(name))) {
      out = *f;
      return {};
    }
    return invalid(pt.get(key)->source(), std::string("lines.port.") + key + ": unknown caller ID format \"" + name +
                                              "\" (bell202_sdmf, bell202_mdmf, etsi, bt, jclip, dtmf, none" +
                                              (allow_auto ? ", auto)" : ")"));
  }

  Void load_enum(const toml::table* t, EnumConfig& e) const {
    if (t == nullptr) return {};
    if (auto r = check_keys(*t, "enum", {"suffixes", "servers", "timeout_ms", "max_depth", "cache_entries"}); !r) {
      return r;
    }
    bool present = false;
    std::vector<std::pair<std::string, const toml::node*>> items;
    if (auto r = get_strings(t, "enum", "suffixes", present, items); !r) return r;
    if (present) {
      e.suffixes.clear();
      for (const auto& [suffix, node] : items) {
        if (suffix.empty() || suffix.find_first_of(" \t/@:") != std::string::npos) {
          return invalid(node->source(), "enum.suffixes: \"" + suffix + "\" is not a domain name");
        }
        e.suffixes.push_back(suffix);
      }
    }
    const toml::node* servers = find(t, "servers");
    if (servers != nullptr && servers->is_array() && servers->as_array()->empty()) {
      e.servers.clear();  // explicitly the system's resolvers
    } else {
      items.clear();
      if (auto r = get_strings(t, "enum", "servers", present, items); !r) return r;
      for (const auto& [server, node] : items) {
        if (!valid_server(server)) {
          return invalid(node->source(), "enum.servers: \"" + server +
                                             "\" is not ip, ip:port or [ipv6]:port");
        }
        e.servers.push_back(server);
      }
    }
    if (auto r = get_int(t, "enum", "timeout_ms", 50, 10000, e.timeout_ms); !r) return r;
    if (auto r = get_int(t, "enum", "max_depth", 0, 16, e.max_depth); !r) return r;
    return get_int(t, "enum", "cache_entries", 0, 1000000, e.cache_entries);
  }

  // "ip", "ip:port" (IPv4), "ipv6" or "[ipv6]:port".
  static bool valid_server(const std::string& s) {
    unsigned char buf[16];
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return true;  // bare IPv6
    std::string host = s;
    std::string port;
    bool has_port = false;
    if (!s.empty() && s.front() == '[') {
      const auto close = s.find(']');
      if (close == std::string::npos) return false;
      host = s.substr(1, close - 1);
      if (close + 1 < s.size()) {
        if (s[close + 1] != ':') return false;
        has_port = true;
        port = s.substr(close + 2);
      }
      if (inet_pton(AF_INET6, host.c_str(), buf) != 1) return false;
    } else {
      const auto colon = s.find(':');
      if (colon != std::string::npos) {
        host = s.substr(0, colon);
        has_port = true;
        port = s.substr(colon + 1);
      }
      if (inet_pton(AF_INET, host.c_str(), buf) != 1) return false;
    }
    if (!has_port) return true;
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
    const int p = std::stoi(port);
    return p >= 1 && p <= 65535;
  }

  Void load_routing(const toml::table* t, Config& c) const {
    RoutingConfig& r = c.routing;
    if (t != nullptr) {
      if (auto k = check_keys(*t, "routing", {"country", "sip_callers", "target_timeout_ms", "international_prefixes",
                                              "premium_prefixes"});
          !k)
        return k;
      if (auto k = get_string(t, "routing", "country", r.country); !k) return k;
      if (auto k = get_int(t, "routing", "target_timeout_ms", 500, 60000, r.target_timeout_ms); !k) return k;
      std::string mode = "bridge";
      if (auto k = get_string(t, "routing", "sip_callers", mode); !k) return k;
      if (lower(mode) == "bridge") {
        r.sip_callers = SipCallerMode::bridge;
      } else if (lower(mode) == "redirect") {
        r.sip_callers = SipCallerMode::redirect;
      } else {
        return invalid(find(t, "sip_callers")->source(),
                       "routing.sip_callers: \"" + mode + "\" is not \"bridge\" or \"redirect\"");
      }
    }
    if (r.country.empty()) r.country = c.lines.country;
    if (!e164::builtin_plan(r.country)) {
      return invalid(t && find(t, "country") ? find(t, "country")->source() : toml::source_region{},
                     "routing.country: no numbering plan for \"" + r.country + "\" (US, JP, DE, UK, FR)");
    }
    r.country = upper(r.country);
    r.toll = route::default_toll_prefixes(r.country);
    if (t != nullptr) {
      if (auto k = get_toll_prefixes(t, "international_prefixes", r.toll.international); !k) return k;
      if (auto k = get_toll_prefixes(t, "premium_prefixes", r.toll.premium); !k) return k;
    }
    return {};
  }

  Void load_auth(const toml::table* t, Config& c) const {
    AuthConfig& a = c.auth;
    if (t != nullptr) {
      if (auto k = check_keys(*t, "auth", {"realm", "algorithms", "nonce_lifetime_s", "trusted", "ban_after_failures",
                                           "ban_window_s", "ban_duration_s", "max_calls_per_user",
                                           "calls_per_minute_per_user", "trusted_permissions", "max_calls_per_source",
                                           "calls_per_minute_per_source"});
          !k)
        return k;
      if (auto k = get_int(t, "auth", "ban_after_failures", 0, 1000, a.ban_after_failures); !k) return k;
      if (auto k = get_int(t, "auth", "ban_window_s", 1, 86400, a.ban_window_s); !k) return k;
      if (auto k = get_int(t, "auth", "ban_duration_s", 1, 604800, a.ban_duration_s); !k) return k;
      if (auto k = get_int(t, "auth", "max_calls_per_user", 0, 1000, a.max_calls_per_user); !k) return k;
      if (auto k = get_int(t, "auth", "calls_per_minute_per_user", 0, 100000, a.calls_per_minute_per_user); !k) return k;
      if (auto k = get_int(t, "auth", "max_calls_per_source", 0, 100000, a.max_calls_per_source); !k) return k;
      if (auto k = get_int(t, "auth", "calls_per_minute_per_source", 0, 1000000, a.calls_per_minute_per_source); !k)
        return k;
      bool listed = false;
      std::vector<std::pair<std::string, const toml::node*>> ranges;
      if (auto k = get_strings(t, "auth", "trusted", listed, ranges, true); !k) return k;
      if (listed) {
        a.trusted.clear();
        for (const auto& [text, node] : ranges) {
          if (!route::Cidr::parse(text))
            return invalid(node->source(), "auth.trusted: \"" + text + "\" is not an IP address or CIDR");
          a.trusted.push_back(text);
        }
      }
      {
        // get_permissions reads "permissions"; this key has its own name.
        bool present = false;
        std::vector<std::pair<std::string, const toml::node*>> words;
        if (auto k = get_strings(t, "auth", "trusted_permissions", present, words, true); !k) return k;
        for (const auto& [word, node] : words) {
          if (!route::add_permission(a.trusted_permissions, lower(word)))
            return invalid(node->source(), "auth.trusted_permissions: \"" + word +
                                               "\" is not \"international\" or \"premium\"");
        }
      }
      if (auto k = get_string(t, "auth", "realm", a.realm); !k) return k;
      if (auto k = get_int(t, "auth", "nonce_lifetime_s", 10, 86400, a.nonce_lifetime_s); !k) return k;
      bool present = false;
      std::vector<std::pair<std::string, const toml::node*>> items;
      if (auto k = get_strings(t, "auth", "algorithms", present, items); !k) return k;
      if (present) {
        a.algorithms.clear();
        for (const auto& [name, node] : items) {
          const std::string u = upper(name);
          if ((u != "SHA-256" && u != "MD5") ||
              std::find(a.algorithms.begin(), a.algorithms.end(), u) != a.algorithms.end())
            return invalid(node->source(), "auth.algorithms: \"" + name + "\" is not \"SHA-256\" or \"MD5\", or is repeated");
          a.algorithms.push_back(u);
        }
        if (a.algorithms.empty()) return invalid(find(t, "algorithms")->source(), "auth.algorithms: empty");
      }
    }
    if (a.realm.empty()) a.realm = c.sip.address;
    if (std::any_of(a.realm.begin(), a.realm.end(), [](char ch) { return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20; }))
      return invalid(t && find(t, "realm") ? find(t, "realm")->source() : toml::source_region{},
                     "auth.realm: quotes, backslashes and control characters are not allowed");
    return {};
  }

  Void load_registrar(const toml::table* t, RegistrarConfig& r) const {
    if (t == nullptr) return {};
    if (auto k = check_keys(*t, "registrar", {"database", "min_expires_s", "max_expires_s", "default_expires_s",
                                              "max_contacts"});
        !k)
      return k;
    if (auto k = get_string(t, "registrar", "database", r.database); !k) return k;
    if (auto k = get_int(t, "registrar", "min_expires_s", 1, 86400, r.min_expires_s); !k) return k;
    if (auto k = get_int(t, "registrar", "max_expires_s", 1, 604800, r.max_expires_s); !k) return k;
    if (auto k = get_int(t, "registrar", "default_expires_s", 1, 604800, r.default_expires_s); !k) return k;
    if (auto k = get_int(t, "registrar", "max_contacts", 1, 100, r.max_contacts); !k) return k;
    if (!(r.min_expires_s <= r.default_expires_s && r.default_expires_s <= r.max_expires_s))
      return invalid(t->source(), "registrar: need min_expires_s <= default_expires_s <= max_expires_s");
    return {};
  }

  // [sim] [[sim.subscriber]]: the simulated exchange's numbers.
  Void load_sim(const toml::table& root, SimConfig& sim) const {
    auto t = section(root, "sim");
    if (!t) return base::fail(t.error());
    if (*t == nullptr) return {};
    if (auto r = check_keys(**t, "sim", {"subscriber"}); !r) return r;
    const toml::node* n = (*t)->get("subscriber");
    if (n == nullptr) return {};
    if (!n->is_array_of_tables()) return wrong_type(*n, "sim.subscriber", "an array of tables ([[sim.subscriber]])");
    for (const toml::node& element : *n->as_array()) {
      const toml::table& st = *element.as_table();
      if (auto r = check_keys(st, "[sim.subscriber]",
                              {"number", "behaviour", "answer_after_ms", "tone_hz", "hangup_after_ms"});
          !r) {
        return r;
      }
      SimSubscriberConfig s;
      const std::string table = "sim.subscriber";
      if (auto r = get_string(&st, table, "number", s.number); !r) return r;
      if (s.number.empty() || s.number.find_first_not_of("0123456789*#") != std::string::npos) {
        return invalid(st.source(), "sim.subscriber.number: \"" + s.number + "\" must be DTMF digits");
      }
      if (auto r = get_string(&st, table, "behaviour", s.behaviour); !r) return r;
      if (s.behaviour != "answer" && s.behaviour != "busy" && s.behaviour != "no_answer") {
        return invalid(st.get("behaviour")->source(),
                       "sim.subscriber.behaviour: \"" + s.behaviour + "\" is not answer, busy or no_answer");
      }
      if (auto r = get_int(&st, table, "answer_after_ms", 0, 600000, s.answer_after_ms); !r) return r;
      if (auto r = get_int(&st, table, "tone_hz", 0, 3900, s.tone_hz); !r) return r;
      if (auto r = get_int(&st, table, "hangup_after_ms", -1, 3600000, s.hangup_after_ms); !r) return r;
      sim.subscribers.push_back(std::move(s));
    }
    return {};
  }

  Void load_users(const toml::table& root, Config& c) const {
    const toml::node* n = root.get("user");
    if (n == nullptr) return {};
    if (!n->is_array_of_tables()) return wrong_type(*n, "user", "an array of tables ([[user]])");
    for (const toml::node& element : *n->as_array()) {
      const toml::table& tt = *element.as_table();
      if (auto r = check_keys(tt, "[user]", {"name", "password", "ha1_md5", "ha1_sha256", "permissions"}); !r) return r;
      UserConfig u;
      if (auto r = get_string(&tt, "user", "name", u.name); !r) return r;
      if (auto r = get_string(&tt, "user", "password", u.password); !r) return r;
      if (auto r = get_string(&tt, "user", "ha1_md5", u.ha1_md5); !r) return r;
      if (auto r = get_string(&tt, "user", "ha1_sha256", u.ha1_sha256); !r) return r;
      if (auto r = get_permissions(&tt, "user", u.permissions); !r) return r;
      const bool token = !u.name.empty() && u.name.size() <= 64 &&
                         std::all_of(u.name.begin(), u.name.end(), [](char ch) {
                           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' || ch == '+';
                         });
      if (!token || std::any_of(c.users.begin(), c.users.end(), [&](const UserConfig& x) { return x.name == u.name; }))
        return invalid(tt.source(), "[[user]]: name \"" + u.name + "\" is missing, not a plain token, or used twice");
      auto hex_of = [](const std::string& h, std::size_t len) {
        return h.empty() || (h.size() == len && std::all_of(h.begin(), h.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; }));
      };
      if (!hex_of(u.ha1_md5, 32) || !hex_of(u.ha1_sha256, 64))
        return invalid(tt.source(), "[[user]] " + u.name + ": ha1_md5 must be 32 and ha1_sha256 64 hex digits");
      if (u.password.empty() && u.ha1_md5.empty() && u.ha1_sha256.empty())
        return invalid(tt.source(), "[[user]] " + u.name + ": needs a password, ha1_md5 or ha1_sha256");
      c.users.push_back(std::move(u));
    }
    return {};
  }

  Void load_trunks(const toml::table& root, Config& c) const {
    const toml::node* n = root.get("trunk");
    if (n == nullptr) return {};
    if (!n->is_array_of_tables()) return wrong_type(*n, "trunk", "an array of tables ([[trunk]])");
    for (const toml::node& element : *n->as_array()) {
      const toml::table& tt = *element.as_table();
      if (auto r = check_keys(tt, "[trunk]", {"name", "uri", "number_format"}); !r) return r;
      TrunkConfig trunk;
      for (const char* required : {"name", "uri"}) {
        if (tt.get(required) == nullptr) {
          return invalid(tt.source(), std::string("[[trunk]]: missing key '") + required + "'");
        }
      }
      if (auto r = get_string(&tt, "trunk", "name", trunk.name); !r) return r;
      if (trunk.name.empty() || std::any_of(c.trunks.begin(), c.trunks.end(),
                                            [&](const TrunkConfig& x) { return x.name == trunk.name; })) {
        return invalid(tt.get("name")->source(), "trunk.name: \"" + trunk.name + "\" is empty or used twice");
      }
      if (auto r = get_string(&tt, "trunk", "uri", trunk.uri); !r) return r;
      const bool scheme = trunk.uri.starts_with("sip:") || trunk.uri.starts_with("sips:");
      const std::size_t colon = trunk.uri.find(':');
      if (!scheme || trunk.uri.find('@') != std::string::npos || colon + 1 >= trunk.uri.size()) {
        return invalid(tt.get("uri")->source(), "trunk.uri: \"" + trunk.uri +
                                                    "\" must be sip:host[:port] or sips:..., without a user part");
      }
      std::string format = "e164";
      if (auto r = get_string(&tt, "trunk", "number_format", format); !r) return r;
      if (format == "e164") {
        trunk.number_format = NumberFormat::e164;
      } else if (format == "dialed") {
        trunk.number_format = NumberFormat::dialed;
      } else {
        return invalid(tt.get("number_format")->source(),
                       "trunk.number_format: \"" + format + "\" is not \"e164\" or \"dialed\"");
      }
      c.trunks.push_back(std::move(trunk));
    }
    return {};
  }

  Void load_dialplan(const toml::table& root, Config& c) const {
    const toml::node* n = root.get("dialplan");
    std::vector<route::DialRule> rules;
    if (n == nullptr) {
      const bool v6 = c.sip.address.find(':') != std::string::npos;
      const std::string host = v6 ? "[" + c.sip.address + "]" : c.sip.address;
      rules.emplace_back("2XX", "sip:$digits@" + host + ":" + std::to_string(c.sip.port));
    } else {
      if (n->is_array() && n->as_array()->empty()) {
        return invalid(n->source(), "dialplan: at least one [[dialplan]] rule is needed");
      }
      if (!n->is_array_of_tables()) return wrong_type(*n, "dialplan", "an array of tables ([[dialplan]])");
      for (const toml::node& element : *n->as_array()) {
        const toml::table& rt = *element.as_table();
        if (auto r = check_keys(rt, "[dialplan]", {"pattern", "target", "steps", "allow"}); !r) return r;
        route::DialRule rule;
        if (rt.get("pattern") == nullptr) return invalid(rt.source(), "[[dialplan]]: missing key 'pattern'");
        if (rt.get("target") == nullptr && rt.get("steps") == nullptr) {
          return invalid(rt.source(), "[[dialplan]]: needs 'target' or 'steps'");
        }
        if (auto r = get_string(&rt, "dialplan", "pattern", rule.pattern); !r) return r;
        if (auto r = get_string(&rt, "dialplan", "target", rule.target); !r) return r;
        for (auto [key, out] : {std::pair{"steps", &rule.steps}, std::pair{"allow", &rule.allow}}) {
          bool present = false;
          std::vector<std::pair<std::string, const toml::node*>> items;
          if (auto r = get_strings(&rt, "dialplan", key, present, items); !r) return r;
          for (auto& item : items) out->push_back(item.first);
        }
        // Check each rule alone first, to point at its line.
        if (auto one = route::DialPlan::create({rule}); !one) {
          const char* key = one.error().is(route::DialPlanError::bad_target)  ? "target"
                            : one.error().is(route::DialPlanError::bad_step)  ? "steps"
                            : one.error().is(route::DialPlanError::bad_allow) ? "allow"
                                                                              : "pattern";
          const toml::node* at = rt.get(key);
          return invalid(at ? at->source() : rt.source(), one.error().message());
        }
        for (const auto& step : rule.steps) {
          if (!step.starts_with("trunk:")) continue;
          const std::string name = step.substr(6);
          const bool known = std::any_of(c.trunks.begin(), c.trunks.end(),
                                         [&](const TrunkConfig& t) { return t.name == name; });
          if (!known) return invalid(rt.get("steps")->source(), "dialplan steps: no [[trunk]] named \"" + name + "\"");
        }
        rules.push_back(std::move(rule));
      }
    }
    auto plan = route::DialPlan::create(std::move(rules));
    if (!plan) return invalid(n ? n->source() : toml::source_region{}, plan.error().message());
    c.dial_plan = std::move(*plan);
    return {};
  }

  std::string source_;
};

}  // namespace

const dsp::ToneProfile* LinesConfig::profile(std::string_view country) const {
  std::string code = upper(country);
  if (code == "GB") code = "UK";
  for (const auto& p : profiles) {
    if (p.country == code) return &p;
  }
  return dsp::find_tone_profile(code);
}

base::Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  const std::string source(source_name);
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return base::fail(ConfigError::syntax, source + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                                               ": " + std::string(e.description()));
  }
  return Loader(source).load(root);
}

base::Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::fail(ConfigError::io, path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return base::fail(ConfigError::io, path + ": read error");
  return parse_config(text.str(), path);
}

base::Result<Config> default_config() { return parse_config(kDefaultConfigToml, "<embedded default>"); }

}  // namespace sipline::gateway::config
