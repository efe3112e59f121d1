#include "sipline/drivers/sim_driver.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>

#include "sipline/base/wav.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/goertzel.hpp"
#include "unit/drivers/sim_test_util.hpp"

namespace sipline::drivers {
namespace {

using test::one_phone;
using test::Sine;
using test::tick;
using test::ticks;

bool readable(int fd) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

std::vector<LineEvent> drain(SimDriver& d) {
  std::vector<LineEvent> out;
  d.drain_events([&](const LineEvent& e) { out.push_back(e); });
  return out;
}

SimPhoneStatus status(const SimDriver& d, std::size_t i = 0) {
  auto s = d.status(i);
  EXPECT_TRUE(s) << s.error().message();
  return s ? *s : SimPhoneStatus{};
}

std::string decode_dtmf(const std::vector<int16_t>& audio) {
  dsp::DtmfDetector det;
  std::string digits;
  for (std::size_t i = 0; i + base::kFrameSamples <= audio.size(); i += base::kFrameSamples) {
    for (const auto& e : det.process(base::ConstFrameSpan(audio.data() + i, base::kFrameSamples)))
      if (!e.end) digits.push_back(e.digit);
  }
  return digits;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sipline_sim_" + name)).string();
}

TEST(SimDriver, HasOneFxsPortPerConfiguredPhone) {
  SimDriver d({.phones = {{.name = "kitchen"}, {.name = ""}}});
  EXPECT_EQ(d.name(), "sim");
  ASSERT_EQ(d.port_count(), 2u);
  EXPECT_EQ(d.port(0).name(), "kitchen");
  EXPECT_EQ(d.port(1).name(), "fxs2");
  EXPECT_EQ(d.port(1).index(), 1u);
  EXPECT_EQ(d.port(0).kind(), PortKind::fxs);
}

// The default HookTiming (as the US profile): debounce 30 ms, flash up to 900 ms.
constexpr int kDebounceTicks = 2;   // 40 ms >= 30 ms
constexpr int kHangUpTicks = 46;    // 920 ms > 900 ms

TEST(SimDriver, OffHookTakesEffectAtTheNextTickAndIsReportedAfterTheDebounce) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  EXPECT_FALSE(status(d).off_hook);
  EXPECT_FALSE(readable(d.event_fd()));

  tick(d.port(0));
  EXPECT_TRUE(status(d).off_hook);  // the switch
  EXPECT_FALSE(readable(d.event_fd()));  // 20 ms: not yet debounced
  tick(d.port(0));
  ASSERT_TRUE(readable(d.event_fd()));
  auto events = drain(d);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, LineEventType::off_hook);
  EXPECT_EQ(events[0].port, 0u);
  EXPECT_FALSE(readable(d.event_fd()));

  ASSERT_TRUE(d.on_hook(0));
  tick(d.port(0));
  EXPECT_FALSE(status(d).off_hook);
  ticks(d.port(0), kHangUpTicks - 2);  // 900 ms on hook: could still be a flash
  EXPECT_TRUE(drain(d).empty());
  tick(d.port(0));
  events = drain(d);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, LineEventType::on_hook);
}

TEST(SimDriver, DeliversEventsOfSeveralPortsInOrderPerPort) {
  SimDriver d({.phones = {{.name = "a"}, {.name = "b"}}});
  ASSERT_TRUE(d.off_hook(1));
  ticks(d.port(1), kDebounceTicks);
  ASSERT_TRUE(d.on_hook(1));
  ticks(d.port(1), kHangUpTicks);
  ASSERT_TRUE(d.off_hook(0));
  ticks(d.port(0), kDebounceTicks);
  auto events = drain(d);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].port, 0u);
  EXPECT_EQ(events[1].port, 1u);
  EXPECT_EQ(events[1].type, LineEventType::off_hook);
  EXPECT_EQ(events[2].port, 1u);
  EXPECT_EQ(events[2].type, LineEventType::on_hook);
}

TEST(SimDriver, RepeatedOffHookPostsOneEvent) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.off_hook(0));
  ticks(d.port(0), 10);
  EXPECT_EQ(drain(d).size(), 1u);
}

TEST(SimDriver, RejectsABadPortIndex) {
  SimDriver d(one_phone());
  auto r = d.off_hook(3);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_port));
  EXPECT_NE(r.error().message().find("no sim port 3"), std::string::npos);
  EXPECT_FALSE(d.status(1));
}

TEST(SimDriver, RefusesToDialWhileOnHook) {
  SimDriver d(one_phone());
  auto r = d.dial(0, "123");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_argument));
  EXPECT_NE(r.error().message().find("on hook"), std::string::npos);
}

TEST(SimDriver, AcceptsDialRightAfterOffHookBeforeTheTick) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  EXPECT_TRUE(d.dial(0, "1"));
  ASSERT_TRUE(d.on_hook(0));
  EXPECT_FALSE(d.dial(0, "1"));
}

TEST(SimDriver, RejectsDigitsThatAreNotDtmf) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  tick(d.port(0));
  auto r = d.dial(0, "12x");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_argument));
  EXPECT_NE(r.error().message().find("'x'"), std::string::npos);
  EXPECT_FALSE(d.dial(0, ""));
  EXPECT_FALSE(d.dial(0, std::string(65, '1')));
}

TEST(SimDriver, DialsDtmfAudioThatADetectorDecodes) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.dial(0, "123#"));
  // 4 digits x (80 ms on + 80 ms off) = 640 ms = 32 frames; a few frames of margin.
  const auto audio = ticks(d.port(0), 40);
  EXPECT_EQ(decode_dtmf(audio), "123#");
  // Each digit: 80 ms (4 frames) of tone, then 80 ms of silence.
  for (std::size_t frame = 0; frame < 32; ++frame) {
    const auto level = dsp::level_dbfs(std::span(audio).subspan(frame * 160, 160));
    if (frame % 8 < 4) {
      EXPECT_GT(level, -20.0) << "frame " << frame;
    } else {
      EXPECT_EQ(level, -120.0) << "frame " << frame;
    }
  }
  // Then silence.
  const auto after = ticks(d.port(0), 5);
  EXPECT_EQ(dsp::level_dbfs(after), -120.0);
}

TEST(SimDriver, DialsLowerCaseLettersAsDtmfLetters) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.dial(0, "a*d"));
  EXPECT_EQ(decode_dtmf(ticks(d.port(0), 30)), "A*D");
}

TEST(SimDriver, HangingUpCancelsTheDigitsStillToDial) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.dial(0, "123456"));
  ticks(d.port(0), 4);
  ASSERT_TRUE(d.on_hook(0));
  ticks(d.port(0), 10);
  ASSERT_TRUE(d.off_hook(0));
  const auto audio = ticks(d.port(0), 60);
  EXPECT_EQ(decode_dtmf(audio), "");
}

TEST(SimDriver, SendsSilenceWhenOnHookOrIdle) {
  SimDriver d(one_phone());
  EXPECT_EQ(dsp::level_dbfs(ticks(d.port(0), 3)), -120.0);
  ASSERT_TRUE(d.play_tone(0, 1000));
  EXPECT_EQ(dsp::level_dbfs(ticks(d.port(0), 3)), -120.0);  // on hook: nothing reaches the line
  ASSERT_TRUE(d.off_hook(0));
  EXPECT_GT(dsp::level_dbfs(ticks(d.port(0), 3)), -20.0);
}

TEST(SimDriver, DetectsTheDtmfDigitsItHears) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  tick(d.port(0));
  dsp::DtmfGenerator gen;
  gen.queue("59*", 100, 100);
  for (int i = 0; i < 40; ++i) {
    base::AudioFrame f;
    gen.generate(f);
    tick(d.port(0), f);
  }
  EXPECT_EQ(status(d).heard_digits, "59*");

  // Heard digits start afresh with the next off hook.
  ASSERT_TRUE(d.on_hook(0));
  tick(d.port(0));
  ASSERT_TRUE(d.off_hook(0));
  tick(d.port(0));
  EXPECT_EQ(status(d).heard_digits, "");
}

TEST(SimDriver, CountsRingsOnEachRisingEdgeAndShowsTheVoltage) {
  SimDriver d(one_phone());
  auto& port = d.port(0);
  for (int ring = 0; ring < 3; ++ring) {
    port.set_ring(true);
    ticks(port, 3);
    EXPECT_TRUE(status(d).ringing);
    port.set_ring(false);
    ticks(port, 3);
    EXPECT_FALSE(status(d).ringing);
  }
  EXPECT_EQ(status(d).rings, 3);
  EXPECT_FALSE(status(d).off_hook);
  EXPECT_TRUE(drain(d).empty());  // ringing alone posts no hook event

  // Rings count since the phone last went on hook.
  ASSERT_TRUE(d.off_hook(0));
  tick(port);
  ASSERT_TRUE(d.on_hook(0));
  tick(port);
  EXPECT_EQ(status(d).rings, 0);
}

TEST(SimDriver, AutoAnswersAfterTheConfiguredDelayAndNotBefore) {
  // A phone without NTT caller ID: the 400 / 400 ms cadence below would be CAR to one that has it.
  SimDriver d({.phones = {{.name = "fxs1",
                           .auto_answer_ms = 1000,  // 50 ticks
                           .caller_id = dsp::CallerIdFormat::bell202_mdmf,
                           .caller_id_auto = false}}});
  auto& port = d.port(0);
  port.set_ring(true);
  tick(port);  // the ring starts here
  for (int t = 1; t < 50; ++t) {
    if (t == 20) port.set_ring(false);  // cadence: 400 ms on, then off
    if (t == 40) port.set_ring(true);
    tick(port);
    ASSERT_FALSE(status(d).off_hook) << "answered early, at tick " << t;
  }
  EXPECT_TRUE(drain(d).empty());
  tick(port);  // 1000 ms after the first ring started
  EXPECT_TRUE(status(d).off_hook);
  EXPECT_EQ(status(d).rings, 2);
  tick(port);  // debounced
  auto events = drain(d);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, LineEventType::off_hook);
}

TEST(SimDriver, NeverAutoAnswersWhenDisabled) {
  SimDriver d(one_phone(0));
  ASSERT_TRUE(d.set_auto_answer(0, -1));
  d.port(0).set_ring(true);
  ticks(d.port(0), 300);
  EXPECT_FALSE(status(d).off_hook);
  EXPECT_FALSE(d.set_auto_answer(0, -2));
}

TEST(SimDriver, AutoAnswerSetAtRunTimeApplies) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.set_auto_answer(0, 100));
  d.port(0).set_ring(true);
  ticks(d.port(0), 5);  // the ring starts at the first tick: 80 ms so far
  EXPECT_FALSE(status(d).off_hook);
  tick(d.port(0));
  EXPECT_TRUE(status(d).off_hook);
}

TEST(SimDriver, DropsAPendingAutoAnswerWhenTheCallerGaveUp) {
  SimDriver d(one_phone(20000));
  d.port(0).set_ring(true);
  ticks(d.port(0), 50);
  d.port(0).set_ring(false);
  ticks(d.port(0), 1000);  // 20 s
  EXPECT_FALSE(status(d).off_hook);
}

TEST(SimDriver, ReportsPolarity) {
  SimDriver d(one_phone());
  d.port(0).set_polarity(true);
  tick(d.port(0));
  EXPECT_TRUE(status(d).polarity_reversed);
  d.port(0).set_polarity(false);
  tick(d.port(0));
  EXPECT_FALSE(status(d).polarity_reversed);
}

TEST(SimDriver, PlaysAToneAtTheRequestedFrequencyAndLevel) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.play_tone(0, 1209, 0, -10));
  const auto audio = ticks(d.port(0), 10);
  EXPECT_GT(dsp::tone_power_ratio(audio, 1209), 0.9);
  EXPECT_LT(dsp::tone_power_ratio(audio, 697), 0.05);
  EXPECT_NEAR(dsp::level_dbfs(audio), -10.0, 0.5);
  EXPECT_TRUE(status(d).playing);

  ASSERT_TRUE(d.stop_playing(0));
  EXPECT_EQ(dsp::level_dbfs(ticks(d.port(0), 2)), -120.0);
  EXPECT_FALSE(status(d).playing);
}

TEST(SimDriver, PlaysDualToneWithBothFrequencies) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.play_tone(0, 350, 440, -13));
  const auto audio = ticks(d.port(0), 10);
  EXPECT_NEAR(dsp::tone_power_ratio(audio, 350), 0.5, 0.1);
  EXPECT_NEAR(dsp::tone_power_ratio(audio, 440), 0.5, 0.1);
}

TEST(SimDriver, RejectsToneArgumentsOutOfRange) {
  SimDriver d(one_phone());
  EXPECT_FALSE(d.play_tone(0, 0));
  EXPECT_FALSE(d.play_tone(0, 4000));
  EXPECT_FALSE(d.play_tone(0, 1000, -5));
  EXPECT_FALSE(d.play_tone(0, 1000, 0, 3.0));
  EXPECT_FALSE(d.listen(0, 5000));
}

TEST(SimDriver, ListenReportsHowStronglyItHearsAFrequency) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.listen(0, 697));
  ASSERT_TRUE(d.off_hook(0));
  Sine low(697, 8000), high(1209, 8000);
  for (int i = 0; i < 10; ++i) tick(d.port(0), low.next());
  auto s = status(d);
  EXPECT_EQ(s.listen_hz, 697);
  EXPECT_GT(s.listen_ratio, 0.9);
  EXPECT_NEAR(s.level_dbfs, 20 * std::log10(8000 / (32767 * std::sqrt(2.0))), 0.5);

  for (int i = 0; i < 10; ++i) tick(d.port(0), high.next());
  s = status(d);
  EXPECT_LT(s.listen_ratio, 0.1);
  EXPECT_GT(s.level_dbfs, -20.0);
}

TEST(SimDriver, HearsNothingOnHook) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.listen(0, 697));
  Sine tone(697, 8000);
  for (int i = 0; i < 10; ++i) tick(d.port(0), tone.next());
  EXPECT_EQ(status(d).level_dbfs, -120.0);
  EXPECT_EQ(status(d).listen_ratio, 0.0);
}

TEST(SimDriver, PlaysAWavFileOnceOrLooped) {
  const auto path = temp_path("play.wav");
  std::vector<int16_t> samples(200);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<int16_t>(i * 10 + 1);
  ASSERT_TRUE(base::write_wav(path, samples));

  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.play_file(0, path));
  auto audio = ticks(d.port(0), 3);
  EXPECT_TRUE(std::equal(samples.begin(), samples.end(), audio.begin()));
  EXPECT_TRUE(std::all_of(audio.begin() + 200, audio.end(), [](int16_t v) { return v == 0; }));
  EXPECT_FALSE(status(d).playing);

  ASSERT_TRUE(d.play_file(0, path, true));
  audio = ticks(d.port(0), 3);
  EXPECT_TRUE(status(d).playing);
  EXPECT_EQ(audio[200], samples[0]);
  EXPECT_EQ(audio[450], samples[50]);
  std::filesystem::remove(path);
}

TEST(SimDriver, RefusesToPlayA16kHzWav) {
  const auto path = temp_path("16k.wav");
  ASSERT_TRUE(base::write_wav(path, std::vector<int16_t>(1600, 100), 16000));
  SimDriver d(one_phone());
  auto r = d.play_file(0, path);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_argument));
  EXPECT_NE(r.error().message().find("16000 Hz"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("8000 Hz mono"), std::string::npos) << r.error().message();
  std::filesystem::remove(path);
}

TEST(SimDriver, ReportsAMissingWavAsAnIoError) {
  SimDriver d(one_phone());
  auto r = d.play_file(0, temp_path("does_not_exist.wav"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::io));
}

TEST(SimDriver, ReportsAFullCommandQueueWhenNoWorkerTicks) {
  SimDriver d(one_phone());
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    auto r = d.listen(0, 1000);
    if (!r) {
      refused = true;
      EXPECT_TRUE(r.error().is(SimError::busy));
    }
  }
  EXPECT_TRUE(refused);
  tick(d.port(0));
  EXPECT_TRUE(d.listen(0, 1000));  // the tick emptied the queue
}

// ---- pulse dialing, flash, battery ----

SimDriver phone_of(const char* country) {
  const dsp::ToneProfile* p = dsp::find_tone_profile(country);
  EXPECT_NE(p, nullptr) << country;
  return SimDriver({.phones = {{.name = "fxs1", .hook = p ? p->hook : dsp::HookTiming{}}}});
}

// The events as words: "off", "on", "flash", or the pulse digit.
std::vector<std::string> words(const std::vector<LineEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    switch (e.type) {
      case LineEventType::off_hook: out.push_back("off"); break;
      case LineEventType::on_hook: out.push_back("on"); break;
      case LineEventType::flash: out.push_back("flash"); break;
      case LineEventType::pulse_digit: out.push_back(std::string(1, e.digit)); break;
      default: out.push_back("?"); break;
    }
  }
  return out;
}
using Words = std::vector<std::string>;

class SimPhoneCountry : public ::testing::TestWithParam<const char*> {};

TEST_P(SimPhoneCountry, PulseDialingGivesPulseDigits) {
  SimDriver d = phone_of(GetParam());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.dial(0, "305", true));
  // 700 ms pause before each digit, 100 ms per pulse: 2.1 s + 1.8 s, then 250 ms to end the last digit.
  const auto audio = ticks(d.port(0), 4200 / 20);
  EXPECT_EQ(words(drain(d)), (Words{"off", "3", "0", "5"}));
  EXPECT_EQ(dsp::level_dbfs(audio), -120.0);  // no DTMF
  EXPECT_TRUE(status(d).off_hook);
  ticks(d.port(0), 100);
  EXPECT_TRUE(drain(d).empty());
}

TEST_P(SimPhoneCountry, FlashGivesOneFlashAndNoHangUp) {
  SimDriver d = phone_of(GetParam());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.flash(0));  // the middle of the profile's window, once the hook has settled
  ticks(d.port(0), 100);
  EXPECT_EQ(words(drain(d)), (Words{"off", "flash"}));
  EXPECT_TRUE(status(d).off_hook);
}

TEST_P(SimPhoneCountry, HangUpIsReportedOnceOnHookLongerThanAFlash) {
  const dsp::HookTiming timing = dsp::find_tone_profile(GetParam())->hook;
  SimDriver d = phone_of(GetParam());
  ASSERT_TRUE(d.off_hook(0));
  ticks(d.port(0), 10);
  EXPECT_EQ(words(drain(d)), Words{"off"});
  ASSERT_TRUE(d.on_hook(0));
  const int max_ticks = timing.flash_max_ms / 20;
  ticks(d.port(0), max_ticks);  // on hook for at most flash_max_ms: could still be a flash
  EXPECT_TRUE(drain(d).empty());
  EXPECT_FALSE(status(d).off_hook);  // the phone itself is on hook at once
  tick(d.port(0));
  EXPECT_EQ(words(drain(d)), Words{"on"});
}

INSTANTIATE_TEST_SUITE_P(Countries, SimPhoneCountry, ::testing::Values("US", "DE", "UK", "FR", "JP"),
                         [](const auto& info) { return std::string(info.param); });

TEST(SimDriver, PulseDialsOnlyDigits) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  auto r = d.dial(0, "12*", true);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_argument));
  EXPECT_NE(r.error().message().find("'*'"), std::string::npos) << r.error().message();
  EXPECT_FALSE(d.dial(0, "1a", true));
  EXPECT_TRUE(d.dial(0, "1234567890", true));
}

TEST(SimDriver, HangingUpCancelsPulseDialing) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.dial(0, "99", true));
  ticks(d.port(0), 35 + 12);  // the pause, then two pulses and into the third
  ASSERT_TRUE(d.on_hook(0));
  ticks(d.port(0), 60);
  ASSERT_TRUE(d.off_hook(0));
  ticks(d.port(0), 300);
  // The digit being counted ends with the hang-up; nothing is dialed after it.
  EXPECT_EQ(words(drain(d)), (Words{"off", "2", "on", "off"}));
}

TEST(SimDriver, DialsPulsesDtmfAndFlashesInOrder) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.dial(0, "2", true));
  ASSERT_TRUE(d.flash(0, 200));
  ASSERT_TRUE(d.dial(0, "1", true));
  ticks(d.port(0), 200);
  EXPECT_EQ(words(drain(d)), (Words{"off", "2", "flash", "1"}));
}

TEST(SimDriver, AFlashTooShortOrTooLongIsNotAFlash) {
  SimDriver d(one_phone());  // default timing: flash 100..900 ms
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.flash(0, 20));   // a bounce
  ASSERT_TRUE(d.flash(0, 60));   // a dial pulse: the digit 1
  ASSERT_TRUE(d.flash(0, 1000)); // a hang-up, then off hook again
  ticks(d.port(0), 200);
  EXPECT_EQ(words(drain(d)), (Words{"off", "1", "on", "off"}));
}

TEST(SimDriver, RejectsAFlashOnHookOrOutOfRange) {
  SimDriver d(one_phone());
  auto r = d.flash(0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("on hook"), std::string::npos) << r.error().message();
  ASSERT_TRUE(d.off_hook(0));
  EXPECT_FALSE(d.flash(0, 0));
  EXPECT_FALSE(d.flash(0, -2));
  EXPECT_FALSE(d.flash(0, 10001));
  EXPECT_TRUE(d.flash(0, 10000));
}

TEST(SimDriver, FlashMutesTheLineWhileTheLoopIsOpen) {
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.play_tone(0, 1000));
  ticks(d.port(0), 20);
  ASSERT_TRUE(d.flash(0, 200));  // at once: the hook has settled
  const auto audio = ticks(d.port(0), 20);
  EXPECT_EQ(dsp::level_dbfs(std::span(audio).subspan(0, 10 * 160)), -120.0);
  EXPECT_GT(dsp::level_dbfs(std::span(audio).subspan(19 * 160, 160)), -20.0);  // closed again
}

TEST(SimDriver, DisconnectBatteryShowsInStatus) {
  SimDriver d(one_phone());
  auto& port = d.port(0);
  tick(port);
  EXPECT_TRUE(status(d).battery);
  EXPECT_EQ(status(d).battery_drops, 0u);
  port.disconnect_battery(100);  // five ticks
  EXPECT_TRUE(status(d).battery);  // from the next tick
  for (int t = 0; t < 5; ++t) {
    tick(port);
    EXPECT_FALSE(status(d).battery) << "tick " << t;
  }
  tick(port);
  EXPECT_TRUE(status(d).battery);
  EXPECT_EQ(status(d).battery_drops, 1u);
  port.disconnect_battery(0);  // nothing
  port.disconnect_battery(10);  // one tick
  tick(port);
  EXPECT_FALSE(status(d).battery);
  tick(port);
  EXPECT_TRUE(status(d).battery);
  EXPECT_EQ(status(d).battery_drops, 2u);
  EXPECT_TRUE(drain(d).empty());  // no hook events
}

TEST(SimDriver, CountsPolarityChangesShorterThanATick) {
  SimDriver d(one_phone());
  auto& port = d.port(0);
  port.set_polarity(true);
  port.set_polarity(false);  // between two ticks
  port.set_polarity(false);  // no change
  tick(port);
  auto s = status(d);
  EXPECT_FALSE(s.polarity_reversed);
  EXPECT_EQ(s.polarity_changes, 2u);
  port.set_polarity(true);
  tick(port);
  s = status(d);
  EXPECT_TRUE(s.polarity_reversed);
  EXPECT_EQ(s.polarity_changes, 3u);
}

// ---- caller ID and ring measurement ----

// Feeds `audio` to the phone (as the line's audio, frame by frame), padded with silence.
void hear(LinePort& port, const std::vector<int16_t>& audio, int silence_frames = 10) {
  std::size_t i = 0;
  while (i < audio.size()) {
    base::AudioFrame f{};
    for (std::size_t k = 0; k < f.size() && i < audio.size(); ++k) f[k] = audio[i++];
    tick(port, f);
  }
  ticks(port, silence_frames);
}

const dsp::CallerId kCaller{.number = "2025550150", .name = "ALICE", .month = 12, .day = 1, .hour = 9, .minute = 30};

TEST(SimDriver, OnHookPhoneDecodesCallerIdAndReportsTheFormat) {
  SimDriver d(one_phone());  // decodes every format
  hear(d.port(0), dsp::render_caller_id(dsp::CallerIdFormat::bell202_mdmf, kCaller));
  auto s = status(d);
  EXPECT_EQ(s.caller_id_count, 1);
  EXPECT_EQ(s.caller_id.format, dsp::CallerIdFormat::bell202_mdmf);
  EXPECT_EQ(s.caller_id.id, kCaller);
  EXPECT_FALSE(s.off_hook);
  EXPECT_TRUE(drain(d).empty());  // on-hook data transmission: no hook events

  hear(d.port(0), dsp::render_caller_id(dsp::CallerIdFormat::dtmf,
                                        {.number = "", .number_absence = dsp::Absence::withheld}));
  s = status(d);
  EXPECT_EQ(s.caller_id_count, 2);
  EXPECT_EQ(s.caller_id.format, dsp::CallerIdFormat::dtmf);
  EXPECT_TRUE(s.caller_id.id.number.empty());
  EXPECT_EQ(s.caller_id.id.number_absence, dsp::Absence::withheld);
}

TEST(SimDriver, PhoneSetToOneFormatIgnoresAnother) {
  SimDriver d({.phones = {{.name = "fxs1", .caller_id = dsp::CallerIdFormat::etsi, .caller_id_auto = false}}});
  hear(d.port(0), dsp::render_caller_id(dsp::CallerIdFormat::bell202_mdmf, kCaller));
  EXPECT_EQ(status(d).caller_id_count, 0);
  hear(d.port(0), dsp::render_caller_id(dsp::CallerIdFormat::etsi, kCaller));
  EXPECT_EQ(status(d).caller_id_count, 1);
}

TEST(SimDriver, RingSegmentsAreMeasuredInTicks) {
  SimDriver d(one_phone());
  auto& port = d.port(0);
  bool on = true;
  for (int ms : {2000, 4000, 2000}) {
    port.set_ring(on);
    ticks(port, ms / 20);
    on = !on;
  }
  port.set_ring(false);
  tick(port);
  EXPECT_EQ(status(d).ring_segments_ms, (std::vector<int>{2000, 4000, 2000}));
  EXPECT_EQ(status(d).rings, 2);
}

TEST(SimDriver, NttPhoneRespondsToCarOnlyAtTheSecondBurst) {
  SimDriver d({.phones = {{.name = "fxs1", .caller_id = dsp::CallerIdFormat::jclip, .caller_id_auto = false}}});
  auto& port = d.port(0);
  port.set_ring(true);
  ticks(port, 25);  // 500 ms
  port.set_ring(false);
  ticks(port, 25);
  EXPECT_FALSE(status(d).off_hook);
  EXPECT_TRUE(drain(d).empty());
  port.set_ring(true);
  tick(port);
  EXPECT_TRUE(status(d).off_hook);  // the primary response
  tick(port);
  auto events = drain(d);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, LineEventType::off_hook);
  port.set_ring(false);
  ticks(port, 15);
  hear(port, dsp::render_caller_id(dsp::CallerIdFormat::jclip, kCaller), 2);
  const auto st = status(d);
  EXPECT_FALSE(st.off_hook);  // hung up after the message
  EXPECT_EQ(st.caller_id_count, 1);
  EXPECT_EQ(st.caller_id.id.number, "2025550150");
  ticks(port, kHangUpTicks);  // reported as any hang-up is
  events = drain(d);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, LineEventType::on_hook);
}

TEST(SimDriver, NttPhoneHangsUpAfterItsPrimaryResponseWhenNoDataComes) {
  SimDriver d(one_phone());  // auto decodes JCLIP too
  auto& port = d.port(0);
  for (int burst = 0; burst < 2; ++burst) {
    port.set_ring(true);
    ticks(port, 25);
    port.set_ring(false);
    ticks(port, 25);
  }
  EXPECT_TRUE(status(d).off_hook);
  ticks(port, 4000 / 20);  // the phone gives up after 4 s (sim_port.hpp kPrimaryResponseMs)
  EXPECT_FALSE(status(d).off_hook);
  ticks(port, kHangUpTicks);
  auto events = drain(d);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, LineEventType::on_hook);
}

TEST(SimDriver, UkDoubleRingIsNotCar) {
  SimDriver d(one_phone());
  auto& port = d.port(0);
  bool on = true;
  for (int ms : {400, 200, 400, 2000, 400, 200, 400}) {
    port.set_ring(on);
    ticks(port, ms / 20);
    on = !on;
  }
  EXPECT_FALSE(status(d).off_hook);
  EXPECT_TRUE(drain(d).empty());
}

}  // namespace
}  // namespace sipline::drivers
