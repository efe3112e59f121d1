#include "dahdi_port.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include <dahdi/user.h>

#include "sipline/base/log.hpp"

namespace sipline::drivers::dahdi {

DahdiPort::DahdiPort(std::size_t index, std::string name, PortKind kind, int channel, DahdiIo& io, int fd,
                     std::string error, int sigtype)
    : index_(index),
      name_(std::move(name)),
      kind_(kind),
      channel_(channel),
      io_(io),
      fd_(fd),
      error_(std::move(error)),
      sigtype_(sigtype),
      mapper_(kind) {}

void DahdiPort::set_ring(bool on) {
  if (!working() || kind_ != PortKind::fxs) return;
  // DAHDI_RING starts the ring at once (EINPROGRESS: the ring is under way).
  const int rc = io_.hook(fd_, on ? DAHDI_RING : DAHDI_RINGOFF);
  if (rc < 0 && rc != -EINPROGRESS) {
    count_io_error();
    base::log::warn(base::Sub::driver, "event=ring_failed port={} channel={} on={} error=\"{}\"", name_, channel_,
                    on, std::strerror(-rc));
  }
}

void DahdiPort::set_polarity(bool reversed) {
  if (!working() || kind_ != PortKind::fxs) return;
  if (const int rc = io_.set_polarity(fd_, reversed); rc < 0) {
    count_io_error();
    base::log::warn(base::Sub::driver, "event=polarity_failed port={} channel={} error=\"{}\"", name_, channel_,
                    std::strerror(-rc));
  }
}

void DahdiPort::set_hook(bool off_hook) {
  if (!working() || kind_ != PortKind::fxo) return;
  if (const int rc = io_.hook(fd_, off_hook ? DAHDI_OFFHOOK : DAHDI_ONHOOK); rc < 0 && rc != -EINPROGRESS) {
    count_io_error();
    base::log::warn(base::Sub::driver, "event=hook_failed port={} channel={} off_hook={} error=\"{}\"", name_,
                    channel_, off_hook, std::strerror(-rc));
  }
}

void DahdiPort::read(base::FrameSpan from_line) {
  if (!working()) {
    std::fill(from_line.begin(), from_line.end(), int16_t{0});
    return;
  }
  const auto bytes = std::as_writable_bytes(std::span<int16_t>(from_line));
  const long n = io_.read(fd_, bytes);
  if (n == kBlockBytes) {
    frames_read_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Keep the whole samples of a short block, silence for the rest.
  const std::size_t keep = n > 0 ? static_cast<std::size_t>(n) / sizeof(int16_t) : 0;
  std::fill(from_line.begin() + static_cast<std::ptrdiff_t>(keep), from_line.end(), int16_t{0});
  if (n >= 0 || n == -EAGAIN) {
    underruns_.fetch_add(1, std::memory_order_relaxed);
  } else if (n == -ELAST) {
    event_blocked_.fetch_add(1, std::memory_order_relaxed);
  } else {
    io_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void DahdiPort::write(base::ConstFrameSpan to_line) {
  if (!working()) return;
  const long n = io_.write(fd_, std::as_bytes(std::span<const int16_t>(to_line)));
  if (n == kBlockBytes) return;
  if (n >= 0 || n == -EAGAIN) {
    write_drops_.fetch_add(1, std::memory_order_relaxed);
  } else if (n == -ELAST) {
    event_blocked_.fetch_add(1, std::memory_order_relaxed);
  } else {
    io_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

bool DahdiPort::push(LineEventType type, char digit) {
  if (events_.push(LineEvent{.port = index_, .type = type, .digit = digit})) return true;
  events_dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool DahdiPort::handle_event(int dahdi_event) {
  const EventMeaning m = mapper_.map(dahdi_event);
  if (m.alarm == AlarmChange::raised) in_alarm_.store(true, std::memory_order_relaxed);
  if (m.alarm == AlarmChange::cleared) in_alarm_.store(false, std::memory_order_relaxed);
  bool queued = false;
  for (std::size_t i = 0; i < m.count; ++i) queued |= push(m.types[i], m.digit);
  return queued;
}

bool DahdiPort::queue_alarm() {
  in_alarm_.store(true, std::memory_order_relaxed);
  return push(LineEventType::alarm);
}

DahdiPortStatus DahdiPort::status() const {
  constexpr auto r = std::memory_order_relaxed;
  return DahdiPortStatus{
      .working = working(),
      .in_alarm = in_alarm_.load(r),
      .error = error_,
      .frames_read = frames_read_.load(r),
      .underruns = underruns_.load(r),
      .event_blocked = event_blocked_.load(r),
      .write_drops = write_drops_.load(r),
      .io_errors = io_errors_.load(r),
      .events_dropped = events_dropped_.load(r),
  };
}

// DAHDI's kewlstart disconnect (dahdi-base.c, dahdi_hangup): DAHDI_ONHOOK on
// an fxoks channel that is not idle sends DAHDI_TXSIG_KEWL (the card opens
// the loop) for DAHDI_KEWLTIME, then DAHDI_AFTERKEWLTIME (300 ms) idle, then
// battery again. A channel whose phone went off hook by itself is still idle
// for the kernel (nobody answered it with DAHDI_OFFHOOK), so DAHDI_OFFHOOK
// comes first; on fxoks it changes nothing on the line (TXSIG_OFFHOOK is the
// idle line feed). With the phone already on hook the kernel skips the OSI.
void DahdiPort::disconnect_battery(int ms) {
  if (!working() || kind_ != PortKind::fxs || ms <= 0) return;
  if (sigtype_ != DAHDI_SIG_FXOKS) {
    base::log::warn(base::Sub::driver,
                    "event=osi_unsupported port={} channel={} signalling={} reason=\"only kewlstart (fxoks) "
                    "channels can remove battery\"",
                    name_, channel_, dahdi_sigtype_name(sigtype_));
    return;
  }
  if (ms != kKewlTimeMs) {
    base::log::debug(base::Sub::driver, "event=osi_fixed_length port={} channel={} asked_ms={} kernel_ms={}", name_,
                     channel_, ms, kKewlTimeMs);
  }
  int rc = io_.hook(fd_, DAHDI_OFFHOOK);
  if (rc == -EBUSY) return;  // an OSI is already under way (KEWL or AFTERKEWL)
  if (rc >= 0 || rc == -EINPROGRESS) rc = io_.hook(fd_, DAHDI_ONHOOK);
  if (rc < 0 && rc != -EINPROGRESS) {
    count_io_error();
    base::log::warn(base::Sub::driver, "event=osi_failed port={} channel={} error=\"{}\"", name_, channel_,
                    std::strerror(-rc));
  }
}

void DahdiPort::pulse_dial(std::string_view digits) {
  if (!working() || kind_ != PortKind::fxo) return;
  std::string dial_string = "P";  // pulse mode ('T' would be DTMF), dahdi-base.c __do_dtmf
  for (const char d : digits) {
    if (d >= '0' && d <= '9' && dial_string.size() < DAHDI_MAX_DTMF_BUF - 1) dial_string += d;
  }
  if (const int rc = io_.set_pulse_timing(fd_, kPulseTiming); rc < 0) {
    // Dialing still works, at the channel's own times (DAHDI's default 50/50/750 ms).
    base::log::warn(base::Sub::driver, "event=pulse_timing_failed port={} channel={} error=\"{}\"", name_,
                    channel_, std::strerror(-rc));
  }
  if (const int rc = io_.dial(fd_, dial_string); rc < 0) {
    count_io_error();
    base::log::warn(base::Sub::driver, "event=dial_failed port={} channel={} digits={} error=\"{}\"{}", name_,
                    channel_, dial_string.substr(1), std::strerror(-rc),
                    rc == -ENODATA ? " hint=\"no tone zone loaded (loadzone in system.conf)\"" : "");
  }
}

}  // namespace sipline::drivers::dahdi
