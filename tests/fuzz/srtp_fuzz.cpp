// libFuzzer target for the receiving side of SRTP (gateway/media/srtp.hpp):
// every datagram that reaches an SRTP stream goes through unprotect_rtp or
// unprotect_rtcp before anything else reads it, so libsrtp2's header and
// trailer parsing sees raw network bytes. Checks, besides memory safety: a
// packet that passes is never longer than it came in, and one that we
// protected ourselves comes back unchanged.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "media/srtp.hpp"

namespace {

using namespace sipline::gateway::media;

struct Contexts {
  std::unique_ptr<SrtpContext> sender, receiver;
};

// Fixed keys, so that inputs replay the same way; both directions of one call.
Contexts& contexts(int suite_index) {
  static std::array<Contexts, 3> all = [] {
    std::array<Contexts, 3> c;
    for (int i = 0; i < 3; ++i) {
      const auto suite = static_cast<SrtpSuite>(i);
      const std::string a(srtp_key_length(suite), 'a'), b(srtp_key_length(suite), 'b');
      c[i].sender = std::move(*SrtpContext::create({suite, a, b}, 0x01020304));
      c[i].receiver = std::move(*SrtpContext::create({suite, b, a}, 0x05060708));
    }
    return c;
  }();
  return all[static_cast<std::size_t>(suite_index)];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 1400) return 0;
  Contexts& c = contexts(data[0] % 3);
  const bool rtcp = (data[0] & 0x80) != 0;
  std::array<std::uint8_t, 1400 + kSrtpMaxOverhead> buf{};
  std::memcpy(buf.data(), data + 1, size - 1);
  std::size_t length = size - 1;
  const bool ok = rtcp ? c.receiver->unprotect_rtcp(buf, length) : c.receiver->unprotect_rtp(buf, length);
  if (ok && length > size - 1) std::abort();

  // Our own packet made from the input round-trips (the input as payload).
  if (size - 1 >= 12 && !rtcp) {
    std::array<std::uint8_t, 1400 + kSrtpMaxOverhead> p{};
    std::memcpy(p.data(), data + 1, size - 1);
    p[0] = 0x80;  // version 2, no padding, extension or CSRC
    p[8] = 0x01, p[9] = 0x02, p[10] = 0x03, p[11] = 0x04;  // the sender's SSRC
    const auto plain = p;
    std::size_t n = size - 1;
    if (c.sender->protect_rtp(p, n)) {
      std::size_t back = n;
      // A replayed sequence number may be refused; anything accepted must match.
      if (c.receiver->unprotect_rtp(p, back) && (back != size - 1 || std::memcmp(p.data(), plain.data(), back) != 0))
        std::abort();
    }
  }
  return 0;
}
