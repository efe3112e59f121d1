// DahdiDriver: opens the configured channels, keeps the failed ones as alarm
// ports, and runs the event thread (poll for POLLPRI, DAHDI_GETEVENT, queue).
#include "sipline/drivers/dahdi_driver.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include <sys/eventfd.h>
#include <unistd.h>

#include "dahdi_port.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/base/log.hpp"

namespace sipline::drivers {
namespace {

using dahdi::DahdiPort;

// The card's own ring cadence is replaced by one long burst, so that DAHDI_RING
// / DAHDI_RINGOFF from set_ring() alone shape the cadence (a tone zone's
// cadence would otherwise switch the ringer off inside our "on" segment).
// On for 30 s, then off for 0.1 s (a 0 would fall back to the zone's cadence).
constexpr std::array<int, 2> kRingCadenceMs = {30000, 100};
// At most this many events read per channel per wake-up, so one chattering
// channel cannot starve the others.
constexpr int kMaxEventsPerWake = 32;

// The hook switch of an FXS module (FXO signalling: fxoks, fxols, fxogs), as
// dahdi-base.c reads it (__dahdi_hooksig_pvt, rbs_itimer_expire, _dahdi_receive):
//  - loop opens: unless the channel is in DAHDI_TXSTATE_DEBOUNCE, KEWL or
//    AFTERKEWL, a timer of rxflashtime ms starts; when it runs out with the loop
//    still open, DAHDI_EVENT_ONHOOK.
//  - loop closes while the timer runs, after a break of b ms:
//      b < DAHDI_MINPULSETIME (15 ms)  nothing (a bounce);
//      b <= DAHDI_MAXPULSETIME (200 ms, 80 ms with SHORT_FLASH_TIME in
//        dahdi_config.h at kernel build)  one dial pulse (PULSE_START on the
//        first); DAHDI_PULSETIMEOUT (250 ms) after the last one, PULSEDIGIT;
//      longer  DAHDI_EVENT_WINKFLASH.
//    So rxflashtime <= 200 leaves no flash window: every break shorter than
//    rxflashtime is a pulse, a recall key is the digit 1.
//  - debouncetime is no contact debounce (the card driver samples the hook):
//    it is how long DAHDI_HOOK DAHDI_OFFHOOK (txstate DEBOUNCE) ignores an
//    open loop; if the loop is open when it ends, the rxflashtime timer starts.
//    This driver sends DAHDI_OFFHOOK on FXS only just before an OSI.
// What the kernel cannot be told: the shortest flash (flash_min_ms; it is
// DAHDI_MAXPULSETIME), the longest pulse break (pulse_break_max_ms), the
// shortest counted break (15 ms) and the end of a digit (pulse_interdigit_ms;
// 250 ms); all are compile-time constants in include/dahdi/kernel.h.
DahdiHookTiming kernel_hook_timing(const dsp::HookTiming& hook) {
  return {.rx_flash_ms = hook.flash_max_ms, .debounce_ms = hook.debounce_ms};
}

const char* kind_name(PortKind k) { return k == PortKind::fxs ? "fxs" : "fxo"; }

std::string describe(const DahdiPortConfig& c, const std::string& name) {
  return "dahdi channel " + std::to_string(c.channel) + " (" + name + ")";
}

void signal_fd(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
}

}  // namespace

struct DahdiDriver::Impl {
  explicit Impl(DahdiIo& io_) : io(io_) {}

  DahdiIo& io;
  base::UniqueFd event_fd;  // readable when events are queued (control thread reads it)
  base::UniqueFd wake_fd;   // wakes the event thread to stop
  std::vector<std::unique_ptr<DahdiPort>> ports;
  std::vector<base::Error> errors;
  std::thread thread;

  // Opens and checks one channel; the fd, or an error naming the channel.
  // `params` gets what DAHDI_GET_PARAMS said.
  base::Result<int> open_channel(const std::string& device, const DahdiPortConfig& c, const std::string& name,
                                 DahdiParams& params);
  void run();  // the event thread
};

base::Result<int> DahdiDriver::Impl::open_channel(const std::string& device, const DahdiPortConfig& c,
                                                  const std::string& name, DahdiParams& params) {
  const std::string who = describe(c, name);
  const int fd = io.open(device);
  if (fd < 0) {
    const auto code = (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO) ? DahdiError::no_device : DahdiError::io;
    std::string hint = code == DahdiError::no_device ? " (are the DAHDI kernel modules loaded?)"
                       : fd == -EACCES             ? " (is this user in the dialout group?)"
                                                   : "";
    return base::fail(code, who + ": cannot open " + device + ": " + std::strerror(-fd) + hint);
  }
  auto fail_closed = [&](DahdiError code, std::string why) -> base::Result<int> {
    io.close(fd);
    return base::fail(code, who + ": " + std::move(why));
  };
  if (const int rc = io.specify(fd, c.channel); rc < 0) {
    if (rc == -EBUSY) return fail_closed(DahdiError::busy, "busy: another program has the channel open");
    if (rc == -ENXIO || rc == -EINVAL) {
      return fail_closed(DahdiError::no_channel, "no such channel (dahdi_scan lists the card's channels)");
    }
    return fail_closed(DahdiError::io, std::string("DAHDI_SPECIFY failed: ") + std::strerror(-rc));
  }
  if (const int rc = io.set_blocksize(fd, static_cast<int>(base::kFrameSamples)); rc < 0) {
    return fail_closed(DahdiError::io, std::string("DAHDI_SET_BLOCKSIZE 160 failed: ") + std::strerror(-rc));
  }
  if (const int rc = io.set_linear(fd, true); rc < 0) {
    return fail_closed(DahdiError::io, std::string("DAHDI_SETLINEAR failed: ") + std::strerror(-rc));
  }
  if (const int rc = io.get_params(fd, params); rc < 0) {
    return fail_closed(DahdiError::io, std::string("DAHDI_GET_PARAMS failed: ") + std::strerror(-rc));
  }
  if (params.sigtype == 0) {
    return fail_closed(DahdiError::no_signalling,
                       "no signalling configured (add it to /etc/dahdi/system.conf and run dahdi_cfg)");
  }
  const auto kind = dahdi_kind_for_sigtype(params.sigtype);
  if (!kind) {
    return fail_closed(DahdiError::kind_mismatch, std::string("configured as ") + kind_name(c.kind) +
                                                      " but the channel is not an analog port (" +
                                                      dahdi_sigtype_name(params.sigtype) + ")");
  }
  if (*kind != c.kind) {
    return fail_closed(DahdiError::kind_mismatch,
                       std::string("configured as ") + kind_name(c.kind) + " but the card reports " +
                           dahdi_sigtype_name(params.sigtype) + " signalling, which is an " + kind_name(*kind) +
                           " module (DAHDI names signalling after the far end: FXS modules use fxo*, FXO "
                           "modules fxs*)");
  }
  if (c.span != 0 && params.spanno != c.span) {
    return fail_closed(DahdiError::span_mismatch, "configured on span " + std::to_string(c.span) +
                                                      " but it is on span " + std::to_string(params.spanno));
  }
  if (c.kind == PortKind::fxs) {
    if (const int rc = io.set_cadence(fd, kRingCadenceMs); rc < 0) {
      base::log::warn(base::Sub::driver, "event=cadence_failed channel={} port={} error=\"{}\"", c.channel, name,
                      std::strerror(-rc));
    }
    const DahdiHookTiming hook = kernel_hook_timing(c.hook);
    if (const int rc = io.set_hook_timing(fd, hook); rc < 0) {
      // The channel works on at the kernel's own times (rxflashtime 1250 ms, debouncetime 600 ms).
      base::log::warn(base::Sub::driver,
                      "event=hook_timing_failed channel={} port={} rxflash_ms={} debounce_ms={} error=\"{}\"",
                      c.channel, name, hook.rx_flash_ms, hook.debounce_ms, std::strerror(-rc));
    }
  }
  return fd;
}

DahdiDriver::DahdiDriver(const DahdiDriverConfig& config, DahdiIo& io) : impl_(std::make_unique<Impl>(io)) {
  std::set<int> seen;
  for (const auto& c : config.ports) {
    if (c.channel < 1) throw std::invalid_argument("dahdi: channel numbers start at 1 (got " +
                                                   std::to_string(c.channel) + ")");
    if (!seen.insert(c.channel).second) {
      throw std::invalid_argument("dahdi: channel " + std::to_string(c.channel) + " is configured twice");
    }
  }
  impl_->event_fd = base::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  impl_->wake_fd = base::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!impl_->event_fd || !impl_->wake_fd) throw std::runtime_error("dahdi driver: eventfd failed");

  bool queued = false;
  for (std::size_t i = 0; i < config.ports.size(); ++i) {
    const auto& c = config.ports[i];
    std::string name = c.name.empty() ? kind_name(c.kind) + std::to_string(c.channel) : c.name;
    DahdiParams params;
    auto fd = impl_->open_channel(config.device, c, name, params);
    if (fd) {
      impl_->ports.push_back(
          std::make_unique<DahdiPort>(i, std::move(name), c.kind, c.channel, io, *fd, "", params.sigtype));
      if (params.alarms != 0) queued |= impl_->ports.back()->queue_alarm();
      if (c.kind == PortKind::fxs && params.rx_off_hook) queued |= impl_->ports.back()->queue_off_hook();
      base::log::info(base::Sub::driver, "event=channel_open channel={} port={} kind={}", c.channel,
                      impl_->ports.back()->name(), kind_name(c.kind));
    } else {
      base::log::error(base::Sub::driver, "event=channel_failed channel={} error=\"{}\"", c.channel,
                       fd.error().message());
      impl_->ports.push_back(
          std::make_unique<DahdiPort>(i, std::move(name), c.kind, c.channel, io, -1, fd.error().message()));
      queued |= impl_->ports.back()->queue_alarm();
      impl_->errors.push_back(std::move(fd.error()));
    }
  }
  if (queued) signal_fd(impl_->event_fd.get());
  // The queue pushes above happen before the thread starts, so it may push next.
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

DahdiDriver::~DahdiDriver() {
  signal_fd(impl_->wake_fd.get());
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& p : impl_->ports) {
    if (p->working()) impl_->io.close(p->fd());
  }
}

void DahdiDriver::Impl::run() {
  std::vector<pollfd> fds;
  std::vector<DahdiPort*> owners;
  for (auto& p : ports) {
    if (!p->working()) continue;
    fds.push_back({.fd = p->fd(), .events = POLLPRI, .revents = 0});
    owners.push_back(p.get());
  }
  fds.push_back({.fd = wake_fd.get(), .events = POLLIN, .revents = 0});
  const std::size_t wake = fds.size() - 1;

  for (;;) {
    const int n = io.poll(fds, -1);
    if (n < 0) {
      base::log::error(base::Sub::driver, "event=poll_failed error=\"{}\"; dahdi events stop", std::strerror(-n));
      return;
    }
    if (fds[wake].revents & POLLIN) return;
    bool queued = false;
    for (std::size_t i = 0; i < wake; ++i) {
      const short revents = fds[i].revents;
      if (!revents) continue;
      DahdiPort& port = *owners[i];
      if (revents & POLLPRI) {
        for (int k = 0; k < kMaxEventsPerWake; ++k) {
          int event = 0;
          const int rc = io.get_event(fds[i].fd, event);
          if (rc < 0) {
            port.count_io_error();
            break;
          }
          if (event == 0) break;  // DAHDI_EVENT_NONE: the queue is empty
          queued |= port.handle_event(event);
        }
      }
      if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
        // The channel is gone (card removed, span unassigned): stop watching it.
        base::log::error(base::Sub::driver, "event=channel_lost channel={} port={}", port.channel(), port.name());
        queued |= port.queue_alarm();
        fds[i].fd = -1;
      }
    }
    if (queued) signal_fd(event_fd.get());
  }
}

std::size_t DahdiDriver::port_count() const { return impl_->ports.size(); }

LinePort& DahdiDriver::port(std::size_t index) { return *impl_->ports.at(index); }

int DahdiDriver::event_fd() const { return impl_->event_fd.get(); }

void DahdiDriver::drain_events(const std::function<void(const LineEvent&)>& handler) {
  // Reset the eventfd first: an event queued after this re-signals it.
  uint64_t count = 0;
  [[maybe_unused]] const auto n = ::read(impl_->event_fd.get(), &count, sizeof count);
  for (auto& port : impl_->ports) {
    while (auto e = port->take_event()) handler(*e);
  }
}

const std::vector<base::Error>& DahdiDriver::errors() const { return impl_->errors; }

std::size_t DahdiDriver::working_port_count() const {
  std::size_t n = 0;
  for (const auto& p : impl_->ports) n += p->working() ? 1 : 0;
  return n;
}

DahdiPortStatus DahdiDriver::port_status(std::size_t index) const { return impl_->ports.at(index)->status(); }

}  // namespace sipline::drivers
