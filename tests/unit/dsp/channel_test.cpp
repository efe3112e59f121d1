#include "sipline/dsp/channel.hpp"

#include <gtest/gtest.h>

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
