#pragma once
// Switchboard: joins SIP dialogs to analog lines. It owns the FxsLine state
// machines (one per FXS port) and the calls between a line and a SIP dialog,
// routes incoming INVITEs to the line whose number they name, places the calls
// the phones dial, and drives ring voltage and tones for the lines.
//
//   SIP (SipStack) <-> Call (one per busy line) <-> FxsLine <-> driver + media
//   SIP caller <-> SipBridge <-> SIP target (calls routed from SIP to SIP)
//
// Inputs: SipStack callbacks, driver line events, media events (digits, RTP
// timeouts), the control socket. Outputs: SIP responses and requests, media
// engine commands, driver ring/polarity.
// Thread: control.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "call/call_limits.hpp"
#include "call/call_status.hpp"
#include "call/fxo_line.hpp"
#include "call/fxs_line.hpp"
#include "call/sip_bridge.hpp"
#include "call/fork.hpp"
#include "config/config.hpp"
#include "media/media_engine.hpp"
#include "route/router.hpp"
#include "sip/sdp.hpp"
#include "sip/sip_stack.hpp"
#include "sipline/drivers/line_driver.hpp"

namespace sipline::gateway::registrar {
class Registrar;
}

namespace sipline::gateway::call {

struct LineStatus {
  std::size_t index = 0;   // 1-based for people
  std::string name;
  std::string kind;
  std::string number;
  std::string state;
  int flashes = 0;         // FXS: hook flashes seen
  media::LineLevels levels{};  // the media engine's meters
};

class Switchboard final : public sip::SipStackHandler,
                          public FxsLine::Io,
                          public FxsLine::Owner,
                          public FxoLine::Io,
                          public FxoLine::Owner {
 public:
  Switchboard(const config::Config& config, base::Timers& timers, const base::Clock& clock,
              drivers::LineDriver& driver, media::MediaEngine& media, route::Router& router);
  ~Switchboard() override;

  void set_sip(sip::SipStack* sip) { sip_ = sip; }
  // Digest authentication of SIP callers outside auth.trusted (null: such
  // callers get 403).
  void set_registrar(registrar::Registrar* registrar) { registrar_ = registrar; }
  // SIGHUP: a new dial plan for the phones' digits (the config object is replaced).
  void set_dial_plan(route::DialPlan plan);

  void on_line_event(const drivers::LineEvent& event);
  void on_media_event(const media::MediaEvent& event);

  // Ends every call (BYE, CANCEL or a final response) and silences the lines.
  void hangup_all();

  std::vector<CallStatus> calls() const;
  std::vector<LineStatus> lines() const;
  std::size_t call_count() const;

  // sip::SipStackHandler
  void on_incoming_invite(const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info) override;
  // FxsLine::Io
  void set_ring(std::size_t line, bool on) override;
  // FxsLine::Io and FxoLine::Io
  void play_tone(std::size_t line, dsp::ToneKind tone) override;
  void set_polarity(std::size_t line, bool reversed) override;
  void play_signal(std::size_t line, std::vector<int16_t> samples) override;
  void disconnect_battery(std::size_t line, int ms) override;
  // FxsLine::Owner and FxoLine::Owner (DISA)
  void place_call(std::size_t line, const std::string& target, const std::string& digits) override;
  void answer_call(std::size_t line) override;
  // FxsLine::Owner and FxoLine::Owner
  void end_call(std::size_t line, bool no_answer) override;
  // FxoLine::Io
  void set_hook(std::size_t line, bool off_hook) override;
  void dial(std::size_t line, const std::string& digits) override;
  void pulse_dial(std::size_t line, const std::string& digits) override;
  // FxoLine::Owner (and answer_call, end_call above)
  void forward_call(std::size_t line, const dsp::CallerId& caller) override;
  void early_media(std::size_t line) override;
  void fail_call(std::size_t line, int status) override;

  class Call;
  class InboundRoute;

 private:
  friend class Call;
  friend class InboundRoute;
  void finish_call(std::size_t line);
  const std::string& line_name(std::size_t line) const { return config_.lines.ports[line].name; }
  bool is_trusted(const std::string& address) const;
  std::optional<std::string> authorise(const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info);
  // `dial`: for an FXO line, the digits to dial on it.
  void ring_line(std::size_t line, const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info,
                 CallLimits::Ticket ticket, const std::string& dial = {});
  route::Permissions permissions_of(const std::string& user) const;
  void on_inbound_routed(InboundRoute* key, const route::RouteResult& result);
  // A SIP caller sent on to SIP `contacts`: bridged, or redirected (302) in redirect mode.
  void connect_sip_caller(const std::shared_ptr<sip::SipSession>& session, const sip::InviteInfo& info,
                          Fork::Groups contacts, CallLimits::Ticket ticket);
  // The registered contacts of a configured [[user]] named `user` (maybe
  // none); nullopt when no such user is configured.
  std::optional<Fork::Groups> registered_contacts(const std::string& user) const;
  void on_outbound_routed(std::size_t line, std::uint64_t serial, const route::RouteResult& result);
  // A line's call out over an FXO line loops through SIP to this gateway,
  // like a phone-to-phone call. The loop-back URI carries a one-time random
  // token (`;sipline-hop=`), issued here for one FXO line and its digits and
  // taken when the INVITE arrives, so no outside caller can name an FXO line.
  struct LineHop {
    std::size_t line = 0;
    std::string dial;
    base::TimePoint expires{};
  };
  std::string issue_hop(std::size_t line, const std::string& dial);
  std::optional<LineHop> take_hop(const std::string& request_uri);

  const config::Config& config_;
  base::Timers& timers_;
  const base::Clock& clock_;
  drivers::LineDriver& driver_;
  media::MediaEngine& media_;
  route::Router& router_;
  CallLimits limits_;                  // per user; before the calls: their tickets release into it
  CallLimits source_limits_;           // per source address, every SIP caller
  sip::SipStack* sip_ = nullptr;
  registrar::Registrar* registrar_ = nullptr;
  std::vector<route::Cidr> trusted_;   // auth.trusted
  std::vector<std::unique_ptr<LineSide>> lines_;  // by line (driver port) index
  std::vector<FxsLine*> fxs_;                      // the same lines by kind; null for the other kind
  std::vector<FxoLine*> fxo_;
  std::vector<std::unique_ptr<Call>> calls_;   // indexed by line; null when the line has no call
  std::map<InboundRoute*, std::unique_ptr<InboundRoute>> inbound_;  // SIP calls being routed
  std::map<SipBridge*, std::unique_ptr<SipBridge>> bridges_;         // SIP calls bridged to SIP
  std::uint64_t sdp_session_id_;
  std::uint64_t next_call_serial_ = 1;
  std::map<std::string, LineHop> hops_;  // by token
};

}  // namespace sipline::gateway::call
