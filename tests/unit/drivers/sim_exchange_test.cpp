// The sim driver's FXO ports and their simulated exchange, driven tick by tick
// as a media worker does: what the exchange sends (read()) is analysed with
// the dsp detectors, what the gateway sends (write()) is synthesized here.
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sipline/drivers/sim_driver.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/goertzel.hpp"
#include "sipline/dsp/tone_profile.hpp"
#include "unit/drivers/sim_test_util.hpp"

namespace sipline::drivers {
namespace {

using test::Sine;

struct TimedEvent {
  int tick = 0;
  LineEventType type = LineEventType::alarm;
};

// Ticks for the exchange to see an open loop as a release (flash_max_ms = 900).
constexpr int kReleaseTicks = dsp::HookTiming{}.flash_max_ms / 20 + 1;

const dsp::CallerId kCaller{.number = "2025550150", .name = "ALICE", .month = 12, .day = 1, .hour = 9, .minute = 30};

// One exchange line (port 0) with a few subscribers, ticked by hand.
class Rig {
 public:
  explicit Rig(SimExchangeLineConfig line = {}, std::vector<SimSubscriberConfig> subscribers = default_subscribers())
      : d_({.exchange_lines = {std::move(line)}, .subscribers = std::move(subscribers)}) {}

  static std::vector<SimSubscriberConfig> default_subscribers() {
    return {
        {.number = "5551234", .answer_after_ms = 1000, .tone_hz = 1000},
        {.number = "5550000", .behaviour = SimSubscriberConfig::Behaviour::busy},
        {.number = "5559999", .behaviour = SimSubscriberConfig::Behaviour::no_answer},
    };
  }

  SimDriver& driver() { return d_; }
  LinePort& port() { return d_.port(0); }
  int now() const { return now_; }
  std::vector<TimedEvent>& events() { return events_; }

  // Runs `n` ticks; `to_line` makes what the gateway sends (silence if empty);
  // `each` sees each frame the exchange sent. Returns all the frames read.
  std::vector<int16_t> run(int n, const std::function<base::AudioFrame()>& to_line = {},
                           const std::function<void(const base::AudioFrame&)>& each = {}) {
    std::vector<int16_t> out;
    for (int i = 0; i < n; ++i) {
      ++now_;
      const auto heard = test::tick(port(), to_line ? to_line() : base::AudioFrame{});
      out.insert(out.end(), heard.begin(), heard.end());
      all_.insert(all_.end(), heard.begin(), heard.end());
      if (each) each(heard);
      d_.drain_events([&](const LineEvent& e) {
        EXPECT_EQ(e.port, 0u);
        events_.push_back({now_, e.type});
      });
      const auto st = status().state;
      if (states_.empty() || states_.back().second != st) states_.emplace_back(now_, st);
    }
    return out;
  }

  // The first tick (1-based) at which the exchange was in `state`; 0 = never.
  int when(const std::string& state) const {
    for (const auto& [tick, st] : states_)
      if (st == state) return tick;
    return 0;
  }

  // What the exchange sent in ticks [from_tick, from_tick + n).
  std::vector<int16_t> frames(int from_tick, int n) const {
    const auto b = all_.begin() + (from_tick - 1) * static_cast<int>(base::kFrameSamples);
    return {b, b + n * static_cast<int>(base::kFrameSamples)};
  }

  // The gateway goes on hook; the exchange takes it as a release once the
  // loop has been open longer than flash_max_ms (900 ms: 46 ticks).
  void release() {
    port().set_hook(false);
    run(kReleaseTicks);
  }

  // Writes DTMF digits as the gateway does (100 ms on, 100 ms off).
  void dial(const std::string& digits) {
    dsp::DtmfGenerator gen;
    gen.queue(digits, 100, 100);
    run(static_cast<int>(digits.size()) * 10 + 2, [&] {
      base::AudioFrame f;
      gen.generate(f);
      return f;
    });
  }

  SimExchangeStatus status() {
    auto s = d_.exchange_status(0);
    EXPECT_TRUE(s) << s.error().message();
    return s ? *s : SimExchangeStatus{};
  }

  std::vector<LineEventType> event_types() const {
    std::vector<LineEventType> out;
    for (const auto& e : events_) out.push_back(e.type);
    return out;
  }

 private:
  SimDriver d_;
  int now_ = 0;
  std::vector<TimedEvent> events_;
  std::vector<int16_t> all_;
  std::vector<std::pair<int, std::string>> states_;
};

double ratio(const std::vector<int16_t>& audio, double hz) { return dsp::tone_power_ratio(audio, hz); }

// Ticks (1-based) at which events of `type` happened.
std::vector<int> ticks_of(const std::vector<TimedEvent>& events, LineEventType type) {
  std::vector<int> out;
  for (const auto& e : events)
    if (e.type == type) out.push_back(e.tick);
  return out;
}

// ---- ports and API ----

TEST(SimExchange, FxoPortsFollowThePhonesAndRefuseTheWrongApi) {
  SimDriver d({.phones = {{.name = "fxs1"}}, .exchange_lines = {{.name = "pstn"}, {}}});
  ASSERT_EQ(d.port_count(), 3u);
  EXPECT_EQ(d.port(0).kind(), PortKind::fxs);
  EXPECT_EQ(d.port(1).kind(), PortKind::fxo);
  EXPECT_EQ(d.port(1).name(), "pstn");
  EXPECT_EQ(d.port(2).name(), "fxo2");
  EXPECT_EQ(d.port(2).index(), 2u);

  auto r = d.off_hook(1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_port));
  EXPECT_NE(r.error().message().find("FXO"), std::string::npos) << r.error().message();
  EXPECT_FALSE(d.status(2));
  auto e = d.exchange_call(0, {});
  ASSERT_FALSE(e);
  EXPECT_TRUE(e.error().is(SimError::bad_port));
  EXPECT_FALSE(d.exchange_status(3));
  EXPECT_FALSE(d.exchange_hangup(0));
  EXPECT_TRUE(d.exchange_status(1));
  EXPECT_EQ(d.exchange_status(1)->state, "idle");
  EXPECT_FALSE(d.exchange_listen(1, 5000));
}

TEST(SimExchange, SetRingAndSetPolarityDoNothingOnFxo) {
  Rig rig;
  rig.port().set_ring(true);
  rig.port().set_polarity(true);
  const auto audio = rig.run(5);
  EXPECT_TRUE(rig.events().empty());
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);
  EXPECT_FALSE(rig.status().ringing);
  EXPECT_FALSE(rig.status().polarity_reversed);
}

// ---- outgoing calls ----

TEST(SimExchange, SeizureGivesDialTone) {
  Rig rig;
  rig.port().set_hook(true);
  const auto audio = rig.run(10);
  EXPECT_NEAR(ratio(audio, 350), 0.5, 0.1);
  EXPECT_NEAR(ratio(audio, 440), 0.5, 0.1);
  const auto s = rig.status();
  EXPECT_EQ(s.state, "dialtone");
  EXPECT_TRUE(s.seized);
  EXPECT_TRUE(rig.events().empty());
}

TEST(SimExchange, DialToneFollowsTheProfile) {
  Rig rig({.profile = dsp::find_tone_profile("UK")});
  rig.port().set_hook(true);
  const auto audio = rig.run(10);
  EXPECT_NEAR(ratio(audio, 350), 0.5, 0.1);
  EXPECT_NEAR(ratio(audio, 450), 0.5, 0.1);
}

TEST(SimExchange, CollectsDtmfDigitsAndStopsTheDialTone) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("55");
  auto s = rig.status();
  EXPECT_EQ(s.state, "collecting");
  EXPECT_EQ(s.digits, "55");
  const auto audio = rig.run(10);
  EXPECT_LT(ratio(audio, 350), 0.05);  // no dial tone after the first digit
}

TEST(SimExchange, SubscriberAnswersAfterRingbackWithAPolarityReversal) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  auto s = rig.status();
  EXPECT_EQ(s.state, "ringing_far");  // complete at once: it is a subscriber's number
  EXPECT_EQ(s.far_number, "5551234");
  const int routed = rig.when("ringing_far");
  const auto ringback = rig.run(20);
  EXPECT_NEAR(ratio(ringback, 440), 0.5, 0.1);
  EXPECT_NEAR(ratio(ringback, 480), 0.5, 0.1);
  EXPECT_TRUE(rig.events().empty());

  rig.run(40);
  const auto reversals = ticks_of(rig.events(), LineEventType::polarity_reversal);
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(reversals[0] - routed, 50);  // answer_after_ms = 1000
  EXPECT_EQ(rig.when("connected"), reversals[0]);
  s = rig.status();
  EXPECT_EQ(s.state, "connected");
  EXPECT_TRUE(s.polarity_reversed);

  // Both ways: the far party's 1000 Hz in read(), the gateway's 1209 Hz heard by the far party.
  ASSERT_TRUE(rig.driver().exchange_listen(0, 1209));
  Sine gateway(1209, 8000);
  const auto far = rig.run(15, [&] { return gateway.next(); });
  EXPECT_GT(ratio(far, 1000), 0.9);
  s = rig.status();
  EXPECT_EQ(s.listen_hz, 1209);
  EXPECT_GT(s.listen_ratio, 0.9);
}

TEST(SimExchange, NoAnswerPolarityReversalWhenTheLineIsConfiguredWithout) {
  Rig rig({.answer_polarity_reversal = false});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  EXPECT_EQ(rig.status().state, "connected");
  EXPECT_TRUE(rig.events().empty());
}

TEST(SimExchange, BusySubscriberGivesBusyTone) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5550000");
  EXPECT_EQ(rig.status().state, "busy");
  rig.run(60);  // US busy: 480 + 620 Hz, 0.5 s on, 0.5 s off
  const int from = rig.when("busy");
  EXPECT_NEAR(ratio(rig.frames(from + 1, 20), 480), 0.5, 0.1);
  EXPECT_NEAR(ratio(rig.frames(from + 1, 20), 620), 0.5, 0.1);
  EXPECT_LT(dsp::level_dbfs(rig.frames(from + 27, 20)), -60.0);
}

TEST(SimExchange, DialingTheLinesOwnNumberGivesBusy) {
  Rig rig({.number = "4321"});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("4321");
  EXPECT_EQ(rig.status().state, "busy");
}

TEST(SimExchange, NoAnswerRingsBackForever) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5559999");
  rig.run(30 * 50);
  EXPECT_EQ(rig.status().state, "ringing_far");
  EXPECT_TRUE(rig.events().empty());
}

TEST(SimExchange, UnknownNumberGetsSitThenCongestionAfterTheInterdigitTimeout) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  const int dialed = rig.now();
  rig.dial("123");
  EXPECT_EQ(rig.status().state, "collecting");
  rig.run(300);
  // The last digit starts 20 ticks (2 x 200 ms) into the dialing; complete 3 s (150 ticks) later.
  const int routed = rig.when("unobtainable");
  EXPECT_NEAR(routed - dialed, 21 + 150, 3);
  EXPECT_EQ(rig.status().far_number, "123");
  // SIT: 950, 1400, 1800 Hz, 330 ms each (16.5 frames).
  EXPECT_GT(ratio(rig.frames(routed + 1, 14), 950), 0.8);
  EXPECT_GT(ratio(rig.frames(routed + 18, 14), 1400), 0.8);
  EXPECT_GT(ratio(rig.frames(routed + 35, 14), 1800), 0.8);
  EXPECT_LT(dsp::level_dbfs(rig.frames(routed + 52, 45)), -60.0);
  // After SIT's 1 s of silence (1.99 s in all): congestion (480 + 620 Hz).
  EXPECT_NEAR(ratio(rig.frames(routed + 101, 10), 480), 0.5, 0.1);
  EXPECT_NEAR(ratio(rig.frames(routed + 101, 10), 620), 0.5, 0.1);
}

TEST(SimExchange, ReleaseReturnsToIdleAndRestoresThePolarity) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  ASSERT_EQ(rig.status().state, "connected");
  rig.port().set_hook(false);
  const auto audio = rig.run(kReleaseTicks);
  auto s = rig.status();
  EXPECT_EQ(s.state, "idle");
  EXPECT_FALSE(s.seized);
  EXPECT_FALSE(s.polarity_reversed);
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::polarity_reversal).size(), 2u);
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);  // an open loop carries nothing
  // A new seizure starts afresh.
  rig.port().set_hook(true);
  rig.run(2);
  EXPECT_EQ(rig.status().state, "dialtone");
  EXPECT_EQ(rig.status().digits, "");
}

// ---- far-party hangup ----

TEST(SimExchange, FarHangupWithLoopDrop) {
  Rig rig({.disconnect = SimExchangeLineConfig::Disconnect::loop_drop, .loop_drop_ms = 800});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  rig.events().clear();
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  const auto audio = rig.run(40);
  EXPECT_EQ(rig.event_types(), std::vector<LineEventType>{LineEventType::loop_drop});
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);  // no far tone any more
  EXPECT_EQ(rig.status().state, "disconnected");
  rig.release();
  EXPECT_EQ(rig.status().state, "idle");
}

TEST(SimExchange, FarHangupWithPolarityReversal) {
  Rig rig({.disconnect = SimExchangeLineConfig::Disconnect::polarity_reversal});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  ASSERT_TRUE(rig.status().polarity_reversed);
  rig.events().clear();
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  rig.run(2);
  EXPECT_EQ(rig.event_types(), std::vector<LineEventType>{LineEventType::polarity_reversal});
  EXPECT_FALSE(rig.status().polarity_reversed);
  EXPECT_EQ(rig.status().state, "disconnected");
  rig.release();
  EXPECT_EQ(rig.status().state, "idle");
  EXPECT_EQ(rig.events().size(), 1u);  // already normal: no reversal on release
}

TEST(SimExchange, FarHangupWithBusyTone) {
  Rig rig({.disconnect = SimExchangeLineConfig::Disconnect::busy_tone});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  rig.events().clear();
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  const auto audio = rig.run(20);
  EXPECT_NEAR(ratio(audio, 480), 0.5, 0.1);
  EXPECT_LT(ratio(audio, 1000), 0.05);
  EXPECT_TRUE(rig.events().empty());
  EXPECT_EQ(rig.status().state, "disconnected");
}

TEST(SimExchange, SubscriberHangsUpByItself) {
  Rig rig({}, {{.number = "77", .answer_after_ms = 100, .tone_hz = 600, .hangup_after_ms = 1000}});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("77");
  rig.run(10);
  EXPECT_EQ(rig.status().state, "connected");
  rig.run(50);
  EXPECT_EQ(rig.status().state, "disconnected");
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::loop_drop).size(), 1u);
}

// ---- incoming calls ----

TEST(SimExchange, IncomingUsCallRingsWithTheCadenceAndSendsBell202BetweenRings) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller}));
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::none, true);
  int decoded_at = 0;
  dsp::CallerIdMessage msg;
  rig.run(700, {}, [&](const base::AudioFrame& f) {
    rx.process(f);
    if (const auto* m = rx.take()) {
      msg = *m;
      decoded_at = rig.now() + 1;
    }
  });
  // US: 2 s on, 4 s off.
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::ring_start), (std::vector<int>{1, 301, 601}));
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::ring_stop), (std::vector<int>{101, 401}));
  EXPECT_GT(decoded_at, 101 + 25);  // data_delay_ms = 500 after the first ring
  EXPECT_LT(decoded_at, 301);
  EXPECT_EQ(msg.format, dsp::CallerIdFormat::bell202_mdmf);
  EXPECT_EQ(msg.id, kCaller);
  const auto s = rig.status();
  EXPECT_EQ(s.state, "ringing_line");
  EXPECT_EQ(s.rings, 3);
  EXPECT_EQ(s.far_number, "2025550150");
  EXPECT_TRUE(s.ringing);
}

TEST(SimExchange, IncomingCallWithoutCallerIdJustRings) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller, .format = dsp::CallerIdFormat::none}));
  const auto audio = rig.run(300);
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::ring_start), std::vector<int>{1});
}

// UK and France: reversal, DT-AS, data, reversal back, then ringing.
void expect_dt_as_call(const char* country, dsp::CallerIdFormat sent_as, const std::vector<int>& cadence) {
  SCOPED_TRACE(country);
  Rig rig({.profile = dsp::find_tone_profile(country)});
  const auto& t = dsp::find_tone_profile(country)->caller_id;
  ASSERT_EQ(t.alert, dsp::CallerIdAlert::dt_as);
  ASSERT_EQ(t.format, sent_as);
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller}));
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::none, true);
  int decoded_at = 0;
  dsp::CallerIdMessage msg;
  const auto audio = rig.run(400, {}, [&](const base::AudioFrame& f) {
    rx.process(f);
    if (const auto* m = rx.take()) {
      msg = *m;
      decoded_at = rig.now() + 1;
    }
  });
  const auto reversals = ticks_of(rig.events(), LineEventType::polarity_reversal);
  const auto starts = ticks_of(rig.events(), LineEventType::ring_start);
  const auto stops = ticks_of(rig.events(), LineEventType::ring_stop);
  ASSERT_EQ(reversals.size(), 2u);
  ASSERT_GE(starts.size(), 2u);
  ASSERT_GE(stops.size(), 1u);
  EXPECT_EQ(reversals[0], 1);
  EXPECT_EQ(rig.events()[0].type, LineEventType::polarity_reversal);
  // DT-AS after reversal_ms, alert_ms long.
  const int tone_from = reversals[0] + (t.reversal_ms + 19) / 20;
  const auto tone = rig.frames(tone_from, t.alert_ms / 20);
  EXPECT_NEAR(ratio(tone, 2130), 0.5, 0.1);
  EXPECT_NEAR(ratio(tone, 2750), 0.5, 0.1);
  EXPECT_LT(dsp::level_dbfs(rig.frames(1, tone_from - 1)), -100.0);  // silence before it
  EXPECT_LT(dsp::level_dbfs(rig.frames(tone_from + t.alert_ms / 20, 2)), -100.0);  // and after it
  // The data, before the polarity returns, then the first ring after ring_delay_ms.
  EXPECT_GT(decoded_at, tone_from);
  EXPECT_LE(decoded_at, reversals[1]);
  EXPECT_EQ(msg.format, dsp::CallerIdFormat::etsi);
  EXPECT_EQ(msg.id.number, kCaller.number);
  EXPECT_GE(starts[0] - reversals[1], t.ring_delay_ms / 20);
  EXPECT_EQ(stops[0] - starts[0], cadence[0] / 20);
  EXPECT_EQ(starts[1] - stops[0], cadence[1] / 20);
  EXPECT_FALSE(rig.status().polarity_reversed);
  EXPECT_EQ(rig.status().state, "ringing_line");
}

TEST(SimExchange, UkCallerIdUsesReversalDtAsAndBtData) {
  expect_dt_as_call("UK", dsp::CallerIdFormat::bt, {400, 200, 400, 2000});
}

TEST(SimExchange, FrenchCallerIdUsesReversalDtAsAndEtsiData) {
  expect_dt_as_call("FR", dsp::CallerIdFormat::etsi, {1500, 3500});
}

TEST(SimExchange, RpAsSendsAShortRingPulseBeforeTheData) {
  Rig rig({.profile = dsp::find_tone_profile("DE")});
  ASSERT_TRUE(rig.driver().exchange_call(
      0, {.caller = kCaller, .format = dsp::CallerIdFormat::etsi, .alert = dsp::CallerIdAlert::rp_as}));
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::none, true);
  int decoded_at = 0;
  rig.run(300, {}, [&](const base::AudioFrame& f) {
    rx.process(f);
    if (rx.take()) decoded_at = rig.now() + 1;
  });
  const auto starts = ticks_of(rig.events(), LineEventType::ring_start);
  const auto stops = ticks_of(rig.events(), LineEventType::ring_stop);
  ASSERT_GE(starts.size(), 2u);
  ASSERT_GE(stops.size(), 1u);
  EXPECT_EQ(starts[0], 1);
  EXPECT_LE(stops[0] - starts[0], 15);  // a pulse, not a ring
  EXPECT_GT(decoded_at, stops[0]);
  EXPECT_LT(decoded_at, starts[1]);
  EXPECT_EQ(rig.status().rings, 1);  // the pulse is not counted
}

TEST(SimExchange, NttCarUntilThePrimaryResponseThenDataThenRinging) {
  Rig rig({.profile = dsp::find_tone_profile("JP")});
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller, .tone_hz = 700}));
  rig.run(60);  // CAR: 500 ms on, 500 ms off
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::ring_start), (std::vector<int>{1, 51}));
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::ring_stop), (std::vector<int>{26}));
  EXPECT_EQ(rig.status().state, "caller_id");
  EXPECT_EQ(rig.status().rings, 0);

  rig.events().clear();
  rig.port().set_hook(true);  // the primary response
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::none, true);
  dsp::CallerIdMessage msg;
  bool done = false;
  for (int i = 0; i < 200 && !done; ++i) {
    rig.run(1, {}, [&](const base::AudioFrame& f) {
      rx.process(f);
      if (const auto* m = rx.take()) {
        msg = *m;
        done = true;
      }
    });
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(msg.format, dsp::CallerIdFormat::jclip);
  EXPECT_EQ(msg.id.number, kCaller.number);
  EXPECT_EQ(rig.event_types(), std::vector<LineEventType>{LineEventType::ring_stop});
  EXPECT_EQ(rig.events()[0].tick, 62);  // the seizure counts after debounce_ms (30 ms: 2 ticks)
  EXPECT_TRUE(rig.status().seized);
  EXPECT_EQ(rig.status().state, "caller_id");

  rig.events().clear();
  rig.port().set_hook(false);  // end of the primary response
  const int on_hook = rig.now() + 1;
  rig.run(120);
  const auto starts = ticks_of(rig.events(), LineEventType::ring_start);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_NEAR(starts[0] - on_hook, kReleaseTicks - 1 + 10, 1);  // on hook after flash_max_ms, then ring_delay_ms = 200
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::ring_stop), std::vector<int>{starts[0] + 50});  // 1 s on
  EXPECT_EQ(rig.status().state, "ringing_line");
  EXPECT_EQ(rig.status().rings, 1);

  // Answered: the caller's tone.
  rig.port().set_hook(true);
  rig.run(2);
  EXPECT_EQ(rig.status().state, "connected");
  EXPECT_GT(ratio(rig.run(10), 700), 0.9);
}

TEST(SimExchange, NttRingsWithoutCallerIdWhenThePortNeverResponds) {
  Rig rig({.profile = dsp::find_tone_profile("JP")});
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller}));
  const auto audio = rig.run(300 + 10 + 60);
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);  // no data
  const auto starts = ticks_of(rig.events(), LineEventType::ring_start);
  const auto stops = ticks_of(rig.events(), LineEventType::ring_stop);
  // CAR bursts at 0, 1, 2 ... 5 s, then after the 6 s timeout and ring_delay_ms the first normal ring.
  ASSERT_EQ(starts.size(), 7u);
  EXPECT_EQ(starts[5], 251);
  EXPECT_GE(starts[6], 301 + 10);
  EXPECT_EQ(rig.status().rings, 1);
  EXPECT_EQ(rig.status().state, "ringing_line");
  ASSERT_EQ(stops.size(), 7u);
  EXPECT_EQ(stops[5], 276);
  EXPECT_EQ(stops[6], starts[6] + 50);
}

TEST(SimExchange, AnswerStopsRingingAndConnectsBothWays) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller, .tone_hz = 800, .listen_hz = 1336}));
  rig.run(50);
  rig.port().set_hook(true);
  rig.run(2);
  EXPECT_EQ(rig.event_types(), (std::vector<LineEventType>{LineEventType::ring_start, LineEventType::ring_stop}));
  EXPECT_EQ(rig.events()[1].tick, 52);  // debounce_ms = 30: the second tick off hook
  auto s = rig.status();
  EXPECT_EQ(s.state, "connected");
  EXPECT_FALSE(s.ringing);
  EXPECT_TRUE(s.seized);
  Sine gateway(1336, 8000);
  const auto audio = rig.run(15, [&] { return gateway.next(); });
  EXPECT_GT(ratio(audio, 800), 0.9);
  s = rig.status();
  EXPECT_EQ(s.listen_hz, 1336);
  EXPECT_GT(s.listen_ratio, 0.9);
  rig.run(500);
  EXPECT_EQ(rig.events().size(), 2u);  // no more ringing

  // Far hangup, then release.
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  rig.run(1);
  EXPECT_EQ(rig.events().back().type, LineEventType::loop_drop);
  rig.release();
  EXPECT_EQ(rig.status().state, "idle");
}

TEST(SimExchange, UnansweredIncomingCallGivesUpAfterSixtySeconds) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller}));
  rig.run(2990);
  EXPECT_EQ(rig.status().state, "ringing_line");
  rig.run(20);
  EXPECT_EQ(rig.status().state, "idle");
  EXPECT_FALSE(rig.status().ringing);
  EXPECT_EQ(rig.status().rings, 10);
}

TEST(SimExchange, CallerAbandonsWhileRinging) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller}));
  rig.run(20);
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  rig.run(1);
  EXPECT_EQ(rig.event_types(), (std::vector<LineEventType>{LineEventType::ring_start, LineEventType::ring_stop}));
  EXPECT_EQ(rig.status().state, "idle");
}

TEST(SimExchange, RefusesASecondCallOnABusyLine) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller}));
  auto r = rig.driver().exchange_call(0, {.caller = kCaller});  // posted, not yet applied
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::busy));
  rig.run(5);
  EXPECT_FALSE(rig.driver().exchange_call(0, {.caller = kCaller}));

  Rig seized;
  seized.port().set_hook(true);
  r = seized.driver().exchange_call(0, {.caller = kCaller});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::busy));
  EXPECT_FALSE(seized.driver().exchange_call(0, {.tone_hz = 5000}));
}

// ---- pulse dialing by the gateway ----

// Ticks the port's dialer takes for `digits`: 5 per pulse (60 ms break, 40 ms
// make), then the 700 ms (35 ticks) interdigit pause after each digit.
int pulse_ticks(const std::string& digits) {
  int n = 0;
  for (const char d : digits) n += (d == '0' ? 10 : d - '0') * 5 + 35;
  return n;
}

TEST(SimExchange, PulseDialedNumberIsCollectedAndConnected) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  ASSERT_EQ(rig.status().state, "dialtone");
  const int dialed = rig.now() + 1;  // the dialer starts at the next tick
  rig.port().pulse_dial("5551234");
  int not_seized = 0;
  rig.run(pulse_ticks("5551234") + 1, {}, [&](const base::AudioFrame&) {
    if (!rig.status().seized) ++not_seized;
  });
  EXPECT_EQ(not_seized, 0);  // no break was taken for a hang-up
  auto s = rig.status();
  EXPECT_EQ(s.digits, "5551234");
  EXPECT_EQ(s.far_number, "5551234");
  EXPECT_EQ(s.state, "ringing_far");
  // The first digit (five pulses) counts after a make of pulse_interdigit_ms
  // (250 ms) that begins 40 ms before the fifth pulse ends.
  EXPECT_EQ(rig.when("collecting") - dialed, 25 - 2 + 12);
  // The last digit: complete at once, while the dialer pauses.
  EXPECT_EQ(rig.when("ringing_far") - dialed, pulse_ticks("5551234") - 35 - 2 + 12);
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::dial_complete), std::vector<int>{dialed + pulse_ticks("5551234")});
  // Ringback, then the answer.
  const auto ringback = rig.run(20);
  EXPECT_NEAR(ratio(ringback, 440), 0.5, 0.1);
  EXPECT_NEAR(ratio(ringback, 480), 0.5, 0.1);
  rig.run(60);
  EXPECT_EQ(rig.status().state, "connected");
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::polarity_reversal).size(), 1u);
}

TEST(SimExchange, PulseBreaksAreSilentAndZeroIsTenPulses) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.port().pulse_dial("0");
  const auto audio = rig.run(pulse_ticks("0") + 1);
  EXPECT_EQ(rig.status().digits, "0");
  EXPECT_EQ(rig.status().state, "collecting");
  // Dial tone until the first break, silence in each break, nothing after the digit.
  EXPECT_LT(dsp::level_dbfs(std::vector<int16_t>(audio.begin(), audio.begin() + 3 * 160)), -100.0);
  EXPECT_GT(dsp::level_dbfs(std::vector<int16_t>(audio.begin() + 3 * 160, audio.begin() + 5 * 160)), -40.0);
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::dial_complete).size(), 1u);
}

TEST(SimExchange, APulseBreakIsNotAHangUpButARealOneStillIs) {
  Rig rig;
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  ASSERT_EQ(rig.status().state, "connected");
  // Pulses on a connected call: breaks well under flash_max_ms, the call stays up.
  rig.port().pulse_dial("99");
  rig.run(pulse_ticks("99") + 1);
  EXPECT_EQ(rig.status().state, "connected");
  EXPECT_EQ(rig.status().digits, "5551234");  // no longer collecting
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::dial_complete).size(), 1u);
  // A break of 800 ms (a flash) is no release either.
  rig.port().set_hook(false);
  rig.run(40);
  rig.port().set_hook(true);
  rig.run(5);
  EXPECT_EQ(rig.status().state, "connected");
  EXPECT_TRUE(rig.status().seized);
  // On hook past flash_max_ms: released.
  rig.port().set_hook(false);
  rig.run(kReleaseTicks - 2);
  EXPECT_EQ(rig.status().state, "connected");
  rig.run(2);
  EXPECT_EQ(rig.status().state, "idle");
  EXPECT_FALSE(rig.status().seized);
}

TEST(SimExchange, GoingOnHookCancelsPulseDialingAndOnHookDialsNothing) {
  Rig rig;
  rig.port().pulse_dial("5");  // on hook: complete at once, nothing dialed
  rig.run(2);
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::dial_complete), std::vector<int>{1});
  EXPECT_EQ(rig.status().state, "idle");

  rig.events().clear();
  rig.port().set_hook(true);
  rig.run(5);
  rig.port().pulse_dial("987");
  rig.run(20);
  rig.release();
  rig.run(200);
  EXPECT_TRUE(ticks_of(rig.events(), LineEventType::dial_complete).empty());
  EXPECT_EQ(rig.status().state, "idle");
  // The next seizure dials afresh.
  rig.port().set_hook(true);
  rig.run(5);
  rig.port().pulse_dial("2");
  rig.run(pulse_ticks("2") + 1);
  EXPECT_EQ(rig.status().digits, "2");
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::dial_complete).size(), 1u);
}

TEST(SimExchange, PulseDialingWaitsForTheSeizureToBeSeen) {
  Rig rig;
  rig.port().set_hook(true);
  rig.port().pulse_dial("55");  // at once, before the exchange has seen the loop
  rig.run(pulse_ticks("55") + 3);
  EXPECT_EQ(rig.status().digits, "55");
  // The seizure counts at tick 2 (debounce_ms = 30); the dialer starts at tick 3.
  EXPECT_EQ(ticks_of(rig.events(), LineEventType::dial_complete), std::vector<int>{3 + pulse_ticks("55")});
}

TEST(SimExchange, PulseDialingFollowsTheLinesHookTiming) {
  // An exchange that takes anything up to 50 ms for a pulse: the dialer's 60 ms breaks are not pulses.
  Rig rig({.hook = {.pulse_break_max_ms = 50}});
  rig.port().set_hook(true);
  rig.run(5);
  rig.port().pulse_dial("3");
  rig.run(pulse_ticks("3"));
  EXPECT_EQ(rig.status().digits, "");
  EXPECT_EQ(rig.status().state, "dialtone");
}

// ---- silence disconnect ----

TEST(SimExchange, FarHangupWithSilenceSendsNothing) {
  Rig rig({.disconnect = SimExchangeLineConfig::Disconnect::silence});
  rig.port().set_hook(true);
  rig.run(5);
  rig.dial("5551234");
  rig.run(60);
  ASSERT_EQ(rig.status().state, "connected");
  ASSERT_TRUE(rig.status().polarity_reversed);
  rig.events().clear();
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  const auto audio = rig.run(500);
  EXPECT_TRUE(rig.events().empty());          // no reversal, no loop drop
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);  // no tone: the far party's 1000 Hz stopped
  auto s = rig.status();
  EXPECT_EQ(s.state, "disconnected");
  EXPECT_TRUE(s.polarity_reversed);
  rig.release();
  EXPECT_EQ(rig.status().state, "idle");
}

// ---- the far party presses keys ----

TEST(SimExchange, FarPartyKeysAreHeardAsDtmfOnceAnswered) {
  Rig rig;
  ASSERT_TRUE(rig.driver().exchange_call(0, {.caller = kCaller, .tone_hz = 0}));
  rig.run(20);
  auto r = rig.driver().exchange_dial(0, "123#");
  ASSERT_FALSE(r);  // still ringing
  EXPECT_TRUE(r.error().is(SimError::bad_argument));
  EXPECT_NE(r.error().message().find("answered"), std::string::npos) << r.error().message();

  rig.port().set_hook(true);
  rig.run(3);
  ASSERT_EQ(rig.status().state, "connected");
  EXPECT_FALSE(rig.driver().exchange_dial(0, ""));
  EXPECT_FALSE(rig.driver().exchange_dial(0, "12x"));
  EXPECT_FALSE(rig.driver().exchange_dial(0, std::string(33, '1')));
  ASSERT_TRUE(rig.driver().exchange_dial(0, "159*#d"));
  dsp::DtmfDetector rx;
  std::string heard;
  int first = 0;
  const auto audio = rig.run(6 * 8 + 4, {}, [&](const base::AudioFrame& f) {
    for (const auto& e : rx.process(f)) {
      if (e.end) continue;
      heard += e.digit;
      if (first == 0) first = rig.now() + 1;
    }
  });
  EXPECT_EQ(heard, "159*#D");
  EXPECT_LE(first, rig.now() - 6 * 8 + 3);  // at once (80 ms on, 80 ms off)
  // -10 dBm0 per tone, as the phones dial: two tones of 7200 peak, -13 dBFS or so.
  EXPECT_NEAR(dsp::level_dbfs(std::vector<int16_t>(audio.begin() + 160, audio.begin() + 3 * 160)), -13.1, 1.5);
  EXPECT_EQ(rig.status().state, "connected");

  // A hang-up drops what is left.
  ASSERT_TRUE(rig.driver().exchange_dial(0, "0000"));
  heard.clear();
  const auto listen = [&](const base::AudioFrame& f) {
    for (const auto& e : rx.process(f)) {
      if (!e.end) heard += e.digit;
    }
  };
  rig.run(5, {}, listen);  // the first 0 (80 ms), then the far party hangs up
  ASSERT_TRUE(rig.driver().exchange_hangup(0));
  rig.run(40, {}, listen);
  EXPECT_EQ(heard, "0");
  EXPECT_FALSE(rig.driver().exchange_dial(0, "1"));  // disconnected
}

TEST(SimExchange, ExchangeDialRefusesFxsPorts) {
  SimDriver d({.phones = {{.name = "fxs1"}}, .exchange_lines = {{}}});
  auto r = d.exchange_dial(0, "1");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_port));
}

// ---- calls between the exchange's own lines ----
}  // namespace
}  // namespace sipline::drivers
