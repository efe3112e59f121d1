// SystemDahdiIo: DahdiIo over the real system calls on /dev/dahdi/channel.
// The only file that includes <dahdi/user.h> for its ioctl numbers and structs
// (dahdi_events.cpp uses it for the event and signalling constants).
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dahdi/user.h>

#include "sipline/drivers/dahdi_driver.hpp"

namespace sipline::drivers {
namespace {

int result(int rc) { return rc < 0 ? -errno : rc; }

int ioctl_int(int fd, unsigned long request, int value) {
  return result(::ioctl(fd, request, &value));
}

class SystemDahdiIo final : public DahdiIo {
 public:
  int open(const std::string& path) override {
    return result(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  }
  void close(int fd) override { ::close(fd); }
  int specify(int fd, int channel) override { return ioctl_int(fd, DAHDI_SPECIFY, channel); }
  int set_blocksize(int fd, int samples) override { return ioctl_int(fd, DAHDI_SET_BLOCKSIZE, samples); }
  int set_linear(int fd, bool linear) override { return ioctl_int(fd, DAHDI_SETLINEAR, linear ? 1 : 0); }
  int set_cadence(int fd, std::span<const int> ms) override {
    dahdi_ring_cadence c{};
    for (std::size_t i = 0; i < ms.size() && i < DAHDI_MAX_CADENCE; ++i) c.ringcadence[i] = ms[i];
    return result(::ioctl(fd, DAHDI_SETCADENCE, &c));
  }
  int get_params(int fd, DahdiParams& params) override {
    dahdi_params p{};
    p.channo = 0;  // 0: the channel this fd was bound to with DAHDI_SPECIFY
    if (::ioctl(fd, DAHDI_GET_PARAMS, &p) < 0) return -errno;
    params.sigtype = p.sigtype;
    params.spanno = p.spanno;
    params.chanpos = p.chanpos;
    params.alarms = p.chan_alarms;
    params.rx_off_hook = p.rxisoffhook != 0;
    params.name.assign(p.name, strnlen(p.name, sizeof p.name));
    return 0;
  }
  int hook(int fd, int op) override { return ioctl_int(fd, DAHDI_HOOK, op); }
  int get_event(int fd, int& event) override {
    event = DAHDI_EVENT_NONE;
    return result(::ioctl(fd, DAHDI_GETEVENT, &event));
  }
  int set_polarity(int fd, bool reversed) override { return ioctl_int(fd, DAHDI_SETPOLARITY, reversed ? 1 : 0); }
  int set_pulse_timing(int fd, const DahdiPulseTiming& timing) override {
    return update_params(fd, [&](dahdi_params& p) {
      p.pulsebreaktime = timing.break_ms;
      p.pulsemaketime = timing.make_ms;
      p.pulseaftertime = timing.after_ms;
    });
  }
  int set_hook_timing(int fd, const DahdiHookTiming& timing) override {
    return update_params(fd, [&](dahdi_params& p) {
      p.rxflashtime = timing.rx_flash_ms;
      p.debouncetime = timing.debounce_ms;
    });
  }
  // Reads the channel's params, changes some, writes them back.
  template <typename Change>
  static int update_params(int fd, Change change) {
    dahdi_params p{};
    p.channo = 0;  // the channel this fd was bound to
    if (::ioctl(fd, DAHDI_GET_PARAMS, &p) < 0) return -errno;
    change(p);
    return result(::ioctl(fd, DAHDI_SET_PARAMS, &p));
  }
  int dial(int fd, std::string_view dial_string) override {
    dahdi_dialoperation op{};
    op.op = DAHDI_DIAL_OP_APPEND;
    if (dial_string.size() >= sizeof op.dialstr) return -EINVAL;
    std::memcpy(op.dialstr, dial_string.data(), dial_string.size());
    return result(::ioctl(fd, DAHDI_DIAL, &op));
  }
  long read(int fd, std::span<std::byte> data) override {
    const ssize_t n = ::read(fd, data.data(), data.size());
    return n < 0 ? -errno : static_cast<long>(n);
  }
  long write(int fd, std::span<const std::byte> data) override {
    const ssize_t n = ::write(fd, data.data(), data.size());
    return n < 0 ? -errno : static_cast<long>(n);
  }
  int poll(std::span<pollfd> fds, int timeout_ms) override {
    for (;;) {
      const int n = ::poll(fds.data(), fds.size(), timeout_ms);
      if (n >= 0 || errno != EINTR) return result(n);
    }
  }
};

}  // namespace

std::unique_ptr<DahdiIo> make_system_dahdi_io() { return std::make_unique<SystemDahdiIo>(); }

}  // namespace sipline::drivers
