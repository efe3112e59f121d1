#include "call/fxs_line.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::call {
namespace {

using base::Millis;
using dsp::ToneKind;

struct Recorder : FxsLine::Io, FxsLine::Owner {
  bool ringing = false;
  int ring_edges = 0;
  ToneKind tone = ToneKind::none;
  std::vector<std::string> actions;

  void set_ring(std::size_t, bool on) override {
    if (on && !ringing) ++ring_edges;
    ringing = on;
  }
  void play_tone(std::size_t, ToneKind t) override { tone = t; }
  void place_call(std::size_t, const std::string& target, const std::string& digits) override {
    actions.push_back("call " + digits + " " + target);
  }
  void answer_call(std::size_t) override { actions.push_back("answer"); }
  void end_call(std::size_t, bool no_answer) override { actions.push_back(no_answer ? "no_answer" : "hangup"); }
};

class FxsLineTest : public ::testing::Test {
 protected:
  FxsLineTest() {
    auto p = route::DialPlan::create({{"2XX", "sip:$digits@127.0.0.1:5060"}, {"9.", "sip:$digits@trunk"}});
    EXPECT_TRUE(p) << p.error().message();
    plan_ = std::move(*p);
    line_.set_dial_plan(&plan_);
  }

  const dsp::ToneProfile& us_ = *dsp::find_tone_profile("US");
  base::ManualClock clock_;
  Recorder rec_;
  route::DialPlan plan_;
  FxsLine line_{FxsLineConfig{.index = 0,
                              .name = "fxs1",
                              .number = "201",
                              .profile = &us_,
                              .interdigit_timeout = Millis(4000),
                              .first_digit_timeout = Millis(15000),
                              .no_answer_timeout = Millis(30000)},
                clock_, rec_, rec_};
};

TEST_F(FxsLineTest, OffHookGivesDialToneAndFirstDigitStopsIt) {
  line_.on_off_hook();
  EXPECT_EQ(line_.state(), LineState::dialtone);
  EXPECT_EQ(rec_.tone, ToneKind::dial);
  line_.on_digit('2');
  EXPECT_EQ(line_.state(), LineState::dialing);
  EXPECT_EQ(rec_.tone, ToneKind::none);
}

TEST_F(FxsLineTest, DialsAtOnceWhenThePlanMatchCannotGrow) {
  line_.on_off_hook();
  for (char d : std::string("202")) line_.on_digit(d);
  EXPECT_EQ(line_.state(), LineState::calling);
  ASSERT_EQ(rec_.actions.size(), 1u);
  EXPECT_EQ(rec_.actions[0], "call 202 sip:202@127.0.0.1:5060");
}

TEST_F(FxsLineTest, AmbiguousMatchDialsAfterInterdigitTimeoutOrHash) {
  line_.on_off_hook();
  for (char d : std::string("9123")) line_.on_digit(d);
  EXPECT_EQ(line_.state(), LineState::dialing);
  clock_.advance(Millis(3999));
  EXPECT_TRUE(rec_.actions.empty());
  clock_.advance(Millis(1));
  ASSERT_EQ(rec_.actions.size(), 1u);
  EXPECT_EQ(rec_.actions[0], "call 9123 sip:9123@trunk");

  FxsLine other{FxsLineConfig{.index = 1, .name = "fxs2", .number = "202", .profile = &us_}, clock_, rec_, rec_};
  other.set_dial_plan(&plan_);
  other.on_off_hook();
  for (char d : std::string("955#")) other.on_digit(d);
  ASSERT_EQ(rec_.actions.size(), 2u);
  EXPECT_EQ(rec_.actions[1], "call 955 sip:955@trunk");
}

TEST_F(FxsLineTest, UnknownNumberGivesReorderTone) {
  line_.on_off_hook();
  line_.on_digit('5');
  EXPECT_EQ(line_.state(), LineState::disconnected);
  EXPECT_EQ(rec_.tone, ToneKind::congestion);
  EXPECT_TRUE(rec_.actions.empty());
}

TEST_F(FxsLineTest, NoDigitsAfterFirstDigitTimeoutGivesReorderTone) {
  line_.on_off_hook();
  clock_.advance(Millis(14999));
  EXPECT_EQ(line_.state(), LineState::dialtone);
  clock_.advance(Millis(1));
  EXPECT_EQ(line_.state(), LineState::disconnected);
  EXPECT_EQ(rec_.tone, ToneKind::congestion);
}

TEST_F(FxsLineTest, IncomingCallRingsWithTheCountryCadenceUntilAnswered) {
  ASSERT_TRUE(line_.offer_incoming_call());
  EXPECT_EQ(line_.state(), LineState::ringing);
  EXPECT_TRUE(rec_.ringing);
  // US: 2 s on, 4 s off.
  clock_.advance(Millis(1999));
  EXPECT_TRUE(rec_.ringing);
  clock_.advance(Millis(1));
  EXPECT_FALSE(rec_.ringing);
  clock_.advance(Millis(4000));
  EXPECT_TRUE(rec_.ringing);
  EXPECT_EQ(rec_.ring_edges, 2);
  line_.on_off_hook();
  EXPECT_FALSE(rec_.ringing);
  EXPECT_EQ(line_.state(), LineState::connected);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"answer"}));
  clock_.advance(Millis(60000));
  EXPECT_FALSE(rec_.ringing);
}

TEST_F(FxsLineTest, JapaneseLineRingsOneSecondOnTwoOff) {
  FxsLine jp{FxsLineConfig{.index = 1, .name = "jp", .number = "1", .profile = dsp::find_tone_profile("JP")}, clock_,
             rec_, rec_};
  ASSERT_TRUE(jp.offer_incoming_call());
  clock_.advance(Millis(999));
  EXPECT_TRUE(rec_.ringing);
  clock_.advance(Millis(1));
  EXPECT_FALSE(rec_.ringing);
  clock_.advance(Millis(2000));
  EXPECT_TRUE(rec_.ringing);
}

TEST_F(FxsLineTest, BusyPhoneRefusesIncomingCall) {
  line_.on_off_hook();
  EXPECT_FALSE(line_.offer_incoming_call());
  EXPECT_EQ(line_.state(), LineState::dialtone);
}

TEST_F(FxsLineTest, UnansweredCallTimesOut) {
  ASSERT_TRUE(line_.offer_incoming_call());
  clock_.advance(Millis(30000));
  EXPECT_EQ(line_.state(), LineState::idle);
  EXPECT_FALSE(rec_.ringing);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"no_answer"}));
}

TEST_F(FxsLineTest, CallerCancelStopsRinging) {
  ASSERT_TRUE(line_.offer_incoming_call());
  line_.on_remote_ended(EndCause::normal);
  EXPECT_EQ(line_.state(), LineState::idle);
  EXPECT_FALSE(rec_.ringing);
  clock_.advance(Millis(60000));
  EXPECT_FALSE(rec_.ringing);
  EXPECT_TRUE(rec_.actions.empty());
}

TEST_F(FxsLineTest, RingbackUntilAnsweredThenSilence) {
  line_.on_off_hook();
  for (char d : std::string("202")) line_.on_digit(d);
  line_.on_remote_ringing(false);
  EXPECT_EQ(rec_.tone, ToneKind::ringback);
  line_.on_remote_answered();
  EXPECT_EQ(line_.state(), LineState::connected);
  EXPECT_EQ(rec_.tone, ToneKind::none);
}

TEST_F(FxsLineTest, EarlyMediaPlaysNoLocalRingback) {
  line_.on_off_hook();
  for (char d : std::string("202")) line_.on_digit(d);
  line_.on_remote_ringing(true);
  EXPECT_EQ(rec_.tone, ToneKind::none);
}

TEST_F(FxsLineTest, BusyCalleeGivesBusyToneAndFailureGivesReorder) {
  line_.on_off_hook();
  for (char d : std::string("202")) line_.on_digit(d);
  line_.on_remote_ended(EndCause::busy);
  EXPECT_EQ(line_.state(), LineState::disconnected);
  EXPECT_EQ(rec_.tone, ToneKind::busy);
  line_.on_on_hook();
  line_.on_off_hook();
  for (char d : std::string("203")) line_.on_digit(d);
  line_.on_remote_ended(EndCause::unreachable);
  EXPECT_EQ(rec_.tone, ToneKind::congestion);
}

TEST_F(FxsLineTest, FarEndHangupGivesBusyToneUntilOnHook) {
  line_.on_off_hook();
  for (char d : std::string("202")) line_.on_digit(d);
  line_.on_remote_answered();
  line_.on_remote_ended(EndCause::normal);
  EXPECT_EQ(line_.state(), LineState::disconnected);
  EXPECT_EQ(rec_.tone, ToneKind::busy);
  line_.on_on_hook();
  EXPECT_EQ(line_.state(), LineState::idle);
  EXPECT_EQ(rec_.tone, ToneKind::none);
  // The far end already hung up: no second hang-up.
  EXPECT_EQ(rec_.actions.size(), 1u);
}

TEST_F(FxsLineTest, OnHookDuringCallHangsUp) {
  line_.on_off_hook();
  for (char d : std::string("202")) line_.on_digit(d);
  line_.on_on_hook();
  EXPECT_EQ(line_.state(), LineState::idle);
  EXPECT_EQ(rec_.actions.back(), "hangup");
}

TEST_F(FxsLineTest, DigitsDuringAConnectedCallDoNotRedial) {
  ASSERT_TRUE(line_.offer_incoming_call());
  line_.on_off_hook();
  line_.on_digit('2');
  line_.on_digit('0');
  line_.on_digit('2');
  EXPECT_EQ(line_.state(), LineState::connected);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"answer"}));
}

}  // namespace
}  // namespace sipline::gateway::call
