#pragma once
// SipBridge: a SIP caller joined to a SIP destination through sipline (a
// back-to-back user agent), for the calls the dial plan routes from SIP to
// SIP (ENUM targets, trunks, sip: steps) when routing.sip_callers = "bridge".
//
//   caller --INVITE--> [leg A | SipBridge | leg B] --INVITE--> target 1, 2, ...
//
// Leg B is a dialog of its own (new Call-ID, our own SDP offer, the caller's
// Max-Forwards less one, the caller's user and display name in From). The two
// legs' audio meets in a MediaEngine relay, so each leg negotiates its own
// codec and DTMF form. Leg A hears 180 when B rings, 183 with our SDP when B
// sends early media, and 200 with our SDP when B answers. Leg B is forked as
// a phone's call is (Fork: a user's contacts of equal q at once, the groups
// and the dial plan's steps in order, the next one on 408, 480, 5xx, or no
// 18x or final response within routing.target_timeout_ms); when every target
// fails, A gets the best status, mapped where B's status means nothing to A
// (see caller_status). CANCEL or BYE on one leg ends the
// other; so does an RTP timeout on either. A re-INVITE is answered by the leg
// that receives it (the relay transcodes, the other leg need not change), so
// hold is not passed on to the other side.
// Thread: control.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "call/call_limits.hpp"
#include "call/call_status.hpp"
#include "call/leg_sdp.hpp"
#include "call/fork.hpp"
#include "config/config.hpp"
#include "media/media_engine.hpp"
#include "sip/sip_stack.hpp"
#include "sipline/base/log.hpp"

namespace sipline::gateway::call {

// The status leg A gets when leg B's last attempt ended with `status`: B's
// redirects and challenges are not A's to follow (480); no response is 408;
// 503 becomes 500, so that A does not take sipline itself for unavailable
// (as a proxy does, RFC 3261 §16.7 step 6).
int caller_status(int status);

// A caller's user part fit for our From header ("anonymous" when it is not a
// plain number or token).
std::string caller_user(const std::string& from_uri);

class SipBridge {
 public:
  struct Deps {
    const config::Config& config;
    sip::SipStack& sip;
    media::MediaEngine& media;
    base::Timers& timers;
    std::uint64_t& sdp_session_ids;        // the switchboard's o= id counter
    std::function<void(SipBridge*)> done;  // destroys the bridge: nothing may follow its call
  };

  SipBridge(Deps deps, std::shared_ptr<sip::SipSession> caller, sip::InviteInfo info);
  ~SipBridge();
  SipBridge(const SipBridge&) = delete;
  SipBridge& operator=(const SipBridge&) = delete;

  // Checks A's offer and calls the first target. False when the call ended
  // at once (A has had its final response); the owner then drops the bridge
  // without waiting for `done`.
  bool start(Fork::Groups targets);
  // Ends both legs (shutdown); `done` is not called.
  void hangup();
  // The media engine saw no RTP on one of our streams for rtp_timeout.
  void on_rtp_timeout();
  // The caller's call-limit slot, released with the bridge.
  void hold(CallLimits::Ticket ticket) { ticket_ = std::move(ticket); }
  bool owns_stream(media::StreamId id) const { return id != 0 && (id == stream_a_.id || id == stream_b_.id); }
  CallStatus status() const;

 private:
  enum class State { trying, ringing, early, connected };
  // Forwards one leg's SIP events to the bridge.
  class Leg final : public sip::SessionHandler {
   public:
    Leg(SipBridge& bridge, bool caller) : bridge_(bridge), caller_(caller) {}
    void on_progress(int status, const std::string& sdp) override { bridge_.b_progress(status, sdp); }
    void on_answered(const std::string& sdp) override { bridge_.b_answered(sdp); }
    void on_failed(int status, const std::string& phrase) override { bridge_.b_failed(status, phrase); }
    void on_ack(const std::string& sdp) override { bridge_.a_ack(sdp); }
    void on_remote_hangup() override { bridge_.remote_hangup(caller_); }
    void on_reinvite(const std::string& sdp) override { bridge_.reinvite(caller_, sdp); }

   private:
    SipBridge& bridge_;
    bool caller_;
  };

  void b_progress(int status, const std::string& sdp);
  void b_answered(const std::string& sdp);
  void b_failed(int status, const std::string& phrase);
  void a_ack(const std::string& sdp);
  void remote_hangup(bool caller);
  void reinvite(bool caller, const std::string& sdp);
  // Connects a leg's relay stream with what its offer/answer agreed.
  bool connect(const media::StreamInfo& stream, const LegSdp& sdp);
  // Ends the call: A gets `caller_status` if it has not been answered, else a
  // BYE; B a CANCEL or BYE. Then `done`.
  void end(int caller_status);
  base::LogContextFields context() const;
  std::string state_name() const;

  Deps deps_;
  std::shared_ptr<sip::SipSession> a_;
  std::shared_ptr<sip::SipSession> b_;   // leg B once answered
  sip::InviteInfo info_;
  Leg leg_a_{*this, true};
  Leg leg_b_{*this, false};
  media::StreamInfo stream_a_;
  media::StreamInfo stream_b_;
  std::unique_ptr<LegSdp> sdp_a_;
  std::unique_ptr<LegSdp> sdp_b_;
  std::string answer_a_;          // our SDP for A (answer, or our offer when A sent none)
  bool a_late_offer_ = false;     // A's INVITE had no SDP: ours went in the 200, A's answer comes in the ACK
  bool a_media_ = false;          // A's stream is connected
  Fork fork_;                             // leg B's INVITEs
  State state_ = State::trying;
  CallLimits::Ticket ticket_;
};

}  // namespace sipline::gateway::call
