#pragma once
// FxoLine: one FXO port (a line to the telephone exchange), incoming calls.
//
//   idle --ring or caller ID--> incoming --caller ID, or ring N--> forwarding
//   forwarding --SIP answers--> connected (the port goes off hook)
//   forwarding --no ring for ring_timeout (the caller gave up)--> idle (CANCEL)
//   forwarding --SIP refuses--> refused (let it ring out) --ring_timeout--> idle
//   connected --loop drop, or a polarity reversal where the profile disconnects
//               that way--> idle (BYE); --SIP BYE--> idle (on hook)
//   incoming --NTT CAR (0.5 s rings)--> primary_response (off hook for the
//               data) --caller ID or 4 s--> incoming (on hook)
//
// Outgoing (a SIP caller routed by an fxo: step):
//   idle --offer--> seizing (off hook; the caller gets 183 and hears the
//   line) --dial tone--> dialing (DTMF) --digits out--> proceeding
//   proceeding --answer (polarity reversal; or per answer_on)--> connected (200)
//   seizing/proceeding --no dial tone / busy / congestion / SIT--> idle (503/486/503/404)
//   connected --loop drop, polarity back, busy or congestion tone--> idle (BYE)
//
// DISA (direct inward system access), only where configured:
//   incoming --caller ID in disa_allow--> disa_dialing (off hook, dial tone)
//   incoming --a PIN is set--> disa_pin (off hook, stutter tone) --PIN #-->
//     disa_dialing --digits match the plan--> disa_calling (a SIP call
//     routed like a phone's, with the port's permissions) --answer--> connected
//   disa_pin --wrong PIN 3 times, or no digit in 10 s--> idle (on hook);
//     three such calls in a row lock the PIN out for 15 minutes (the
//     callers are treated as if there were no PIN; the allow-list still works)
// Secure by default: without disa_pin or disa_allow a PSTN caller is only
// ever forwarded to the port's one configured target, never given a second
// dial tone; a caller neither listed nor asked for a PIN is forwarded.
//
// Disconnect supervision on a connected call also counts silence: with
// silence_timeout, a line quiet that long (no speech, no tone) is hung up.
// Caller ID is decoded by the line's media worker (any format, or one) and
// arrives as on_caller_id(); the line waits for it until the ring that
// starts rings_before_forward, so every format (before the first ring,
// between the first two) has its chance.
// Thread: control. Timers through base::Timers (a ManualClock in tests).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "call/line_side.hpp"
#include "route/dial_plan.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/dsp/call_progress.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::gateway::call {

enum class FxoState {
  idle,
  incoming,
  primary_response,
  forwarding,
  refused,
  seizing,
  dialing,
  proceeding,
  connected,
  disa_pin,
  disa_dialing,
  disa_calling,
};

// How an outgoing call over the exchange line is known to be answered.
enum class AnswerOn {
  polarity,  // the exchange reverses the line (answer supervision)
  dialed,    // at once when the digits are out (lines without supervision)
  voice,     // audio that is no call-progress tone (speech) after dialing
};
std::string_view to_string(FxoState state);

struct FxoLineConfig {
  std::size_t index = 0;
  std::string name;
  std::string number;
  const dsp::ToneProfile* profile = nullptr;
  int rings_before_forward = 2;      // forward at the start of this ring if no caller ID came
  bool ntt_primary_response = true;  // answer NTT's CAR to receive JCLIP (detection auto or jclip)
  base::Millis ring_timeout{0};      // no ring for this long: the caller gave up (0 = from the profile)
  AnswerOn answer_on = AnswerOn::polarity;
  base::Millis dial_tone_timeout{3000};  // seized, no dial tone this long: the call fails (503)
  bool pulse_dialing = false;            // dial by loop disconnect pulses instead of DTMF
  base::Millis silence_timeout{0};       // connected and silent this long: hang up (0 = never)
  // DISA: off unless either is set (see above).
  std::string disa_pin{};
  std::vector<std::string> disa_allow{};
  base::Millis disa_digit_timeout{10000};   // PIN or first number digit
  base::Millis interdigit_timeout{4000};
};

class FxoLine final : public LineSide {
 public:
  class Io {
   public:
    virtual ~Io() = default;
    virtual void set_hook(std::size_t line, bool off_hook) = 0;
    // DTMF digits into the line (100 ms each, 100 ms apart).
    virtual void dial(std::size_t line, const std::string& digits) = 0;
    // Digits by loop disconnect pulses; on_dial_complete() follows.
    virtual void pulse_dial(std::size_t line, const std::string& digits) = 0;
    // A tone into the line (DISA's dial tone, ringback, ...).
    virtual void play_tone(std::size_t line, dsp::ToneKind tone) = 0;
  };
  class Owner {
   public:
    virtual ~Owner() = default;
    // A PSTN call: forward it to the port's target as `caller`.
    virtual void forward_call(std::size_t line, const dsp::CallerId& caller) = 0;
    // The PSTN side ended the line's call (hung up, or gave up ringing).
    virtual void end_call(std::size_t line, bool no_answer) = 0;
    // Outgoing: the line is seized; the SIP caller hears it from now on (183).
    virtual void early_media(std::size_t line) = 0;
    // Outgoing: the called party answered (200).
    virtual void answer_call(std::size_t line) = 0;
    // Outgoing: the call failed before an answer, with this SIP status.
    virtual void fail_call(std::size_t line, int status) = 0;
    // DISA: the PSTN caller dialed `digits`, which the plan maps to `target`.
    virtual void place_call(std::size_t line, const std::string& target, const std::string& digits) = 0;
  };

  FxoLine(FxoLineConfig config, const base::Clock& clock, base::Timers& timers, Io& io, Owner& owner);
  ~FxoLine() override;
  FxoLine(const FxoLine&) = delete;
  FxoLine& operator=(const FxoLine&) = delete;

  FxoState state() const { return state_; }
  const FxoLineConfig& config() const { return config_; }
  int rings() const { return rings_; }
  const dsp::CallerId& caller() const { return caller_; }
  bool has_caller_id() const { return has_caller_id_; }
  void set_dial_plan(const route::DialPlan* plan) { plan_ = plan; }
  bool disa_enabled() const { return !config_.disa_pin.empty() || !config_.disa_allow.empty(); }

  // Events from the line (driver and DSP).
  void on_ring_start();
  void on_ring_stop();
  void on_polarity_reversal();
  void on_loop_drop();
  void on_caller_id(const dsp::CallerIdMessage& message);

  void on_progress(dsp::ProgressTone tone);
  void on_voice();
  // Pulse dialing has finished.
  void on_dial_complete();
  // DTMF heard on the line (DISA).
  void on_digit(char digit);
  // The line went quiet (no audio for a second), or has sound again.
  void on_quiet();
  void on_sound();

  // LineSide: a SIP call to be carried over the exchange line, dialing `dial`.
  bool can_ring() const override { return state_ == FxoState::idle && !ringing_; }
  bool offer_incoming_call(const dsp::CallerId& caller, const std::string& dial) override;
  void on_remote_ringing(bool early_media) override;
  void on_remote_answered() override;
  void on_remote_ended(EndCause cause) override;

 private:
  void enter(FxoState next);
  void begin_incoming();
  void forward();
  void restart_ring_timer();
  void ring_timed_out();
  void hang_up_line();
  void end_primary_response();
  void cancel_timers();
  void start_dialing();
  void dialed();
  void answered();
  void fail(int status, std::string_view why);
  void disconnect(std::string_view signal);
  // DISA.
  bool start_disa();
  void disa_answer(FxoState next);
  void disa_prompt();
  void disa_collect(char digit);
  void disa_try_dial(bool terminated);
  void disa_restart_digit_timer(base::Millis timeout);
  void disa_give_up(std::string_view why);
  void arm_silence();
  bool in_disa() const;

  FxoLineConfig config_;
  const base::Clock& clock_;
  base::Timers& timers_;
  Io& io_;
  Owner& owner_;
  FxoState state_ = FxoState::idle;
  bool off_hook_ = false;
  int rings_ = 0;
  bool ringing_ = false;
  base::TimePoint edge_at_{};        // the last ring edge
  int last_on_ms_ = 0, last_off_ms_ = 0;
  bool car_answered_ = false;
  dsp::CallerId caller_;
  bool has_caller_id_ = false;
  base::TimerId ring_timer_ = 0;
  base::TimerId primary_timer_ = 0;
  base::TimerId out_timer_ = 0;      // outgoing: dial tone wait, then the end of dialing
  bool outgoing_ = false;
  std::string dial_;
  const route::DialPlan* plan_ = nullptr;
  std::string disa_digits_;
  int disa_failures_ = 0;             // wrong PINs in this call
  int disa_failed_calls_ = 0;         // calls in a row that ended on wrong PINs
  base::TimePoint disa_locked_until_{};
  base::TimerId disa_timer_ = 0;
  base::TimerId silence_timer_ = 0;
  bool quiet_ = false;
};

}  // namespace sipline::gateway::call
