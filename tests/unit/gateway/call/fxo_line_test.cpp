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
                                 .ring_timeout = Millis(0)},
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

}  // namespace
}  // namespace sipline::gateway::call
