#include "harness/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <set>
#include <stdexcept>

namespace sipline::test {
namespace {

constexpr int kLow = 10000;
constexpr int kHigh = 32000;

std::set<int>& handed_out() {
  static std::set<int> ports;
  return ports;
}

std::mt19937& rng() {
  static std::mt19937 gen(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  return gen;
}

bool can_bind(int type, int port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::uint16_t pick_free_port() {
  std::uniform_int_distribution<int> dist(kLow, kHigh - 1);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = dist(rng());
    if (handed_out().count(port) != 0) continue;
    if (can_bind(SOCK_DGRAM, port) && can_bind(SOCK_STREAM, port)) {
      handed_out().insert(port);
      return static_cast<std::uint16_t>(port);
    }
  }
  throw std::runtime_error("no free port found");
}

std::uint16_t pick_free_port_block(int count) {
  std::uniform_int_distribution<int> dist(kLow, kHigh - count - 1);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int base = dist(rng());
    bool ok = true;
    for (int p = base; p < base + count && ok; ++p) {
      ok = handed_out().count(p) == 0 && can_bind(SOCK_DGRAM, p) && can_bind(SOCK_STREAM, p);
    }
    if (!ok) continue;
    for (int p = base; p < base + count; ++p) handed_out().insert(p);
    return static_cast<std::uint16_t>(base);
  }
  throw std::runtime_error("no free port block found");
}

std::uint16_t pick_free_udp_range(int count) {
  std::uniform_int_distribution<int> dist(kLow / 2, (kHigh - count) / 2 - 1);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int base = dist(rng()) * 2;
    bool ok = true;
    for (int p = base; p < base + count && ok; ++p) {
      ok = handed_out().count(p) == 0 && can_bind(SOCK_DGRAM, p);
    }
    if (!ok) continue;
    for (int p = base; p < base + count; ++p) handed_out().insert(p);
    return static_cast<std::uint16_t>(base);
  }
  throw std::runtime_error("no free port range found");
}

}  // namespace sipline::test
