// FxsLine features: hook flash, pulse digits, the howler, polarity on
// answer, the profile's disconnect signal and re-origination. Every Io and
// Owner call is recorded in order, so each test states exactly what the line
// did.
#include "call/fxs_line.hpp"

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
    case ToneKind::howler: return "howler";
    default: return "other";
  }
}

// Records every Io and Owner call as one line of text, in order.
struct Recorder : FxsLine::Io, FxsLine::Owner {
  Log log;
  void set_ring(std::size_t, bool on) override { log.push_back(on ? "ring on" : "ring off"); }
  void play_tone(std::size_t, ToneKind t) override { log.push_back("tone " + tone_name(t)); }
  void set_polarity(std::size_t, bool reversed) override { log.push_back(reversed ? "reversed" : "normal"); }
  void play_signal(std::size_t, std::vector<int16_t> samples) override {
    log.push_back(samples.empty() ? "signal stop" : "signal");
  }
  void disconnect_battery(std::size_t, int ms) override { log.push_back("battery " + std::to_string(ms)); }
  void place_call(std::size_t, const std::string& target, const std::string& digits) override {
    log.push_back("call " + digits + " " + target);
  }
  void answer_call(std::size_t) override { log.push_back("answer"); }
  void end_call(std::size_t, bool no_answer) override { log.push_back(no_answer ? "no_answer" : "hangup"); }
  // The calls recorded since the last take().
  Log take() {
    Log out;
    out.swap(log);
    return out;
  }
};

constexpr Millis kHowlerAfter{30000};
constexpr Millis kHowlerDuration{60000};

class FxsFeaturesTest : public ::testing::Test {
 protected:
  FxsFeaturesTest() {
    auto p = route::DialPlan::create({{"2XX", "sip:$digits@127.0.0.1:5060"}, {"9.", "sip:$digits@trunk"}});
    EXPECT_TRUE(p) << p.error().message();
    plan_ = std::move(*p);
  }

  FxsLine line(const dsp::ToneProfile& profile, bool polarity_on_answer = false, bool reoriginate = false) {
    return FxsLine{FxsLineConfig{.index = 0,
                                   .name = "fxs1",
                                   .number = "201",
                                   .profile = &profile,
                                   .caller_id_format = {},
                                   .interdigit_timeout = Millis(4000),
                                   .first_digit_timeout = Millis(15000),
                                   .no_answer_timeout = Millis(30000),
                                   .howler_after = kHowlerAfter,
                                   .howler_duration = kHowlerDuration,
                                   .polarity_on_answer = polarity_on_answer,
                                   .reoriginate = reoriginate},
                   clock_, rec_, rec_};
  }

  // Off hook, dial 202 and have the far end answer; the log is cleared.
  void connect(FxsLine& l) {
    l.set_dial_plan(&plan_);
    l.on_off_hook();
    for (char d : std::string("202")) l.on_digit(d);
    l.on_remote_answered();
    ASSERT_EQ(l.state(), LineState::connected);
    rec_.take();
  }

  const dsp::ToneProfile& us_ = *dsp::find_tone_profile("US");
  const dsp::ToneProfile& uk_ = *dsp::find_tone_profile("UK");
  base::ManualClock clock_;
  Recorder rec_;
  route::DialPlan plan_;
};

// ---- hook flash ----

TEST_F(FxsFeaturesTest, FlashDuringDialToneGivesFreshDialTone) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone dial"}));
  clock_.advance(Millis(10000));
  l.on_flash();
  EXPECT_EQ(rec_.take(), (Log{"tone dial"}));
  EXPECT_EQ(l.state(), LineState::dialtone);
  EXPECT_EQ(l.flashes(), 1);
  // The first digit timer started again at the flash.
  clock_.advance(Millis(14999));
  EXPECT_EQ(l.state(), LineState::dialtone);
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(l.state(), LineState::disconnected);
  EXPECT_EQ(rec_.take(), (Log{"tone congestion"}));
}

TEST_F(FxsFeaturesTest, FlashWhileDialingClearsTheDigitsAndGivesDialTone) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  l.on_digit('2');
  l.on_digit('0');
  EXPECT_EQ(l.dialed(), "20");
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none"}));
  l.on_flash();
  EXPECT_EQ(l.state(), LineState::dialtone);
  EXPECT_EQ(l.dialed(), "");
  EXPECT_EQ(rec_.take(), (Log{"tone dial"}));
  // The interdigit timer of the abandoned number does not fire.
  clock_.advance(Millis(4000));
  EXPECT_EQ(l.state(), LineState::dialtone);
  EXPECT_TRUE(rec_.take().empty());
  // A whole new number, not "20" followed by more.
  for (char d : std::string("201")) l.on_digit(d);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "call 201 sip:201@127.0.0.1:5060"}));
  EXPECT_EQ(l.state(), LineState::calling);
}

TEST_F(FxsFeaturesTest, FlashAfterAFailedNumberGivesDialToneAndNoHowler) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  l.on_digit('5');
  EXPECT_EQ(l.state(), LineState::disconnected);
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none", "tone congestion"}));
  l.on_flash();
  EXPECT_EQ(l.state(), LineState::dialtone);
  EXPECT_EQ(l.dialed(), "");
  EXPECT_EQ(rec_.take(), (Log{"tone dial"}));
  // Dial a number before the first digit timeout; no howler timer is left.
  for (char d : std::string("202")) l.on_digit(d);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "call 202 sip:202@127.0.0.1:5060"}));
  clock_.advance(kHowlerAfter + kHowlerDuration);
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), LineState::calling);
}

TEST_F(FxsFeaturesTest, FlashInAConnectedCallIsCountedAndDoesNothingElse) {
  FxsLine l = line(us_);
  connect(l);
  l.on_flash();
  l.on_flash();
  EXPECT_EQ(l.flashes(), 2);
  EXPECT_EQ(l.state(), LineState::connected);
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(120000));
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), LineState::connected);
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone none", "hangup"}));
}

TEST_F(FxsFeaturesTest, FlashWhileCallingDoesNotEndTheCall) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  for (char d : std::string("202")) l.on_digit(d);
  rec_.take();
  l.on_flash();
  EXPECT_EQ(l.flashes(), 1);
  EXPECT_EQ(l.state(), LineState::calling);
  EXPECT_TRUE(rec_.take().empty());
}

// ---- pulse digits ----

TEST_F(FxsFeaturesTest, PulseDigitsDialLikeDtmf) {
  // A rotary phone: the driver counts the pulses and reports each digit
  // through on_digit, ten pulses being '0'.
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  l.on_digit('2');
  EXPECT_EQ(l.state(), LineState::dialing);
  l.on_digit('0');
  l.on_digit('0');
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none", "call 200 sip:200@127.0.0.1:5060"}));
  EXPECT_EQ(l.state(), LineState::calling);

  // An open-ended number dials at the interdigit timeout, as with DTMF.
  Recorder rec2;
  FxsLine other{FxsLineConfig{.index = 1, .name = "fxs2", .number = "202", .profile = &us_}, clock_, rec2, rec2};
  other.set_dial_plan(&plan_);
  other.on_off_hook();
  for (char d : std::string("90")) other.on_digit(d);
  clock_.advance(Millis(3999));
  EXPECT_EQ(other.state(), LineState::dialing);
  clock_.advance(Millis(1));
  EXPECT_EQ(rec2.take(), (Log{"tone dial", "tone none", "call 90 sip:90@trunk"}));
}

// ---- the howler ----

TEST_F(FxsFeaturesTest, PhoneLeftOffHookAfterAFailureGetsTheHowlerThenSilence) {
  ASSERT_FALSE(us_.howler.empty());
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  l.on_digit('5');
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none", "tone congestion"}));
  clock_.advance(kHowlerAfter - Millis(1));
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"tone howler"}));
  clock_.advance(kHowlerDuration - Millis(1));
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));
  EXPECT_EQ(l.state(), LineState::disconnected);
  clock_.advance(Millis(600000));
  EXPECT_TRUE(rec_.take().empty());
  l.on_on_hook();
  EXPECT_EQ(l.state(), LineState::idle);
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));  // no call to end
}

TEST_F(FxsFeaturesTest, NoDigitAtAllAlsoEndsInTheHowler) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  clock_.advance(Millis(15000));
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone congestion"}));
  clock_.advance(kHowlerAfter);
  EXPECT_EQ(rec_.take(), (Log{"tone howler"}));
}

TEST_F(FxsFeaturesTest, OnHookDuringTheHowlerStopsIt) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  l.on_digit('5');
  clock_.advance(kHowlerAfter);
  rec_.take();
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));
  clock_.advance(kHowlerDuration);
  EXPECT_TRUE(rec_.take().empty());
}

TEST_F(FxsFeaturesTest, ProfileWithoutHowlerStaysOnCongestionThenSilence) {
  ASSERT_TRUE(uk_.howler.empty());
  FxsLine l = line(uk_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  l.on_digit('5');
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none", "tone congestion"}));
  clock_.advance(kHowlerAfter);
  EXPECT_TRUE(rec_.take().empty());  // still congestion
  clock_.advance(kHowlerDuration - Millis(1));
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));
  EXPECT_EQ(l.state(), LineState::disconnected);
}

TEST_F(FxsFeaturesTest, HowlerFollowsTheBusyToneOfAFarEndHangup) {
  FxsLine l = line(us_);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(rec_.take(), (Log{"battery 800", "tone busy"}));
  clock_.advance(kHowlerAfter);
  EXPECT_EQ(rec_.take(), (Log{"tone howler"}));
}

// ---- polarity on answer ----

TEST_F(FxsFeaturesTest, PolarityReversesOnAnswerAndReturnsWhenTheFarEndHangsUp) {
  FxsLine l = line(us_, /*polarity_on_answer=*/true);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  for (char d : std::string("202")) l.on_digit(d);
  l.on_remote_ringing(false);
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none", "call 202 sip:202@127.0.0.1:5060", "tone ringback"}));
  l.on_remote_answered();
  EXPECT_EQ(rec_.take(), (Log{"tone none", "reversed"}));
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(rec_.take(), (Log{"normal", "battery 800", "tone busy"}));
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));  // already normal
}

TEST_F(FxsFeaturesTest, PolarityReturnsToNormalWhenThePhoneHangsUp) {
  FxsLine l = line(us_, /*polarity_on_answer=*/true);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  for (char d : std::string("202")) l.on_digit(d);
  l.on_remote_answered();
  rec_.take();
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone none", "normal", "hangup"}));
  EXPECT_EQ(l.state(), LineState::idle);
}

TEST_F(FxsFeaturesTest, WithoutPolarityOnAnswerTheLineIsNeverReversed) {
  FxsLine l = line(us_);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  for (char d : std::string("202")) l.on_digit(d);
  l.on_remote_answered();
  l.on_remote_ended(EndCause::normal);
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone dial", "tone none", "call 202 sip:202@127.0.0.1:5060", "tone none",
                              "battery 800", "tone busy", "tone none"}));
}

TEST_F(FxsFeaturesTest, UnansweredCallLeavesThePolarityAlone) {
  FxsLine l = line(us_, /*polarity_on_answer=*/true);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  for (char d : std::string("202")) l.on_digit(d);
  rec_.take();
  l.on_remote_ended(EndCause::busy);
  EXPECT_EQ(rec_.take(), (Log{"tone busy"}));
}

// ---- the disconnect signal ----

TEST_F(FxsFeaturesTest, UsDisconnectDropsTheLoopOnlyForAnAnsweredCall) {
  ASSERT_EQ(us_.disconnect.loop_drop_ms, 800);
  FxsLine l = line(us_);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(l.state(), LineState::disconnected);
  EXPECT_EQ(rec_.take(), (Log{"battery 800", "tone busy"}));

  // Never answered: busy, unreachable, rejected give their tone, no open loop.
  struct {
    EndCause cause;
    const char* tone;
  } cases[] = {{EndCause::busy, "tone busy"},
               {EndCause::unreachable, "tone congestion"},
               {EndCause::rejected, "tone congestion"},
               {EndCause::normal, "tone busy"}};
  for (const auto& c : cases) {
    Recorder rec2;
    FxsLine other{FxsLineConfig{.index = 1, .name = "fxs2", .number = "202", .profile = &us_}, clock_, rec2, rec2};
    other.set_dial_plan(&plan_);
    other.on_off_hook();
    for (char d : std::string("203")) other.on_digit(d);
    rec2.take();
    other.on_remote_ended(c.cause);
    EXPECT_EQ(rec2.take(), (Log{c.tone})) << static_cast<int>(c.cause);
  }
}

TEST_F(FxsFeaturesTest, UkDisconnectHasNoLoopDrop) {
  FxsLine l = line(uk_);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(rec_.take(), (Log{"tone busy"}));
}

TEST_F(FxsFeaturesTest, ProfileWithoutBusyToneGivesSilenceAfterTheLoopDrop) {
  dsp::ToneProfile quiet = us_;
  quiet.disconnect.busy_tone = false;
  FxsLine l = line(quiet);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(l.state(), LineState::disconnected);
  EXPECT_EQ(rec_.take(), (Log{"battery 800", "tone none"}));
  // A busy callee is still told so: busy_tone is about a hang-up.
  Recorder rec2;
  FxsLine other{FxsLineConfig{.index = 1, .name = "fxs2", .number = "202", .profile = &quiet}, clock_, rec2, rec2};
  other.set_dial_plan(&plan_);
  other.on_off_hook();
  for (char d : std::string("203")) other.on_digit(d);
  rec2.take();
  other.on_remote_ended(EndCause::busy);
  EXPECT_EQ(rec2.take(), (Log{"tone busy"}));
}

// ---- re-origination ----

TEST_F(FxsFeaturesTest, ReoriginateGivesDialToneAfterTheLoopDropAndANewNumberDials) {
  FxsLine l = line(us_, false, /*reoriginate=*/true);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(rec_.take(), (Log{"battery 800", "tone none"}));
  EXPECT_EQ(l.state(), LineState::disconnected);
  clock_.advance(Millis(1099));  // the 800 ms open loop, then 300 ms with the loop back
  EXPECT_TRUE(rec_.take().empty());
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"tone dial"}));
  EXPECT_EQ(l.state(), LineState::dialtone);
  EXPECT_EQ(l.dialed(), "");
  for (char d : std::string("203")) l.on_digit(d);
  EXPECT_EQ(rec_.take(), (Log{"tone none", "call 203 sip:203@127.0.0.1:5060"}));
  EXPECT_EQ(l.state(), LineState::calling);
  // No howler is left over from the disconnect.
  clock_.advance(kHowlerAfter + kHowlerDuration);
  EXPECT_TRUE(rec_.take().empty());
}

TEST_F(FxsFeaturesTest, ReoriginatedDialToneTimesOutLikeAnyOther) {
  FxsLine l = line(us_, false, /*reoriginate=*/true);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  clock_.advance(Millis(1100));
  rec_.take();
  clock_.advance(Millis(15000));
  EXPECT_EQ(rec_.take(), (Log{"tone congestion"}));
  EXPECT_EQ(l.state(), LineState::disconnected);
}

TEST_F(FxsFeaturesTest, ReoriginateWithPolarityOnAnswerRestoresPolarityFirst) {
  FxsLine l = line(us_, /*polarity_on_answer=*/true, /*reoriginate=*/true);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  clock_.advance(Millis(1100));
  EXPECT_EQ(rec_.take(), (Log{"normal", "battery 800", "tone none", "tone dial"}));
}

TEST_F(FxsFeaturesTest, ReversalDisconnectReturnsToNormalBeforeTheReoriginatedDialTone) {
  // A profile whose disconnect signal is a line reversal: the reversal is the
  // signal, the fresh dial tone that follows is a new call on a normal line.
  dsp::ToneProfile reversing = us_;
  reversing.disconnect.polarity_reversal = true;
  FxsLine l = line(reversing, false, /*reoriginate=*/true);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(rec_.take(), (Log{"reversed", "battery 800", "tone none"}));
  clock_.advance(Millis(1100));
  EXPECT_EQ(rec_.take(), (Log{"normal", "tone dial"}));
}

TEST_F(FxsFeaturesTest, ReversalDisconnectWithoutReoriginationLastsUntilOnHook) {
  dsp::ToneProfile reversing = us_;
  reversing.disconnect.polarity_reversal = true;
  FxsLine l = line(reversing);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  EXPECT_EQ(rec_.take(), (Log{"reversed", "battery 800", "tone busy"}));
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone none", "normal"}));
}

TEST_F(FxsFeaturesTest, ReoriginateAppliesOnlyToAnAnsweredCall) {
  FxsLine l = line(us_, false, /*reoriginate=*/true);
  l.set_dial_plan(&plan_);
  l.on_off_hook();
  for (char d : std::string("202")) l.on_digit(d);
  rec_.take();
  l.on_remote_ended(EndCause::busy);
  EXPECT_EQ(rec_.take(), (Log{"tone busy"}));
  clock_.advance(Millis(800));
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), LineState::disconnected);
}

TEST_F(FxsFeaturesTest, ReoriginateWithoutLoopDropGivesDialToneAfterAShortPause) {
  FxsLine l = line(uk_, false, /*reoriginate=*/true);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  clock_.advance(Millis(299));
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));
  clock_.advance(Millis(1));
  EXPECT_EQ(rec_.take(), (Log{"tone dial"}));
  EXPECT_EQ(l.state(), LineState::dialtone);
}

TEST_F(FxsFeaturesTest, OnHookDuringTheReoriginationPauseEndsQuietly) {
  FxsLine l = line(us_, false, /*reoriginate=*/true);
  connect(l);
  l.on_remote_ended(EndCause::normal);
  rec_.take();
  l.on_on_hook();
  EXPECT_EQ(rec_.take(), (Log{"tone none"}));  // the call is already over: no end_call
  clock_.advance(Millis(800));
  EXPECT_TRUE(rec_.take().empty());
  EXPECT_EQ(l.state(), LineState::idle);
}

}  // namespace
}  // namespace sipline::gateway::call
