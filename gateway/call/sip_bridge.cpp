#include "call/sip_bridge.hpp"

#include <algorithm>
#include <cctype>

#include "media/call_quality.hpp"

namespace sipline::gateway::call {

using base::LogContext;
using base::Sub;
namespace log = base::log;

int caller_status(int status) {
  if (status < 100 || status == 408) return 408;
  if (status < 400 || status == 401 || status == 407) return 480;
  if (status == 503) return 500;
  return status < 700 ? status : 500;
}

std::string caller_user(const std::string& from_uri) {
  std::string_view v = from_uri;
  bool sip = false;
  for (std::string_view scheme : {"sip:", "sips:", "tel:"}) {
    if (v.size() >= scheme.size() && std::equal(scheme.begin(), scheme.end(), v.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      v.remove_prefix(scheme.size());
      sip = scheme != "tel:";
      break;
    }
  }
  // A sip: URI without '@' has no user part; a tel: URI is all number.
  const std::size_t at = v.find('@');
  if (sip && at == std::string_view::npos) return "anonymous";
  v = v.substr(0, std::min(at, v.find(';')));
  const bool plain = !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.' || c == '_';
  });
  return plain ? std::string(v) : "anonymous";
}

SipBridge::SipBridge(Deps deps, std::shared_ptr<sip::SipSession> caller, sip::InviteInfo info)
    : deps_(std::move(deps)),
      a_(std::move(caller)),
      info_(std::move(info)),
      fork_(deps_.timers, base::Millis(deps_.config.routing.target_timeout_ms),
            [this](const sip::OutgoingInvite& invite) { return deps_.sip.invite(invite); }, leg_b_) {}

SipBridge::~SipBridge() {
  // Every end path destroys the bridge: one quality line with both legs
  // (a_ = the caller's leg, b_ = the callee's).
  if (a_media_ || state_ == State::connected) {
    LogContext ctx(context());
    log::info(Sub::call, "event=call_quality {} {}",
              media::quality_log_fields(stream_a_.id ? deps_.media.stats(stream_a_.id) : media::StreamStats{}, "a_"),
              media::quality_log_fields(stream_b_.id ? deps_.media.stats(stream_b_.id) : media::StreamStats{}, "b_"));
  }
  if (a_) a_->set_handler(nullptr);
  if (b_) b_->set_handler(nullptr);
  if (stream_a_.id) deps_.media.close_stream(stream_a_.id);
  if (stream_b_.id) deps_.media.close_stream(stream_b_.id);
}

base::LogContextFields SipBridge::context() const { return {.call_id = info_.call_id, .line = "sip"}; }

bool SipBridge::start(Fork::Groups targets) {
  LogContext ctx(context());
  if (info_.max_forwards <= 0) {
    log::info(Sub::call, "event=bridge_refused reason=max_forwards");
    a_->reject(483);
    return false;
  }
  if (!info_.body.empty() && info_.content_type != "application/sdp") {
    a_->reject(415);
    return false;
  }
  auto streams = deps_.media.open_relay();
  if (!streams) {
    log::error(Sub::call, "event=no_media_port error=\"{}\"", streams.error().message());
    a_->reject(503);
    return false;
  }
  stream_a_ = streams->first;
  stream_b_ = streams->second;
  sdp_a_ = std::make_unique<LegSdp>(deps_.config, deps_.sdp_session_ids++, stream_a_.local_port);
  sdp_b_ = std::make_unique<LegSdp>(deps_.config, deps_.sdp_session_ids++, stream_b_.local_port);
  if (info_.body.empty()) {
    a_late_offer_ = true;
    answer_a_ = sdp_a_->offer();
  } else {
    auto answer = sdp_a_->answer(info_.body);
    if (!answer) {
      log::info(Sub::call, "event=sdp_not_acceptable error=\"{}\"", answer.error().message());
      a_->reject(488);
      return false;
    }
    answer_a_ = std::move(*answer);
  }
  a_->set_handler(&leg_a_);
  const bool sent = fork_.start(std::move(targets), [this] {
    sdp_b_->reset();  // nothing of a failed group carries over
    return sip::OutgoingInvite{.to = {},
                               .from_user = caller_user(info_.from_uri),
                               .display = info_.from_display,
                               .sdp = sdp_b_->offer(),
                               .max_forwards = info_.max_forwards - 1,
                               .handler = nullptr};
  });
  if (!sent) {
    a_->set_handler(nullptr);
    a_->reject(caller_status(fork_.failed_status()));
    return false;
  }
  return true;
}

bool SipBridge::connect(const media::StreamInfo& stream, const LegSdp& sdp) {
  if (!sdp.negotiated()) return false;
  if (auto r = deps_.media.connect(stream.id, sdp.negotiated()->stream); !r) {
    log::error(Sub::call, "event=media_connect_failed error=\"{}\"", r.error().message());
    return false;
  }
  return true;
}

void SipBridge::b_progress(int status, const std::string& sdp) {
  LogContext ctx(context());
  bool early_media = false;
  if (!sdp.empty()) {
    if (auto r = sdp_b_->accept(sdp); r && connect(stream_b_, *sdp_b_)) {
      early_media = true;
    } else if (!r) {
      log::warn(Sub::call, "event=bad_early_sdp error=\"{}\"", r.error().message());
    }
  }
  log::info(Sub::call, "event=progress status={} early_media={}", status, early_media);
  // Early media reaches A only when A sent an offer: an unreliable 183 cannot
  // carry our offer (that would need 100rel).
  if (early_media && !a_late_offer_) {
    a_media_ = connect(stream_a_, *sdp_a_);
    a_->progress(answer_a_);
    state_ = State::early;
    return;
  }
  if (state_ == State::trying) {
    a_->ringing();
    state_ = State::ringing;
  }
}

void SipBridge::b_answered(const std::string& sdp) {
  LogContext ctx(context());
  b_ = fork_.winner();
  bool usable = sdp.empty() ? sdp_b_->negotiated().has_value() : static_cast<bool>(sdp_b_->accept(sdp));
  if (usable) usable = connect(stream_b_, *sdp_b_);
  if (!usable) {
    log::warn(Sub::call, "event=answer_not_usable target={}", fork_.target());
    end(502);
    return;
  }
  if (!a_late_offer_ && !a_media_) a_media_ = connect(stream_a_, *sdp_a_);
  a_->answer(answer_a_);
  state_ = State::connected;
  log::info(Sub::call, "event=bridged target={} codec_a={} codec_b={} srtp_a={} srtp_b={}", fork_.target(), sdp_a_->codec(),
            sdp_b_->codec(), sdp_a_->srtp(), sdp_b_->srtp());
}

// Every target failed: Fork reports the best status.
void SipBridge::b_failed(int status, const std::string& phrase) {
  LogContext ctx(context());
  log::info(Sub::call, "event=call_failed status={} phrase=\"{}\" target={}", status, phrase, fork_.target());
  end(caller_status(status));
}

void SipBridge::a_ack(const std::string& sdp) {
  if (!a_late_offer_) return;
  a_late_offer_ = false;
  LogContext ctx(context());
  if (sdp.empty() || !sdp_a_->accept(sdp) || !(a_media_ = connect(stream_a_, *sdp_a_))) {
    log::warn(Sub::call, "event=bad_late_answer");
    end(0);
  }
}

void SipBridge::remote_hangup(bool caller) {
  LogContext ctx(context());
  log::info(Sub::call, "event=remote_hangup leg={} state={}", caller ? "caller" : "callee", state_name());
  // A CANCEL from A gets its 487 from the stack; B's end before an answer
  // (its dialog died) is a failure like any other.
  end(caller ? 0 : 480);
}

void SipBridge::reinvite(bool caller, const std::string& sdp) {
  LogContext ctx(context());
  sip::SipSession& session = caller ? *a_ : *b_;
  LegSdp& leg = caller ? *sdp_a_ : *sdp_b_;
  // A re-INVITE without SDP asks for our offer; its answer would come in the
  // ACK, which only leg A reports: refuse it on leg B.
  if (sdp.empty()) {
    if (!caller) {
      session.reject_reinvite(488);
      return;
    }
    a_late_offer_ = true;
    answer_a_ = leg.offer();
    session.answer_reinvite(answer_a_);
    return;
  }
  auto answer = leg.answer(sdp);
  if (!answer) {
    log::info(Sub::call, "event=reinvite_refused error=\"{}\"", answer.error().message());
    session.reject_reinvite(488);
    return;
  }
  connect(caller ? stream_a_ : stream_b_, leg);
  if (caller) answer_a_ = *answer;
  log::info(Sub::call, "event=reinvite_answered leg={} codec={} srtp={}", caller ? "caller" : "callee", leg.codec(),
            leg.srtp());
  session.answer_reinvite(*answer);
}

void SipBridge::on_rtp_timeout() {
  LogContext ctx(context());
  log::warn(Sub::call, "event=rtp_timeout");
  end(0);
}

void SipBridge::end(int status_for_caller) {
  fork_.hangup();
  if (a_->confirmed() || status_for_caller == 0) {
    a_->hangup();
  } else {
    a_->reject(status_for_caller);
  }
  deps_.done(this);  // destroys *this
}

void SipBridge::hangup() {
  fork_.hangup();
  a_->hangup();
}

std::string SipBridge::state_name() const {
  switch (state_) {
    case State::trying: return "trying";
    case State::ringing: return "ringing";
    case State::early: return "early";
    case State::connected: return "connected";
  }
  return "?";
}

CallStatus SipBridge::status() const {
  CallStatus s;
  s.call_id = info_.call_id;
  s.inbound = true;
  s.line = "sip";
  s.remote = fork_.target();
  s.state = state_name();
  const std::string a = sdp_a_ ? sdp_a_->codec() : "", b = sdp_b_ ? sdp_b_->codec() : "";
  s.codec = a == b ? a : a + "/" + b;
  const std::string sa = sdp_a_ ? sdp_a_->srtp() : "off", sb = sdp_b_ ? sdp_b_->srtp() : "off";
  s.srtp = sa == sb ? sa : sa + "/" + sb;
  if (stream_a_.id) s.rtp = deps_.media.stats(stream_a_.id);
  if (stream_b_.id) s.callee_rtp = deps_.media.stats(stream_b_.id);
  return s;
}

}  // namespace sipline::gateway::call
