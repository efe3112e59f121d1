#pragma once
// The typed, validated configuration. Built once from TOML (a file, or the
// embedded default of default_config.toml) and passed by const& to the
// factories; a reload builds a new snapshot. Every key has a default.
// Validation errors carry "file:line:column: message"; unknown keys are errors
// (a misspelled key must not be silently ignored on a gateway to the PSTN).
// Defaults for the lists: a file without any [[lines.port]] gets the two
// simulated phones of the embedded default (fxs1 = 201, fxs2 = 202), and one
// without any [[dialplan]] gets the rule 2XX -> sip:$digits@<sip.address>:<sip.port>;
// so an empty file is valid. An explicitly empty list (`port = []`) is an
// error. In a [[lines.port]] table `name` and `number` are required; in a
// [[dialplan]] table `pattern` and `target`.
// The loader resolves media.rtp_address "" -> sip.address, port.country "" ->
// lines.country (countries are stored upper-case), media.workers 0 -> the
// number of cores (at least 1). sip.address and media.rtp_address must be IP
// literals other than 0.0.0.0 / :: (they are sent in SIP and SDP).
// Thread: control (load); the struct is immutable afterwards.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/media_engine.hpp"
#include "media/srtp.hpp"
#include "route/dial_plan.hpp"
#include "sipline/base/result.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/echo_canceller.hpp"
#include "sipline/dsp/echo_path.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::gateway::config {

enum class ConfigError { io, syntax, invalid };

struct SipConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 5060;
  bool udp = true;                  // from transports = ["udp", "tcp"]
  bool tcp = true;
  bool tls = false;                 // "tls" in transports: SIP over TLS on tls_port ([tls] has the certificate)
  std::uint16_t tls_port = 5061;    // 1..65535, not `port`
  std::string user_agent = "sipline";
  int no_answer_timeout_s = 60;     // 1..3600
};

struct MediaConfig {
  std::string rtp_address;          // "" in TOML -> copied from sip.address by the loader
  std::uint16_t rtp_port_min = 16384;  // even, < max
  std::uint16_t rtp_port_max = 16999;
  std::vector<media::AudioCodec> codecs = {media::AudioCodec::pcmu, media::AudioCodec::pcma};  // non-empty, no repeats
  int dtmf_payload_type = 101;      // 96..127, or -1 to disable RFC 4733
  int jitter_buffer_ms = 60;        // 20..500, a multiple of 20
  int rtp_timeout_s = 60;           // 0 = never
  int workers = 0;                  // 0 = one per core; resolved by the loader to >= 1
  int max_relays = 64;              // 0..10000 SIP-to-SIP calls bridged at once (two RTP streams each)
  media::SrtpPolicy srtp = media::SrtpPolicy::optional;  // off, optional (RTP/AVP + a=crypto), mandatory (RTP/SAVP)
  std::vector<media::SrtpSuite> srtp_suites = {  // offer order; non-empty, no repeats
      media::SrtpSuite::aes_cm_128_hmac_sha1_80, media::SrtpSuite::aes_cm_128_hmac_sha1_32,
      media::SrtpSuite::aead_aes_128_gcm};
  // Line echo cancellation: which canceller ("off" in TOML = none), and the
  // echo path length it covers (8..128 ms).
  std::optional<dsp::EchoCancellerKind> echo_canceller = dsp::EchoCancellerKind::sipline;
  int echo_tail_ms = 32;
};

// SIP over TLS (RFC 3261 §26.2; sips: URIs and ;transport=tls), used when
// sip.transports has "tls". TLS 1.2 or newer.
struct TlsConfig {
  std::string certificate;          // PEM file: our certificate, then its chain; required with "tls"
  std::string private_key;          // PEM file: the certificate's key (unencrypted); required with "tls"
  std::string ca_file;              // PEM bundle of trusted CAs; "" = the system bundle (kSystemCaFile)
  bool verify_peer = true;          // outgoing: the peer's certificate must chain to a CA and name the host
  std::string min_version = "1.2";  // "1.2" or "1.3"
};
inline constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

struct ControlConfig {
  std::string socket = "/tmp/sipline.sock";
};

struct LogConfig {
  std::string level = "info";       // trace, debug, info, warn, error
};

enum class PortKind { fxs, fxo };

struct PortConfig {
  std::string name;                 // unique, non-empty
  PortKind kind = PortKind::fxs;    // line numbers: FXS ports first, then FXO, each in file order
  std::string number;               // unique, digits (and + * #) only; SIP user that reaches the port
  std::string country;              // "" in TOML -> lines.country
  int auto_answer_ms = -1;          // sim driver only, -1 = never
  std::vector<std::string> did;     // E.164 numbers ("+12025550201") that ring this port, unique
  route::Permissions permissions;   // ["international", "premium"]: what the phone may dial beyond national
  // Overrides the country profile's caller ID format ("none" = no caller ID).
  std::optional<dsp::CallerIdFormat> caller_id{};
  // Sim driver only: what the simulated phone decodes; nullopt = "auto" (all side by side).
  std::optional<dsp::CallerIdFormat> phone_caller_id{};
  // FXO ports (for them caller_id is the format detected, nullopt = auto).
  std::string forward_to{};         // where PSTN calls go: a SIP URI or "user:NAME"
  int rings_before_forward = 2;     // forward at this ring when no caller ID has come
  // Outgoing calls: how the answer is known: "polarity" (the exchange reverses
  // the line), "dialed" (at once after dialing), "voice" (speech heard).
  std::string answer_on = "polarity";
  // sim driver, FXO: how the simulated exchange signals on this line.
  bool sim_answer_polarity = true;         // reverse the line when a called subscriber answers
  std::string sim_disconnect = "loop_drop";  // loop_drop, polarity_reversal, busy_tone, silence
  // FXO: how numbers are dialed on the line: "dtmf" or "pulse" (loop disconnect).
  std::string dial_mode = "dtmf";
  // FXO: a connected call whose line has been silent this long is hung up
  // (for lines that give no disconnect signal); 0 = never.
  int silence_timeout_s = 0;
  // FXO: DISA (a second dial tone for PSTN callers), off unless one of these
  // is set. Callers whose caller ID number is in disa_allow get dial tone at
  // once; with disa_pin, anyone else must first key the PIN (then #). What
  // they may dial: this port's `permissions`.
  std::string disa_pin{};
  std::vector<std::string> disa_allow{};
  // FXS: reverse the line when the far end answers the phone's call, and
  // back when the call ends.
  bool polarity_on_answer = false;
  // FXS: after the far end hangs up, fresh dial tone instead of busy tone.
  bool reoriginate = false;
  // dahdi driver: the card channel (global number, as lsdahdi shows it) and
  // optionally its span (0 = any), checked at start.
  int dahdi_channel = 0;
  int dahdi_span = 0;
  // Line echo cancellation on this port (media.echo_canceller); false for a
  // card channel whose own canceller is on.
  bool echo_cancel = true;
  // Gains in dB (-24..+24): to the phone or exchange (rx), and from it (tx).
  double rx_gain_db = 0;
  double tx_gain_db = 0;
  // sim driver: the simulated line's hybrid echo (`sim_echo = { erl_db = 6,
  // delay_ms = 8, dispersion_ms = 6, noise_dbm0 = -70 }`); none = no echo.
  std::optional<dsp::EchoPathOptions> sim_echo{};
};

struct LinesConfig {
  std::string driver = "sim";       // "sim" (simulated phones and exchange) or "dahdi" (a card)
  std::string dahdi_device = "/dev/dahdi/channel";
  std::string country = "US";       // must name a profile: built in, or defined in [countries]
  int interdigit_timeout_ms = 4000; // 500..30000
  int first_digit_timeout_ms = 15000;
  int howler_after_ms = 30000;      // 1000..600000: reorder or busy tone this long, then the howler
  int howler_ms = 60000;            // 0..600000: the howler this long, then silence until on hook
  std::vector<PortConfig> ports;    // at least one
  // [countries.XX] tables: built-in profiles with keys overridden, and
  // complete profiles of other countries. Country codes upper-case.
  std::vector<dsp::ToneProfile> profiles;

  // The profile of `country` (case-insensitive; "GB" = "UK"): the config's
  // own, else the built-in one; nullptr when there is neither. The pointer
  // lives as long as this LinesConfig (not across a copy).
  const dsp::ToneProfile* profile(std::string_view country) const;
};

// ENUM resolution (RFC 6116): the resolver's settings.
struct EnumConfig {
  std::vector<std::string> suffixes = {"e164.arpa"};  // non-empty, asked in order
  std::vector<std::string> servers;  // "ip", "ip:port", "[v6]:port"; empty = /etc/resolv.conf
  int timeout_ms = 1500;             // per DNS query, 50..10000
  int max_depth = 4;                 // non-terminal NAPTR chains, 0..16
  int cache_entries = 10000;         // 0..1000000, 0 = no cache
};

enum class SipCallerMode { bridge, redirect };

struct RoutingConfig {
  std::string country;               // numbering plan for dialed digits; "" in TOML -> lines.country
  SipCallerMode sip_callers = SipCallerMode::bridge;  // redirect: 302 with the ENUM contacts
  int target_timeout_ms = 4000;      // 500..60000: a SIP target silent (no 18x/final) this long is given up
  // Toll classes (E.164 prefixes): routing.international_prefixes and
  // routing.premium_prefixes; absent keys take route::default_toll_prefixes(country).
  route::TollPrefixes toll;
};

enum class NumberFormat { e164, dialed };

// A SIP trunk: calls go to `uri` with the number as the user part.
struct TrunkConfig {
  std::string name;                  // unique, referenced by "trunk:<name>" steps
  std::string uri;                   // "sip:host[:port][;params]", no user part
  NumberFormat number_format = NumberFormat::e164;
};

// Digest authentication of SIP requests (REGISTER now; calls next).
struct AuthConfig {
  std::string realm;                 // "" in TOML -> sip.address
  std::vector<std::string> algorithms = {"MD5"};  // challenges offered, in this order (SHA-256, MD5)
  int nonce_lifetime_s = 300;        // 10..86400
  // SIP callers from these ranges need no credentials; everyone else must
  // authenticate as a [[user]] before anything rings or is dialed.
  std::vector<std::string> trusted = {"127.0.0.0/8", "::1"};
  int ban_after_failures = 5;        // failed authentications from one address ... (0 = never ban)
  int ban_window_s = 60;             // ... within this long ...
  int ban_duration_s = 600;          // ... ban it (403 to everything) this long
  int max_calls_per_user = 4;        // an authenticated user's calls at once (0 = no limit)
  int calls_per_minute_per_user = 10;  // and new calls in any minute (0 = no limit)
  int max_calls_per_source = 16;     // SIP calls from one address at once, trusted or not (0 = no limit)
  int calls_per_minute_per_source = 60;  // and new calls from it in any minute (0 = no limit)
  route::Permissions trusted_permissions;  // toll classes callers from `trusted` may dial (default none)
};

// The registrar (REGISTER from local SIP users) and its binding store.
struct RegistrarConfig {
  std::string database;              // SQLite file; "" = kept in memory (lost on restart)
  int min_expires_s = 60;            // shorter registrations get 423
  int max_expires_s = 3600;
  int default_expires_s = 3600;
  int max_contacts = 10;             // per user
};

// A SIP user ([[user]]): a password, or HA1 hashes computed beforehand.
struct UserConfig {
  std::string name;
  std::string password;
  std::string ha1_md5;               // hex MD5(name:realm:password)
  std::string ha1_sha256;            // hex SHA-256(name:realm:password)
  route::Permissions permissions;    // ["international", "premium"] (default: national only)
};

// [sim]: the simulated exchange behind the sim driver's FXO ports.
struct SimSubscriberConfig {
  std::string number;                 // digits the FXO ports dial
  std::string behaviour = "answer";   // answer, busy, no_answer
  int answer_after_ms = 2000;         // ringback this long before answering
  int tone_hz = 0;                    // plays this tone once answered (0 = silence)
  int hangup_after_ms = -1;           // hangs up this long after answering (-1 = never)
};

struct SimConfig {
  std::vector<SimSubscriberConfig> subscribers;
};

struct Config {
  std::string source;               // file path, or "<embedded default>"
  SipConfig sip;
  MediaConfig media;
  TlsConfig tls;
  ControlConfig control;
  LogConfig log;
  LinesConfig lines;
  EnumConfig enum_lookup;
  RoutingConfig routing;
  std::vector<TrunkConfig> trunks;
  AuthConfig auth;
  RegistrarConfig registrar;
  std::vector<UserConfig> users;
  SimConfig sim;
  route::DialPlan dial_plan;        // from [[dialplan]] tables (pattern, target/steps, allow)
};

// Parses and validates TOML text; `source_name` is used in error messages.
base::Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);
// Reads and parses a file.
base::Result<Config> load_config_file(const std::string& path);
// The embedded default (default_config.toml compiled in).
base::Result<Config> default_config();

}  // namespace sipline::gateway::config
