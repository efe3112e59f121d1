#pragma once
// FxsLine: the state machine of one FXS port (an analog phone plugged into the
// gateway), as a telephone exchange line card would run it.
//
//   idle --off hook--> dialtone --digit--> dialing --plan match--> calling
//   calling --answered--> connected;  calling --failed--> disconnected
//   idle --incoming call--> ringing --off hook--> connected
//     (ringing starts with the caller ID sequence of the line's profile:
//     data after the first ring, or alert + data before it, see
//     dsp::CallerIdTiming; with NTT's CAR the phone's off-hook primary
//     response and on-hook after the data belong to the sequence)
//   connected --far end hangs up--> disconnected (the profile's disconnect
//     signal: line reversal, an open loop (CPC), busy tone; or, with
//     re-origination, fresh dial tone)
//   disconnected --howler_after--> the howler (receiver off hook tone) for
//     howler_duration, then silence until on hook
//   dialtone/dialing/disconnected --flash--> fresh dial tone
//   any --on hook--> idle (hanging up the call if there is one)
// Pulse (rotary) digits count as dialed digits like DTMF ones; hook flashes
// are counted, and in a call do nothing more (that belongs to calling features).
// With polarity_on_answer the line reverses when the far end answers the
// phone's call and returns to normal when the call ends (payphones and call
// meters use it).
//
// Tones (dial, ringback, busy, reorder) and the ring cadence come from the
// line's dsp::ToneProfile. Timers (first digit, interdigit, no answer, ring
// cadence) use the injected base::Timers, so unit tests drive it with a
// ManualClock and no sleeping.
// The line asks for call actions through FxsLine::Owner; it performs line
// actions (ring voltage, tones) through FxsLine::Io.
// Thread: control.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call/line_side.hpp"
#include "route/dial_plan.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::gateway::call {

enum class LineState { idle, dialtone, dialing, calling, ringing, connected, disconnected };
std::string_view to_string(LineState state);

struct FxsLineConfig {
  std::size_t index = 0;
  std::string name;
  std::string number;
  const dsp::ToneProfile* profile = nullptr;
  // Overrides the profile's caller ID format (CallerIdFormat::none: no caller ID).
  std::optional<dsp::CallerIdFormat> caller_id_format{};
  base::Millis interdigit_timeout{4000};
  base::Millis first_digit_timeout{15000};
  base::Millis no_answer_timeout{60000};
  // Disconnected (reorder or busy tone) this long, the howler plays, then
  // silence after howler_duration.
  base::Millis howler_after{30000};
  base::Millis howler_duration{60000};
  bool polarity_on_answer = false;
  // After the far end hangs up, fresh dial tone instead of busy tone.
  bool reoriginate = false;
};

class FxsLine final : public LineSide {
 public:
  class Io {
   public:
    virtual ~Io() = default;
    virtual void set_ring(std::size_t line, bool on) = 0;
    virtual void play_tone(std::size_t line, dsp::ToneKind tone) = 0;
    virtual void set_polarity(std::size_t line, bool reversed) = 0;
    // Plays line signal audio (caller ID data, an alert tone) once, in place of
    // anything else; an empty vector stops the signal playing.
    virtual void play_signal(std::size_t line, std::vector<int16_t> samples) = 0;
    // Removes the phone's battery for `ms` (an open switching interval).
    virtual void disconnect_battery(std::size_t line, int ms) = 0;
  };
  class Owner {
   public:
    virtual ~Owner() = default;
    // The phone dialed `digits`, which the plan maps to `target`.
    virtual void place_call(std::size_t line, const std::string& target, const std::string& digits) = 0;
    // The phone answered the incoming call that is ringing it.
    virtual void answer_call(std::size_t line) = 0;
    // The phone hung up, or the incoming call was not answered in time
    // (`no_answer`): end the line's call.
    virtual void end_call(std::size_t line, bool no_answer) = 0;
  };

  FxsLine(FxsLineConfig config, base::Timers& timers, Io& io, Owner& owner);
  ~FxsLine();
  FxsLine(const FxsLine&) = delete;
  FxsLine& operator=(const FxsLine&) = delete;

  LineState state() const { return state_; }
  const FxsLineConfig& config() const { return config_; }
  const std::string& dialed() const { return digits_; }
  void set_dial_plan(const route::DialPlan* plan) { plan_ = plan; }

  // Events from the phone (driver and DSP).
  void on_off_hook();
  void on_on_hook();
  void on_digit(char digit);  // DTMF or pulse
  void on_flash();
  int flashes() const { return flashes_; }

  // Events from the line's call.
  // Whether an incoming call could ring the line now (idle and on hook).
  bool can_ring() const override { return state_ == LineState::idle && !off_hook_; }
  // An incoming call: returns false if the line cannot take it (busy).
  // `caller` is sent as caller ID per the line's profile.
  bool offer_incoming_call(const dsp::CallerId& caller = {}, const std::string& dial = {}) override;
  // The caller ID timing this line uses (the profile's, format overridden).
  dsp::CallerIdTiming caller_id_timing() const;
  // Our outgoing call is ringing at the far end. With early media the far end
  // sends the ringback itself, so no local tone is played.
  void on_remote_ringing(bool early_media) override;
  void on_remote_answered() override;
  // The call ended or failed from the far end (BYE, CANCEL, error response).
  void on_remote_ended(EndCause cause) override;

 private:
  void enter(LineState next);
  void start_dialtone();
  // Disconnected with `tone` (none: silence); the howler follows.
  void disconnect_with(dsp::ToneKind tone);
  void howl();
  void set_reversed(bool reversed);
  // The caller ID sequence before or within the ringing.
  enum class CidPhase { none, first_ring, alert, data, car, primary_response, release };
  void start_caller_id(const dsp::CallerId& caller);
  void cid_after(int ms, void (FxsLine::*next)());
  void cid_alert_tone();
  void cid_rp_as_end();
  void cid_send_data();
  void cid_done();
  void car_step();
  void car_timeout();
  void primary_response_data();
  void primary_response_timeout();
  void abort_caller_id();
  void start_ring_cadence(std::size_t from_step = 0);
  void ring_step();
  void stop_ringing();
  void collect(char digit);
  void try_dial(bool terminated);
  void fail_dialing();
  void cancel_timers();

  FxsLineConfig config_;
  base::Timers& timers_;
  Io& io_;
  Owner& owner_;
  const route::DialPlan* plan_ = nullptr;
  LineState state_ = LineState::idle;
  bool off_hook_ = false;
  std::string digits_;
  base::TimerId digit_timer_ = 0;
  base::TimerId no_answer_timer_ = 0;
  base::TimerId ring_timer_ = 0;
  base::TimerId disconnect_timer_ = 0;  // disconnected: the howler, or re-origination
  bool reversed_ = false;  // polarity reversed for the call (answer), not for caller ID
  int flashes_ = 0;
  std::size_t ring_step_ = 0;
  CidPhase cid_ = CidPhase::none;
  dsp::CallerIdTiming cid_timing_;
  std::vector<int16_t> cid_data_;  // the rendered message, until it is sent
  int cid_data_ms_ = 0;
  bool cid_reversed_ = false;      // the sequence reversed the line
  base::TimerId cid_timer_ = 0;
  base::TimerId car_timer_ = 0;    // the CAR give-up timer
  std::size_t car_step_ = 0;
};

}  // namespace sipline::gateway::call
