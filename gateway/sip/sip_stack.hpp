#pragma once
// SipStack: Sofia-SIP's nua user agent on the control thread's GLib main
// context (su_glib), with nua's own media layer turned off: the gateway carries
// SDP in the message bodies and runs offer/answer itself (sip/sdp.hpp).
// Listens on UDP and/or TCP, and on TLS (RFC 3261 §26.2) when configured:
// requests to sips: URIs or ;transport=tls go out over TLS, and with
// verify_peer the peer's certificate must chain to a trusted CA and name the
// host of the URI (RFC 5922), else the call fails like an unreachable target
// and "event=tls_verify_failed peer=host:port reason=..." is logged.
// Sofia-SIP (1.12.11 as packaged) reads its certificate from a directory
// (agent.pem = key + certificate chain, cafile.pem = trusted CAs): the stack
// copies the configured files into a private 0700 temp dir at start and
// removes it in shutdown(). TLS 1.2 is the floor (OpenSSL 3's default at
// security level 2); min_version "1.3" is applied through an OpenSSL config
// (system_default MinProtocol) loaded into the process, as Sofia has no tag for it.
// Each INVITE dialog is a SipSession.
//
// Lifetime: SipSessions are shared_ptrs held by the stack until Sofia reports
// the dialog terminated; the call that uses one registers a SessionHandler and
// must clear it (set_handler(nullptr)) before it goes away.
// Teardown is asynchronous (Sofia's nua_shutdown): call shutdown(done) and keep
// the main loop running until `done` runs; the destructor only checks that.
// Thread: control. Every method and every callback runs on it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sipline/base/result.hpp"

struct nua_handle_s;

namespace sipline::gateway::sip {

enum class SipError { start_failed, bad_uri };

// SIP over TLS: where the certificate is and what is checked.
struct SipTlsConfig {
  std::uint16_t port = 5061;
  std::string certificate;        // PEM file: certificate, then its chain
  std::string private_key;        // PEM file
  std::string ca_file;            // PEM bundle of trusted CAs ("" = the system bundle)
  bool verify_peer = true;        // outgoing connections only
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

struct SipStackConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 5060;
  bool udp = true;
  bool tcp = true;
  std::optional<SipTlsConfig> tls;  // present: listen on TLS too
  std::string user_agent = "sipline";
};

// What arrived in an INVITE, copied out of Sofia's structures.
struct InviteInfo {
  std::string call_id;
  std::string request_user;    // user part of the Request-URI
  std::string request_uri;     // the whole Request-URI ("sip:201@host", "tel:+12025550201")
  std::string source_address;  // IP the INVITE came from ("127.0.0.1"), "" if unknown
  std::string from_uri;        // "sip:alice@host"
  std::string from_display;
  std::string asserted_uri;      // the first P-Asserted-Identity (RFC 3325), "" if none
  std::string asserted_display;
  std::vector<std::string> privacy;  // Privacy header values (RFC 3323): "id", "user", "none", ...
  int max_forwards = 70;       // the INVITE's Max-Forwards (70 when absent)
  std::vector<std::string> authorizations;  // Authorization and Proxy-Authorization values
  std::string content_type;    // "" when there is no body
  std::string body;
};

class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // Outgoing: 18x received; `sdp` is the body if any (early media).
  virtual void on_progress(int status, const std::string& sdp) = 0;
  // Outgoing: 2xx received (the stack ACKs it); `sdp` is the answer.
  virtual void on_answered(const std::string& sdp) = 0;
  // Outgoing: a final error response.
  virtual void on_failed(int status, const std::string& phrase) = 0;
  // Incoming: the ACK of our 2xx; `sdp` is the answer to our offer when the
  // INVITE carried none (RFC 3264 §5 late offer), else empty.
  virtual void on_ack(const std::string& sdp) = 0;
  // The far end ended the dialog (BYE, CANCEL, or the dialog died).
  virtual void on_remote_hangup() = 0;
  // A re-INVITE in the confirmed dialog (RFC 3261 §14.2): `sdp` is the new
  // offer (empty: the far end wants our offer). The handler must answer it
  // with SipSession::answer_reinvite() or reject_reinvite().
  virtual void on_reinvite(const std::string& sdp) = 0;
};

class SipSession {
 public:
  enum class Role { incoming, outgoing };
  SipSession(nua_handle_s* nh, Role role, std::string call_id);
  virtual ~SipSession();
  SipSession(const SipSession&) = delete;
  SipSession& operator=(const SipSession&) = delete;

  Role role() const { return role_; }
  const std::string& call_id() const { return call_id_; }
  void set_handler(SessionHandler* handler) { handler_ = handler; }
  SessionHandler* handler() const { return handler_; }

  // Incoming: 180 Ringing.
  void ringing();
  // Incoming: 183 Session Progress with our SDP (early media; the 200 that
  // follows must carry the same SDP, RFC 3261 §13.2.1). Unreliable: no 100rel.
  void progress(const std::string& sdp);
  // Incoming: 200 OK with our SDP.
  void answer(const std::string& sdp);
  // Incoming, before answering: a final error response. The reason phrase is
  // the standard one for the code (nua_respond() keeps the phrase pointer
  // until the response is sent, so it must be a static string).
  void reject(int status);
  // Incoming, before answering: 401 Unauthorized with one WWW-Authenticate
  // header per value (digest challenges).
  void challenge(const std::vector<std::string>& www_authenticate);
  // Incoming, before answering: 302 Moved Temporarily with these Contacts, a
  // group at a time (q 1.0 for the first group, then 0.9 ... 0.1, RFC 3261
  // §20.10: the caller tries a group's contacts at once, the groups in order).
  void redirect(const std::vector<std::vector<std::string>>& contacts);
  // Answers a re-INVITE with 200 and our SDP.
  void answer_reinvite(const std::string& sdp);
  // Refuses a re-INVITE (e.g. 488); the dialog and its media stay as they were.
  void reject_reinvite(int status);
  // Ends the dialog in whatever way its state needs: CANCEL an unanswered
  // outgoing INVITE, BYE a confirmed dialog, 480 an unanswered incoming one.
  // `reason`: a Reason header for the CANCEL or BYE (RFC 3326). Virtual so
  // that unit tests can stand in for a dialog.
  virtual void hangup(const char* reason = nullptr);
  bool confirmed() const { return confirmed_; }
  bool ended() const { return ended_; }

 private:
  friend class SipStack;
  nua_handle_s* nh_;
  Role role_;
  std::string call_id_;
  SessionHandler* handler_ = nullptr;
  bool answered_ = false;    // incoming: we sent 2xx
  bool confirmed_ = false;   // 2xx sent or received
  bool ended_ = false;       // hangup done or remote ended
  std::string tls_peer_;     // outgoing over TLS: "host:port" dialed, for the verification log
  bool heard_from_peer_ = false;  // outgoing: some response arrived (so its connection is up)
};

class SipStackHandler {
 public:
  virtual ~SipStackHandler() = default;
  // A new INVITE. The handler must answer it: set_handler() and respond, or reject().
  virtual void on_incoming_invite(const std::shared_ptr<SipSession>& session, const InviteInfo& info) = 0;
};

// One Contact of a REGISTER, copied out of Sofia's structures.
struct RegisterContact {
  std::string uri;
  std::optional<std::int64_t> expires;   // its expires parameter, seconds
  std::string q;                         // its q parameter as written ("" = none)
  std::string instance;                  // +sip.instance, unquoted ("" = none)
};

// What arrived in a REGISTER (RFC 3261 §10.3).
struct RegisterInfo {
  std::string call_id;
  std::uint32_t cseq = 0;
  std::string aor_user;                  // To URI user
  std::string aor_host;                  // To URI host
  std::optional<std::int64_t> expires;   // the Expires header
  bool wildcard = false;                 // Contact: *
  std::vector<RegisterContact> contacts;
  std::string source_address;            // "ip:port" ("[v6]:port") it came from
  std::string source_ip;                 // the same without the port
  std::string transport;                 // "udp", "tcp"
  std::string user_agent;
  std::vector<std::string> authorizations;  // Authorization header values, "Digest ..."
};

// The response to a REGISTER.
struct RegisterReply {
  int status = 500;
  std::vector<std::string> www_authenticate;  // 401: one header per value
  std::string contacts;                       // 200: the Contact header value ("" = none)
  std::int64_t min_expires = 0;               // 423: Min-Expires
};

class RegisterHandler {
 public:
  virtual ~RegisterHandler() = default;
  // Answers synchronously.
  virtual RegisterReply on_register(const RegisterInfo& info) = 0;
};

struct OutgoingInvite {
  std::string to;        // request and To URI, "sip:202@127.0.0.1:5060"
  std::string from_user; // From: sip:<from_user>@<our address>:<our port>
  std::string display;   // From display name, may be empty (quoted and escaped here)
  // RFC 3325 / RFC 3323, for a caller the PSTN identified: a P-Asserted-
  // Identity of sip:<asserted_user>@<our address> with `display`; with
  // `privacy`, From is anonymous and "Privacy: id" asks the next hop to
  // withhold the identity.
  std::string asserted_user{};
  bool privacy = false;
  std::string sdp;       // our offer
  int max_forwards = 70; // a B2BUA passes on the caller's, less one (loop protection)
  SessionHandler* handler = nullptr;
};

class SipStack {
 public:
  // Starts listening; attaches to the thread-default GLib main context.
  static base::Result<std::unique_ptr<SipStack>> create(const SipStackConfig& config, SipStackHandler& handler);
  ~SipStack();
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  base::Result<std::shared_ptr<SipSession>> invite(const OutgoingInvite& invite);
  // REGISTER requests go to `handler` (null: answered 405 Method Not Allowed).
  void set_register_handler(RegisterHandler* handler);
  // Ends every dialog and shuts nua down; `done` runs on the main loop when finished.
  void shutdown(std::function<void()> done);
  std::size_t session_count() const;
  // True once the shutdown() has completed; only then may the stack be destroyed.
  bool shut_down() const;

  struct Impl;

 private:
  explicit SipStack(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::gateway::sip
