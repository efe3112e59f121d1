// MediaEngine end to end over loopback UDP with the fake line driver
// (component: real threads, real time, real sockets on 127.0.0.1).
#include "media/media_engine.hpp"

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <poll.h>

#include <gtest/gtest.h>

#include "fakes/fake_line_driver.hpp"
#include "sipline/dsp/dtmf.hpp"
#include "sipline/dsp/goertzel.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::gateway::media {
namespace {

using namespace std::chrono_literals;
using drivers::PortKind;

MediaEngineConfig config(int workers, int rtp_timeout_ms = 0) {
  MediaEngineConfig c;
  c.rtp_address = "127.0.0.1";
  c.port_min = 42000;
  c.port_max = 42999;
  c.workers = workers;
  c.jitter_buffer_ms = 60;
  c.rtp_timeout_ms = rtp_timeout_ms;
  return c;
}

std::vector<const dsp::ToneProfile*> us_profiles(std::size_t n) {
  return std::vector<const dsp::ToneProfile*>(n, dsp::find_tone_profile("US"));
}

// Runs the control side for `duration`, collecting events; stops early when `until` holds.
template <class Pred>
bool pump(MediaEngine& engine, std::vector<MediaEvent>& events, std::chrono::milliseconds duration, Pred until) {
  const auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{engine.event_fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    engine.drain_events([&](const MediaEvent& e) { events.push_back(e); });
    if (until()) return true;
  }
  return until();
}
void pump_for(MediaEngine& engine, std::vector<MediaEvent>& events, std::chrono::milliseconds d) {
  pump(engine, events, d, [] { return false; });
}

bool has_event(const std::vector<MediaEvent>& events, MediaEventType type, LineId line, char digit = 0) {
  for (const auto& e : events)
    if (e.type == type && e.line == line && (digit == 0 || e.digit == digit)) return true;
  return false;
}

std::string detect_digits(const std::vector<std::int16_t>& audio) {
  dsp::DtmfDetector det;
  std::string digits;
  for (std::size_t i = 0; i + base::kFrameSamples <= audio.size(); i += base::kFrameSamples) {
    base::ConstFrameSpan frame(audio.data() + i, base::kFrameSamples);
    for (const auto& e : det.process(frame))
      if (!e.end) digits += e.digit;
  }
  return digits;
}

StreamParams to(std::uint16_t port) {
  StreamParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = port;
  p.codec = AudioCodec::pcma;
  p.payload_type = 8;
  p.dtmf_payload_type = 101;
  return p;
}

TEST(MediaEngine, CarriesTwoWayAudioAndDtmfBetweenTwoLinesOverRtp) {
  fakes::FakeLineDriver driver({PortKind::fxs, PortKind::fxs});
  auto& a = driver.fake_port(0);
  auto& b = driver.fake_port(1);
  MediaEngine engine(config(2), driver, us_profiles(2));
  ASSERT_TRUE(engine.start());

  auto sa = engine.open_stream(0);
  auto sb = engine.open_stream(1);
  ASSERT_TRUE(sa && sb);
  EXPECT_NE(sa->local_port, sb->local_port);
  ASSERT_TRUE(engine.connect(sa->id, to(sb->local_port)));
  ASSERT_TRUE(engine.connect(sb->id, to(sa->local_port)));

  a.play_sine(697);
  b.play_sine(1209);
  std::vector<MediaEvent> events;
  pump_for(engine, events, 400ms);
  EXPECT_TRUE(has_event(events, MediaEventType::rtp_started, 0));
  EXPECT_TRUE(has_event(events, MediaEventType::rtp_started, 1));
  const auto heard_by_b = b.last_written(1600);
  const auto heard_by_a = a.last_written(1600);
  EXPECT_GT(dsp::tone_power_ratio(heard_by_b, 697), 0.7);
  EXPECT_GT(dsp::tone_power_ratio(heard_by_a, 1209), 0.7);

  // A dials '7' on its line: B gets it as an RFC 4733 event and hears DTMF.
  b.clear_written();
  b.play_silence();
  auto gen = std::make_shared<dsp::DtmfGenerator>();
  gen->queue("7", 200, 100);
  a.set_source([gen](base::FrameSpan out) { gen->generate(out); });
  const bool got = pump(engine, events, 1000ms, [&] { return has_event(events, MediaEventType::remote_dtmf, 1, '7'); });
  EXPECT_TRUE(got);
  pump_for(engine, events, 400ms);
  EXPECT_TRUE(has_event(events, MediaEventType::line_digit_begin, 0, '7'));
  EXPECT_TRUE(has_event(events, MediaEventType::line_digit_end, 0, '7'));
  int remote_events = 0;
  for (const auto& e : events) remote_events += e.type == MediaEventType::remote_dtmf ? 1 : 0;
  EXPECT_EQ(remote_events, 1);
  EXPECT_EQ(detect_digits(b.written()), "7");

  const StreamStats stats_a = engine.stats(sa->id);
  const StreamStats stats_b = engine.stats(sb->id);
  EXPECT_GT(stats_a.packets_sent, 30u);
  EXPECT_GT(stats_a.packets_received, 30u);
  EXPECT_GT(stats_b.packets_received, 30u);
  EXPECT_EQ(stats_a.packets_lost, 0u);
  EXPECT_EQ(stats_b.packets_lost, 0u);
  EXPECT_NE(stats_a.ssrc, stats_b.ssrc);
  EXPECT_LT(stats_b.jitter_ms, 20.0);

  engine.close_stream(sa->id);
  engine.close_stream(sb->id);
  EXPECT_EQ(engine.stats(sa->id).packets_sent, 0u);  // unknown stream: empty snapshot
  engine.stop();
}

TEST(MediaEngine, ReportsRtpTimeoutOnceOnASilentConnectedStream) {
  fakes::FakeLineDriver driver({PortKind::fxo});
  MediaEngine engine(config(1, 200), driver, us_profiles(1));
  ASSERT_TRUE(engine.start());
  auto s = engine.open_stream(0);
  ASSERT_TRUE(s);
  ASSERT_TRUE(engine.connect(s->id, to(9)));  // nobody sends to us
  std::vector<MediaEvent> events;
  EXPECT_TRUE(pump(engine, events, 1000ms, [&] { return has_event(events, MediaEventType::rtp_timeout, 0); }));
  pump_for(engine, events, 300ms);
  int timeouts = 0;
  for (const auto& e : events) timeouts += e.type == MediaEventType::rtp_timeout ? 1 : 0;
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(events.front().stream, s->id);
}

TEST(MediaEngine, PlaysLocalTonesToTheLineAndStopsThem) {
  fakes::FakeLineDriver driver({PortKind::fxs});
  auto& port = driver.fake_port(0);
  MediaEngine engine(config(1), driver, us_profiles(1));
  ASSERT_TRUE(engine.start());
  std::vector<MediaEvent> events;
  pump_for(engine, events, 60ms);
  EXPECT_LT(dsp::level_dbfs(port.last_written(800)), -90);  // an idle line hears silence
  engine.play_tone(0, dsp::ToneKind::dial);
  pump_for(engine, events, 200ms);
  EXPECT_GT(dsp::level_dbfs(port.last_written(800)), -40);
  engine.play_tone(0, dsp::ToneKind::none);
  pump_for(engine, events, 200ms);
  EXPECT_LT(dsp::level_dbfs(port.last_written(800)), -60);
  EXPECT_GT(port.reads(), 10u);
}

TEST(MediaEngine, RefusesStreamsForUnknownLinesAndBeforeStart) {
  fakes::FakeLineDriver driver({PortKind::fxs});
  MediaEngine engine(config(1), driver, us_profiles(1));
  EXPECT_FALSE(engine.open_stream(0));
  ASSERT_TRUE(engine.start());
  auto r = engine.open_stream(5);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(MediaError::no_port));
  EXPECT_TRUE(engine.connect(1234, to(9)).error().is(MediaError::unknown_stream));
  auto s = engine.open_stream(0);
  ASSERT_TRUE(s);
  StreamParams bad = to(9);
  bad.remote_address = "not-an-address";
  EXPECT_TRUE(engine.connect(s->id, bad).error().is(MediaError::bad_address));
}


StreamParams pcmu_to(std::uint16_t port, int dtmf_payload_type) {
  StreamParams p = to(port);
  p.codec = AudioCodec::pcmu;
  p.payload_type = 0;
  p.dtmf_payload_type = dtmf_payload_type;
  return p;
}

// Two lines joined through a relay, as a SIP caller bridged to a SIP target:
//   line 0 <-> stream 0 ==(PCMU + events)== relay leg 1 | relay leg 2 ==(PCMA, no events)== stream 1 <-> line 1
TEST(MediaEngine, RelaysAudioBetweenTwoLegsTranscodingAndConvertingDtmf) {
  fakes::FakeLineDriver driver({PortKind::fxs, PortKind::fxs});
  auto& a = driver.fake_port(0);
  auto& b = driver.fake_port(1);
  MediaEngine engine(config(2), driver, us_profiles(2));
  ASSERT_TRUE(engine.start());
  auto sa = engine.open_stream(0);
  auto sb = engine.open_stream(1);
  auto relay = engine.open_relay();
  ASSERT_TRUE(sa && sb && relay);
  const StreamInfo r1 = relay->first, r2 = relay->second;
  ASSERT_TRUE(engine.connect(sa->id, pcmu_to(r1.local_port, 101)));
  ASSERT_TRUE(engine.connect(r1.id, pcmu_to(sa->local_port, 101)));
  // Leg 2 speaks A-law without telephone-event: the relay transcodes.
  StreamParams r2_params = to(sb->local_port), sb_params = to(r2.local_port);
  r2_params.dtmf_payload_type = sb_params.dtmf_payload_type = -1;
  ASSERT_TRUE(engine.connect(r2.id, r2_params));
  ASSERT_TRUE(engine.connect(sb->id, sb_params));

  a.play_sine(697);
  b.play_sine(1209);
  std::vector<MediaEvent> events;
  pump_for(engine, events, 500ms);
  EXPECT_TRUE(has_event(events, MediaEventType::rtp_started, kNoLine));
  EXPECT_GT(dsp::tone_power_ratio(b.last_written(1600), 697), 0.7);
  EXPECT_GT(dsp::tone_power_ratio(a.last_written(1600), 1209), 0.7);

  // A dials '7': it leaves line 0 as an RFC 4733 event; leg 2 has no events,
  // so the relay plays it in-band and line 1 hears it.
  a.play_silence();
  b.play_silence();
  b.clear_written();
  auto gen_a = std::make_shared<dsp::DtmfGenerator>();
  gen_a->queue("7", 200, 100);
  a.set_source([gen_a](base::FrameSpan out) { gen_a->generate(out); });
  pump_for(engine, events, 800ms);
  EXPECT_EQ(detect_digits(b.written()), "7");
  EXPECT_FALSE(has_event(events, MediaEventType::remote_dtmf, 1));  // no event reached line 1's stream

  // B dials '5' in-band: the relay detects it on leg 2 and sends it to leg 1
  // as an event, which line 0's stream reports once.
  a.play_silence();
  auto gen_b = std::make_shared<dsp::DtmfGenerator>();
  gen_b->queue("5", 200, 100);
  b.set_source([gen_b](base::FrameSpan out) { gen_b->generate(out); });
  EXPECT_TRUE(pump(engine, events, 1500ms, [&] { return has_event(events, MediaEventType::remote_dtmf, 0, '5'); }));
  pump_for(engine, events, 300ms);
  int fives = 0;
  for (const auto& e : events) fives += e.type == MediaEventType::remote_dtmf && e.line == 0 && e.digit == '5';
  EXPECT_EQ(fives, 1);

  EXPECT_GT(engine.stats(r1.id).packets_received, 30u);
  EXPECT_GT(engine.stats(r2.id).packets_sent, 30u);
  // Closing one leg leaves the other silent; closing both frees them.
  engine.close_stream(r1.id);
  pump_for(engine, events, 100ms);
  engine.close_stream(r2.id);
  engine.close_stream(sa->id);
  engine.close_stream(sb->id);
  engine.stop();
}

TEST(MediaEngine, RefusesRelaysBeyondMaxRelays) {
  fakes::FakeLineDriver driver({PortKind::fxs});
  MediaEngineConfig c = config(1);
  c.max_relays = 1;
  MediaEngine engine(c, driver, us_profiles(1));
  EXPECT_FALSE(engine.open_relay());  // before start
  ASSERT_TRUE(engine.start());
  // The worker also has the line's own slots (4 per line + 16): fill those first.
  std::vector<StreamId> opened;
  for (int i = 0; i < 20; ++i) {
    auto s = engine.open_stream(0);
    ASSERT_TRUE(s);
    opened.push_back(s->id);
  }
  auto one = engine.open_relay();
  ASSERT_TRUE(one);
  auto two = engine.open_relay();
  ASSERT_FALSE(two);
  EXPECT_TRUE(two.error().is(MediaError::no_port));
  engine.close_stream(one->first.id);
  engine.close_stream(one->second.id);
  EXPECT_TRUE(engine.open_relay());
}

}  // namespace
}  // namespace sipline::gateway::media
