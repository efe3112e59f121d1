// The simulated exchange connecting its own lines: one FXO port dials
// another's number, which rings with caller ID; both talk, and either side
// hanging up clears the other. Driven tick by tick as media workers do.
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

// The exchange reads a release once the loop has been open longer than a flash.
constexpr int kReleaseTicks = dsp::HookTiming{}.flash_max_ms / 20 + 1;

double ratio(const std::vector<int16_t>& audio, double hz) { return dsp::tone_power_ratio(audio, hz); }

// Several exchange lines (ports 0..n-1) of one driver, ticked together: each
// tick runs every port (read() then write()) in order, as workers would.
class Switchboard {
 public:
  explicit Switchboard(std::vector<SimExchangeLineConfig> lines)
      : d_({.exchange_lines = std::move(lines)}), senders_(d_.port_count()), events_(d_.port_count()) {}

  SimDriver& driver() { return d_; }
  LinePort& port(std::size_t i) { return d_.port(i); }
  std::vector<LineEventType>& events(std::size_t i) { return events_[i]; }

  // What line i's gateway sends from now on (silence if empty).
  void send(std::size_t i, std::function<base::AudioFrame()> source) { senders_[i] = std::move(source); }

  // Runs `n` ticks; returns what each line's exchange sent. `each` sees every
  // frame (line, frame) as it is read.
  std::vector<std::vector<int16_t>> run(int n, const std::function<void(std::size_t, const base::AudioFrame&)>& each = {}) {
    std::vector<std::vector<int16_t>> heard(d_.port_count());
    for (int t = 0; t < n; ++t) {
      for (std::size_t i = 0; i < d_.port_count(); ++i) {
        const auto f = test::tick(port(i), senders_[i] ? senders_[i]() : base::AudioFrame{});
        heard[i].insert(heard[i].end(), f.begin(), f.end());
        if (each) each(i, f);
      }
      d_.drain_events([&](const LineEvent& e) { events_.at(e.port).push_back(e.type); });
    }
    return heard;
  }

  // Line i's gateway dials DTMF digits (100 ms on, 100 ms off), then goes quiet.
  void dial(std::size_t i, const std::string& digits) {
    auto gen = std::make_shared<dsp::DtmfGenerator>();
    gen->queue(digits, 100, 100);
    send(i, [gen] {
      base::AudioFrame f;
      gen->generate(f);
      return f;
    });
    run(static_cast<int>(digits.size()) * 10 + 2);
    send(i, {});
  }

  // Line i's gateway seizes the line and waits for dial tone.
  void seize(std::size_t i) {
    port(i).set_hook(true);
    run(5);
  }

  SimExchangeStatus status(std::size_t i) {
    auto s = d_.exchange_status(i);
    EXPECT_TRUE(s) << s.error().message();
    return s ? *s : SimExchangeStatus{};
  }

 private:
  SimDriver d_;
  std::vector<std::function<base::AudioFrame()>> senders_;
  std::vector<std::vector<LineEventType>> events_;
};

std::size_t count(const std::vector<LineEventType>& events, LineEventType type) {
  return static_cast<std::size_t>(std::count(events.begin(), events.end(), type));
}

TEST(SimExchangeSwitch, LineCallsAnotherLineThatRingsWithTheCallersNumberAndBothTalk) {
  Switchboard sb({{.name = "a", .number = "201"}, {.name = "b", .number = "202"}});
  sb.seize(0);
  sb.dial(0, "202");
  auto a = sb.status(0);
  EXPECT_EQ(a.state, "ringing_far");
  EXPECT_EQ(a.far_number, "202");
  auto b = sb.status(1);
  EXPECT_EQ(b.state, "ringing_line");
  EXPECT_EQ(b.far_number, "201");
  EXPECT_TRUE(b.ringing);
  EXPECT_FALSE(b.seized);

  // B rings like an exchange_call (US: Bell 202 MDMF after the first ring)
  // with A's number and no name; A hears ringback.
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::none, true);
  std::optional<dsp::CallerIdMessage> msg;
  const auto heard = sb.run(300, [&](std::size_t line, const base::AudioFrame& f) {
    if (line != 1) return;
    rx.process(f);
    if (const auto* m = rx.take()) msg = *m;
  });
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->format, dsp::CallerIdFormat::bell202_mdmf);
  EXPECT_EQ(msg->id.number, "201");
  EXPECT_EQ(msg->id.name, "");
  const std::vector<int16_t> ringback(heard[0].begin(), heard[0].begin() + 20 * 160);  // 2 s on, 4 s off
  EXPECT_NEAR(ratio(ringback, 440), 0.5, 0.1);
  EXPECT_NEAR(ratio(ringback, 480), 0.5, 0.1);
  EXPECT_EQ(count(sb.events(1), LineEventType::ring_start), 2u);  // US: 2 s on, 4 s off
  EXPECT_TRUE(sb.events(0).empty());

  // B's gateway answers: both connected, A gets answer supervision.
  sb.port(1).set_hook(true);
  sb.run(3);
  EXPECT_EQ(sb.status(0).state, "connected");
  EXPECT_EQ(sb.status(1).state, "connected");
  EXPECT_FALSE(sb.status(1).ringing);
  EXPECT_EQ(sb.events(0), std::vector<LineEventType>{LineEventType::polarity_reversal});
  EXPECT_TRUE(sb.status(0).polarity_reversed);
  EXPECT_EQ(sb.status(0).far_number, "202");
  EXPECT_EQ(sb.status(1).far_number, "201");

  // Audio both ways, frame by frame: A's 1000 Hz at B, B's 1500 Hz at A.
  Sine a_voice(1000, 8000), b_voice(1500, 8000);
  sb.send(0, [&] { return a_voice.next(); });
  sb.send(1, [&] { return b_voice.next(); });
  const auto talk = sb.run(15);
  EXPECT_GT(ratio(talk[1], 1000), 0.9);
  EXPECT_LT(ratio(talk[1], 1500), 0.01);  // no echo of B's own voice
  EXPECT_GT(ratio(talk[0], 1500), 0.9);
  EXPECT_LT(ratio(talk[0], 1000), 0.01);
  EXPECT_NEAR(dsp::level_dbfs(talk[1]), dsp::level_dbfs(talk[0]), 0.5);  // no loss either way

  // A hangs up: once the exchange sees the release, B gets its disconnect
  // signal (loop drop by default) and A's line goes idle.
  sb.send(0, {});
  sb.port(0).set_hook(false);
  const auto after = sb.run(kReleaseTicks + 2);
  EXPECT_EQ(sb.status(0).state, "idle");
  EXPECT_EQ(sb.status(1).state, "disconnected");
  EXPECT_EQ(count(sb.events(1), LineEventType::loop_drop), 1u);
  EXPECT_LT(dsp::level_dbfs(std::vector<int16_t>(after[1].end() - 10 * 160, after[1].end())), -100.0);
  sb.port(1).set_hook(false);
  sb.run(kReleaseTicks);
  EXPECT_EQ(sb.status(1).state, "idle");

  // The lines are free again: B calls A this time.
  sb.seize(1);
  sb.dial(1, "201");
  EXPECT_EQ(sb.status(1).state, "ringing_far");
  EXPECT_EQ(sb.status(0).state, "ringing_line");
  EXPECT_EQ(sb.status(0).far_number, "202");
}

TEST(SimExchangeSwitch, CalledLineHangingUpClearsTheCallerWithItsDisconnectSignal) {
  Switchboard sb({{.number = "201",
                   .answer_polarity_reversal = false,
                   .disconnect = SimExchangeLineConfig::Disconnect::busy_tone},
                  {.number = "202"}});
  sb.seize(0);
  sb.dial(0, "202");
  sb.run(10);
  sb.port(1).set_hook(true);
  sb.run(3);
  ASSERT_EQ(sb.status(0).state, "connected");
  EXPECT_TRUE(sb.events(0).empty());  // no answer reversal on this line
  sb.port(1).set_hook(false);
  sb.run(kReleaseTicks + 2);
  EXPECT_EQ(sb.status(1).state, "idle");
  EXPECT_EQ(sb.status(0).state, "disconnected");
  const auto heard = sb.run(20);
  EXPECT_NEAR(ratio(heard[0], 480), 0.5, 0.1);  // A's disconnect signal: busy tone
  EXPECT_NEAR(ratio(heard[0], 620), 0.5, 0.1);
  EXPECT_TRUE(sb.events(0).empty());
}

TEST(SimExchangeSwitch, BusyLineOrALineAlreadyCalledGivesBusyTone) {
  Switchboard sb({{.number = "201"}, {.number = "202"}, {.number = "203"}});
  // B off hook (its own call): busy.
  sb.seize(1);
  sb.seize(0);
  sb.dial(0, "202");
  EXPECT_EQ(sb.status(0).state, "busy");
  EXPECT_EQ(sb.status(0).far_number, "202");
  EXPECT_EQ(sb.status(1).state, "dialtone");
  const auto heard = sb.run(10);  // US busy: 0.5 s on, 0.5 s off
  EXPECT_NEAR(ratio(heard[0], 480), 0.5, 0.1);
  EXPECT_NEAR(ratio(heard[0], 620), 0.5, 0.1);
  EXPECT_TRUE(sb.events(1).empty());  // B was not rung

  // C rings while A calls it: B's call to C gets busy.
  sb.port(0).set_hook(false);
  sb.port(1).set_hook(false);
  sb.run(kReleaseTicks);
  sb.seize(0);
  sb.dial(0, "203");
  ASSERT_EQ(sb.status(2).state, "ringing_line");
  sb.seize(1);
  sb.dial(1, "203");
  EXPECT_EQ(sb.status(1).state, "busy");
  EXPECT_EQ(sb.status(2).far_number, "201");

  // A line dialing its own number: busy.
  sb.port(1).set_hook(false);
  sb.run(kReleaseTicks);
  sb.seize(1);
  sb.dial(1, "202");
  EXPECT_EQ(sb.status(1).state, "busy");
}

TEST(SimExchangeSwitch, CallerGivingUpStopsTheRinging) {
  Switchboard sb({{.number = "201"}, {.number = "202"}});
  sb.seize(0);
  sb.dial(0, "202");
  sb.run(20);
  ASSERT_TRUE(sb.status(1).ringing);
  sb.port(0).set_hook(false);
  sb.run(kReleaseTicks);
  EXPECT_EQ(sb.status(0).state, "idle");
  auto b = sb.status(1);
  EXPECT_EQ(b.state, "idle");
  EXPECT_FALSE(b.ringing);
  EXPECT_EQ(sb.events(1), (std::vector<LineEventType>{LineEventType::ring_start, LineEventType::ring_stop}));
  sb.run(400);  // no more rings
  EXPECT_EQ(sb.events(1).size(), 2u);
  EXPECT_EQ(sb.status(1).state, "idle");
}

TEST(SimExchangeSwitch, CalledLineUsesItsOwnProfilesCallerIdAndAlerting) {
  Switchboard sb({{.number = "201"}, {.number = "202", .profile = dsp::find_tone_profile("UK")}});
  sb.seize(0);
  sb.dial(0, "202");
  // UK: line reversal, DT-AS, then BT's V.23 data before the first ring.
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::none, true);
  std::optional<dsp::CallerIdMessage> msg;
  sb.run(200, [&](std::size_t line, const base::AudioFrame& f) {
    if (line != 1) return;
    rx.process(f);
    if (const auto* m = rx.take()) msg = *m;
  });
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->id.number, "201");
  EXPECT_GE(count(sb.events(1), LineEventType::polarity_reversal), 2u);
  EXPECT_EQ(sb.status(1).state, "ringing_line");
}

}  // namespace
}  // namespace sipline::drivers
