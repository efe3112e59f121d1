#include "sipline/base/wav.hpp"

#include <cstring>
#include <fstream>

namespace sipline::base {
namespace {

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }
void put32(std::string& s, uint32_t v) { for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff)); }
void put16(std::string& s, uint16_t v) { for (int i = 0; i < 2; ++i) s.push_back(char((v >> (8 * i)) & 0xff)); }

}  // namespace

Result<WavData> read_wav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(WavError::io, "cannot open " + path);
  std::vector<unsigned char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (buf.size() < 12 || std::memcmp(buf.data(), "RIFF", 4) != 0 || std::memcmp(buf.data() + 8, "WAVE", 4) != 0)
    return fail(WavError::format, path + ": not a RIFF/WAVE file");
  WavData out;
  bool have_fmt = false;
  std::size_t pos = 12;
  while (pos + 8 <= buf.size()) {
    const uint32_t size = le32(&buf[pos + 4]);
    const std::size_t body = pos + 8;
    if (body + size > buf.size() && std::memcmp(&buf[pos], "data", 4) != 0)
      return fail(WavError::format, path + ": truncated chunk");
    if (std::memcmp(&buf[pos], "fmt ", 4) == 0) {
      if (size < 16) return fail(WavError::format, path + ": short fmt chunk");
      const uint16_t format = le16(&buf[body]);
      out.channels = le16(&buf[body + 2]);
      out.sample_rate = static_cast<int>(le32(&buf[body + 4]));
      const uint16_t bits = le16(&buf[body + 14]);
      if ((format != 1 && format != 0xFFFE) || bits != 16)
        return fail(WavError::format, path + ": only 16-bit PCM is supported");
      have_fmt = true;
    } else if (std::memcmp(&buf[pos], "data", 4) == 0) {
      if (!have_fmt) return fail(WavError::format, path + ": data before fmt");
      const std::size_t avail = std::min<std::size_t>(size, buf.size() - body);
      out.samples.resize(avail / 2);
      for (std::size_t i = 0; i < out.samples.size(); ++i)
        out.samples[i] = static_cast<int16_t>(le16(&buf[body + 2 * i]));
      return out;
    }
    pos = body + size + (size & 1);
  }
  return fail(WavError::format, path + ": no data chunk");
}

Result<void> write_wav(const std::string& path, const std::vector<int16_t>& samples, int sample_rate) {
  std::string s;
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  s += "RIFF";
  put32(s, 36 + data_bytes);
  s += "WAVEfmt ";
  put32(s, 16);
  put16(s, 1);
  put16(s, 1);
  put32(s, static_cast<uint32_t>(sample_rate));
  put32(s, static_cast<uint32_t>(sample_rate) * 2u);
  put16(s, 2);
  put16(s, 16);
  s += "data";
  put32(s, data_bytes);
  for (int16_t v : samples) put16(s, static_cast<uint16_t>(v));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return fail(WavError::io, "cannot write " + path);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
  if (!out) return fail(WavError::io, "write failed: " + path);
  return {};
}

}  // namespace sipline::base
