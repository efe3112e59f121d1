#include "sipline/dsp/channel.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sipline/dsp/goertzel.hpp"
#include "signals.hpp"

namespace sipline::dsp {
namespace {

// 1 kHz network audio: distinguishable from every tone and DTMF frequency.
base::AudioFrame network_frame() {
  std::vector<int16_t> s;
  test::append_tones(s, {{1000, -15}}, base::kFrameMs);
  base::AudioFrame f;
  std::copy(s.begin(), s.end(), f.begin());
  return f;
}

base::AudioFrame rx(Channel& ch) {
  base::AudioFrame f = network_frame();
  ch.process_rx(f);
  return f;
}

double pair_ratio(const base::AudioFrame& f, double a, double b) {
  return tone_power_ratio(f, a) + tone_power_ratio(f, b);
}

TEST(Channel, PassesNetworkAudioThroughWhenIdle) {
  Channel ch(*find_tone_profile("US"));
  EXPECT_EQ(rx(ch), network_frame());
  ch.play_tone(ToneKind::none);
  EXPECT_EQ(rx(ch), network_frame());
}

TEST(Channel, TonePlaybackReplacesNetworkAudio) {
  Channel ch(*find_tone_profile("US"));
  ch.play_tone(ToneKind::dial);
  rx(ch);
  for (int i = 0; i < 10; ++i) {
    const base::AudioFrame f = rx(ch);
    EXPECT_LT(tone_power_ratio(f, 1000), 0.01);
    EXPECT_GT(level_dbfs(f), -25.0);
  }
  ch.stop_tone();
  EXPECT_EQ(rx(ch), network_frame());
}

TEST(Channel, TonesFollowTheChannelsProfile) {
  Channel jp(*find_tone_profile("JP"));
  EXPECT_EQ(jp.profile().country, "JP");
  jp.play_tone(ToneKind::dial);
  rx(jp);
  EXPECT_GT(tone_power_ratio(rx(jp), 400), 0.9);
}

TEST(Channel, BusyToneSilencesNetworkAudioInItsOffPeriods) {
  Channel ch(*find_tone_profile("US"));
  ch.play_tone(ToneKind::busy);
  for (int i = 0; i < 50; ++i) EXPECT_LT(tone_power_ratio(rx(ch), 1000), 0.01) << "frame " << i;
}

TEST(Channel, DtmfHasPriorityOverTone) {
  Channel ch(*find_tone_profile("US"));
  ch.play_tone(ToneKind::dial);
  rx(ch);
  ch.start_dtmf('9');
  rx(ch);
  for (int i = 0; i < 5; ++i) {
    const base::AudioFrame f = rx(ch);
    EXPECT_GT(pair_ratio(f, 852, 1477), 0.9);
    EXPECT_LT(pair_ratio(f, 350, 440), 0.02);
  }
  ch.stop_dtmf();
  rx(ch);
  EXPECT_GT(pair_ratio(rx(ch), 350, 440), 0.8) << "dial tone resumes";
}

TEST(Channel, QueuedDigitPlaysForItsDurationThenNetworkAudioReturns) {
  Channel ch(*find_tone_profile("DE"));
  ch.queue_dtmf('#', 100);
  std::vector<base::AudioFrame> out;
  for (int i = 0; i < 20; ++i) out.push_back(rx(ch));
  for (int i = 0; i < 5; ++i) EXPECT_GT(pair_ratio(out[i], 941, 1477), 0.9) << i;
  for (int i = 5; i < 10; ++i) EXPECT_EQ(level_dbfs(out[i]), -120.0) << "inter-digit gap " << i;
  for (int i = 10; i < 20; ++i) EXPECT_EQ(out[i], network_frame()) << i;
}

TEST(Channel, CallWaitingToneLetsTheConversationThroughBetweenBursts) {
  Channel ch(*find_tone_profile("US"));
  ch.play_tone(ToneKind::call_waiting);
  std::vector<base::AudioFrame> out;
  for (int i = 0; i < 40; ++i) out.push_back(rx(ch));
  for (int i = 1; i < 14; ++i) EXPECT_GT(tone_power_ratio(out[i], 440), 0.9) << i;
  for (int i = 17; i < 40; ++i) EXPECT_EQ(out[i], network_frame()) << i;
}

TEST(Channel, DetectsDtmfFromTheLine) {
  Channel ch(*find_tone_profile("US"));
  DtmfGenerator phone;
  phone.queue("42", 80, 80);
  std::string got;
  base::AudioFrame f;
  for (int i = 0; i < 20; ++i) {
    phone.generate(f);
    for (const DtmfEvent& e : ch.process_tx(f)) {
      got += e.digit;
      got += e.end ? '-' : '+';
    }
  }
  EXPECT_EQ(got, "4+4-2+2-");
}

// Silence supervision on FXO lines: a second below -45 dBm0 makes the line
// quiet (once), and sound (here -40 dBm0 of 1 kHz, just above) ends it.
TEST(Channel, ReportsAQuietLineAfterOneSecondAndSoundAgainAtOnce) {
  Channel ch(*find_tone_profile("US"));
  ch.enable_caller_id(CallerIdFormat::bell202_mdmf, true);
  const base::AudioFrame silence{};
  std::vector<int16_t> faint;
  test::append_tones(faint, {{1000, -50}}, base::kFrameMs);
  base::AudioFrame quiet_noise{};
  std::copy(faint.begin(), faint.end(), quiet_noise.begin());
  std::vector<int16_t> loud;
  test::append_tones(loud, {{1000, -40}}, base::kFrameMs);
  base::AudioFrame sound{};
  std::copy(loud.begin(), loud.end(), sound.begin());

  int quiet = 0, after_ms = 0;
  for (int ms = base::kFrameMs; ms <= 3000; ms += base::kFrameMs) {
    ch.process_tx(ms % 40 == 0 ? silence : quiet_noise);
    if (ch.quiet_started()) {
      ++quiet;
      if (after_ms == 0) after_ms = ms;
    }
    EXPECT_FALSE(ch.sound_started());
  }
  EXPECT_EQ(quiet, 1);
  EXPECT_EQ(after_ms, 1000);
  ch.process_tx(sound);
  EXPECT_TRUE(ch.sound_started());
  ch.process_tx(sound);
  EXPECT_FALSE(ch.sound_started());
}

}  // namespace
}  // namespace sipline::dsp

namespace sipline::dsp {
namespace {

// Records what the channel hands the canceller; subtracts nothing.
class FakeCanceller final : public EchoCanceller {
 public:
  struct Log {
    int frames = 0;
    int resets = 0;
    bool held = false;
    int held_frames = 0;
    base::AudioFrame last_reference{};
  };
  explicit FakeCanceller(Log& log) : log_(log) {}
  void process(base::ConstFrameSpan rx, base::FrameSpan) override {
    ++log_.frames;
    std::copy(rx.begin(), rx.end(), log_.last_reference.begin());
  }
  void reset() override { ++log_.resets; }
  void hold_adaptation(bool hold) override {
    log_.held = hold;
    log_.held_frames += hold;
  }
  std::string_view name() const override { return "fake"; }

 private:
  Log& log_;
};

struct EchoRun {
  int bypass_starts = 0, bypass_ends = 0;
};

// Runs `tx` (from the line) and `to_line` (written to it) frame by frame.
EchoRun run_echo(Channel& ch, const std::vector<int16_t>& tx, const std::vector<int16_t>& to_line) {
  EchoRun r;
  for (std::size_t at = 0; at + base::kFrameSamples <= tx.size(); at += base::kFrameSamples) {
    base::AudioFrame in, out;
    std::copy_n(tx.begin() + static_cast<std::ptrdiff_t>(at), base::kFrameSamples, in.begin());
    std::copy_n(to_line.begin() + static_cast<std::ptrdiff_t>(at), base::kFrameSamples, out.begin());
    ch.prepare_tx(in);
    r.bypass_starts += ch.echo_bypass_started();
    r.bypass_ends += ch.echo_bypass_ended();
    ch.process_tx(in);
    ch.line_written(out);
  }
  return r;
}

TEST(ChannelEcho, TheReferenceIsWhatWasWrittenToTheLineLastTick) {
  FakeCanceller::Log log;
  Channel ch(*find_tone_profile("US"));
  EXPECT_FALSE(ch.has_echo_canceller());
  ch.set_echo_canceller(std::make_unique<FakeCanceller>(log));
  ASSERT_TRUE(ch.has_echo_canceller());
  const base::AudioFrame written = network_frame();
  ch.line_written(written);
  base::AudioFrame from_line{};
  ch.prepare_tx(from_line);
  EXPECT_EQ(log.frames, 1);
  EXPECT_EQ(log.last_reference, written);
}

// A fax answers on the line: ANS with phase reversals. The canceller steps
// aside at once, stays aside through the data (noise at -20 dBm0) and a
// short pause, and comes back fresh after 250 ms of quiet both ways.
TEST(ChannelEcho, StepsAsideForAnAnswerToneFromTheLineUntilTheDataCallEnds) {
  FakeCanceller::Log log;
  Channel ch(*find_tone_profile("US"));
  ch.set_echo_canceller(std::make_unique<FakeCanceller>(log));
  std::vector<int16_t> tx, rx;
  test::append_answer_tone(tx, 3300, 450);
  test::append_tones(tx, {{1200, -20}, {2400, -22}}, 2000);  // "data"
  test::append_silence(tx, 200);                             // a pause shorter than 250 ms
  test::append_tones(tx, {{1800, -20}}, 1000);
  rx.assign(tx.size(), 0);
  const EchoRun during = run_echo(ch, tx, rx);
  EXPECT_EQ(during.bypass_starts, 1);
  EXPECT_EQ(during.bypass_ends, 0);
  EXPECT_TRUE(ch.echo_bypassed());
  const int frames_before_bypass = log.frames;
  EXPECT_LT(frames_before_bypass, 3300 / 20);  // it was bypassed during the tone
  std::vector<int16_t> quiet;
  test::append_silence(quiet, 400);
  const EchoRun after = run_echo(ch, quiet, quiet);
  EXPECT_EQ(after.bypass_ends, 1);
  EXPECT_FALSE(ch.echo_bypassed());
  EXPECT_EQ(log.resets, 1);
  EXPECT_GT(log.frames, frames_before_bypass);  // cancelling again
}

// The far end's modem answers: the tone is in what is written to the line.
TEST(ChannelEcho, StepsAsideForAnAnswerToneTowardsTheLine) {
  FakeCanceller::Log log;
  Channel ch(*find_tone_profile("US"));
  ch.set_echo_canceller(std::make_unique<FakeCanceller>(log));
  std::vector<int16_t> rx, tx;
  test::append_answer_tone(rx, 3300, 450, 0.2);  // ANSam/PR
  tx.assign(rx.size(), 0);
  EXPECT_EQ(run_echo(ch, tx, rx).bypass_starts, 1);
}

// Speech, DTMF and a plain 2100 Hz tone (which only disables echo
// suppressors) leave the canceller on.
TEST(ChannelEcho, StaysOnForSpeechDtmfAndAPlainAnswerTone) {
  FakeCanceller::Log log;
  Channel ch(*find_tone_profile("US"));
  ch.set_echo_canceller(std::make_unique<FakeCanceller>(log));
  std::vector<int16_t> tx = test::speech_like(3000);
  test::append_tones(tx, {{697, -10}, {1209, -10}}, 200);
  test::append_answer_tone(tx, 3300, 0);
  std::vector<int16_t> rx(tx.size(), 0);
  const EchoRun r = run_echo(ch, tx, rx);
  EXPECT_EQ(r.bypass_starts, 0);
  EXPECT_EQ(log.frames, static_cast<int>(tx.size() / base::kFrameSamples));
}

// While the channel plays its own DTMF or tones to the line, the canceller
// does not adapt (a narrowband reference), and adapts again after them.
TEST(ChannelEcho, HoldsAdaptationWhileItsOwnTonesGoToTheLine) {
  FakeCanceller::Log log;
  Channel ch(*find_tone_profile("US"));
  ch.set_echo_canceller(std::make_unique<FakeCanceller>(log));
  const std::vector<int16_t> speech = test::speech_like(4000);
  std::size_t at = 0;
  auto tick = [&] {
    base::AudioFrame from_line{}, to_line{};
    std::copy_n(speech.begin() + static_cast<std::ptrdiff_t>(at), base::kFrameSamples, to_line.begin());
    at = (at + base::kFrameSamples) % (speech.size() - base::kFrameSamples);
    ch.prepare_tx(from_line);
    ch.process_tx(from_line);
    ch.process_rx(to_line);
    ch.line_written(to_line);
  };
  for (int i = 0; i < 5; ++i) tick();
  EXPECT_FALSE(log.held);  // network audio: adapt
  ch.queue_dtmf('5', 100);
  for (int i = 0; i < 4; ++i) tick();
  EXPECT_TRUE(log.held);
  for (int i = 0; i < 20; ++i) tick();  // the digit, its gap, and one frame of echo tail
  EXPECT_FALSE(log.held);
  EXPECT_GE(log.held_frames, 5);
  ch.play_tone(ToneKind::dial);
  tick();
  tick();
  EXPECT_TRUE(log.held);
  ch.stop_tone();
  for (int i = 0; i < 3; ++i) tick();
  EXPECT_FALSE(log.held);
}

// A tone from the network (a far end's tone, or the line's own tone echoed
// back by the far end) is a narrowband reference too: no adaptation on it,
// while speech from the network adapts (a few strongly voiced frames aside).
TEST(ChannelEcho, HoldsAdaptationWhileTheNetworkSendsATone) {
  FakeCanceller::Log log;
  Channel ch(*find_tone_profile("US"));
  ch.set_echo_canceller(std::make_unique<FakeCanceller>(log));
  std::vector<int16_t> network;
  test::append_tones(network, {{1000, -10}}, 1000);
  test::append_tones(network, {{941, -20}, {1633, -18}}, 1000);  // DTMF D
  std::vector<int16_t> silence(network.size(), 0);
  run_echo(ch, silence, network);
  EXPECT_GE(log.held_frames, 95);  // all but the first frame or so
  const int held_on_tones = log.held_frames;
  const std::vector<int16_t> speech = test::speech_like(4000);
  std::vector<int16_t> quiet(speech.size(), 0);
  run_echo(ch, quiet, speech);
  EXPECT_LE(log.held_frames - held_on_tones, 2 + 200 / 20) << "held on speech";
}

}  // namespace
}  // namespace sipline::dsp
