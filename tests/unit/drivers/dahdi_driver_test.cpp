// The dahdi driver without a card: recorded DAHDI event sequences and audio
// replayed through FakeDahdiIo (tests/fakes/fake_dahdi_io.hpp).
#include <poll.h>
#include <unistd.h>

#include <dahdi/user.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_dahdi_io.hpp"
#include "sipline/drivers/dahdi_driver.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers {
namespace {

using fakes::FakeDahdiIo;
using Op = FakeDahdiIo::Op;
using ::testing::HasSubstr;

// Waits (up to 5 s in all) for `n` events from the driver, through its event_fd
// as the control thread does.
std::vector<LineEvent> wait_events(DahdiDriver& driver, std::size_t n) {
  std::vector<LineEvent> out;
  for (int i = 0; i < 50 && out.size() < n; ++i) {
    pollfd p{.fd = driver.event_fd(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 100) == 1) driver.drain_events([&](const LineEvent& e) { out.push_back(e); });
  }
  return out;
}

std::vector<LineEventType> types(const std::vector<LineEvent>& events) {
  std::vector<LineEventType> t;
  for (const auto& e : events) t.push_back(e.type);
  return t;
}

bool has_call(const std::vector<FakeDahdiIo::Call>& calls, Op op, int value) {
  for (const auto& c : calls) {
    if (c.op == op && c.value == value) return true;
  }
  return false;
}

std::vector<int> hooks(const std::vector<FakeDahdiIo::Call>& calls) {
  std::vector<int> h;
  for (const auto& c : calls) {
    if (c.op == Op::hook) h.push_back(c.value);
  }
  return h;
}

DahdiDriverConfig one_port(PortKind kind, int channel = 1) {
  return {.ports = {{.name = kind == PortKind::fxs ? "fxs1" : "fxo1", .channel = channel, .kind = kind}}};
}

TEST(DahdiDriver, FxoIncomingCallRingsAndCarriesBell202CallerIdBetweenRings) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXSKS});  // a card's FXO module
  const dsp::CallerId sent{.number = "5551234567", .name = "ALICE SMITH", .month = 12, .day = 1, .hour = 9,
                           .minute = 30};
  const auto fsk = dsp::render_caller_id(dsp::CallerIdFormat::bell202_mdmf, sent);
  // As a card records it: first ring, then the caller ID burst in the silent
  // interval, then the second ring.
  io.push_event(1, DAHDI_EVENT_RINGBEGIN);
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);  // ring trailer expired: the burst ended
  io.push_silence(1, 25);
  io.push_audio(1, fsk);
  io.push_silence(1, 25);
  io.push_event(1, DAHDI_EVENT_RINGBEGIN);
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);

  DahdiDriver driver(one_port(PortKind::fxo), io);
  ASSERT_EQ(driver.port_count(), 1u);
  LinePort& port = driver.port(0);
  EXPECT_EQ(port.kind(), PortKind::fxo);

  // The media worker's side: read every block and decode it.
  dsp::CallerIdReceiver rx(dsp::CallerIdFormat::bell202_mdmf);
  std::optional<dsp::CallerIdMessage> heard;
  int frames = 0;
  for (; frames < 1000; ++frames) {
    ASSERT_TRUE(io.wait_audio_or_done(1));
    if (io.script_done(1)) break;
    base::AudioFrame frame;
    frame.fill(1234);
    port.read(frame);
    rx.process(frame);
    if (const auto* m = rx.take()) heard = *m;
  }
  const std::size_t fsk_blocks = (fsk.size() + base::kFrameSamples - 1) / base::kFrameSamples;
  EXPECT_EQ(static_cast<std::size_t>(frames), 50 + fsk_blocks);

  const auto events = wait_events(driver, 4);
  EXPECT_THAT(types(events), ::testing::ElementsAre(LineEventType::ring_start, LineEventType::ring_stop,
                                                    LineEventType::ring_start, LineEventType::ring_stop));
  for (const auto& e : events) EXPECT_EQ(e.port, 0u);
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(heard->id, sent);

  const auto status = driver.port_status(0);
  EXPECT_EQ(status.frames_read, static_cast<uint64_t>(frames));
  EXPECT_EQ(status.underruns, 0u);

  port.set_hook(true);  // answer
  EXPECT_THAT(hooks(io.calls(1)), ::testing::ElementsAre(DAHDI_OFFHOOK));
}

TEST(DahdiDriver, FxoOutgoingCallAnsweredByPolarityReversalThenLoopDrop) {
  FakeDahdiIo io;
  io.add_channel(3, {.sigtype = DAHDI_SIG_FXSKS});
  DahdiDriver driver(one_port(PortKind::fxo, 3), io);
  LinePort& port = driver.port(0);

  port.set_hook(true);  // seize the line
  EXPECT_THAT(hooks(io.calls(3)), ::testing::ElementsAre(DAHDI_OFFHOOK));
  io.push_event(3, DAHDI_EVENT_POLARITY);  // the far end answered
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::polarity_reversal));
  io.push_event(3, DAHDI_EVENT_ONHOOK);  // battery lost: the far end hung up
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::loop_drop));
  port.set_hook(false);
  EXPECT_THAT(hooks(io.calls(3)), ::testing::ElementsAre(DAHDI_OFFHOOK, DAHDI_ONHOOK));
}

TEST(DahdiDriver, FxoOutgoingCallPulseDialsThenDialCompleteThenPolarityReversalAnswer) {
  FakeDahdiIo io;
  io.add_channel(3, {.sigtype = DAHDI_SIG_FXSKS});
  DahdiDriver driver(one_port(PortKind::fxo, 3), io);
  LinePort& port = driver.port(0);

  port.set_hook(true);  // seize
  port.pulse_dial("55x5-1234");  // not digits: skipped
  // The kernel dials: the channel's pulse times, then "P" (pulse mode) and the digits appended.
  const auto calls = io.calls(3);
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls[calls.size() - 3], (FakeDahdiIo::Call{Op::hook, 3, DAHDI_OFFHOOK}));
  EXPECT_EQ(calls[calls.size() - 2], (FakeDahdiIo::Call{Op::set_pulse_timing, 3, 60}));
  EXPECT_EQ(calls[calls.size() - 1], (FakeDahdiIo::Call{Op::dial, 3, DAHDI_DIAL_OP_APPEND}));
  EXPECT_THAT(io.dialed(3), ::testing::ElementsAre("P5551234"));
  const auto timing = io.pulse_timing(3);
  EXPECT_EQ(timing.break_ms, 60);
  EXPECT_EQ(timing.make_ms, 40);
  EXPECT_EQ(timing.after_ms, 700);

  // As a card reports it: the pulses are the kernel's own (no events), then
  // DIALCOMPLETE after the last digit's pause, ringback audio, the answer.
  io.push_event(3, DAHDI_EVENT_DIALCOMPLETE);
  io.push_silence(3, 5);
  io.push_event(3, DAHDI_EVENT_POLARITY);
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::dial_complete));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(io.wait_audio_or_done(3));
    base::AudioFrame frame;
    port.read(frame);
  }
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::polarity_reversal));
  port.set_hook(false);
  EXPECT_THAT(hooks(io.calls(3)), ::testing::ElementsAre(DAHDI_OFFHOOK, DAHDI_ONHOOK));
}

TEST(DahdiDriver, PulseDialAndDialCompleteAreFxoOnly) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS});
  io.push_event(1, DAHDI_EVENT_DIALCOMPLETE);  // ignored on an FXS port
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);
  DahdiDriver driver(one_port(PortKind::fxs), io);
  driver.port(0).pulse_dial("123");
  EXPECT_TRUE(io.dialed(1).empty());
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::off_hook));
}

TEST(DahdiDriver, FxsOpenSwitchingIntervalIsKewlstartsOnHookAfterOffHook) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS});  // kewlstart
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);        // the phone goes off hook (a call)
  DahdiDriver driver(one_port(PortKind::fxs), io);
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::off_hook));

  // The far party hung up: the OSI. DAHDI_OFFHOOK makes the channel
  // non-idle, DAHDI_ONHOOK then sends DAHDI_TXSIG_KEWL for DAHDI_KEWLTIME.
  driver.port(0).disconnect_battery(800);
  EXPECT_THAT(hooks(io.calls(1)), ::testing::ElementsAre(DAHDI_OFFHOOK, DAHDI_ONHOOK));
  // As the kernel reports it: HOOKCOMPLETE when the KEWL ends (ignored);
  // the phone hanging up in the interval gives ONHOOK after DAHDI_AFTERKEWLTIME.
  io.push_event(1, DAHDI_EVENT_HOOKCOMPLETE);
  io.push_event(1, DAHDI_EVENT_ONHOOK);
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::on_hook));
  EXPECT_EQ(driver.port_status(0).io_errors, 0u);

  driver.port(0).disconnect_battery(0);  // 0 ms: nothing
  EXPECT_EQ(hooks(io.calls(1)).size(), 2u);
}

TEST(DahdiDriver, NoOpenSwitchingIntervalOnLoopstartOrFxo) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOLS});  // loopstart: dahdi_hangup has no KEWL for it
  io.add_channel(2, {.sigtype = DAHDI_SIG_FXSKS});
  DahdiDriver driver({.ports = {{.name = "fxs1", .channel = 1, .kind = PortKind::fxs}, {.name = "fxo1", .channel = 2, .kind = PortKind::fxo}}}, io);
  driver.port(0).disconnect_battery(500);
  driver.port(1).disconnect_battery(500);
  EXPECT_TRUE(hooks(io.calls(1)).empty());
  EXPECT_TRUE(hooks(io.calls(2)).empty());
}

TEST(DahdiDriver, FxsPhoneOffHookFlashPulseDigitAndOnHook) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS});  // a card's FXS module
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);
  io.push_event(1, DAHDI_EVENT_WINKFLASH);
  io.push_event(1, DAHDI_EVENT_PULSE_START);  // ignored: the digit follows
  io.push_event(1, DAHDI_EVENT_PULSEDIGIT | '7');
  io.push_event(1, DAHDI_EVENT_ONHOOK);
  DahdiDriver driver(one_port(PortKind::fxs), io);

  const auto events = wait_events(driver, 4);
  EXPECT_THAT(types(events), ::testing::ElementsAre(LineEventType::off_hook, LineEventType::flash,
                                                    LineEventType::pulse_digit, LineEventType::on_hook));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].digit, '7');
}

TEST(DahdiDriver, FxsChannelReadsTheHookSwitchWithTheCountrysTiming) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS});  // a card's FXS module
  io.add_channel(2, {.sigtype = DAHDI_SIG_FXSKS});  // an FXO module: no hook switch to read
  const auto* uk = dsp::find_tone_profile("UK");
  ASSERT_NE(uk, nullptr);
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);
  io.push_event(1, DAHDI_EVENT_WINKFLASH);
  io.push_event(1, DAHDI_EVENT_ONHOOK);
  DahdiDriver driver({.ports = {{.name = "fxs1", .channel = 1, .kind = PortKind::fxs, .hook = uk->hook},
                                {.name = "fxo1", .channel = 2, .kind = PortKind::fxo, .hook = uk->hook}}},
                     io);

  // DAHDI_SET_PARAMS: rxflashtime = flash_max_ms, debouncetime = debounce_ms.
  EXPECT_TRUE(has_call(io.calls(1), Op::set_hook_timing, 150));
  const auto timing = io.hook_timing(1);
  EXPECT_EQ(timing.rx_flash_ms, 150);
  EXPECT_EQ(timing.debounce_ms, 30);
  EXPECT_FALSE(has_call(io.calls(2), Op::set_hook_timing, 150));
  EXPECT_THAT(types(wait_events(driver, 3)),
              ::testing::ElementsAre(LineEventType::off_hook, LineEventType::flash, LineEventType::on_hook));
}

TEST(DahdiDriver, FxsChannelWhoseHookTimingCannotBeSetStillOpensAndReadsTheHook) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOLS, .set_params_error = EINVAL});
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);
  io.push_event(1, DAHDI_EVENT_WINKFLASH);
  io.push_event(1, DAHDI_EVENT_ONHOOK);
  DahdiDriverConfig config = one_port(PortKind::fxs);
  config.ports[0].hook = dsp::find_tone_profile("UK")->hook;
  DahdiDriver driver(config, io);

  EXPECT_TRUE(has_call(io.calls(1), Op::set_hook_timing, 150));  // tried, failed: the kernel's own times
  EXPECT_EQ(io.hook_timing(1).rx_flash_ms, 0);
  EXPECT_EQ(driver.working_port_count(), 1u);
  EXPECT_TRUE(driver.errors().empty());
  EXPECT_TRUE(driver.port_status(0).working);
  EXPECT_THAT(types(wait_events(driver, 3)),
              ::testing::ElementsAre(LineEventType::off_hook, LineEventType::flash, LineEventType::on_hook));
  driver.port(0).set_ring(true);
  EXPECT_THAT(hooks(io.calls(1)), ::testing::ElementsAre(DAHDI_RING));
}

TEST(DahdiDriver, AlarmAndNoAlarmTrackTheCardState) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS});
  DahdiDriver driver(one_port(PortKind::fxs), io);
  io.push_event(1, DAHDI_EVENT_ALARM);
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::alarm));
  EXPECT_TRUE(driver.port_status(0).in_alarm);
  io.push_event(1, DAHDI_EVENT_NOALARM);
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);  // after the clear: proves NOALARM was consumed
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::off_hook));
  EXPECT_FALSE(driver.port_status(0).in_alarm);
}

TEST(DahdiDriver, OpensWith160SampleLinearBlocksAndRingsThroughDahdiHook) {
  FakeDahdiIo io;
  io.add_channel(2, {.sigtype = DAHDI_SIG_FXOKS});
  {
    DahdiDriver driver(one_port(PortKind::fxs, 2), io);
    const auto open_calls = io.calls(2);
    ASSERT_GE(open_calls.size(), 4u);
    EXPECT_EQ(open_calls[0], (FakeDahdiIo::Call{Op::specify, 2, 2}));
    EXPECT_TRUE(has_call(open_calls, Op::set_blocksize, 160));
    EXPECT_TRUE(has_call(open_calls, Op::set_linear, 1));
    EXPECT_TRUE(has_call(open_calls, Op::get_params, 0));
    EXPECT_TRUE(has_call(open_calls, Op::set_cadence, 30000));

    LinePort& port = driver.port(0);
    port.set_ring(true);
    port.set_ring(false);
    port.set_hook(true);  // FXO only: no effect on an FXS port
    port.set_polarity(true);
    EXPECT_THAT(hooks(io.calls(2)), ::testing::ElementsAre(DAHDI_RING, DAHDI_RINGOFF));
    EXPECT_TRUE(has_call(io.calls(2), Op::set_polarity, 1));

    // No block ready: silence, counted as an underrun; writes reach the card.
    base::AudioFrame frame;
    frame.fill(777);
    port.read(frame);
    EXPECT_EQ(frame, base::AudioFrame{});
    EXPECT_EQ(driver.port_status(0).underruns, 1u);
    base::AudioFrame out;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int16_t>(i * 10);
    port.write(out);
    const auto written = io.written(2);
    ASSERT_EQ(written.size(), base::kFrameSamples);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), written.begin()));
  }
  EXPECT_EQ(io.open_fds(), 0);  // closed by the driver
}

TEST(DahdiDriver, ReadGivesSilenceWhileAnEventIsPendingThenTheAudioAfterIt) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS});
  DahdiDriver driver(one_port(PortKind::fxs), io);
  LinePort& port = driver.port(0);

  io.hold_events(true);  // the event thread has not taken it yet
  io.push_event(1, DAHDI_EVENT_RINGOFFHOOK);
  base::AudioFrame speech;
  speech.fill(1000);
  io.push_audio(1, speech);
  base::AudioFrame frame;
  frame.fill(5);
  port.read(frame);  // DAHDI read() returns ELAST while an event is queued
  EXPECT_EQ(frame, base::AudioFrame{});
  EXPECT_EQ(driver.port_status(0).event_blocked, 1u);

  io.hold_events(false);
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::off_hook));
  ASSERT_TRUE(io.wait_audio_or_done(1));
  port.read(frame);
  EXPECT_EQ(frame, speech);
  EXPECT_EQ(driver.port_status(0).frames_read, 1u);
}

TEST(DahdiDriver, FxsPhoneAlreadyOffHookAtOpenIsReported) {
  FakeDahdiIo io;
  io.add_channel(1, {.sigtype = DAHDI_SIG_FXOKS, .rx_off_hook = true});
  DahdiDriver driver(one_port(PortKind::fxs), io);
  EXPECT_THAT(types(wait_events(driver, 1)), ::testing::ElementsAre(LineEventType::off_hook));
}

TEST(DahdiDriver, FailedChannelsBecomeAlarmPortsNamingTheChannelAndTheOthersWork) {
  FakeDahdiIo io;
  io.set_open_errors({ENOENT});                                         // channel 1: first open
  io.add_channel(2, {.sigtype = DAHDI_SIG_FXOKS, .specify_error = EBUSY});
  io.add_channel(3, {.sigtype = DAHDI_SIG_FXSKS});                      // an FXO module, configured fxs
  io.add_channel(4, {.sigtype = DAHDI_SIG_FXSKS});                      // works
  io.add_channel(6, {.sigtype = DAHDI_SIG_FXSKS, .spanno = 2});         // on span 2, configured span 1
  DahdiDriverConfig config{.ports = {
                               {.name = "a", .channel = 1, .kind = PortKind::fxs},
                               {.name = "b", .channel = 2, .kind = PortKind::fxs},
                               {.name = "c", .channel = 3, .kind = PortKind::fxs},
                               {.name = "d", .channel = 4, .kind = PortKind::fxo},
                               {.name = "e", .channel = 5, .kind = PortKind::fxo},  // no such channel
                               {.name = "f", .span = 1, .channel = 6, .kind = PortKind::fxo},
                           }};
  DahdiDriver driver(config, io);
  EXPECT_EQ(driver.port_count(), 6u);
  EXPECT_EQ(driver.working_port_count(), 1u);

  const auto& errors = driver.errors();
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_TRUE(errors[0].is(DahdiError::no_device));
  EXPECT_THAT(errors[0].message(), HasSubstr("dahdi channel 1 (a)"));
  EXPECT_THAT(errors[0].message(), HasSubstr("/dev/dahdi/channel"));
  EXPECT_THAT(errors[0].message(), HasSubstr("No such file"));
  EXPECT_TRUE(errors[1].is(DahdiError::busy));
  EXPECT_THAT(errors[1].message(), HasSubstr("dahdi channel 2 (b): busy"));
  EXPECT_TRUE(errors[2].is(DahdiError::kind_mismatch));
  EXPECT_THAT(errors[2].message(), HasSubstr("dahdi channel 3 (c): configured as fxs but the card reports fxs_ks"));
  EXPECT_TRUE(errors[3].is(DahdiError::no_channel));
  EXPECT_THAT(errors[3].message(), HasSubstr("dahdi channel 5 (e): no such channel"));
  EXPECT_TRUE(errors[4].is(DahdiError::span_mismatch));
  EXPECT_THAT(errors[4].message(), HasSubstr("dahdi channel 6 (f)"));

  // One alarm per failed port, at start.
  const auto alarms = wait_events(driver, 5);
  ASSERT_EQ(alarms.size(), 5u);
  const std::size_t failed[] = {0, 1, 2, 4, 5};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(alarms[i].type, LineEventType::alarm);
    EXPECT_EQ(alarms[i].port, failed[i]);
    EXPECT_FALSE(driver.port_status(failed[i]).working);
    EXPECT_EQ(driver.port_status(failed[i]).error, errors[i].message());
  }

  // An alarm port: silence, and signalling does nothing.
  base::AudioFrame frame;
  frame.fill(9);
  driver.port(2).read(frame);
  EXPECT_EQ(frame, base::AudioFrame{});
  driver.port(2).set_ring(true);
  EXPECT_TRUE(hooks(io.calls(3)).empty());

  // The working one rings.
  io.push_event(4, DAHDI_EVENT_RINGBEGIN);
  const auto events = wait_events(driver, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].port, 3u);
  EXPECT_EQ(events[0].type, LineEventType::ring_start);
  driver.port(3).set_hook(true);
  EXPECT_THAT(hooks(io.calls(4)), ::testing::ElementsAre(DAHDI_OFFHOOK));
  EXPECT_EQ(io.open_fds(), 1);  // the failed channels' fds were closed at once
}

TEST(DahdiDriver, SignallingNamesFollowDahdisFarEndConvention) {
  EXPECT_EQ(dahdi_kind_for_sigtype(DAHDI_SIG_FXOKS), PortKind::fxs);
  EXPECT_EQ(dahdi_kind_for_sigtype(DAHDI_SIG_FXOLS), PortKind::fxs);
  EXPECT_EQ(dahdi_kind_for_sigtype(DAHDI_SIG_FXSKS), PortKind::fxo);
  EXPECT_EQ(dahdi_kind_for_sigtype(DAHDI_SIG_FXSLS), PortKind::fxo);
  EXPECT_EQ(dahdi_kind_for_sigtype(DAHDI_SIG_EM), std::nullopt);
  EXPECT_EQ(dahdi_sigtype_name(DAHDI_SIG_FXOKS), "fxo_ks");
}

TEST(DahdiDriver, RejectsAChannelConfiguredTwice) {
  FakeDahdiIo io;
  DahdiDriverConfig config{.ports = {{.name = "x", .channel = 1}, {.name = "y", .channel = 1}}};
  EXPECT_THROW(DahdiDriver(config, io), std::invalid_argument);
}

}  // namespace
}  // namespace sipline::drivers
