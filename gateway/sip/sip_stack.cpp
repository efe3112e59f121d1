#include "sip/sip_stack.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>

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
#include <netdb.h>

#include <algorithm>

#include "sipline/base/c_ptr.hpp"
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

  explicit Impl(SipStackHandler& h) : handler(h) {}

  ~Impl() {
    // nua_destroy() refuses to run before nua_shutdown() has completed; the
    // owner must not destroy an unfinished stack (see SipStack::shut_down()).
    if (nua) nua_destroy(nua);
    if (source) g_source_destroy(source);
    if (root) su_root_destroy(root);
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

void SipSession::redirect(const std::vector<std::string>& contacts) {
  if (ended_ || answered_ || contacts.empty()) return;
  ended_ = true;
  std::string header;
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    const int q = std::max(1, 10 - static_cast<int>(i));  // 1.0, 0.9, ... 0.1
    if (!header.empty()) header += ", ";
    header += "<" + contacts[i] + ">;q=" + (q == 10 ? std::string("1.0") : "0." + std::to_string(q));
  }
  LogContext ctx({.call_id = call_id_, .line = {}});
  log::info(Sub::sip, "event=redirect contacts=\"{}\"", header);
  nua_respond(nh_, SIP_302_MOVED_TEMPORARILY, SIPTAG_CONTACT_STR(header.c_str()), TAG_END());
}

void SipSession::hangup() {
  if (ended_) return;
  if (role_ == Role::incoming && !answered_) {
    reject(480);
    return;
  }
  ended_ = true;
  if (confirmed_) {
    nua_bye(nh_, TAG_END());
  } else {
    nua_cancel(nh_, TAG_END());
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
  if (!config.udp && !config.tcp) return base::fail(SipError::start_failed, "no SIP transport enabled");
  if (config.udp != config.tcp) url += config.udp ? ";transport=udp" : ";transport=tcp";

  impl->nua = nua_create(impl->root, &Impl::callback, impl.get(), NUTAG_URL(url.c_str()),
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
    return base::fail(SipError::start_failed, "cannot start SIP on " + url + " (address in use or not local?)");
  log::info(Sub::sip, "event=listening url={} udp={} tcp={}", url, config.udp, config.tcp);
  return std::unique_ptr<SipStack>(new SipStack(std::move(impl)));
}

base::Result<std::shared_ptr<SipSession>> SipStack::invite(const OutgoingInvite& invite) {
  if (impl_->on_shutdown) return base::fail(SipError::start_failed, "shutting down");
  {
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const url_t* to = url_make(home, invite.to.c_str());
    const bool ok = to && to->url_host && (to->url_type == url_sip || to->url_type == url_sips);
    su_home_deinit(home);
    if (!ok) return base::fail(SipError::bad_uri, "bad target URI: " + invite.to);
  }
  const std::string call_id = new_call_id();
  const std::string from_uri = "sip:" + invite.from_user + "@" + impl_->host_port;
  std::string from = invite.display.empty() ? "<" + from_uri + ">" : quoted(invite.display) + " <" + from_uri + ">";
  const std::string max_forwards = std::to_string(std::clamp(invite.max_forwards, 0, 255));
  nua_handle_t* nh =
      nua_handle(impl_->nua, nullptr, SIPTAG_TO_STR(invite.to.c_str()), SIPTAG_FROM_STR(from.c_str()),
                 SIPTAG_CALL_ID_STR(call_id.c_str()), SIPTAG_MAX_FORWARDS_STR(max_forwards.c_str()), TAG_END());
  if (!nh) return base::fail(SipError::start_failed, "cannot create a SIP handle");
  auto session = std::make_shared<SipSession>(nh, SipSession::Role::outgoing, call_id);
  session->handler_ = invite.handler;
  nua_handle_bind(nh, session.get());
  impl_->sessions.emplace(nh, session);
  nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(invite.sdp.c_str()), TAG_END());
  LogContext ctx({.call_id = call_id, .line = {}});
  log::info(Sub::sip, "event=invite_sent to={} from={}", invite.to, from_uri);
  return session;
}

void SipStack::set_register_handler(RegisterHandler* handler) { impl_->register_handler = handler; }

void SipStack::shutdown(std::function<void()> done) {
  impl_->on_shutdown = std::move(done);
  for (auto& [nh, session] : impl_->sessions) session->hangup();
  nua_shutdown(impl_->nua);
}

std::size_t SipStack::session_count() const { return impl_->sessions.size(); }

bool SipStack::shut_down() const { return impl_->shut_down; }

}  // namespace sipline::gateway::sip
