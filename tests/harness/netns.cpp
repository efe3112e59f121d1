#include "harness/netns.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "harness/tools.hpp"

namespace sipline::test {

namespace {

bool g_entered = false;

// Counts the interfaces other than lo, so the test can prove it is isolated.
int other_interfaces() {
  struct if_nameindex* list = if_nameindex();
  if (list == nullptr) return -1;
  int others = 0;
  for (auto* i = list; i->if_index != 0 && i->if_name != nullptr; ++i) {
    if (std::string(i->if_name) != "lo") ++others;
  }
  if_freenameindex(list);
  return others;
}

bool fail_or_skip(const std::string& why) { return missing_prerequisite(why, "CI runs the tests as root"); }

}  // namespace

bool enter_loopback_only_netns() {
  if (g_entered) return true;
  if (unshare(CLONE_NEWNET) != 0) {
    return fail_or_skip(std::string("cannot create a network namespace (needs root): ") +
                        std::strerror(errno));
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_or_skip(std::string("socket: ") + std::strerror(errno));
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  if (up) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
    up = ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  }
  int saved = errno;
  close(fd);
  if (!up) return fail_or_skip(std::string("cannot bring lo up: ") + std::strerror(saved));
  if (other_interfaces() != 0) return fail_or_skip("the new namespace has interfaces besides lo");
  g_entered = true;
  return true;
}

bool in_loopback_only_netns() { return g_entered; }

}  // namespace sipline::test
