// Recording and the control <-> media handoff of the sim phones.
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sipline/base/wav.hpp"
#include "sipline/drivers/sim_driver.hpp"
#include "sipline/dsp/goertzel.hpp"
#include "unit/drivers/sim_test_util.hpp"

namespace sipline::drivers {
namespace {

using test::one_phone;
using test::Sine;
using test::tick;
using base::Result;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sipline_sim_" + name)).string();
}

// Stands in for the media worker: ticks the port (with a tone going to the
// phone) until stopped.
class Ticker {
 public:
  Ticker(LinePort& port, double freq_hz) : thread_([this, &port, freq_hz] {
    Sine tone(freq_hz, 8000);
    while (!stop_.load()) {
      tick(port, tone.next());
      ticks_.fetch_add(1);
      std::this_thread::yield();
    }
  }) {}
  ~Ticker() {
    stop_.store(true);
    thread_.join();
  }
  int ticks() const { return ticks_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ticks_{0};
  std::thread thread_;
};

TEST(SimRecording, StopRecordingWaitsForTheWorkerAndWritesTheWav) {
  const auto path = temp_path("rec_threaded.wav");
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.start_recording(0, path));
  {
    Ticker worker(d.port(0), 1000);
    // Let it hear at least 300 ms, watching the status snapshot from this thread.
    while (worker.ticks() < 15 || !d.status(0)->recording) std::this_thread::yield();
    auto r = d.stop_recording(0);
    ASSERT_TRUE(r) << r.error().message();
  }
  auto wav = base::read_wav(path);
  ASSERT_TRUE(wav) << wav.error().message();
  EXPECT_EQ(wav->sample_rate, 8000);
  ASSERT_GE(wav->samples.size(), 14 * base::kFrameSamples);
  EXPECT_EQ(wav->samples.size() % base::kFrameSamples, 0u);
  EXPECT_GT(dsp::tone_power_ratio(wav->samples, 1000), 0.9);
  EXPECT_FALSE(d.status(0)->recording);
  std::filesystem::remove(path);
}

TEST(SimRecording, StopRecordingWithoutATickTimesOutThenCompletesAfterOne) {
  const auto path = temp_path("rec_manual.wav");
  SimDriver d(one_phone());
  ASSERT_TRUE(d.off_hook(0));
  ASSERT_TRUE(d.start_recording(0, path));
  Sine tone(1000, 8000);
  for (int i = 0; i < 25; ++i) tick(d.port(0), tone.next());  // 500 ms
  EXPECT_TRUE(d.status(0)->recording);

  auto r = d.stop_recording(0);  // no worker: waits 200 ms for nothing
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::busy));
  EXPECT_NE(r.error().message().find("call stop_recording again"), std::string::npos);

  tick(d.port(0), tone.next());  // the stop takes effect here; this frame is not recorded
  r = d.stop_recording(0);
  ASSERT_TRUE(r) << r.error().message();

  auto wav = base::read_wav(path);
  ASSERT_TRUE(wav) << wav.error().message();
  EXPECT_EQ(wav->samples.size(), 25 * base::kFrameSamples);
  EXPECT_GT(dsp::tone_power_ratio(wav->samples, 1000), 0.95);
  EXPECT_LT(dsp::tone_power_ratio(wav->samples, 1209), 0.01);
  std::filesystem::remove(path);
}

TEST(SimRecording, RefusesASecondRecordingAndAStopWithoutOne) {
  SimDriver d(one_phone());
  auto r = d.stop_recording(0);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::bad_argument));

  ASSERT_TRUE(d.start_recording(0, temp_path("rec_twice.wav")));
  r = d.start_recording(0, temp_path("rec_twice.wav"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::busy));
}

TEST(SimRecording, RefusesAPathInADirectoryThatDoesNotExist) {
  SimDriver d(one_phone());
  auto r = d.start_recording(0, temp_path("no/such/dir/rec.wav"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SimError::io));
}

TEST(SimRecording, HearsSilenceWhileOnHook) {
  const auto path = temp_path("rec_on_hook.wav");
  SimDriver d(one_phone());
  ASSERT_TRUE(d.start_recording(0, path));
  Sine tone(1000, 8000);
  for (int i = 0; i < 5; ++i) tick(d.port(0), tone.next());
  Result<void> r;
  {
    Ticker worker(d.port(0), 1000);  // a tone goes to the line, but the phone is on hook
    r = d.stop_recording(0);
  }
  ASSERT_TRUE(r) << r.error().message();
  auto wav = base::read_wav(path);
  ASSERT_TRUE(wav);
  ASSERT_GE(wav->samples.size(), 5 * base::kFrameSamples);
  EXPECT_EQ(dsp::level_dbfs(wav->samples), -120.0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace sipline::drivers
