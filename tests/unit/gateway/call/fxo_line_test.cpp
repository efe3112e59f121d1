#include "call/fxo_line.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sipline::gateway::call {
namespace {

using base::Millis;

struct Recorder : FxoLine::Io, FxoLine::Owner {
  bool off_hook = false;
  int hook_changes = 0;
  std::vector<std::string> actions;
  dsp::CallerId forwarded;
  void set_hook(std::size_t, bool on) override {
    off_hook = on;
    ++hook_changes;
  }
  void forward_call(std::size_t, const dsp::CallerId& caller) override {
    forwarded = caller;
    actions.push_back("forward");
  }
  void end_call(std::size_t, bool no_answer) override { actions.push_back(no_answer ? "cancel" : "hangup"); }
  void dial(std::size_t, const std::string& digits) override { actions.push_back("dial " + digits); }
  void early_media(std::size_t) override { actions.push_back("early"); }
  void answer_call(std::size_t) override { actions.push_back("answer"); }
  void fail_call(std::size_t, int status) override { actions.push_back("fail " + std::to_string(status)); }
  void pulse_dial(std::size_t, const std::string& digits) override { actions.push_back("pulse " + digits); }
  void play_tone(std::size_t, dsp::ToneKind t) override { tone = t; }
  void place_call(std::size_t, const std::string& target, const std::string& digits) override {
    actions.push_back("call " + digits + " " + target);
  }
  dsp::ToneKind tone = dsp::ToneKind::none;
};

class FxoLineTest : public ::testing::Test {
 protected:
  FxoLine make(const char* country = "US", bool ntt = true) {
    return FxoLine(FxoLineConfig{.index = 0,
                                 .name = "fxo1",
                                 .number = "5550100",
                                 .profile = dsp::find_tone_profile(country),
                                 .rings_before_forward = 2,
                                 .ntt_primary_response = ntt,
                                 .ring_timeout = Millis(0),
                                 .answer_on = AnswerOn::polarity,
                                 .dial_tone_timeout = Millis(3000)},
                   clock_, clock_, rec_, rec_);
  }
  // One ring of `on` ms followed by `off` ms of silence.
  void ring(FxoLine& l, int on, int off) {
    l.on_ring_start();
    clock_.advance(Millis(on));
    l.on_ring_stop();
    clock_.advance(Millis(off));
  }
  static dsp::CallerIdMessage message(dsp::CallerIdFormat format) {
    return {.format = format, .id = {.number = "2025550150", .name = "ALICE", .month = 12, .day = 1, .hour = 9,
                                     .minute = 30}};
  }

  base::ManualClock clock_;
  Recorder rec_;
};

TEST_F(FxoLineTest, BellCallerIdBetweenTheRingsForwardsAtOnceWithTheIdentity) {
  FxoLine l = make();
  ring(l, 2000, 500);
  EXPECT_EQ(l.state(), FxoState::incoming);
  EXPECT_TRUE(rec_.actions.empty());
  l.on_caller_id(message(dsp::CallerIdFormat::bell202_mdmf));
  EXPECT_EQ(l.state(), FxoState::forwarding);
  ASSERT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));
  EXPECT_EQ(rec_.forwarded.number, "2025550150");
  EXPECT_EQ(rec_.forwarded.name, "ALICE");
  EXPECT_FALSE(rec_.off_hook);  // the line is answered only when SIP answers
  clock_.advance(Millis(3500));
  ring(l, 2000, 1000);
  l.on_remote_answered();
  EXPECT_TRUE(rec_.off_hook);
  EXPECT_EQ(l.state(), FxoState::connected);
}

TEST_F(FxoLineTest, WithoutCallerIdTheSecondRingForwards) {
  FxoLine l = make();
  ring(l, 2000, 4000);
  EXPECT_TRUE(rec_.actions.empty());
  l.on_ring_start();
  ASSERT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));
  EXPECT_TRUE(rec_.forwarded.number.empty());
}

TEST_F(FxoLineTest, CallerIdBeforeTheFirstRingForwardsBeforeAnyRing) {
  FxoLine l = make("UK");
  l.on_polarity_reversal();  // ahead of the data: not a disconnect
  EXPECT_EQ(l.state(), FxoState::idle);
  l.on_caller_id(message(dsp::CallerIdFormat::etsi));
  EXPECT_EQ(l.state(), FxoState::forwarding);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));
}

TEST_F(FxoLineTest, CallerGivingUpCancelsTheForwardedCall) {
  FxoLine l = make();
  ring(l, 2000, 4000);
  ring(l, 2000, 0);  // forwarded at this ring
  clock_.advance(Millis(4000 + 2400));
  EXPECT_EQ(l.state(), FxoState::forwarding);
  clock_.advance(Millis(200));
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward", "cancel"}));
  EXPECT_FALSE(rec_.off_hook);
}

TEST_F(FxoLineTest, RefusedForwardLetsItRingOutWithoutAnswering) {
  FxoLine l = make();
  ring(l, 2000, 500);
  l.on_caller_id(message(dsp::CallerIdFormat::bell202_mdmf));
  l.on_remote_ended(EndCause::busy);
  EXPECT_EQ(l.state(), FxoState::refused);
  ring(l, 2000, 4000);
  ring(l, 2000, 4000);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));  // no second forward
  EXPECT_EQ(rec_.hook_changes, 0);
  clock_.advance(Millis(10000));
  EXPECT_EQ(l.state(), FxoState::idle);
}

TEST_F(FxoLineTest, LoopDropWhileConnectedHangsUpBothSides) {
  FxoLine l = make();
  ring(l, 2000, 500);
  l.on_caller_id(message(dsp::CallerIdFormat::bell202_mdmf));
  l.on_remote_answered();
  l.on_polarity_reversal();  // US profile: not a disconnect signal
  EXPECT_EQ(l.state(), FxoState::connected);
  l.on_loop_drop();
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_FALSE(rec_.off_hook);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward", "hangup"}));
}

TEST_F(FxoLineTest, SipHangupPutsTheLineBackOnHook) {
  FxoLine l = make();
  l.on_caller_id(message(dsp::CallerIdFormat::bell202_mdmf));
  l.on_remote_answered();
  l.on_remote_ended(EndCause::normal);
  EXPECT_FALSE(rec_.off_hook);
  EXPECT_EQ(l.state(), FxoState::idle);
  l.on_loop_drop();  // the exchange's own clearing afterwards changes nothing
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));
}

TEST_F(FxoLineTest, NttCarGetsThePrimaryResponseAndTheDataForwards) {
  FxoLine l = make("JP");
  ring(l, 500, 500);
  EXPECT_FALSE(rec_.off_hook);
  l.on_ring_start();  // the second CAR burst
  EXPECT_TRUE(rec_.off_hook);
  EXPECT_EQ(l.state(), FxoState::primary_response);
  l.on_ring_stop();
  clock_.advance(Millis(400));
  l.on_caller_id(message(dsp::CallerIdFormat::jclip));
  EXPECT_FALSE(rec_.off_hook);  // back on hook: the real ringing follows
  EXPECT_EQ(l.state(), FxoState::forwarding);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));
}

TEST_F(FxoLineTest, NttPrimaryResponseWithoutDataGoesBackOnHookAndForwardsAtTheRing) {
  FxoLine l = make("JP");
  ring(l, 500, 500);
  l.on_ring_start();
  ASSERT_TRUE(rec_.off_hook);
  clock_.advance(Millis(4000));
  EXPECT_FALSE(rec_.off_hook);
  EXPECT_EQ(l.state(), FxoState::incoming);
  ring(l, 1000, 2000);
  l.on_ring_start();  // the second real ring
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"forward"}));
}

TEST_F(FxoLineTest, UkDoubleRingIsNotCar) {
  FxoLine l = make("UK");
  ring(l, 400, 200);
  l.on_ring_start();
  EXPECT_FALSE(rec_.off_hook);
}

TEST_F(FxoLineTest, NoPrimaryResponseWhenDetectingAnotherFormat) {
  FxoLine l = make("JP", false);
  ring(l, 500, 500);
  l.on_ring_start();
  EXPECT_FALSE(rec_.off_hook);
}

// ---- outgoing calls over the exchange line ----

TEST_F(FxoLineTest, OutgoingSeizesWaitsForDialToneDialsAndIsAnsweredByReversal) {
  FxoLine l = make();
  ASSERT_TRUE(l.can_ring());
  ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
  EXPECT_TRUE(rec_.off_hook);
  EXPECT_EQ(l.state(), FxoState::seizing);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"early"}));
  l.on_progress(dsp::ProgressTone::dial);
  EXPECT_EQ(l.state(), FxoState::dialing);
  EXPECT_EQ(rec_.actions.back(), "dial 5551234");
  clock_.advance(Millis(7 * 200 + 100));
  EXPECT_EQ(l.state(), FxoState::proceeding);
  l.on_progress(dsp::ProgressTone::ringback);
  EXPECT_EQ(l.state(), FxoState::proceeding);
  l.on_polarity_reversal();  // answer supervision
  EXPECT_EQ(l.state(), FxoState::connected);
  EXPECT_EQ(rec_.actions.back(), "answer");
  l.on_polarity_reversal();  // the reversal back: the far party hung up
  EXPECT_EQ(l.state(), FxoState::idle);
  EXPECT_FALSE(rec_.off_hook);
  EXPECT_EQ(rec_.actions.back(), "hangup");
}

TEST_F(FxoLineTest, OutgoingFailuresMapToSipStatuses) {
  struct {
    dsp::ProgressTone tone;
    const char* expect;
  } cases[] = {{dsp::ProgressTone::busy, "fail 486"},
               {dsp::ProgressTone::congestion, "fail 503"},
               {dsp::ProgressTone::special_information, "fail 404"}};
  for (const auto& c : cases) {
    FxoLine l = make();
    rec_ = Recorder{};
    ASSERT_TRUE(l.offer_incoming_call({}, "911"));
    l.on_progress(dsp::ProgressTone::dial);
    clock_.advance(Millis(1000));
    l.on_progress(c.tone);
    EXPECT_EQ(rec_.actions.back(), c.expect);
    EXPECT_FALSE(rec_.off_hook);
    EXPECT_EQ(l.state(), FxoState::idle);
  }
}

TEST_F(FxoLineTest, NoDialToneFailsWith503AndReleasesTheLine) {
  FxoLine l = make();
  ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
  clock_.advance(Millis(3000));
  EXPECT_EQ(rec_.actions.back(), "fail 503");
  EXPECT_FALSE(rec_.off_hook);
}

TEST_F(FxoLineTest, SipCallerHangingUpReleasesTheLine) {
  FxoLine l = make();
  ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
  l.on_progress(dsp::ProgressTone::dial);
  l.on_remote_ended(EndCause::normal);
  EXPECT_FALSE(rec_.off_hook);
  EXPECT_EQ(l.state(), FxoState::idle);
  clock_.advance(Millis(5000));
  EXPECT_EQ(rec_.actions.back(), "dial 5551234");  // nothing after the release
}

TEST_F(FxoLineTest, BusyToneOrLoopDropWhileConnectedDisconnects) {
  for (bool loop : {false, true}) {
    FxoLine l = make();
    rec_ = Recorder{};
    ASSERT_TRUE(l.offer_incoming_call({}, "5551234"));
    l.on_progress(dsp::ProgressTone::dial);
    l.on_polarity_reversal();
    ASSERT_EQ(l.state(), FxoState::connected);
    if (loop) {
      l.on_loop_drop();
    } else {
      l.on_progress(dsp::ProgressTone::busy);
    }
    EXPECT_EQ(l.state(), FxoState::idle);
    EXPECT_EQ(rec_.actions.back(), "hangup");
  }
}

TEST_F(FxoLineTest, WithoutSupervisionTheAnswerIsTheEndOfDialingOrVoice) {
  FxoLine dialed(FxoLineConfig{.index = 0, .name = "a", .number = "1", .profile = dsp::find_tone_profile("US"),
                               .rings_before_forward = 2, .ntt_primary_response = false,
                               .ring_timeout = Millis(0), .answer_on = AnswerOn::dialed,
                               .dial_tone_timeout = Millis(3000)},
                 clock_, clock_, rec_, rec_);
  ASSERT_TRUE(dialed.offer_incoming_call({}, "12"));
  dialed.on_progress(dsp::ProgressTone::dial);
  clock_.advance(Millis(500));
  EXPECT_EQ(dialed.state(), FxoState::connected);
  EXPECT_EQ(rec_.actions.back(), "answer");

  Recorder rec2;
  FxoLine voice(FxoLineConfig{.index = 1, .name = "b", .number = "2", .profile = dsp::find_tone_profile("US"),
                              .rings_before_forward = 2, .ntt_primary_response = false,
                              .ring_timeout = Millis(0), .answer_on = AnswerOn::voice,
                              .dial_tone_timeout = Millis(3000)},
                clock_, clock_, rec2, rec2);
  ASSERT_TRUE(voice.offer_incoming_call({}, "12"));
  voice.on_progress(dsp::ProgressTone::dial);
  voice.on_voice();  // while dialing: not yet
  EXPECT_EQ(voice.state(), FxoState::dialing);
  clock_.advance(Millis(500));
  voice.on_voice();
  EXPECT_EQ(voice.state(), FxoState::connected);
}

TEST_F(FxoLineTest, ABusyOrRingingLineTakesNoOutgoingCallAndBadDigitsAreRefused) {
  FxoLine l = make();
  EXPECT_FALSE(l.offer_incoming_call({}, "12a"));
  EXPECT_FALSE(rec_.off_hook);
  l.on_ring_start();
  EXPECT_FALSE(l.can_ring());
  EXPECT_FALSE(l.offer_incoming_call({}, "12"));
}

}  // namespace
}  // namespace sipline::gateway::call
