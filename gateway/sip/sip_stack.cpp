#include "sip/sip_stack.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <set>

#include <glib.h>
#include <sofia-sip/su_config.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/tport_tag.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <algorithm>

#include "sipline/base/c_ptr.hpp"
#include "sipline/base/glib_source.hpp"
#include "sipline/base/log.hpp"

extern "C" {
extern su_log_t nua_log[];
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t sresolv_log[];
}

namespace sipline::gateway::sip {

using base::LogContext;
using base::Sub;
namespace log = base::log;

namespace {

// Sofia's own logs (parser complaints, transport errors) go into ours.
void sofia_logger(void*, char const* fmt, va_list ap) noexcept {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) log::debug(Sub::sip, "sofia: {}", line);
}

// A display name as an RFC 3261 quoted-string: backslash and double quote
// escaped, control characters (CR, LF ...) dropped, cut after about 64 bytes
// (never inside a UTF-8 sequence).
std::string quoted(const std::string& display) {
  std::string out = "\"";
  std::size_t kept = 0;
  for (const char c : display) {
    if (kept >= 64 && (static_cast<unsigned char>(c) & 0xC0) != 0x80) break;
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
    ++kept;
  }
  return out + "\"";
}

// The Authorization and Proxy-Authorization header values of a request,
// rebuilt as "Digest name=value, ..." from Sofia's parsed parameters.
std::vector<std::string> authorizations_of(const sip_t* sip) {
  std::vector<std::string> out;
  if (!sip) return out;
  for (const sip_authorization_t* list : {sip->sip_authorization, sip->sip_proxy_authorization}) {
    for (const sip_authorization_t* a = list; a; a = a->au_next) {
      std::string value = a->au_scheme ? a->au_scheme : "";
      for (int i = 0; a->au_params && a->au_params[i]; ++i) value += std::string(i ? ", " : " ") + a->au_params[i];
      out.push_back(std::move(value));
    }
  }
  return out;
}

// The standard reason phrase: a static string, as nua_respond() needs (it
// keeps the pointer until the response goes out).
const char* status_phrase(int status) {
  const char* phrase = sip_status_phrase(status);
  return phrase ? phrase : "";
}

std::string payload_of(const sip_t* sip) {
  if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data) return {};
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

std::string call_id_of(const sip_t* sip) {
  return sip && sip->sip_call_id && sip->sip_call_id->i_id ? sip->sip_call_id->i_id : "";
}

std::string url_string(const url_t* url) {
  if (!url) return {};
  char buf[512];
  const isize_t n = url_e(buf, sizeof buf, url);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

// RFC 3261 §8.1.1.4: globally unique; 128 random bits.
std::string new_call_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 4; ++i) {
    const guint32 r = g_random_int();
    for (int b = 0; b < 8; ++b) id.push_back(kHex[(r >> (4 * b)) & 0xf]);
  }
  return id + "@sipline";
}

std::string host_for_uri(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

// What Sofia's TLS code reported about the last connection that failed its
// certificate check (tport_tls.c logs it at level 3, then closes the
// connection without failing the request queued on it).
struct TlsFailureNote {
  std::string reason;   // "self-signed certificate (X509 error 18)"
  std::string subject;  // the offending certificate's subject
};

void tport_logger(void* stream, char const* fmt, va_list ap) noexcept;

// "host:port" a request to `uri` goes to when it travels over TLS (sips: or
// ;transport=tls), else "". RFC 3263 §4.2: the TLS default port is 5061.
std::string tls_peer_of(const url_t* uri) {
  if (!uri || !uri->url_host) return {};
  char transport[16] = "";
  if (uri->url_params) url_param(uri->url_params, "transport", transport, sizeof transport);
  if (uri->url_type != url_sips && g_ascii_strcasecmp(transport, "tls") != 0) return {};
  const std::string host = uri->url_host;
  const std::string port = uri->url_port && *uri->url_port ? uri->url_port : "5061";
  return (host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host) + ":" + port;
}

// A file's whole content.
base::Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::fail(SipError::start_failed, "cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` into a new file readable by us alone.
base::Result<void> write_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return base::fail(SipError::start_failed, "cannot create " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return base::fail(SipError::start_failed, "cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return {};
}

// The directory Sofia reads its TLS identity from (TPTAG_CERTIFICATE):
// agent.pem holds the private key and then the certificate chain; cafile.pem
// the trusted CAs followed by our intermediates (the chain after its first
// certificate), from which OpenSSL completes the chain it sends (Sofia loads
// only the first certificate of agent.pem; a certificate that is not
// self-signed is no trust anchor, so the intermediates trust nothing more).
// openssl.cnf sets the lowest protocol version (see apply_tls_floor).
// Sofia only logs a certificate or key it cannot use (and would ask a
// terminal for the passphrase of an encrypted key): check them first, so that
// a bad pair stops the start with a clear error.
base::Result<void> check_identity(const SipTlsConfig& tls) {
  using SslCtx = base::CPtr<SSL_CTX, SSL_CTX_free>;
  SslCtx ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return base::fail(SipError::start_failed, "OpenSSL cannot make a TLS context");
  SSL_CTX_set_default_passwd_cb(ctx.get(), [](char*, int, int, void*) noexcept { return 0; });
  const char* what = nullptr;
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str()) != 1) {
    what = "no usable PEM certificate in tls.certificate";
  } else if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    what = "tls.private_key is not an unencrypted PEM key of tls.certificate";
  } else if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    what = "tls.private_key does not belong to tls.certificate";
  }
  char reason[256] = "";
  if (const unsigned long e = ERR_peek_last_error()) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  if (what) return base::fail(SipError::start_failed, std::string(what) + " (" + reason + ")");
  return {};
}

base::Result<std::string> make_certificate_dir(const SipTlsConfig& tls) {
  if (auto r = check_identity(tls); !r) return base::fail(r.error());
  auto key = read_file(tls.private_key);
  if (!key) return base::fail(key.error());
  auto chain = read_file(tls.certificate);
  if (!chain) return base::fail(chain.error());
  auto cas = read_file(tls.ca_file.empty() ? std::string("/etc/ssl/certs/ca-certificates.crt") : tls.ca_file);
  if (!cas) return base::fail(cas.error());
  std::string dir = std::string(g_get_tmp_dir()) + "/sipline-tls-XXXXXX";
  if (!mkdtemp(dir.data()))  // mode 0700
    return base::fail(SipError::start_failed, "cannot create a TLS directory in " + std::string(g_get_tmp_dir()) +
                                                  ": " + std::strerror(errno));
  const std::string floor = tls.min_version == "1.3" ? "TLSv1.3" : "TLSv1.2";
  const std::string cnf =
      "openssl_conf = sipline_conf\n[sipline_conf]\nssl_conf = sipline_ssl\n[sipline_ssl]\n"
      "system_default = sipline_tls\n[sipline_tls]\nMinProtocol = " + floor +
      "\nCipherString = DEFAULT:@SECLEVEL=2\n";
  const auto second = chain->find("-----BEGIN CERTIFICATE-----", chain->find("-----BEGIN CERTIFICATE-----") + 1);
  const std::string intermediates = second == std::string::npos ? "" : chain->substr(second);
  for (const auto& [name, text] : {std::pair{"agent.pem", *key + "\n" + *chain},
                                   std::pair{"cafile.pem", *cas + "\n" + intermediates}, std::pair{"openssl.cnf", cnf}}) {
    if (auto r = write_private(dir + "/" + name, text); !r) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      return base::fail(r.error());
    }
  }
  return dir;
}

// Sofia-SIP 1.12.11 creates its SSL_CTX itself and has no tag for the lowest
// protocol version (its TPTAG_TLS_VERSION picks TLS 1.0 only). OpenSSL applies
// the "system_default" section of its loaded config to every SSL_CTX it
// creates, so loading our openssl.cnf before nua_create() sets the floor for
// the SIP contexts; sipline makes no other TLS contexts.
base::Result<void> apply_tls_floor(const std::string& dir) {
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);  // the system config first, so ours replaces it
  const std::string cnf = dir + "/openssl.cnf";
  if (CONF_modules_load_file(cnf.c_str(), nullptr, 0) <= 0)
    return base::fail(SipError::start_failed, "OpenSSL rejected the TLS settings in " + cnf);
  return {};
}

}  // namespace

struct SipStack::Impl {
  SipStackHandler& handler;
  su_root_t* root = nullptr;
  GSource* source = nullptr;
  nua_t* nua = nullptr;
  std::map<nua_handle_t*, std::shared_ptr<SipSession>> sessions;
  std::function<void()> on_shutdown;
  bool shut_down = false;
  std::string host_port;   // "127.0.0.1:5060" or "[::1]:5060", for our URIs
  RegisterHandler* register_handler = nullptr;
  std::string certificate_dir;  // TLS: our private copy for Sofia ("" = no TLS)
  TlsFailureNote tls_failure;   // from Sofia's TLS log, until fail_unverified_tls() uses it
  std::unique_ptr<base::DeferredCall> tls_failed;  // runs fail_unverified_tls() outside Sofia's stack

  explicit Impl(SipStackHandler& h) : handler(h) {}

  ~Impl() {
    // nua_destroy() refuses to run before nua_shutdown() has completed; the
    // owner must not destroy an unfinished stack (see SipStack::shut_down()).
    if (nua) nua_destroy(nua);
    if (source) g_source_destroy(source);
    if (root) su_root_destroy(root);
    remove_certificate_dir();
    if (tport_log->log_stream == this) su_log_redirect(tport_log, sofia_logger, nullptr);
  }

  void remove_certificate_dir() {
    if (certificate_dir.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(certificate_dir, ec);
    if (ec) log::warn(Sub::sip, "event=tls_dir_not_removed dir={} error=\"{}\"", certificate_dir, ec.message());
    certificate_dir.clear();
  }

  // Sofia's TLS code explains a failed certificate check only in its log:
  // "-Error with certificate at depth: N", "  subject  = ...", "  err N:text",
  // or "...: Peer Subject Mismatch (host)". Keep the reason for the request
  // that fails next.
  void note_tport_line(const std::string& line) {
    const auto after = [&](std::string_view marker) -> std::optional<std::string> {
      const auto at = line.find(marker);
      if (at == std::string::npos) return std::nullopt;
      return line.substr(at + marker.size());
    };
    if (auto subject = after("  subject  = ")) {
      tls_failure.subject = *subject;
    } else if (auto err = after("  err ")) {
      const auto colon = err->find(':');
      tls_failure.reason = colon == std::string::npos
                               ? *err
                               : err->substr(colon + 1) + " (X509 error " + err->substr(0, colon) + ")";
    } else if (auto host = after("Peer Subject Mismatch (")) {
      if (!host->empty() && host->back() == ')') host->pop_back();
      tls_failure.reason = "the certificate does not name " + *host;
    } else if (line.find("Peer did not provide X.509 Certificate") != std::string::npos) {
      tls_failure.reason = "the peer sent no certificate";
    } else {
      return;
    }
    if (tls_failed) tls_failed->schedule();
  }

  // A connection failed its certificate check. Sofia closes it without
  // failing the request queued on it (the INVITE would wait for Timer B, 32 s,
  // and hold up nua_shutdown), so the stack fails it here: every outgoing TLS
  // INVITE that has heard nothing yet, when they all go to one peer (TLS
  // connections are made one per peer, and verification is the first thing on
  // them). With several such peers at once the log cannot tell which one
  // failed: it says so, and those calls end by the router's target timeout.
  void fail_unverified_tls() {
    if (tls_failure.reason.empty()) return;
    const TlsFailureNote note = std::exchange(tls_failure, {});
    std::vector<std::shared_ptr<SipSession>> waiting;
    std::set<std::string> peer_set;
    for (const auto& [nh, session] : sessions) {
      if (session->role_ != SipSession::Role::outgoing || session->tls_peer_.empty() || session->heard_from_peer_ ||
          session->ended_)
        continue;
      peer_set.insert(session->tls_peer_);
      waiting.push_back(session);
    }
    const bool one_peer = peer_set.size() == 1;
    std::string peers;
    for (const auto& p : peer_set) peers += (peers.empty() ? "" : ",") + p;
    log::warn(Sub::sip, "event=tls_verify_failed peer={} reason=\"{}\" subject=\"{}\" calls={}",
              peer_set.empty() ? std::string("unknown") : one_peer ? peers : "one of " + peers, note.reason,
              note.subject, one_peer ? waiting.size() : 0);
    if (!one_peer) return;
    for (const auto& session : waiting) {
      LogContext ctx({.call_id = session->call_id_, .line = {}});
      log::info(Sub::sip, "event=invite_failed status=503 phrase=\"TLS certificate not accepted\"");
      session->ended_ = true;
      SessionHandler* h = std::exchange(session->handler_, nullptr);
      sessions.erase(session->nh_);
      nua_handle_destroy(session->nh_);  // drops the queued INVITE; nothing was sent
      if (h) h->on_failed(503, "TLS certificate not accepted");
    }
  }

  static void callback(nua_event_t event, int status, char const* phrase, nua_t*, nua_magic_t* magic,
                       nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip, tagi_t tags[]) noexcept {
    static_cast<Impl*>(magic)->dispatch(event, status, phrase ? phrase : "", nh, sip, tags);
  }

  std::shared_ptr<SipSession> find(nua_handle_t* nh) {
    auto it = sessions.find(nh);
    return it == sessions.end() ? nullptr : it->second;
  }

  void dispatch(nua_event_t event, int status, const std::string& phrase, nua_handle_t* nh, const sip_t* sip,
                tagi_t tags[]) {
    if (event == nua_r_shutdown) {
      if (status >= 200 && !shut_down) {
        shut_down = true;
        remove_certificate_dir();
        log::info(Sub::sip, "event=shutdown_complete status={}", status);
        if (on_shutdown) on_shutdown();
      }
      return;
    }
    if (event == nua_i_register) {
      incoming_register(nh, sip);
      return;
    }
    if (event == nua_i_invite) {
      if (auto existing = find(nh)) {
        reinvite(*existing, sip);
      } else {
        incoming_invite(nh, sip);
      }
      return;
    }
    auto session = nh ? find(nh) : nullptr;
    if (!session) {
      if (event == nua_i_state || event == nua_i_terminated) return;
      if (nh && event != nua_r_set_params && event != nua_r_get_params && event != nua_i_error) {
        // A request outside any dialog we know (OPTIONS, MESSAGE ...): nua
        // answers those itself; release the handle it created for it.
        if (event == nua_i_options || event == nua_i_message || event == nua_i_info || event == nua_i_notify ||
            event == nua_i_subscribe || event == nua_i_refer || event == nua_i_publish)
          nua_handle_destroy(nh);
      }
      return;
    }
    LogContext ctx({.call_id = session->call_id_, .line = {}});
    SessionHandler* h = session->handler_;
    switch (event) {
      case nua_r_invite:
        if (session->call_id_.empty()) session->call_id_ = call_id_of(sip);
        if (sip) session->heard_from_peer_ = true;
        if (status >= 100 && status < 200) {
          if (status > 100 && h) h->on_progress(status, payload_of(sip));
        } else if (status < 300) {
          session->confirmed_ = true;
          if (session->ended_) {
            // The 200 crossed our CANCEL (RFC 3261 §9.1): nua has ACKed it, so
            // the far end is in a call that nobody wants. End it.
            log::info(Sub::sip, "event=answered_after_cancel action=bye");
            nua_bye(nh, TAG_END());
            break;
          }
          log::info(Sub::sip, "event=answered status={}", status);
          if (h) h->on_answered(payload_of(sip));
        } else {
          if (!session->tls_peer_.empty() && !tls_failure.reason.empty()) {
            // The call fails as any unreachable target does (nta answers 503).
            log::warn(Sub::sip, "event=tls_verify_failed peer={} reason=\"{}\" subject=\"{}\"", session->tls_peer_,
                      tls_failure.reason, tls_failure.subject);
            tls_failure = {};
          }
          log::info(Sub::sip, "event=invite_failed status={} phrase=\"{}\"", status, phrase);
          const bool was_ended = session->ended_;
          session->ended_ = true;
          if (h && !was_ended) h->on_failed(status, phrase);
        }
        break;
      case nua_i_ack:
        if (h) h->on_ack(payload_of(sip));
        break;
      case nua_i_bye:
      case nua_i_cancel:
        log::info(Sub::sip, "event={}", event == nua_i_bye ? "bye_received" : "cancel_received");
        remote_ended(*session);
        break;
      case nua_i_state: {
        int callstate = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(callstate), TAG_END());
        if (callstate == nua_callstate_terminated) {
          remote_ended(*session);
          session->handler_ = nullptr;
          sessions.erase(nh);
          nua_handle_destroy(nh);
        }
        break;
      }
      default:
        break;
    }
  }

  void remote_ended(SipSession& session) {
    if (session.ended_) return;
    session.ended_ = true;
    if (session.handler_) session.handler_->on_remote_hangup();
  }

  void reinvite(SipSession& session, const sip_t* sip) {
    LogContext ctx({.call_id = session.call_id_, .line = {}});
    log::info(Sub::sip, "event=reinvite_received body_bytes={}", payload_of(sip).size());
    if (session.ended_ || !session.handler_) {
      nua_respond(session.nh_, SIP_481_NO_TRANSACTION, TAG_END());
      return;
    }
    session.handler_->on_reinvite(payload_of(sip));
  }

  // The address the request being handled came from: "ip" (with_port false)
  // or "ip:port" / "[v6]:port"; "" if unknown.
  std::string request_source(bool with_port) {
    msg_t* msg = nua_current_request(nua);
    const su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
    char host[64] = "";
    char port[16] = "";
    if (!ai || !ai->ai_addr ||
        getnameinfo(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen), host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
      return "";
    if (!with_port) return host;
    const bool v6 = std::string_view(host).find(':') != std::string_view::npos;
    return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + port;
  }

  // REGISTER (RFC 3261 §10.3): copied out and answered by the registrar.
  void incoming_register(nua_handle_t* nh, const sip_t* sip) {
    RegisterInfo info;
    info.call_id = call_id_of(sip);
    LogContext ctx({.call_id = info.call_id, .line = {}});
    info.source_address = request_source(true);
    info.source_ip = request_source(false);
    if (!register_handler || !sip) {
      nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    if (sip->sip_cseq) info.cseq = sip->sip_cseq->cs_seq;
    if (sip->sip_to && sip->sip_to->a_url->url_user) info.aor_user = sip->sip_to->a_url->url_user;
    if (sip->sip_to && sip->sip_to->a_url->url_host) info.aor_host = sip->sip_to->a_url->url_host;
    if (sip->sip_expires) info.expires = static_cast<std::int64_t>(sip->sip_expires->ex_delta);
    if (sip->sip_user_agent && sip->sip_user_agent->g_string) info.user_agent = sip->sip_user_agent->g_string;
    if (sip->sip_via && sip->sip_via->v_protocol) {
      std::string proto = sip->sip_via->v_protocol;  // "SIP/2.0/UDP"
      const auto slash = proto.rfind('/');
      info.transport = proto.substr(slash == std::string::npos ? 0 : slash + 1);
      for (char& c : info.transport) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
      if (m->m_url->url_type == url_any) {  // Contact: *
        info.wildcard = true;
        continue;
      }
      RegisterContact c;
      c.uri = url_string(m->m_url);
      if (m->m_expires) {
        char* end = nullptr;
        const long long v = std::strtoll(m->m_expires, &end, 10);
        if (end && *end == '\0' && v >= 0) c.expires = v;
      }
      if (m->m_q) c.q = m->m_q;
      if (const char* inst = msg_params_find(m->m_params, "+sip.instance=")) {
        std::string v = inst;
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        c.instance = v;
      }
      info.contacts.push_back(std::move(c));
    }
    info.authorizations = authorizations_of(sip);
    const RegisterReply reply = register_handler->on_register(info);
    log::info(Sub::sip, "event=register user={} source={} contacts={} status={}", info.aor_user,
              info.source_address, info.contacts.size(), reply.status);
    // Up to two challenges (one per algorithm) and the rest of the reply.
    const std::string min_expires = std::to_string(reply.min_expires);
    const char* auth1 = reply.www_authenticate.size() > 0 ? reply.www_authenticate[0].c_str() : nullptr;
    const char* auth2 = reply.www_authenticate.size() > 1 ? reply.www_authenticate[1].c_str() : nullptr;
    nua_respond(nh, reply.status, status_phrase(reply.status), NUTAG_WITH_THIS(nua),
                TAG_IF(auth1, SIPTAG_WWW_AUTHENTICATE_STR(auth1)), TAG_IF(auth2, SIPTAG_WWW_AUTHENTICATE_STR(auth2)),
                TAG_IF(!reply.contacts.empty(), SIPTAG_CONTACT_STR(reply.contacts.c_str())),
                TAG_IF(reply.min_expires > 0, SIPTAG_MIN_EXPIRES_STR(min_expires.c_str())), TAG_END());
    nua_handle_destroy(nh);
  }

  // Privacy (RFC 3323) and P-Asserted-Identity (RFC 3325). Sofia's default
  // parser leaves P-Asserted-Identity among the unknown headers; its value
  // has the grammar of From (name-addr), so From's parser reads it.
  static void read_identity_headers(const sip_t* sip, InviteInfo& info) {
    if (!sip) return;
    if (sip->sip_privacy && sip->sip_privacy->priv_values) {
      for (const msg_param_t* v = sip->sip_privacy->priv_values; *v; ++v) info.privacy.emplace_back(*v);
    }
    for (const sip_unknown_t* u = sip->sip_unknown; u; u = u->un_next) {
      if (!u->un_name || !u->un_value || g_ascii_strcasecmp(u->un_name, "P-Asserted-Identity") != 0) continue;
      su_home_t home[1] = {SU_HOME_INIT(home)};
      if (const sip_from_t* id = sip_from_make(home, u->un_value)) {
        info.asserted_uri = url_string(id->a_url);
        if (id->a_display) info.asserted_display = id->a_display;
      }
      su_home_deinit(home);
      break;
    }
  }

  void incoming_invite(nua_handle_t* nh, const sip_t* sip) {
    InviteInfo info;
    info.call_id = call_id_of(sip);
    LogContext ctx({.call_id = info.call_id, .line = {}});
    if (sip && sip->sip_request && sip->sip_request->rq_url->url_user)
      info.request_user = sip->sip_request->rq_url->url_user;
    if (sip && sip->sip_request) info.request_uri = url_string(sip->sip_request->rq_url);
    info.source_address = request_source(false);
    if (sip && sip->sip_from) {
      info.from_uri = url_string(sip->sip_from->a_url);
      if (sip->sip_from->a_display) info.from_display = sip->sip_from->a_display;
    }
    read_identity_headers(sip, info);
    info.authorizations = authorizations_of(sip);
    if (sip && sip->sip_max_forwards) info.max_forwards = static_cast<int>(std::min<unsigned long>(sip->sip_max_forwards->mf_count, 255));
    if (sip && sip->sip_content_type && sip->sip_content_type->c_type) info.content_type = sip->sip_content_type->c_type;
    info.body = payload_of(sip);
    log::info(Sub::sip, "event=invite_received from={} source={} request_uri={} body_bytes={}", info.from_uri,
              info.source_address, info.request_uri, info.body.size());
    if (shut_down || on_shutdown) {
      nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    auto session = std::make_shared<SipSession>(nh, SipSession::Role::incoming, info.call_id);
    nua_handle_bind(nh, session.get());
    sessions.emplace(nh, session);
    handler.on_incoming_invite(session, info);
  }
};

namespace {
// Sofia's transport log: like sofia_logger, and the TLS failure lines are
// noted by the stack that redirected it (`stream`).
void tport_logger(void* stream, char const* fmt, va_list ap) noexcept {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return;
  log::debug(Sub::sip, "sofia: {}", line);
  if (stream) static_cast<SipStack::Impl*>(stream)->note_tport_line(line);
}
}  // namespace

SipSession::SipSession(nua_handle_s* nh, Role role, std::string call_id)
    : nh_(nh), role_(role), call_id_(std::move(call_id)) {}
SipSession::~SipSession() = default;

void SipSession::ringing() {
  if (ended_ || answered_) return;
  nua_respond(nh_, SIP_180_RINGING, TAG_END());
}

void SipSession::progress(const std::string& sdp) {
  if (ended_ || answered_) return;
  nua_respond(nh_, SIP_183_SESSION_PROGRESS, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
}

void SipSession::answer(const std::string& sdp) {
  if (ended_ || answered_) return;
  answered_ = true;
  confirmed_ = true;
  nua_respond(nh_, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()),
              TAG_END());
}

void SipSession::answer_reinvite(const std::string& sdp) {
  if (ended_) return;
  nua_respond(nh_, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()),
              TAG_END());
}

void SipSession::reject_reinvite(int status) {
  if (ended_) return;
  nua_respond(nh_, status, status_phrase(status), TAG_END());
}

void SipSession::reject(int status) {
  if (ended_ || answered_) return;
  ended_ = true;
  LogContext ctx({.call_id = call_id_, .line = {}});
  log::info(Sub::sip, "event=reject status={} phrase=\"{}\"", status, status_phrase(status));
  nua_respond(nh_, status, status_phrase(status), TAG_END());
}

void SipSession::challenge(const std::vector<std::string>& www_authenticate) {
  if (ended_ || answered_) return;
  ended_ = true;
  const char* auth1 = www_authenticate.size() > 0 ? www_authenticate[0].c_str() : nullptr;
  const char* auth2 = www_authenticate.size() > 1 ? www_authenticate[1].c_str() : nullptr;
  nua_respond(nh_, SIP_401_UNAUTHORIZED, TAG_IF(auth1, SIPTAG_WWW_AUTHENTICATE_STR(auth1)),
              TAG_IF(auth2, SIPTAG_WWW_AUTHENTICATE_STR(auth2)), TAG_END());
}

void SipSession::redirect(const std::vector<std::vector<std::string>>& contacts) {
  if (ended_ || answered_ || contacts.empty()) return;
  ended_ = true;
  std::string header;
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    const int q = std::max(1, 10 - static_cast<int>(i));  // 1.0, 0.9, ... 0.1
    for (const auto& contact : contacts[i]) {
      if (!header.empty()) header += ", ";
      header += "<" + contact + ">;q=" + (q == 10 ? std::string("1.0") : "0." + std::to_string(q));
    }
  }
  LogContext ctx({.call_id = call_id_, .line = {}});
  log::info(Sub::sip, "event=redirect contacts=\"{}\"", header);
  nua_respond(nh_, SIP_302_MOVED_TEMPORARILY, SIPTAG_CONTACT_STR(header.c_str()), TAG_END());
}

void SipSession::hangup(const char* reason) {
  if (ended_) return;
  if (role_ == Role::incoming && !answered_) {
    reject(480);
    return;
  }
  ended_ = true;
  if (confirmed_) {
    nua_bye(nh_, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
  } else {
    nua_cancel(nh_, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
  }
}

SipStack::SipStack(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SipStack::~SipStack() {
  if (impl_ && !impl_->shut_down && impl_->nua)
    log::warn(Sub::sip, "event=destroyed_without_shutdown sessions={}", impl_->sessions.size());
}

base::Result<std::unique_ptr<SipStack>> SipStack::create(const SipStackConfig& config, SipStackHandler& handler) {
  static const bool su_ready = su_init() == 0;
  if (!su_ready) return base::fail(SipError::start_failed, "su_init failed");
  for (su_log_t* l : {su_log_default, nua_log, nta_log, tport_log, sresolv_log}) su_log_redirect(l, sofia_logger, nullptr);

  auto impl = std::make_unique<Impl>(handler);
  impl->root = su_glib_root_create(nullptr);
  if (!impl->root) return base::fail(SipError::start_failed, "su_glib_root_create failed");
  // nua runs its stack in a "clone"; with threading off the clone shares our
  // root, so every SIP event is handled on the control thread.
  su_root_threading(impl->root, 0);
  impl->source = su_glib_root_gsource(impl->root);
  g_source_attach(impl->source, g_main_context_get_thread_default());

  impl->host_port = host_for_uri(config.address) + ":" + std::to_string(config.port);
  std::string url = "sip:" + impl->host_port;
  if (!config.udp && !config.tcp && !config.tls) return base::fail(SipError::start_failed, "no SIP transport enabled");
  if (config.udp != config.tcp) url += config.udp ? ";transport=udp" : ";transport=tcp";
  std::string sips_url;
  unsigned verify_policy = TPTLS_VERIFY_NONE;
  if (config.tls) {
    sips_url = "sips:" + host_for_uri(config.address) + ":" + std::to_string(config.tls->port);
    if (!config.udp && !config.tcp) url = sips_url;  // TLS alone
    auto dir = make_certificate_dir(*config.tls);
    if (!dir) return base::fail(dir.error());
    impl->certificate_dir = *dir;
    Impl* raw = impl.get();
    impl->tls_failed = std::make_unique<base::DeferredCall>(g_main_context_get_thread_default(),
                                                            [raw] { raw->fail_unverified_tls(); });
    if (auto r = apply_tls_floor(impl->certificate_dir); !r) return base::fail(r.error());
    // Incoming connections are not asked for a certificate (phones rarely
    // have one); outgoing ones must chain to cafile.pem, be in date and name
    // the host we connect to (subjectAltName DNS/IP, or the CN).
    if (config.tls->verify_peer) verify_policy = TPTLS_VERIFY_SUBJECTS_OUT;
    // The failure reasons come from the transport log at level 3.
    su_log_redirect(tport_log, tport_logger, impl.get());
    if (tport_log->log_level < 3) su_log_set_level(tport_log, 3);
  }
  const bool extra_sips = config.tls && url != sips_url;

  impl->nua = nua_create(impl->root, &Impl::callback, impl.get(), NUTAG_URL(url.c_str()),
                         TAG_IF(extra_sips, NUTAG_SIPS_URL(sips_url.c_str())),
                         TAG_IF(config.tls, TPTAG_CERTIFICATE(impl->certificate_dir.c_str())),
                         TAG_IF(config.tls, TPTAG_TLS_VERIFY_POLICY(verify_policy)),
                         TAG_IF(config.tls, TPTAG_TLS_VERIFY_DEPTH(8)),
                         TAG_IF(config.tls, TPTAG_TLS_VERIFY_DATE(1)),
                         NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
                         NUTAG_ENABLEINVITE(1), SIPTAG_USER_AGENT_STR(config.user_agent.c_str()),
                         SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"),
                         NUTAG_APPL_METHOD("REGISTER"),
                         // No session timers (RFC 4028) or reliable provisionals
                         // (RFC 3262) yet: nua would otherwise advertise both.
                         NUTAG_SESSION_TIMER(0), SIPTAG_SUPPORTED_STR(""),
                         SIPTAG_ACCEPT_STR("application/sdp"), NUTAG_OUTBOUND("no-options-keepalive"),
                         TAG_END());
  if (!impl->nua)
    return base::fail(SipError::start_failed, "cannot start SIP on " + url + (extra_sips ? " and " + sips_url : "") +
                                                  " (address in use, not local, or a bad certificate or key?)");
  log::info(Sub::sip, "event=listening url={} udp={} tcp={} tls={}", url, config.udp, config.tcp,
            config.tls ? sips_url : std::string("off"));
  if (config.tls)
    log::info(Sub::sip, "event=tls_ready dir={} verify_peer={} min_version={}", impl->certificate_dir,
              config.tls->verify_peer, config.tls->min_version);
  return std::unique_ptr<SipStack>(new SipStack(std::move(impl)));
}

base::Result<std::shared_ptr<SipSession>> SipStack::invite(const OutgoingInvite& invite) {
  if (impl_->on_shutdown) return base::fail(SipError::start_failed, "shutting down");
  std::string tls_peer;
  {
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const url_t* to = url_make(home, invite.to.c_str());
    const bool ok = to && to->url_host && (to->url_type == url_sip || to->url_type == url_sips);
    if (ok) tls_peer = tls_peer_of(to);
    su_home_deinit(home);
    if (!ok) return base::fail(SipError::bad_uri, "bad target URI: " + invite.to);
  }
  const std::string call_id = new_call_id();
  const std::string from_uri = invite.privacy ? std::string("sip:anonymous@anonymous.invalid")
                                             : "sip:" + invite.from_user + "@" + impl_->host_port;
  const std::string display = invite.privacy ? std::string("Anonymous") : invite.display;
  std::string from = display.empty() ? "<" + from_uri + ">" : quoted(display) + " <" + from_uri + ">";
  std::string identity;
  if (!invite.asserted_user.empty()) {
    const std::string uri = "sip:" + invite.asserted_user + "@" + impl_->host_port + ";user=phone";
    identity = "P-Asserted-Identity: " + (invite.display.empty() ? "" : quoted(invite.display) + " ") + "<" + uri + ">";
  }
  if (invite.privacy) identity += std::string(identity.empty() ? "" : "\r\n") + "Privacy: id";
  const std::string max_forwards = std::to_string(std::clamp(invite.max_forwards, 0, 255));
  // In angle brackets, so that URI parameters (";transport=tls") stay in the
  // URI instead of becoming To header parameters (RFC 3261 §20.10).
  const std::string to = "<" + invite.to + ">";
  nua_handle_t* nh =
      nua_handle(impl_->nua, nullptr, SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()),
                 SIPTAG_CALL_ID_STR(call_id.c_str()), SIPTAG_MAX_FORWARDS_STR(max_forwards.c_str()), TAG_END());
  if (!nh) return base::fail(SipError::start_failed, "cannot create a SIP handle");
  auto session = std::make_shared<SipSession>(nh, SipSession::Role::outgoing, call_id);
  session->handler_ = invite.handler;
  session->tls_peer_ = tls_peer;
  nua_handle_bind(nh, session.get());
  impl_->sessions.emplace(nh, session);
  nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(invite.sdp.c_str()),
             TAG_IF(!identity.empty(), SIPTAG_HEADER_STR(identity.c_str())), TAG_END());
  LogContext ctx({.call_id = call_id, .line = {}});
  log::info(Sub::sip, "event=invite_sent to={} from={}", invite.to, from_uri);
  return session;
}

void SipStack::set_register_handler(RegisterHandler* handler) { impl_->register_handler = handler; }

void SipStack::shutdown(std::function<void()> done) {
  impl_->on_shutdown = std::move(done);
  impl_->remove_certificate_dir();  // Sofia read it at start
  for (auto& [nh, session] : impl_->sessions) session->hangup();
  nua_shutdown(impl_->nua);
}

std::size_t SipStack::session_count() const { return impl_->sessions.size(); }

bool SipStack::shut_down() const { return impl_->shut_down; }

}  // namespace sipline::gateway::sip
