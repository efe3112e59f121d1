#include "sipline/base/wav.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace sipline::base {
namespace {

TEST(Wav, WritesAndReadsBack8kMono) {
  const auto path = (std::filesystem::temp_directory_path() / "sipline_wav_test.wav").string();
  std::vector<int16_t> samples = {0, 1, -1, 32767, -32768, 1234};
  ASSERT_TRUE(write_wav(path, samples));
  auto back = read_wav(path);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->sample_rate, 8000);
  EXPECT_EQ(back->channels, 1);
  EXPECT_EQ(back->samples, samples);
  std::filesystem::remove(path);
}

TEST(Wav, RejectsAFileThatIsNotWave) {
  const auto path = (std::filesystem::temp_directory_path() / "sipline_not_wav.wav").string();
  std::ofstream(path) << "hello, this is not a wave file at all";
  auto r = read_wav(path);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(WavError::format));
  EXPECT_NE(r.error().message().find("not a RIFF/WAVE"), std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace sipline::base
