#include "call/fxs_line.hpp"

#include <functional>
#include <memory>
#include <optional>
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
  void set_polarity(std::size_t, bool r) override { reversed = r; }
  void play_signal(std::size_t, std::vector<int16_t> samples) override {
    signals.push_back(samples.size());
    signal_playing = !samples.empty();
  }
  void disconnect_battery(std::size_t, int ms) override { battery_drops.push_back(ms); }
  std::vector<int> battery_drops;
  bool reversed = false;
  bool signal_playing = false;
  std::vector<std::size_t> signals;  // sample counts of the signals played (0 = stop)
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
                              .caller_id_format = {},
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

// (With caller ID the NTT CAR signal comes first: FxsCallerIdTest.)
TEST_F(FxsLineTest, JapaneseLineWithoutCallerIdRingsOneSecondOnTwoOff) {
  FxsLine jp{FxsLineConfig{.index = 1,
                           .name = "jp",
                           .number = "1",
                           .profile = dsp::find_tone_profile("JP"),
                           .caller_id_format = dsp::CallerIdFormat::none},
             clock_, rec_, rec_};
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

// ---- caller ID sequences (the timing values come from each profile) ----

class FxsCallerIdTest : public ::testing::Test {
 protected:
  std::unique_ptr<FxsLine> line(const char* country, std::optional<dsp::CallerIdFormat> format = std::nullopt) {
    return std::make_unique<FxsLine>(FxsLineConfig{.index = 0,
                                                   .name = "fxs1",
                                                   .number = "201",
                                                   .profile = dsp::find_tone_profile(country),
                                                   .caller_id_format = format,
                                                   .interdigit_timeout = Millis(4000),
                                                   .first_digit_timeout = Millis(15000),
                                                   .no_answer_timeout = Millis(60000)},
                                     clock_, rec_, rec_);
  }
  // Advances in 10 ms steps until `done` or `limit` ms; returns the time taken.
  int advance_until(const std::function<bool()>& done, int limit = 20000) {
    for (int t = 0; t <= limit; t += 10) {
      if (done()) return t;
      clock_.advance(Millis(10));
    }
    ADD_FAILURE() << "condition not reached in " << limit << " ms";
    return -1;
  }
  static std::size_t samples_for(int ms) { return static_cast<std::size_t>(ms) * 8; }

  dsp::CallerId caller_{.number = "2025550150", .name = "ALICE", .month = 12, .day = 1, .hour = 9, .minute = 30};
  base::ManualClock clock_;
  Recorder rec_;
};

TEST_F(FxsCallerIdTest, BellDataGoesInTheSilenceAfterTheFirstRingAndTheCadenceKeepsItsTiming) {
  auto l = line("US");
  const auto t = l->caller_id_timing();
  ASSERT_EQ(t.alert, dsp::CallerIdAlert::first_ring);
  const auto& cadence = dsp::find_tone_profile("US")->ring_cadence_ms;
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  EXPECT_TRUE(rec_.ringing);
  EXPECT_TRUE(rec_.signals.empty());
  EXPECT_EQ(advance_until([&] { return !rec_.ringing; }), cadence[0]);
  EXPECT_EQ(advance_until([&] { return !rec_.signals.empty(); }), t.data_delay_ms);
  ASSERT_EQ(rec_.signals.size(), 1u);
  EXPECT_GT(rec_.signals[0], samples_for(100));
  EXPECT_FALSE(rec_.reversed);
  // The second ring comes where the cadence puts it: the data fits the silence.
  EXPECT_EQ(advance_until([&] { return rec_.ringing; }), cadence[1] - t.data_delay_ms);
  EXPECT_EQ(rec_.ring_edges, 2);
}

TEST_F(FxsCallerIdTest, LineReversalAndDtAsComeBeforeTheDataAndTheFirstRing) {
  for (const char* country : {"UK", "FR"}) {
    SCOPED_TRACE(country);
    rec_ = Recorder{};
    auto l = line(country);
    const auto t = l->caller_id_timing();
    ASSERT_EQ(t.alert, dsp::CallerIdAlert::dt_as);
    ASSERT_TRUE(l->offer_incoming_call(caller_));
    EXPECT_TRUE(rec_.reversed);
    EXPECT_FALSE(rec_.ringing);
    EXPECT_EQ(advance_until([&] { return rec_.signals.size() == 1; }), t.reversal_ms);
    EXPECT_EQ(rec_.signals[0], samples_for(t.alert_ms));  // DT-AS
    EXPECT_EQ(advance_until([&] { return rec_.signals.size() == 2; }), t.alert_ms + t.data_delay_ms);
    const std::size_t data = rec_.signals[1];
    EXPECT_GT(data, samples_for(100));
    const int data_ms = static_cast<int>(data / 8);
    EXPECT_NEAR(advance_until([&] { return rec_.ringing; }), data_ms + t.ring_delay_ms, 10);
    EXPECT_FALSE(rec_.reversed);  // normal polarity again for the ringing
    EXPECT_EQ(rec_.ring_edges, 1);
  }
}

TEST_F(FxsCallerIdTest, RingPulseAlertThenDataThenRinging) {
  auto l = line("DE");
  const auto t = l->caller_id_timing();
  ASSERT_EQ(t.alert, dsp::CallerIdAlert::rp_as);
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  EXPECT_TRUE(rec_.ringing);
  EXPECT_EQ(advance_until([&] { return !rec_.ringing; }), t.alert_ms);
  EXPECT_EQ(advance_until([&] { return !rec_.signals.empty(); }), t.data_delay_ms);
  const int data_ms = static_cast<int>(rec_.signals[0] / 8);
  EXPECT_NEAR(advance_until([&] { return rec_.ringing; }), data_ms + t.ring_delay_ms, 10);
  EXPECT_EQ(rec_.ring_edges, 2);
}

TEST_F(FxsCallerIdTest, NttCarPrimaryResponseIsNotAnAnswer) {
  auto l = line("JP");
  const auto t = l->caller_id_timing();
  ASSERT_EQ(t.alert, dsp::CallerIdAlert::ntt_car);
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  EXPECT_TRUE(rec_.ringing);
  clock_.advance(Millis(t.car_cadence_ms[0] + t.car_cadence_ms[1] + 100));  // the second CAR burst
  EXPECT_TRUE(rec_.ringing);
  l->on_off_hook();  // the primary response
  EXPECT_FALSE(rec_.ringing);
  EXPECT_EQ(l->state(), LineState::ringing);
  EXPECT_TRUE(rec_.actions.empty());
  EXPECT_EQ(advance_until([&] { return !rec_.signals.empty(); }), t.data_delay_ms);
  clock_.advance(Millis(static_cast<int>(rec_.signals[0] / 8)));
  l->on_on_hook();  // the phone has the data and hangs up
  EXPECT_EQ(l->state(), LineState::ringing);
  EXPECT_EQ(advance_until([&] { return rec_.ringing; }), t.ring_delay_ms);
  const auto& cadence = dsp::find_tone_profile("JP")->ring_cadence_ms;
  EXPECT_EQ(advance_until([&] { return !rec_.ringing; }), cadence[0]);  // a real ring now
  l->on_off_hook();
  EXPECT_EQ(l->state(), LineState::connected);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"answer"}));
}

TEST_F(FxsCallerIdTest, NttPhoneWithoutPrimaryResponseIsRungWithoutCallerId) {
  auto l = line("JP");
  const auto t = l->caller_id_timing();
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  clock_.advance(Millis(t.car_timeout_ms));
  EXPECT_TRUE(rec_.ringing);
  const auto& cadence = dsp::find_tone_profile("JP")->ring_cadence_ms;
  EXPECT_EQ(advance_until([&] { return !rec_.ringing; }), cadence[0]);
  EXPECT_TRUE(rec_.signals.empty());
}

TEST_F(FxsCallerIdTest, NttPrimaryResponseThatStaysOffHookIsTheAnswer) {
  auto l = line("JP");
  const auto t = l->caller_id_timing();
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  clock_.advance(Millis(t.car_cadence_ms[0] + t.car_cadence_ms[1] + 100));
  l->on_off_hook();
  EXPECT_GT(advance_until([&] { return !rec_.actions.empty(); }), t.data_delay_ms);
  EXPECT_EQ(l->state(), LineState::connected);
  EXPECT_EQ(rec_.actions, (std::vector<std::string>{"answer"}));
}

TEST_F(FxsCallerIdTest, AnsweringDuringTheSequenceStopsItAndRestoresPolarity) {
  auto l = line("UK");
  const auto t = l->caller_id_timing();
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  clock_.advance(Millis(t.reversal_ms + t.alert_ms + t.data_delay_ms + 50));  // data playing
  ASSERT_TRUE(rec_.signal_playing);
  l->on_off_hook();
  EXPECT_FALSE(rec_.signal_playing);
  EXPECT_FALSE(rec_.reversed);
  EXPECT_EQ(l->state(), LineState::connected);
  clock_.advance(Millis(10000));
  EXPECT_FALSE(rec_.ringing);
  EXPECT_EQ(rec_.ring_edges, 0);
}

TEST_F(FxsCallerIdTest, CallerCancelDuringTheSequenceLeavesTheLineQuiet) {
  auto l = line("FR");
  const auto t = l->caller_id_timing();
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  clock_.advance(Millis(t.reversal_ms + 20));  // DT-AS playing
  l->on_remote_ended(EndCause::normal);
  EXPECT_EQ(l->state(), LineState::idle);
  EXPECT_FALSE(rec_.signal_playing);
  EXPECT_FALSE(rec_.reversed);
  clock_.advance(Millis(10000));
  EXPECT_EQ(rec_.ring_edges, 0);
  EXPECT_EQ(rec_.signals.size(), 2u);  // the alert tone, then its stop: no data
}

TEST_F(FxsCallerIdTest, PortOverrideNoneRingsWithoutCallerId) {
  auto l = line("UK", dsp::CallerIdFormat::none);
  ASSERT_TRUE(l->offer_incoming_call(caller_));
  EXPECT_TRUE(rec_.ringing);
  EXPECT_FALSE(rec_.reversed);
  clock_.advance(Millis(10000));
  EXPECT_TRUE(rec_.signals.empty());
}

TEST_F(FxsCallerIdTest, PortOverrideChangesTheFormatButKeepsTheCountryTiming) {
  auto l = line("US", dsp::CallerIdFormat::bell202_sdmf);
  EXPECT_EQ(l->caller_id_timing().format, dsp::CallerIdFormat::bell202_sdmf);
  EXPECT_EQ(l->caller_id_timing().alert, dsp::CallerIdAlert::first_ring);
}

}  // namespace
}  // namespace sipline::gateway::call
