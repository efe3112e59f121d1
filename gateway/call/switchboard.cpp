#include "call/switchboard.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <random>

#include <glib.h>

#include "auth/digest.hpp"
#include "call/caller_identity.hpp"
#include "call/leg_sdp.hpp"
#include "media/call_quality.hpp"
#include "registrar/registrar.hpp"
#include "sipline/base/log.hpp"

namespace sipline::gateway::call {

using base::LogContext;
using base::Sub;
namespace log = base::log;

namespace {

// Appends a route target: to the last group when it is rung together with
// the one before it (a user's contacts of equal q), else as a group of its own.
void add_target(Fork::Groups& groups, const std::string& uri, bool parallel) {
  if (!parallel || groups.empty()) groups.emplace_back();
  groups.back().push_back(uri);
}

}  // namespace

// One call between a line and a SIP dialog.
class Switchboard::Call final : public sip::SessionHandler {
 public:
  enum class State { ringing, early, connected };

  Call(Switchboard& board, std::size_t line, bool inbound)
      : board_(board),
        line_(line),
        inbound_(inbound),
        serial_(board.next_call_serial_++) {}
  ~Call() override {
    // Every end path (either side hangs up, failure, RTP timeout, shutdown)
    // destroys the call: the quality summary is written here, once.
    if (connected_media_ && stream_.id) {
      LogContext ctx(context());
      log::info(Sub::call, "event=call_quality {}", media::quality_log_fields(board_.media_.stats(stream_.id)));
    }
    if (route_) board_.router_.cancel(route_);
    if (session_) session_->set_handler(nullptr);
    if (stream_.id) board_.media_.close_stream(stream_.id);
  }

  std::uint64_t serial() const { return serial_; }
  void set_route(route::RouteId id) { route_ = id; }
  void hold(CallLimits::Ticket ticket) { ticket_ = std::move(ticket); }

  // --- sip::SessionHandler (outgoing calls) ---
  void on_progress(int status, const std::string& sdp) override {
    LogContext ctx(context());
    bool early_media = false;
    // Any 18x with SDP carries the (preliminary) answer: early media.
    if (!sdp.empty()) early_media = apply_answer(sdp);
    if (early_media) state_ = State::early;
    log::info(Sub::call, "event=progress status={} early_media={}", status, early_media);
    line().on_remote_ringing(early_media);
  }

  void on_answered(const std::string& sdp) override {
    session_ = fork_->winner();
    remote_ = fork_->target();
    LogContext ctx(context());
    if (!sdp.empty()) {
      if (!apply_answer(sdp)) {
        // The far end answered with SDP we cannot use: there is no call to have.
        session_->hangup();
        end_from_far_end(EndCause::unreachable);
        return;
      }
    } else if (!connected_media_) {
      log::warn(Sub::call, "event=answer_without_sdp");
      session_->hangup();
      end_from_far_end(EndCause::unreachable);
      return;
    }
    state_ = State::connected;
    log::info(Sub::call, "event=connected codec={} srtp={}", codec_, srtp_name());
    line().on_remote_answered();
  }

  // Every target failed (the Fork reports the best status).
  void on_failed(int status, const std::string& phrase) override {
    LogContext ctx(context());
    log::info(Sub::call, "event=call_failed status={} phrase=\"{}\" target={}", status, phrase, fork_->target());
    end_from_far_end(status == 486 || status == 600 ? EndCause::busy : EndCause::unreachable);
  }

  // --- sip::SessionHandler (incoming calls) ---
  void on_ack(const std::string& sdp) override {
    if (!late_offer_) return;
    late_offer_ = false;
    LogContext ctx(context());
    if (sdp.empty() || !apply_answer(sdp)) {
      log::warn(Sub::call, "event=bad_late_answer");
      session_->hangup();
      end_from_far_end(EndCause::unreachable);
    }
  }

  // RFC 3264 §8: a new offer in the dialog (hold, resume, address change).
  // The answer keeps our o= session id and increments its version.
  void on_reinvite(const std::string& sdp) override {
    LogContext ctx(context());
    if (sdp.empty()) {
      late_offer_ = true;
      local_sdp_ = sdp_->offer();
      session_->answer_reinvite(local_sdp_);
      return;
    }
    auto answer = sdp_->answer(sdp);
    if (!answer) {
      log::info(Sub::call, "event=reinvite_refused error=\"{}\"", answer.error().message());
      session_->reject_reinvite(488);
      return;
    }
    late_offer_ = false;
    local_sdp_ = *answer;
    connect_media();
    log::info(Sub::call, "event=reinvite_answered codec={} direction={} srtp={}", codec_,
              static_cast<int>(sdp_->negotiated()->stream.direction), srtp_name());
    session_->answer_reinvite(local_sdp_);
  }

  void on_remote_hangup() override {
    LogContext ctx(context());
    log::info(Sub::call, "event=remote_hangup state={}", state_name());
    end_from_far_end(EndCause::normal);
  }

  // --- driven by the switchboard ---
  // Incoming: negotiates the offer (if any) and rings the line. Returns false
  // (after answering the INVITE with an error) when the call cannot proceed.
  bool start_incoming(const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info,
                      const std::string& dial) {
    session_ = session;
    remote_ = info.from_uri;
    LogContext ctx(context());
    if (!info.body.empty() && info.content_type != "application/sdp") {
      session_->reject(415);
      return false;
    }
    if (!line().can_ring()) {
      session_->reject(486);
      return false;
    }
    auto stream = board_.media_.open_stream(line_);
    if (!stream) {
      log::error(Sub::call, "event=no_media_port error=\"{}\"", stream.error().message());
      session_->reject(503);
      return false;
    }
    open_sdp(*stream);
    if (info.body.empty()) {
      late_offer_ = true;
      local_sdp_ = sdp_->offer();
    } else {
      auto answer = sdp_->answer(info.body);
      if (!answer) {
        log::info(Sub::call, "event=sdp_not_acceptable error=\"{}\"", answer.error().message());
        session_->reject(488);
        return false;
      }
      local_sdp_ = *answer;
    }
    session_->set_handler(this);
    const std::time_t t = std::time(nullptr);
    std::tm now{};
    localtime_r(&t, &now);
    state_ = State::ringing;
    if (!line().offer_incoming_call(caller_id_from_invite(info, board_.is_trusted(info.source_address), now), dial)) {
      session_->reject(486);
      return false;
    }
    if (state_ == State::ringing) session_->ringing();  // an exchange line sent 183 already
    log::info(Sub::call, "event=ringing from={}", remote_);
    return true;
  }

  // Outgoing: calls the targets (a group at once, the groups in order; see
  // Fork). False when not one INVITE could be sent.
  bool start_outgoing(Fork::Groups targets) {
    route_ = 0;
    auto stream = board_.media_.open_stream(line_);
    if (!stream) {
      log::error(Sub::call, "event=no_media_port error=\"{}\"", stream.error().message());
      return false;
    }
    open_sdp(*stream);
    fork_ = std::make_unique<Fork>(
        board_.timers_, base::Millis(board_.config_.routing.target_timeout_ms),
        [this](const sip::OutgoingInvite& invite) { return board_.sip_->invite(invite); }, *this);
    return fork_->start(std::move(targets), [this] {
      // Nothing of a failed group (early media, its codec) carries over.
      sdp_->reset();
      connected_media_ = false;
      codec_.clear();
      state_ = State::ringing;
      return invite_for(sdp_->offer());
    });
  }

  // A PSTN caller on an FXO line: the INVITE carries who the exchange said is calling.
  void set_identity(const dsp::CallerId& caller) { identity_ = caller; }

  sip::OutgoingInvite invite_for(const std::string& offer) {
    const auto& port = board_.config_.lines.ports[line_];
    sip::OutgoingInvite invite{.to = {}, .from_user = port.number, .display = port.name, .sdp = offer,
                               .handler = this};
    if (!identity_) return invite;
    const dsp::CallerId& id = *identity_;
    if (id.number_absence == dsp::Absence::withheld) {
      invite.privacy = true;
      invite.display.clear();
      return invite;
    }
    // Unknown number: the line's own, so the target can still call back the line.
    invite.from_user = id.number.empty() ? port.number : id.number;
    invite.display = id.name.empty() ? (id.number.empty() ? std::string("Unavailable") : std::string()) : id.name;
    if (!id.number.empty()) invite.asserted_user = id.number;
    return invite;
  }

  // An exchange line was seized for this incoming call: the caller hears it
  // (dial tone, the digits, ringback or busy) as early media.
  void early_media() {
    LogContext ctx(context());
    if (!late_offer_ && sdp_->negotiated()) connect_media();
    session_->progress(local_sdp_);
    state_ = State::early;
    log::info(Sub::call, "event=early_media codec={}", codec_.empty() ? "pending" : codec_);
  }

  // The line could not complete the incoming call.
  void fail(int status) {
    LogContext ctx(context());
    session_->reject(status);
  }

  // The phone answered the incoming call.
  void answer() {
    LogContext ctx(context());
    session_->answer(local_sdp_);
    if (sdp_->negotiated()) connect_media();
    state_ = State::connected;
    log::info(Sub::call, "event=answered codec={} srtp={}", codec_.empty() ? "pending" : codec_, srtp_name());
  }

  void hangup(bool no_answer) {
    if (!session_ && !fork_) return;  // still routing: the destructor cancels the route
    LogContext ctx(context());
    log::info(Sub::call, "event=local_hangup no_answer={}", no_answer);
    if (fork_) {
      fork_->hangup();  // CANCEL every branch, or BYE the one that answered
    } else if (no_answer) {
      session_->reject(480);
    } else {
      session_->hangup();
    }
  }

  void rtp_timeout() {
    LogContext ctx(context());
    log::warn(Sub::call, "event=rtp_timeout");
    if (fork_) {
      fork_->hangup();
    } else {
      session_->hangup();
    }
    end_from_far_end(EndCause::unreachable);
  }

  CallStatus status() const {
    CallStatus s;
    s.call_id = call_id();
    s.inbound = inbound_;
    s.line = board_.config_.lines.ports[line_].name;
    s.remote = fork_ && !session_ ? fork_->target() : remote_;
    s.state = session_ || fork_ || inbound_ ? state_name() : "routing";
    s.codec = codec_;
    s.srtp = srtp_name();
    if (stream_.id) s.rtp = board_.media_.stats(stream_.id);
    return s;
  }

  media::StreamId stream() const { return stream_.id; }

 private:
  base::LogContextFields context() const { return {.call_id = call_id(), .line = board_.config_.lines.ports[line_].name}; }
  // Outgoing before the answer: the first ringing branch's.
  std::string call_id() const { return session_ ? session_->call_id() : fork_ ? fork_->call_id() : ""; }
  LineSide& line() { return *board_.lines_[line_]; }

  // The call's media stream and the offer/answer state of its dialog.
  void open_sdp(const media::StreamInfo& stream) {
    stream_ = stream;
    sdp_ = std::make_unique<LegSdp>(board_.config_, board_.sdp_session_id_++, stream_.local_port);
  }

  std::string srtp_name() const { return sdp_ ? sdp_->srtp() : "off"; }

  std::string state_name() const {
    switch (state_) {
      case State::ringing: return "ringing";
      case State::early: return "early";
      case State::connected: return "connected";
    }
    return "?";
  }

  // Reads the far end's answer to our offer; connects media. False if unusable.
  bool apply_answer(const std::string& sdp) {
    if (auto r = sdp_->accept(sdp); !r) {
      log::warn(Sub::call, "event=answer_not_acceptable error=\"{}\"", r.error().message());
      return false;
    }
    connect_media();
    return true;
  }

  void connect_media() {
    codec_ = sdp_->codec();
    if (auto r = board_.media_.connect(stream_.id, sdp_->negotiated()->stream); !r) {
      log::error(Sub::call, "event=media_connect_failed error=\"{}\"", r.error().message());
      return;
    }
    connected_media_ = true;
  }

  // The far end ended or failed the call: tell the line, then drop this call.
  void end_from_far_end(EndCause cause) {
    const std::size_t line = line_;
    board_.lines_[line]->on_remote_ended(cause);
    board_.finish_call(line);  // destroys *this: nothing may follow
  }

  Switchboard& board_;
  std::size_t line_;
  bool inbound_;
  std::uint64_t serial_;
  route::RouteId route_ = 0;               // outgoing, while the router works
  std::unique_ptr<Fork> fork_;             // outgoing: the INVITEs to the targets
  State state_ = State::ringing;
  std::shared_ptr<sip::SipSession> session_;  // the dialog (outgoing: once answered)
  media::StreamInfo stream_;
  std::unique_ptr<LegSdp> sdp_;            // offer/answer state, once the stream is open
  std::string local_sdp_;                  // incoming: our answer (or late offer)
  std::optional<dsp::CallerId> identity_;  // outgoing from an FXO line: the PSTN caller
  bool late_offer_ = false;
  bool connected_media_ = false;
  std::string remote_;
  std::string codec_;
  CallLimits::Ticket ticket_;              // a limited caller's slot, for the call's life
};

// A SIP call waiting for the router (ENUM can take a moment). It catches a
// CANCEL meanwhile; nothing has rung yet.
class Switchboard::InboundRoute final : public sip::SessionHandler {
 public:
  InboundRoute(Switchboard& board, std::shared_ptr<sip::SipSession> session, sip::InviteInfo info,
               CallLimits::Ticket ticket)
      : board_(board), session_(std::move(session)), info_(std::move(info)), ticket_(std::move(ticket)) {
    session_->set_handler(this);
  }
  ~InboundRoute() override {
    if (route_) board_.router_.cancel(route_);
    if (session_) session_->set_handler(nullptr);
  }
  void set_route(route::RouteId id) { route_ = id; }
  std::shared_ptr<sip::SipSession>& session() { return session_; }
  const sip::InviteInfo& info() const { return info_; }
  CallLimits::Ticket take_ticket() { return std::move(ticket_); }
  void routed() { route_ = 0; }

  void on_progress(int, const std::string&) override {}
  void on_answered(const std::string&) override {}
  void on_failed(int, const std::string&) override {}
  void on_ack(const std::string&) override {}
  void on_reinvite(const std::string&) override {}
  void on_remote_hangup() override {
    LogContext ctx({.call_id = info_.call_id, .line = {}});
    log::info(Sub::route, "event=cancelled_while_routing");
    board_.inbound_.erase(this);  // destroys *this
  }

 private:
  Switchboard& board_;
  std::shared_ptr<sip::SipSession> session_;
  sip::InviteInfo info_;
  CallLimits::Ticket ticket_;
  route::RouteId route_ = 0;
};

Switchboard::Switchboard(const config::Config& config, base::Timers& timers, const base::Clock& clock,
                         drivers::LineDriver& driver, media::MediaEngine& media, route::Router& router)
    : config_(config),
      timers_(timers),
      clock_(clock),
      driver_(driver),
      media_(media),
      router_(router),
      limits_({.max_concurrent = config.auth.max_calls_per_user,
               .max_per_minute = config.auth.calls_per_minute_per_user,
               .max_tracked = 10000},
              clock),
      source_limits_({.max_concurrent = config.auth.max_calls_per_source,
                      .max_per_minute = config.auth.calls_per_minute_per_source,
                      .max_tracked = 10000},
                     clock),
      sdp_session_id_(g_get_real_time() / 1000000) {
  const auto& lc = config.lines;
  fxs_.assign(lc.ports.size(), nullptr);
  fxo_.assign(lc.ports.size(), nullptr);
  for (std::size_t i = 0; i < lc.ports.size(); ++i) {
    const auto& port = lc.ports[i];
    if (port.kind == config::PortKind::fxo) {
      const bool ntt = !port.caller_id || *port.caller_id == dsp::CallerIdFormat::jclip;
      auto line = std::make_unique<FxoLine>(FxoLineConfig{.index = i,
                                                          .name = port.name,
                                                          .number = port.number,
                                                          .profile = lc.profile(port.country),
                                                          .rings_before_forward = port.rings_before_forward,
                                                          .ntt_primary_response = ntt,
                                                          .ring_timeout = base::Millis(0),
                                                          .answer_on = port.answer_on == "dialed" ? AnswerOn::dialed
                                                                       : port.answer_on == "voice" ? AnswerOn::voice
                                                                                                   : AnswerOn::polarity,
                                                          .dial_tone_timeout = base::Millis(3000),
                                                          .pulse_dialing = port.dial_mode == "pulse",
                                                          .silence_timeout = base::Millis(port.silence_timeout_s * 1000),
                                                          .disa_pin = port.disa_pin,
                                                          .disa_allow = port.disa_allow,
                                                          .disa_digit_timeout = base::Millis(10000),
                                                          .interdigit_timeout = base::Millis(lc.interdigit_timeout_ms)},
                                            clock, timers_, *this, *this);
      line->set_dial_plan(&router_.dial_plan());
      fxo_[i] = line.get();
      lines_.push_back(std::move(line));
      continue;
    }
    auto line = std::make_unique<FxsLine>(
        FxsLineConfig{.index = i,
                      .name = port.name,
                      .number = port.number,
                      .profile = lc.profile(port.country),
                      .caller_id_format = port.caller_id,
                      .interdigit_timeout = base::Millis(lc.interdigit_timeout_ms),
                      .first_digit_timeout = base::Millis(lc.first_digit_timeout_ms),
                      .no_answer_timeout = base::Millis(config.sip.no_answer_timeout_s * 1000),
                      .howler_after = base::Millis(lc.howler_after_ms),
                      .howler_duration = base::Millis(lc.howler_ms),
                      .polarity_on_answer = port.polarity_on_answer,
                      .reoriginate = port.reoriginate},
        timers_, *this, *this);
    line->set_dial_plan(&router_.dial_plan());
    fxs_[i] = line.get();
    lines_.push_back(std::move(line));
  }
  calls_.resize(lines_.size());
  for (const auto& text : config.auth.trusted)
    if (auto range = route::Cidr::parse(text)) trusted_.push_back(*range);  // the loader checked them
}

Switchboard::~Switchboard() = default;

void Switchboard::set_dial_plan(route::DialPlan plan) {
  router_.set_dial_plan(std::move(plan));
  log::info(Sub::route, "event=dial_plan_loaded rules={}", router_.dial_plan().rules().size());
}

void Switchboard::finish_call(std::size_t line) { calls_[line].reset(); }

// Authorisation comes first: a caller neither trusted by its address nor
// authenticated gets the same 401 whatever number it asked for, and nothing
// is looked up, rung or dialed for it. The caller's user ("" when trusted by
// address), or nullopt when the INVITE has been answered here.
std::optional<std::string> Switchboard::authorise(const std::shared_ptr<sip::SipSession>& session,
                                                  const sip::InviteInfo& info) {
  if (is_trusted(info.source_address)) return std::string();
  if (!registrar_ || registrar_->banned(info.source_address)) {
    session->reject(403);
    return std::nullopt;
  }
  // Credentials in another scheme than Digest are ignored (RFC 4475 §3.3.7):
  // the caller gets a Digest challenge, not a 400, and has failed nothing.
  const std::vector<std::string> credentials = registrar::digest_authorizations(info.authorizations);
  auto who = credentials.empty()
                 ? base::Result<std::string>(base::fail(auth::DigestError::malformed, "no credentials"))
                 : registrar_->authenticate("INVITE", credentials, info.source_address);
  if (!who) {
    log::info(Sub::sip, "event=invite_auth_failed source={} reason=\"{}\"", info.source_address,
              who.error().message());
    if (registrar_->banned(info.source_address)) {
      session->reject(403);  // this failure was one too many
    } else if (!credentials.empty() && who.error().is(auth::DigestError::malformed)) {
      session->reject(400);
    } else {
      session->challenge(registrar_->challenges(who.error().is(auth::DigestError::stale_nonce)));
    }
    return std::nullopt;
  }
  log::info(Sub::sip, "event=invite_authenticated user={} source={}", *who, info.source_address);
  return std::move(*who);
}

void Switchboard::on_incoming_invite(const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info) {
  // One of our own lines calling out over an FXO line (routed and
  // authorised when it dialed): the token says which line and what to dial.
  if (info.request_uri.find(";sipline-hop=") != std::string::npos) {
    LogContext ctx({.call_id = info.call_id, .line = {}});
    if (auto hop = take_hop(info.request_uri)) {
      log::info(Sub::call, "event=line_hop line={} dial={}", line_name(hop->line), hop->dial);
      ring_line(hop->line, session, info, {}, hop->dial);
    } else {
      log::warn(Sub::call, "event=line_hop_refused source={} why=\"unknown or used token\"", info.source_address);
      session->reject(403);
    }
    return;
  }
  const auto admitted = authorise(session, info);
  if (!admitted) return;
  const std::string& user = *admitted;
  // Authenticated users (callers from outside the trusted ranges) are held to
  // the per-user call limits, and every caller to its source address's; the
  // ticket (both slots) travels with the call.
  CallLimits::Ticket ticket;
  if (!user.empty()) {
    auto slot = limits_.admit("user:" + user);
    if (!slot) {
      log::warn(Sub::call, "event=call_limited user={} source={} reason=\"{}\"", user, info.source_address,
                slot.error().message());
      session->reject(503);
      return;
    }
    ticket = std::move(*slot);
  }
  auto source_slot = source_limits_.admit("source:" + info.source_address);
  if (!source_slot) {
    log::warn(Sub::call, "event=call_limited user={} source={} reason=\"{}\"", user, info.source_address,
              source_slot.error().message());
    session->reject(503);
    return;
  }
  ticket.also(std::move(*source_slot));
  const std::string uri = info.request_uri.empty() ? "sip:" + info.request_user + "@invalid" : info.request_uri;
  auto called = route::called_from_request_uri(uri);
  // A [[user]]'s name (sip:alice@gateway) reaches the contacts it registered.
  if (!called || !router_.local_line(*called)) {
    if (auto contacts = registered_contacts(info.request_user)) {
      LogContext ctx({.call_id = info.call_id, .line = {}});
      log::info(Sub::route, "event=routed_to_user user={} contacts={}", info.request_user, Fork::count(*contacts));
      if (contacts->empty()) {
        session->reject(480);
      } else {
        connect_sip_caller(session, info, std::move(*contacts), std::move(ticket));
      }
      return;
    }
  }
  if (!called) {
    log::info(Sub::route, "event=bad_request_uri uri={} error=\"{}\"", uri, called.error().message());
    session->reject(uri.starts_with("sip:") || uri.starts_with("sips:") || uri.starts_with("tel:") ? 404 : 416);
    return;
  }
  if (auto line = router_.local_line(*called)) {
    ring_line(*line, session, info, std::move(ticket));
    return;
  }
  // Not one of our lines: the dial plan decides (and whether this caller may).
  auto pending = std::make_unique<InboundRoute>(*this, session, info, std::move(ticket));
  InboundRoute* raw = pending.get();
  inbound_.emplace(raw, std::move(pending));
  const route::Caller caller{.line = false, .port = {}, .address = info.source_address, .user = user,
                             .permissions = permissions_of(user)};
  log::info(Sub::route, "event=route number={} source={}", called->dialed, info.source_address);
  raw->set_route(router_.route(*called, caller, [this, raw](const route::RouteResult& r) { on_inbound_routed(raw, r); }));
}

// A SIP caller's toll classes: its [[user]]'s, or the trusted addresses' when
// it did not authenticate (authorise() let it in as trusted).
route::Permissions Switchboard::permissions_of(const std::string& user) const {
  if (user.empty()) return config_.auth.trusted_permissions;
  for (const auto& u : config_.users) {
    if (u.name == user) return u.permissions;
  }
  return {};
}

void Switchboard::on_inbound_routed(InboundRoute* key, const route::RouteResult& r) {
  auto it = inbound_.find(key);
  if (it == inbound_.end()) return;
  std::unique_ptr<InboundRoute> pending = std::move(it->second);
  inbound_.erase(it);
  pending->routed();
  std::shared_ptr<sip::SipSession> session = pending->session();
  const sip::InviteInfo info = pending->info();
  CallLimits::Ticket ticket = pending->take_ticket();
  pending.reset();  // releases the session's handler
  LogContext ctx({.call_id = info.call_id, .line = {}});

  Fork::Groups contacts;
  for (const auto& t : r.targets) {
    switch (t.kind) {
      case route::RouteTarget::Kind::line:
        if (contacts.empty()) {
          log::info(Sub::route, "event=routed_to_line via={} line={}", t.step, config_.lines.ports[t.line].name);
          ring_line(t.line, session, info, std::move(ticket), t.dial);
          return;
        }
        add_target(contacts, t.uri, t.parallel);
        break;
      case route::RouteTarget::Kind::sip:
        add_target(contacts, t.uri, t.parallel);
        break;
      case route::RouteTarget::Kind::reject:
        if (!contacts.empty()) break;
        log::info(Sub::route, "event=rejected status={} rule={}", t.status, r.rule);
        session->reject(t.status);
        return;
    }
  }
  if (contacts.empty()) {
    log::info(Sub::route, "event=no_route status={} reason=\"{}\"", r.status, r.reason);
    session->reject(r.status);
    return;
  }
  connect_sip_caller(session, info, std::move(contacts), std::move(ticket));
}

void Switchboard::connect_sip_caller(const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info,
                                     Fork::Groups contacts, CallLimits::Ticket ticket) {
  if (config_.routing.sip_callers == config::SipCallerMode::redirect) {
    session->redirect(contacts);
    return;
  }
  auto bridge = std::make_unique<SipBridge>(
      SipBridge::Deps{.config = config_,
                      .sip = *sip_,
                      .media = media_,
                      .timers = timers_,
                      .sdp_session_ids = sdp_session_id_,
                      .done = [this](SipBridge* b) { bridges_.erase(b); }},
      session, info);
  SipBridge* raw = bridge.get();
  raw->hold(std::move(ticket));
  bridges_.emplace(raw, std::move(bridge));
  if (!raw->start(std::move(contacts))) bridges_.erase(raw);
}

std::optional<Fork::Groups> Switchboard::registered_contacts(const std::string& user) const {
  if (!registrar_ || user.empty() || !registrar_->is_user(user)) return std::nullopt;
  return registrar_->contacts(user);
}

void Switchboard::ring_line(std::size_t line, const std::shared_ptr<sip::SipSession>& session,
                            const sip::InviteInfo& info, CallLimits::Ticket ticket, const std::string& dial) {
  if (calls_[line]) {
    session->reject(486);
    return;
  }
  auto call = std::make_unique<Call>(*this, line, true);
  Call* raw = call.get();
  raw->hold(std::move(ticket));
  calls_[line] = std::move(call);
  if (!raw->start_incoming(session, info, dial)) calls_[line].reset();
}

void Switchboard::place_call(std::size_t line, const std::string& /*target*/, const std::string& digits) {
  LogContext ctx({.call_id = {}, .line = line_name(line)});
  if (calls_[line] || !sip_) {
    lines_[line]->on_remote_ended(EndCause::unreachable);
    return;
  }
  log::info(Sub::call, "event=place_call digits={}", digits);
  auto call = std::make_unique<Call>(*this, line, false);
  const std::uint64_t serial = call->serial();
  Call* raw = call.get();
  calls_[line] = std::move(call);
  // DISA: the call goes on as the PSTN caller (whose caller ID was checked
  // against disa_allow, or who keyed the PIN).
  if (fxo_[line] && fxo_[line]->has_caller_id()) raw->set_identity(fxo_[line]->caller());
  const route::Caller caller{.line = true, .port = line_name(line), .address = {}, .user = {},
                             .permissions = config_.lines.ports[line].permissions};
  raw->set_route(router_.route({.dialed = digits, .e164 = std::nullopt}, caller,
                               [this, line, serial](const route::RouteResult& r) { on_outbound_routed(line, serial, r); }));
}

void Switchboard::on_outbound_routed(std::size_t line, std::uint64_t serial, const route::RouteResult& r) {
  if (!calls_[line] || calls_[line]->serial() != serial) return;  // the phone hung up meanwhile
  LogContext ctx({.call_id = {}, .line = line_name(line)});
  Fork::Groups targets;
  for (const auto& t : r.targets) {
    if (t.kind == route::RouteTarget::Kind::reject) break;
    if (t.uri.empty()) {
      // An exchange line (fxo: step): through SIP to ourselves, with a token.
      if (t.line < fxo_.size() && fxo_[t.line] && t.line != line) targets.push_back({issue_hop(t.line, t.dial)});
      continue;
    }
    add_target(targets, t.uri, t.parallel);  // a line target's URI points at this gateway: it rings that line
  }
  log::info(Sub::route, "event=routed rule={} targets={} status={}", r.rule, Fork::count(targets), r.status);
  if (targets.empty() || !calls_[line]->start_outgoing(std::move(targets))) {
    calls_[line].reset();
    lines_[line]->on_remote_ended(EndCause::unreachable);
  }
}

std::string Switchboard::issue_hop(std::size_t line, const std::string& dial) {
  // Expired tokens (their INVITE never came) go first; Timer B bounds the wait.
  const auto now = clock_.now();
  std::erase_if(hops_, [&](const auto& entry) { return entry.second.expires <= now; });
  static thread_local std::random_device random;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    std::array<char, 9> part{};
    std::snprintf(part.data(), part.size(), "%08x", random());
    token += part.data();
  }
  hops_[token] = LineHop{.line = line, .dial = dial, .expires = now + base::Millis(32000)};
  const std::string own = router_.line_uri(line);  // sip:<number>@host:port
  return "sip:" + dial + own.substr(own.find('@')) + ";sipline-hop=" + token;
}

std::optional<Switchboard::LineHop> Switchboard::take_hop(const std::string& request_uri) {
  const std::string key = ";sipline-hop=";
  const auto at = request_uri.find(key);
  if (at == std::string::npos) return std::nullopt;
  const auto from = at + key.size();
  const std::string token = request_uri.substr(from, request_uri.find_first_of(";>?", from) - from);
  const auto it = hops_.find(token);
  if (it == hops_.end()) return std::nullopt;
  LineHop hop = std::move(it->second);
  hops_.erase(it);
  if (hop.expires <= clock_.now()) return std::nullopt;
  return hop;
}

void Switchboard::answer_call(std::size_t line) {
  if (calls_[line]) calls_[line]->answer();
}

void Switchboard::end_call(std::size_t line, bool no_answer) {
  if (!calls_[line]) return;
  // An FXO line's call is our outgoing SIP call: CANCEL or BYE, never a 480.
  calls_[line]->hangup(no_answer && fxs_[line] != nullptr);
  calls_[line].reset();
}

void Switchboard::set_hook(std::size_t line, bool off_hook) { driver_.port(line).set_hook(off_hook); }

void Switchboard::dial(std::size_t line, const std::string& digits) { media_.dial_line(line, digits); }

void Switchboard::pulse_dial(std::size_t line, const std::string& digits) { driver_.port(line).pulse_dial(digits); }

void Switchboard::disconnect_battery(std::size_t line, int ms) { driver_.port(line).disconnect_battery(ms); }

void Switchboard::early_media(std::size_t line) {
  if (calls_[line]) calls_[line]->early_media();
}

void Switchboard::fail_call(std::size_t line, int status) {
  if (!calls_[line]) return;
  calls_[line]->fail(status);
  calls_[line].reset();
}

// A PSTN call on an FXO line goes to the port's one target, as the caller
// the exchange named (or as "unavailable" without caller ID).
void Switchboard::forward_call(std::size_t line, const dsp::CallerId& caller) {
  LogContext ctx({.call_id = {}, .line = line_name(line)});
  const auto& port = config_.lines.ports[line];
  if (calls_[line] || !sip_) {
    lines_[line]->on_remote_ended(EndCause::unreachable);
    return;
  }
  Fork::Groups targets;
  if (port.forward_to.rfind("user:", 0) == 0) {
    const std::string user = port.forward_to.substr(5);
    if (auto contacts = registered_contacts(user)) targets = std::move(*contacts);
    if (targets.empty()) log::info(Sub::call, "event=fxo_forward_offline user={}", user);
  } else if (!port.forward_to.empty()) {
    targets.push_back({port.forward_to});
  } else {
    // A DISA line with no forward target (its PIN locked out): let it ring.
    log::info(Sub::call, "event=fxo_no_forward_target");
  }
  auto call = std::make_unique<Call>(*this, line, false);
  Call* raw = call.get();
  calls_[line] = std::move(call);
  raw->set_identity(caller);
  if (targets.empty() || !raw->start_outgoing(std::move(targets))) {
    calls_[line].reset();
    lines_[line]->on_remote_ended(EndCause::unreachable);
  }
}

bool Switchboard::is_trusted(const std::string& address) const {
  return std::any_of(trusted_.begin(), trusted_.end(), [&](const route::Cidr& c) { return c.contains(address); });
}

void Switchboard::set_ring(std::size_t line, bool on) { driver_.port(line).set_ring(on); }

void Switchboard::play_tone(std::size_t line, dsp::ToneKind tone) { media_.play_tone(line, tone); }

void Switchboard::set_polarity(std::size_t line, bool reversed) { driver_.port(line).set_polarity(reversed); }

void Switchboard::play_signal(std::size_t line, std::vector<int16_t> samples) {
  media_.play_signal(line, std::move(samples));
}

void Switchboard::on_line_event(const drivers::LineEvent& event) {
  if (event.port >= lines_.size()) return;
  LogContext ctx({.call_id = {}, .line = line_name(event.port)});
  if (FxoLine* fxo = fxo_[event.port]) {
    switch (event.type) {
      case drivers::LineEventType::ring_start:
        log::debug(Sub::driver, "event=ring_start");
        fxo->on_ring_start();
        break;
      case drivers::LineEventType::ring_stop:
        log::debug(Sub::driver, "event=ring_stop");
        fxo->on_ring_stop();
        break;
      case drivers::LineEventType::polarity_reversal:
        log::info(Sub::driver, "event=polarity_reversal");
        fxo->on_polarity_reversal();
        break;
      case drivers::LineEventType::loop_drop:
        log::info(Sub::driver, "event=loop_drop");
        fxo->on_loop_drop();
        break;
      case drivers::LineEventType::dial_complete:
        log::debug(Sub::driver, "event=dial_complete");
        fxo->on_dial_complete();
        break;
      default:
        log::debug(Sub::driver, "event=line_event type={}", static_cast<int>(event.type));
        break;
    }
    return;
  }
  FxsLine& line = *fxs_[event.port];
  switch (event.type) {
    case drivers::LineEventType::off_hook:
      log::info(Sub::driver, "event=off_hook");
      line.on_off_hook();
      break;
    case drivers::LineEventType::on_hook:
      log::info(Sub::driver, "event=on_hook");
      line.on_on_hook();
      break;
    case drivers::LineEventType::pulse_digit:
      log::debug(Sub::driver, "event=pulse_digit digit={}", event.digit);
      line.on_digit(event.digit);
      break;
    case drivers::LineEventType::flash:
      log::info(Sub::driver, "event=flash");
      line.on_flash();
      break;
    default:
      log::debug(Sub::driver, "event=line_event type={}", static_cast<int>(event.type));
      break;
  }
}

void Switchboard::on_media_event(const media::MediaEvent& event) {
  if (event.line >= lines_.size()) return;
  LogContext ctx({.call_id = {}, .line = line_name(event.line)});
  switch (event.type) {
    case media::MediaEventType::line_digit_begin:
      log::debug(Sub::dsp, "event=digit digit={}", event.digit);
      if (fxs_[event.line]) fxs_[event.line]->on_digit(event.digit);
      if (fxo_[event.line]) fxo_[event.line]->on_digit(event.digit);
      break;
    case media::MediaEventType::line_caller_id:
      if (fxo_[event.line]) fxo_[event.line]->on_caller_id(event.caller_id.message());
      break;
    case media::MediaEventType::line_progress:
      if (fxo_[event.line]) fxo_[event.line]->on_progress(static_cast<dsp::ProgressTone>(event.digit));
      break;
    case media::MediaEventType::line_voice:
      if (fxo_[event.line]) fxo_[event.line]->on_voice();
      break;
    case media::MediaEventType::line_quiet:
      if (fxo_[event.line]) fxo_[event.line]->on_quiet();
      break;
    case media::MediaEventType::line_sound:
      if (fxo_[event.line]) fxo_[event.line]->on_sound();
      break;
    case media::MediaEventType::remote_dtmf:
      log::info(Sub::media, "event=rfc4733_digit digit={}", event.digit);
      break;
    case media::MediaEventType::echo_bypassed:
      log::info(Sub::dsp, "event=echo_canceller_off reason=answer_tone");
      break;
    case media::MediaEventType::echo_restored:
      log::info(Sub::dsp, "event=echo_canceller_on reason=data_call_ended");
      break;
    case media::MediaEventType::rtp_timeout:
      if (calls_[event.line] && calls_[event.line]->stream() == event.stream) calls_[event.line]->rtp_timeout();
      break;
    default:
      break;
  }
}

void Switchboard::hangup_all() {
  auto inbound = std::move(inbound_);
  inbound_.clear();
  for (auto& [key, pending] : inbound) pending->session()->reject(503);
  auto bridges = std::move(bridges_);
  bridges_.clear();
  for (auto& [key, bridge] : bridges) bridge->hangup();
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    if (calls_[i]) end_call(i, false);
    if (fxo_[i]) {
      driver_.port(i).set_hook(false);
      continue;
    }
    driver_.port(i).set_ring(false);
    media_.play_tone(i, dsp::ToneKind::none);
  }
}

std::vector<CallStatus> Switchboard::calls() const {
  std::vector<CallStatus> out;
  for (const auto& c : calls_)
    if (c) out.push_back(c->status());
  for (const auto& [key, bridge] : bridges_) out.push_back(bridge->status());
  return out;
}

std::size_t Switchboard::call_count() const {
  std::size_t n = 0;
  for (const auto& c : calls_) n += c ? 1 : 0;
  return n + bridges_.size();
}

std::vector<LineStatus> Switchboard::lines() const {
  std::vector<LineStatus> out;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const auto& port = config_.lines.ports[i];
    const std::string state(fxo_[i] ? to_string(fxo_[i]->state()) : to_string(fxs_[i]->state()));
    out.push_back({.index = i + 1, .name = port.name, .kind = fxo_[i] ? "fxo" : "fxs", .number = port.number,
                   .state = state, .flashes = fxs_[i] ? fxs_[i]->flashes() : 0, .levels = media_.line_levels(i)});
  }
  return out;
}

}  // namespace sipline::gateway::call
