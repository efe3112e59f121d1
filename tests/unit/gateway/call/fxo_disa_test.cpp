// FxoLine: DISA (a PSTN caller given our dial tone), pulse dialing out and
// silence supervision. Every Io and Owner call is recorded in order, so each
// test states exactly what the line did.
#include "call/fxo_line.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::call {
namespace {

using base::Millis;
using dsp::ToneKind;
using Log = std::vector<std::string>;

std::string tone_name(ToneKind t) {
  switch (t) {
    case ToneKind::none: return "none";
    case ToneKind::dial: return "dial";
    case ToneKind::ringback: return "ringback";
    case ToneKind::busy: return "busy";
    case ToneKind::congestion: return "congestion";
    case ToneKind::stutter_dial: return "stutter";
    default: return "other";
  }
}

// Records every Io and Owner call as one line of text, in order.
struct Recorder : FxoLine::Io, FxoLine::Owner {
  Log log;
  dsp::CallerId forwarded;
  void set_hook(std::size_t, bool off_hook) override { log.push_back(off_hook ? "off hook" : "on hook"); }
  void dial(std::size_t, const std::string& digits) override { log.push_back("dial " + digits); }
  void pulse_dial(std::size_t, const std::string& digits) override { log.push_back("pulse " + digits); }
  void play_tone(std::size_t, ToneKind t) override { log.push_back("tone " + tone_name(t)); }
  void forward_call(std::size_t, const dsp::CallerId& caller) override {
    forwarded = caller;
    log.push_back("forward");
  }
  void end_call(std::size_t, bool no_answer) override { log.push_back(no_answer ? "cancel" : "hangup"); }
  void early_media(std::size_t) override { log.push_back("early"); }
  void answer_call(std::size_t) override { log.push_back("answer"); }
  void fail_call(std::size_t, int status) override { log.push_back("fail " + std::to_string(status)); }
  void place_call(std::size_t, const std::string& target, const std::string& digits) override {
    log.push_back("call " + digits + " " + target);
  }
  // The calls recorded since the last take().
  Log take() {
    Log out;
    out.swap(log);
    return out;
  }
};

constexpr const char* kCaller = "2025550150";
constexpr const char* kCall201 = "call 201 sip:201@127.0.0.1:5070";

struct Options {
  std::string pin{};
  std::vector<std::string> allow{};
  bool pulse = false;
  Millis silence{0};
};

class FxoDisaTest : public ::testing::Test {
 protected:
  FxoDisaTest() {
    auto p = route::DialPlan::create({{"2XX", "sip:$digits@127.0.0.1:5070"}});
    EXPECT_TRUE(p) << p.error().message();
    plan_ = std::move(*p);
  }

  FxoLine make(const Options& o) {
    return FxoLine(FxoLineConfig{.index = 0,
                                 .name = "fxo1",
                                 .number = "5550100",
                                 .profile = dsp::find_tone_profile("US"),
                                 .rings_before_forward = 2,
                                 .ntt_primary_response = false,
                                 .ring_timeout = Millis(0),
                                 .answer_on = AnswerOn::polarity,
                                 .dial_tone_timeout = Millis(3000),
                                 .pulse_dialing = o.pulse,
                                 .silence_timeout = o.silence,
                                 .disa_pin = o.pin,
                                 .disa_allow = o.allow,
                                 .disa_digit_timeout = Millis(10000),
                                 .interdigit_timeout = Millis(4000)},
                   clock_, clock_, rec_, rec_);
  }
  // The first ring, then caller ID in the silence after it (Bell 202).
  void call_with_id(FxoLine& l, const std::string& number) {
    l.on_ring_start();
    clock_.advance(Millis(2000));
    l.on_ring_stop();
    clock_.advance(Millis(500));
    l.on_caller_id({.format = dsp::CallerIdFormat::bell202_mdmf, .id = {.number = number, .name = "ALICE"}});
  }
  void digits(FxoLine& l, const std::string& ds) {
    for (char d : ds) l.on_digit(d);
  }

  base::ManualClock clock_;
  Recorder rec_;
  route::DialPlan plan_;
};

// ---- DISA by the allow list ----

TEST_F(FxoDisaTest, ListedCallerGetsDialToneAndDialsThroughThePlan) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  ASSERT_TRUE(l.disa_enabled());
  call_with_id(l, kCaller);
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  EXPECT_EQ(rec_.take(), (Log{"off hook", "tone dial"}));
  digits(l, "20");
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  l.on_digit('1');
  EXPECT_EQ(l.state(), FxoState::disa_calling);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "tone none", "tone none", kCall201}));
  // Nothing more happens while the call is set up.
  clock_.advance(Millis(60000));
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), FxoState::disa_calling);
}

TEST_F(FxoDisaTest, AllowListMatchesWithOrWithoutPlus) {
  struct {
    std::string allowed, caller;
  } cases[] = {{"+12025550150", "12025550150"},
               {"12025550150", "+12025550150"},
               {"+12025550150", "+12025550150"},
               {"12025550150", "12025550150"}};
  for (const auto& c : cases) {
    rec_ = Recorder{};
    FxoLine l = make({.allow = {"5551111", c.allowed}});
    l.set_dial_plan(&plan_);
    call_with_id(l, c.caller);
    EXPECT_EQ(l.state(), FxoState::disa_dialing) << c.allowed << " " << c.caller;
    digits(l, "201");
    Log log = rec_.take();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.front(), "off hook");
    EXPECT_EQ(log.back(), kCall201) << c.allowed << " " << c.caller;
  }
}

TEST_F(FxoDisaTest, ListedCallerNeedsNoPinEvenWhenOneIsSet) {
  FxoLine l = make({.pin = "1234", .allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  EXPECT_EQ(rec_.take(), (Log{"off hook", "tone dial"}));
}

TEST_F(FxoDisaTest, UnlistedCallerWithoutPinIsForwardedAsBefore) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, "2025559999");
  EXPECT_EQ(l.state(), FxoState::forwarding);
  EXPECT_EQ(rec_.take(), (Log{"forward"}));
  EXPECT_EQ(rec_.forwarded.number, "2025559999");
  digits(l, "201");  // DTMF from a forwarded caller means nothing to the line
  EXPECT_TRUE(rec_.take().empty());
}

TEST_F(FxoDisaTest, WithoutDisaConfigEveryCallerIsForwarded) {
  FxoLine l = make({});
  l.set_dial_plan(&plan_);
  EXPECT_FALSE(l.disa_enabled());
  call_with_id(l, kCaller);
  EXPECT_EQ(l.state(), FxoState::forwarding);
  EXPECT_EQ(rec_.take(), (Log{"forward"}));
}

TEST_F(FxoDisaTest, WithheldNumberNeverMatchesTheAllowList) {
  // Entries that are empty or reduce to nothing must not let an anonymous caller in.
  FxoLine l = make({.allow = {"", "+", kCaller}});
  l.set_dial_plan(&plan_);
  l.on_ring_start();
  clock_.advance(Millis(2000));
  l.on_ring_stop();
  clock_.advance(Millis(500));
  l.on_caller_id({.format = dsp::CallerIdFormat::bell202_mdmf,
                  .id = {.number = "", .name = "", .number_absence = dsp::Absence::withheld,
                         .name_absence = dsp::Absence::withheld}});
  EXPECT_EQ(l.state(), FxoState::forwarding);
  EXPECT_EQ(rec_.take(), (Log{"forward"}));
}

TEST_F(FxoDisaTest, NoCallerIdAtAllNeverMatchesTheAllowList) {
  FxoLine l = make({.allow = {"", kCaller}});
  l.set_dial_plan(&plan_);
  l.on_ring_start();
  clock_.advance(Millis(2000));
  l.on_ring_stop();
  clock_.advance(Millis(4000));
  l.on_ring_start();  // the second ring forwards
  EXPECT_EQ(l.state(), FxoState::forwarding);
  EXPECT_EQ(rec_.take(), (Log{"forward"}));
}

TEST_F(FxoDisaTest, WithheldNumberIsAskedForThePinWhenOneIsSet) {
  FxoLine l = make({.pin = "1234", .allow = {""}});
  l.set_dial_plan(&plan_);
  l.on_caller_id({.format = dsp::CallerIdFormat::bell202_mdmf,
                  .id = {.number = "", .name = "", .number_absence = dsp::Absence::withheld}});
  EXPECT_EQ(l.state(), FxoState::disa_pin);
  EXPECT_EQ(rec_.take(), (Log{"off hook", "tone stutter"}));
}

// ---- DISA by PIN ----

TEST_F(FxoDisaTest, UnlistedCallerIsAskedForThePinAndTheRightPinGivesDialTone) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  call_with_id(l, "2025559999");
  EXPECT_EQ(l.state(), FxoState::disa_pin);
  EXPECT_EQ(rec_.take(), (Log{"off hook", "tone stutter"}));
  digits(l, "123");
  EXPECT_EQ(l.state(), FxoState::disa_pin);
  l.on_digit('4');  // the PIN's length: no '#' needed
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "tone none", "tone none", "tone none", "tone dial"}));
  digits(l, "201");
  EXPECT_EQ(l.state(), FxoState::disa_calling);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "tone none", "tone none", kCall201}));
}

TEST_F(FxoDisaTest, WithoutCallerIdTheSecondRingAsksForThePin) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  l.on_ring_start();
  clock_.advance(Millis(2000));
  l.on_ring_stop();
  clock_.advance(Millis(4000));
  l.on_ring_start();
  EXPECT_EQ(l.state(), FxoState::disa_pin);
  EXPECT_EQ(rec_.take(), (Log{"off hook", "tone stutter"}));
}

TEST_F(FxoDisaTest, PinFollowedByHashStillDials) {
  // The header's diagram: disa_pin --PIN #--> disa_dialing. A caller who ends
  // the PIN with '#' out of habit must not have the '#' taken as the number.
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  call_with_id(l, "2025559999");
  digits(l, "1234#");
  digits(l, "201");
  EXPECT_EQ(l.state(), FxoState::disa_calling);
  Log log = rec_.take();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), kCall201) << ::testing::PrintToString(log);
}

TEST_F(FxoDisaTest, ThreeWrongPinsPutTheLineBackOnHook) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  call_with_id(l, "2025559999");
  rec_.take();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    digits(l, "1111");
    EXPECT_EQ(l.state(), FxoState::disa_pin) << attempt;
    EXPECT_EQ(rec_.take(), (Log{"tone none", "tone none", "tone none", "tone none", "tone congestion"})) << attempt;
    // Digits during the pause after a wrong PIN are ignored.
    digits(l, "12");
    EXPECT_TRUE(rec_.take().empty());
    clock_.advance(Millis(1500));
    EXPECT_EQ(rec_.take(), (Log{"tone stutter"})) << attempt;
  }
  digits(l, "9999");
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "tone none", "tone none", "tone none", "tone none", "on hook"}));
  clock_.advance(Millis(60000));
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), FxoState::idle);
}

// Guessing the PIN over many calls: three calls in a row that end on wrong
// PINs lock the PIN out for 15 minutes; meanwhile callers are treated as if
// there were no PIN (here: no forward target, so the line just rings), and
// the allow-list still works. After the lockout the PIN is asked again.
TEST_F(FxoDisaTest, ThreeCallsOfWrongPinsLockThePinOutForFifteenMinutes) {
  FxoLine l = make({.pin = "1234", .allow = {"2025550150"}});
  l.set_dial_plan(&plan_);
  const auto fail_a_call = [&] {
    call_with_id(l, "2025559999");
    ASSERT_EQ(l.state(), FxoState::disa_pin);
    for (int attempt = 1; attempt <= 3; ++attempt) {
      digits(l, "1111");
      clock_.advance(Millis(1500));
    }
    ASSERT_EQ(l.state(), FxoState::idle);
    clock_.advance(Millis(10000));
  };
  for (int call = 0; call < 3; ++call) fail_a_call();
  rec_.take();
  call_with_id(l, "2025559999");
  EXPECT_EQ(l.state(), FxoState::forwarding);  // not answered: no PIN prompt while locked
  EXPECT_EQ(rec_.take(), (Log{"forward"}));
  l.on_remote_ended(EndCause::unreachable);   // no target: it rings out
  clock_.advance(Millis(10000));
  call_with_id(l, "2025550150");
  EXPECT_EQ(l.state(), FxoState::disa_dialing);  // the listed caller still gets in
  l.on_loop_drop();
  clock_.advance(Millis(15 * 60 * 1000));
  call_with_id(l, "2025559999");
  EXPECT_EQ(l.state(), FxoState::disa_pin);
}

// The right PIN resets the count of failed calls.
TEST_F(FxoDisaTest, RightPinResetsTheFailedCallCount) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  for (int call = 0; call < 5; ++call) {
    call_with_id(l, "2025559999");
    ASSERT_EQ(l.state(), FxoState::disa_pin) << call;
    if (call == 2) {
      digits(l, "1234");
      ASSERT_EQ(l.state(), FxoState::disa_dialing);
      l.on_loop_drop();
    } else {
      for (int attempt = 1; attempt <= 3; ++attempt) {
        digits(l, "1111");
        clock_.advance(Millis(1500));
      }
    }
    ASSERT_EQ(l.state(), FxoState::idle) << call;
    clock_.advance(Millis(10000));
  }
  call_with_id(l, "2025559999");
  EXPECT_EQ(l.state(), FxoState::disa_pin);  // two failed calls since the right PIN: not locked
}

TEST_F(FxoDisaTest, RightPinAfterAWrongOneIsAccepted) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  call_with_id(l, "2025559999");
  digits(l, "4321");
  clock_.advance(Millis(1500));
  rec_.take();
  digits(l, "1234");
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  digits(l, "201");
  Log log = rec_.take();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), kCall201);
}

TEST_F(FxoDisaTest, NoDigitInTenSecondsReleasesTheLine) {
  for (bool pin : {false, true}) {
    rec_ = Recorder{};
    FxoLine l = pin ? make({.pin = "1234"}) : make({.allow = {kCaller}});
    l.set_dial_plan(&plan_);
    call_with_id(l, kCaller);
    EXPECT_EQ(l.state(), pin ? FxoState::disa_pin : FxoState::disa_dialing);
    rec_.take();
    clock_.advance(Millis(9999));
    EXPECT_TRUE(rec_.take().empty()) << pin;
    clock_.advance(Millis(1));
    EXPECT_EQ(l.state(), FxoState::idle) << pin;
    EXPECT_EQ(rec_.take(), (Log{"tone none", "on hook"})) << pin;
  }
}

TEST_F(FxoDisaTest, NoDigitInTenSecondsAfterTheRightPinReleasesTheLine) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  digits(l, "1234");
  rec_.take();
  clock_.advance(Millis(9999));
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  clock_.advance(Millis(1));
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "on hook"}));
}

TEST_F(FxoDisaTest, UnknownNumberReleasesTheLineWithoutACall) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  rec_.take();
  l.on_digit('5');
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "tone none", "on hook"}));
}

TEST_F(FxoDisaTest, TheRingStoppingAfterDisaAnswersDoesNotDropTheCaller) {
  // The exchange stops ringing when the line goes off hook; the driver may
  // report that ring stop after DISA has answered at the start of ring 2.
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  l.on_ring_start();
  clock_.advance(Millis(2000));
  l.on_ring_stop();
  clock_.advance(Millis(4000));
  l.on_ring_start();
  ASSERT_EQ(l.state(), FxoState::disa_pin);
  clock_.advance(Millis(100));
  l.on_ring_stop();
  rec_.take();
  clock_.advance(Millis(3000));
  digits(l, "1234");
  clock_.advance(Millis(3000));
  digits(l, "20");
  clock_.advance(Millis(3000));  // 9.1 s after the answer, within every DISA timer
  EXPECT_EQ(l.state(), FxoState::disa_dialing);
  l.on_digit('1');
  EXPECT_EQ(l.state(), FxoState::disa_calling);
  Log log = rec_.take();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), kCall201) << ::testing::PrintToString(log);
}

TEST_F(FxoDisaTest, TheRingTimeoutDoesNotReleaseAPlacedDisaCall) {
  // As above (a PIN session started at ring 2), with the number dialed
  // quickly: the SIP call is up before the ring timeout.
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  l.on_ring_start();
  clock_.advance(Millis(2000));
  l.on_ring_stop();
  clock_.advance(Millis(4000));
  l.on_ring_start();
  clock_.advance(Millis(100));
  l.on_ring_stop();
  digits(l, "1234201");
  ASSERT_EQ(l.state(), FxoState::disa_calling);
  rec_.take();
  clock_.advance(Millis(20000));  // the far end takes its time to answer
  EXPECT_EQ(l.state(), FxoState::disa_calling);
  // Were the line released here, the SIP call would need ending too.
  const Log log = rec_.take();
  EXPECT_TRUE(log.empty()) << ::testing::PrintToString(log);
  l.on_remote_answered();
  EXPECT_EQ(l.state(), FxoState::connected);
}

// ---- the DISA call ----

TEST_F(FxoDisaTest, DisaCallRingsBackAndConnectsOnAnswer) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  digits(l, "201");
  rec_.take();
  l.on_remote_ringing(false);
  EXPECT_EQ(rec_.take(), (Log{"tone ringback"}));
  l.on_remote_answered();
  EXPECT_EQ(l.state(), FxoState::connected);
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));  // already off hook
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"on hook"}));
}

TEST_F(FxoDisaTest, DisaCallWithEarlyMediaPlaysNoRingback) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  digits(l, "201");
  rec_.take();
  l.on_remote_ringing(true);
  EXPECT_TRUE(rec_.take().empty());
}

TEST_F(FxoDisaTest, RefusedDisaCallReleasesTheLine) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  digits(l, "201");
  rec_.take();
  l.on_remote_ended(EndCause::busy);
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "on hook"}));
}

TEST_F(FxoDisaTest, LoopDropInEveryDisaStateReleasesTheLine) {
  // disa_pin and disa_dialing have no SIP call yet; disa_calling has one to end.
  for (FxoState target : {FxoState::disa_pin, FxoState::disa_dialing, FxoState::disa_calling}) {
    rec_ = Recorder{};
    FxoLine l = make({.pin = "1234"});
    l.set_dial_plan(&plan_);
    call_with_id(l, "2025559999");
    if (target != FxoState::disa_pin) digits(l, "1234");
    if (target == FxoState::disa_calling) digits(l, "201");
    ASSERT_EQ(l.state(), target);
    rec_.take();
    l.on_loop_drop();
    EXPECT_EQ(l.state(), FxoState::idle) << to_string(target);
    Log log = rec_.take();
    ASSERT_GE(log.size(), 2u) << to_string(target);
    EXPECT_EQ(log[0], "tone none") << to_string(target);
    EXPECT_EQ(log[1], "on hook") << to_string(target);
    if (target == FxoState::disa_calling) {
      EXPECT_EQ(log, (Log{"tone none", "on hook", "hangup"}));
    }
    // No timer of the DISA session is left to act on the idle line.
    clock_.advance(Millis(60000));
    EXPECT_TRUE(rec_.take().empty()) << to_string(target);
    EXPECT_EQ(l.state(), FxoState::idle);
  }
}

TEST_F(FxoDisaTest, LoopDropDuringTheWrongPinPauseReleasesTheLine) {
  FxoLine l = make({.pin = "1234"});
  l.set_dial_plan(&plan_);
  call_with_id(l, "2025559999");
  digits(l, "1111");
  rec_.take();
  l.on_loop_drop();
  EXPECT_EQ(l.state(), FxoState::idle);
  Log log = rec_.take();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[1], "on hook");
  clock_.advance(Millis(1500));
  EXPECT_TRUE(rec_.take().empty());
}

TEST_F(FxoDisaTest, LoopDropOnAConnectedDisaCallHangsUp) {
  FxoLine l = make({.allow = {kCaller}});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  digits(l, "201");
  l.on_remote_answered();
  rec_.take();
  l.on_loop_drop();
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
}

// ---- pulse dialing out ----

TEST_F(FxoDisaTest, PulseDialingLineDialsByPulsesAndProceedsWhenDone) {
  FxoLine l = make({.pulse = true});
  ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
  EXPECT_EQ(rec_.take(), (Log{"off hook", "early"}));
  l.on_progress(dsp::ProgressTone::dial);
  EXPECT_EQ(l.state(), FxoState::dialing);
  EXPECT_EQ(rec_.take(), (Log{"pulse 5551234"}));
  clock_.advance(Millis(5000));  // pulses take their time; no DTMF-length guess ends it
  EXPECT_EQ(l.state(), FxoState::dialing);
  l.on_dial_complete();
  EXPECT_EQ(l.state(), FxoState::proceeding);
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(60000));  // the guard timer was cancelled
  EXPECT_EQ(l.state(), FxoState::proceeding);
  l.on_polarity_reversal();
  EXPECT_EQ(l.state(), FxoState::connected);
  EXPECT_EQ(rec_.take(), (Log{"answer"}));
}

TEST_F(FxoDisaTest, PulseDialingGuardEndsDialingWhenTheDriverNeverReports) {
  FxoLine l = make({.pulse = true});
  ASSERT_TRUE(l.offer_incoming_call({}, "10"));
  l.on_progress(dsp::ProgressTone::dial);
  // 11 pulses * 100 ms + 2 digits * 700 ms + 3000 ms.
  clock_.advance(Millis(1100 + 1400 + 3000 - 1));
  EXPECT_EQ(l.state(), FxoState::dialing);
  clock_.advance(Millis(1));
  EXPECT_EQ(l.state(), FxoState::proceeding);
}

TEST_F(FxoDisaTest, DtmfLineDoesNotPulseDial) {
  FxoLine l = make({});
  ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
  l.on_progress(dsp::ProgressTone::dial);
  EXPECT_EQ(rec_.take(), (Log{"off hook", "early", "dial 5551234"}));
}

TEST_F(FxoDisaTest, PulseDialingLineRefusesDigitsItCannotPulse) {
  FxoLine l = make({.pulse = true});
  for (const char* dial : {"555*1234", "#31#", "12A"}) {
    EXPECT_FALSE(l.offer_incoming_call({}, dial)) << dial;
  }
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_TRUE(l.offer_incoming_call({}, "0123456789"));
  FxoLine dtmf = make({});
  EXPECT_TRUE(dtmf.offer_incoming_call({}, "555*1234"));
}

// ---- silence supervision ----

// Forward a PSTN call and have SIP answer it; the log is cleared.
void connect_incoming(FxoLine& l, base::ManualClock& clock, Recorder& rec) {
  l.on_ring_start();
  clock.advance(Millis(2000));
  l.on_ring_stop();
  clock.advance(Millis(500));
  l.on_caller_id({.format = dsp::CallerIdFormat::bell202_mdmf, .id = {.number = kCaller, .name = "ALICE"}});
  l.on_remote_answered();
  ASSERT_EQ(l.state(), FxoState::connected);
  rec.take();
}

TEST_F(FxoDisaTest, SilentConnectedCallIsHungUpAfterTheTimeout) {
  FxoLine l = make({.silence = Millis(30000)});
  connect_incoming(l, clock_, rec_);
  l.on_quiet();  // reported after 1 s of quiet
  clock_.advance(Millis(28999));
  EXPECT_EQ(l.state(), FxoState::connected);
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
}

TEST_F(FxoDisaTest, SoundCancelsTheSilenceTimer) {
  FxoLine l = make({.silence = Millis(30000)});
  connect_incoming(l, clock_, rec_);
  l.on_quiet();
  clock_.advance(Millis(20000));
  l.on_sound();
  clock_.advance(Millis(20000));
  EXPECT_EQ(l.state(), FxoState::connected);
  l.on_quiet();  // quiet again: the whole timeout once more
  clock_.advance(Millis(28999));
  EXPECT_EQ(l.state(), FxoState::connected);
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
}

TEST_F(FxoDisaTest, RepeatedQuietReportsDoNotRestartTheTimer) {
  FxoLine l = make({.silence = Millis(30000)});
  connect_incoming(l, clock_, rec_);
  l.on_quiet();
  clock_.advance(Millis(15000));
  l.on_quiet();
  clock_.advance(Millis(14000));
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
}

TEST_F(FxoDisaTest, ZeroSilenceTimeoutNeverDisconnects) {
  FxoLine l = make({.silence = Millis(0)});
  connect_incoming(l, clock_, rec_);
  l.on_quiet();
  clock_.advance(Millis(3600 * 1000));
  EXPECT_EQ(l.state(), FxoState::connected);
  EXPECT_TRUE(rec_.take().empty());
}

TEST_F(FxoDisaTest, QuietBeforeTheAnswerCountsFromTheAnswer) {
  FxoLine l = make({.silence = Millis(30000)});
  l.on_ring_start();
  clock_.advance(Millis(2000));
  l.on_ring_stop();
  clock_.advance(Millis(500));
  l.on_caller_id({.format = dsp::CallerIdFormat::bell202_mdmf, .id = {.number = kCaller, .name = "ALICE"}});
  l.on_quiet();
  clock_.advance(Millis(1000));
  l.on_remote_answered();
  rec_.take();
  clock_.advance(Millis(28999));
  EXPECT_EQ(l.state(), FxoState::connected);
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
}

TEST_F(FxoDisaTest, SilenceHangsUpAnOutgoingCallToo) {
  FxoLine l = make({.silence = Millis(30000)});
  ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
  l.on_progress(dsp::ProgressTone::dial);
  l.on_polarity_reversal();
  ASSERT_EQ(l.state(), FxoState::connected);
  rec_.take();
  l.on_quiet();
  clock_.advance(Millis(29000));
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
  EXPECT_EQ(l.state(), FxoState::idle);
}

TEST_F(FxoDisaTest, SilenceHangsUpAConnectedDisaCall) {
  FxoLine l = make({.allow = {kCaller}, .silence = Millis(30000)});
  l.set_dial_plan(&plan_);
  call_with_id(l, kCaller);
  digits(l, "201");
  l.on_remote_answered();
  rec_.take();
  l.on_quiet();
  clock_.advance(Millis(29000));
  EXPECT_EQ(rec_.take(), (Log{"on hook", "hangup"}));
}

}  // namespace
}  // namespace sipline::gateway::call
