#pragma once
// The `dahdi` driver: analog ports of a telephony interface card (Digium or
// Sangoma style FXS/FXO modules) through the DAHDI userspace API
// (`dahdi/user.h`, Debian package dahdi-source).
//
// How: each configured channel is opened as /dev/dahdi/channel and bound to
// its channel number with DAHDI_SPECIFY, set to 160-sample blocks
// (DAHDI_SET_BLOCKSIZE) of 16-bit signed linear audio (DAHDI_SETLINEAR), and
// non-blocking. Its signalling type (DAHDI_GET_PARAMS) must match the
// configured port kind. DAHDI names signalling after the equipment at the
// far end, so the names look inverted (see dahdi_kind_for_sigtype):
//   a card's FXS module (a phone plugged in)   uses FXO signalling: fxoks, fxols, fxogs;
//   a card's FXO module (a line from the CO)   uses FXS signalling: fxsks, fxsls, fxsgs.
//
// Events: one thread (`dahdi-events`) polls all channels for POLLPRI (DAHDI's
// "an event is queued" flag), reads each with DAHDI_GETEVENT, maps it to a
// LineEvent (src/dahdi/dahdi_events.hpp states the mapping and its source in
// dahdi-base.c) and queues it per port (SPSC), then signals event_fd().
// A thread, not the media worker's read(), because a DAHDI read() returns
// ELAST while an event is queued and would stay stuck on it until someone
// calls DAHDI_GETEVENT; doing that on the media worker would put signalling,
// queue-full handling and error reporting on the 20 ms path, and hook events
// must keep flowing when a worker is slow. The cost is one thread per driver
// (not per port), asleep in poll().
//
// Audio: read()/write() move exactly 160 samples (320 bytes) per call on the
// non-blocking fd. A read with no block ready (EAGAIN) or with an event
// pending (ELAST) gives silence and is counted (DahdiPortStatus); nothing
// blocks the media worker.
//
// Failed channels: a channel that cannot be opened (no device, no such
// channel, busy, wrong signalling, wrong span) stays in the port list as an
// "alarm" port at its configured index, so port indices always equal config
// order (the gateway maps [[lines.port]] entries by index). An alarm port
// reads silence, ignores writes and signalling, and queues one `alarm` event
// at start; errors() and port_status() name the channel and the reason.
// The other channels work normally. An FXS port whose phone is already off
// hook at open queues one off_hook event (DAHDI reports only changes).
//
// Pulse dialing (FXO, pulse_dial): the kernel dials. The port sets the
// channel's pulse times (DAHDI_SET_PARAMS: 60 ms break, 40 ms make, 700 ms
// after each digit) and appends "P<digits>" with DAHDI_DIAL; dahdi-base.c
// (__do_dtmf) switches to pulse mode on 'P' ('T' would select DTMF), opens
// and closes the loop through the card's hook (DAHDI_TXSIG_ONHOOK/OFFHOOK
// for pulsebreaktime/pulsemaketime, pulseaftertime after the digit) and
// queues DAHDI_EVENT_DIALCOMPLETE when the string is done: dial_complete.
// It pulses only while the channel is off hook (digits given on hook are
// skipped), any DAHDI_HOOK cancels the rest, and DAHDI_DIAL fails with
// ENODATA when no tone zone is loaded (system.conf loadzone).
//
// Open switching interval (FXS, disconnect_battery): DAHDI's kewlstart
// disconnect. DAHDI_HOOK DAHDI_ONHOOK on an fxoks channel that is not idle
// (dahdi_hangup) sends DAHDI_TXSIG_KEWL (the card opens the loop: no
// battery) for DAHDI_KEWLTIME, then keeps the channel idle for
// DAHDI_AFTERKEWLTIME; both are fixed in the kernel (500 ms and 300 ms,
// include/dahdi/kernel.h), so the interval asked for is not honoured. The
// port first sends DAHDI_OFFHOOK so that a channel whose phone went off hook
// by itself (still idle for the kernel) is not idle any more. fxols and fxogs
// channels have no kewlstart: they get no OSI. An ONHOOK event follows only
// when the card saw the loop open during the interval.
//
// Hook switch (FXS): the kernel, not the port, tells a flash (WINKFLASH), a
// dial pulse (PULSE_START, then PULSEDIGIT) and an on-hook (ONHOOK) apart by
// how long the loop stays open. At open the port sets two of its times from
// the country's dsp::HookTiming (DAHDI_SET_PARAMS): rxflashtime = flash_max_ms
// (a break at least this long is on hook) and debouncetime = debounce_ms. The
// rest is fixed in dahdi-base.c: a break under 15 ms is ignored, one of 15 to
// 200 ms (80 ms when built with SHORT_FLASH_TIME) is a dial pulse, so only a
// break between that and rxflashtime is a flash (with flash_max_ms <= 200 the
// card reports no flash at all: a recall key reads as the digit 1); a digit
// ends 250 ms after its last pulse. flash_min_ms, pulse_break_max_ms and
// pulse_interdigit_ms cannot be given to the kernel. A failed SET_PARAMS is
// logged and leaves the kernel's own times (1250 ms, 600 ms).
//
// Limits: analog FXS/FXO channels only (no E1/T1 CAS or PRI); the caller
// drives the ring cadence (set_ring on/off), the card's tone zone cadence is
// replaced by one 30 s burst at open; no hardware echo canceller or DTMF
// detection is enabled (dsp/ does those).
//
// Thread: construct, drain_events(), set_ring/set_polarity/set_hook,
// disconnect_battery/pulse_dial and errors() on the control thread; read()/write() on the port's media worker;
// port_status() on any thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <poll.h>

#include "sipline/base/result.hpp"
#include "sipline/drivers/line_driver.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers {

enum class DahdiError {
  no_device,      // /dev/dahdi/channel missing (ENOENT/ENODEV): modules not loaded
  no_channel,     // DAHDI_SPECIFY: no such channel (ENXIO)
  busy,           // the channel is open elsewhere (EBUSY)
  no_signalling,  // channel not configured by dahdi_cfg (sigtype 0)
  kind_mismatch,  // signalling says FXS where FXO was configured, or vice versa
  span_mismatch,  // the channel is on another span than configured
  io,             // any other system call failure
  bad_config,
};

// The system-call seam. Values are DAHDI's own (DAHDI_OFFHOOK, DAHDI_EVENT_*,
// DAHDI_SIG_*), passed as plain ints so that this header needs no
// <dahdi/user.h>. Every call returns >= 0 on success or -errno.
// Thread: any (the system implementation keeps no state).
struct DahdiParams {
  int sigtype = 0;         // DAHDI_SIG_*
  int spanno = 0;
  int chanpos = 0;         // channel number within the span
  uint32_t alarms = 0;     // chan_alarms; 0 = none
  bool rx_off_hook = false;  // rxisoffhook: FXS port, the phone is off hook now
  std::string name;        // e.g. "WCTDM/4/0"
};

// The channel's received hook-switch times (dahdi_params), in ms; see
// src/dahdi/dahdi_driver.cpp (set_hook_timing) for what the kernel does with them.
struct DahdiHookTiming {
  int rx_flash_ms = 0;   // rxflashtime: a loop break this long is on hook, shorter (past a pulse) a flash
  int debounce_ms = 0;   // debouncetime: after DAHDI_HOOK DAHDI_OFFHOOK, on-hook is ignored this long
};

// The channel's pulse dialing times (dahdi_params pulse*time), in ms.
struct DahdiPulseTiming {
  int break_ms = 0;   // pulsebreaktime: loop open per pulse
  int make_ms = 0;    // pulsemaketime: loop closed per pulse
  int after_ms = 0;   // pulseaftertime: loop closed after each digit
};

class DahdiIo {
 public:
  virtual ~DahdiIo() = default;
  virtual int open(const std::string& path) = 0;             // O_RDWR|O_NONBLOCK; the fd
  virtual void close(int fd) = 0;
  virtual int specify(int fd, int channel) = 0;              // DAHDI_SPECIFY
  virtual int set_blocksize(int fd, int samples) = 0;        // DAHDI_SET_BLOCKSIZE
  virtual int set_linear(int fd, bool linear) = 0;           // DAHDI_SETLINEAR
  virtual int set_cadence(int fd, std::span<const int> ms) = 0;  // DAHDI_SETCADENCE (on, off, ...)
  virtual int get_params(int fd, DahdiParams& params) = 0;   // DAHDI_GET_PARAMS
  virtual int hook(int fd, int op) = 0;                      // DAHDI_HOOK: DAHDI_OFFHOOK, DAHDI_RING, ...
  virtual int get_event(int fd, int& event) = 0;             // DAHDI_GETEVENT (DAHDI_EVENT_NONE = 0)
  virtual int set_polarity(int fd, bool reversed) = 0;       // DAHDI_SETPOLARITY
  // DAHDI_GET_PARAMS, then DAHDI_SET_PARAMS with these pulse times (the other
  // times as read).
  virtual int set_pulse_timing(int fd, const DahdiPulseTiming& timing) = 0;
  // DAHDI_GET_PARAMS, then DAHDI_SET_PARAMS with these hook times (the other
  // times as read).
  virtual int set_hook_timing(int fd, const DahdiHookTiming& timing) = 0;
  // DAHDI_DIAL, DAHDI_DIAL_OP_APPEND: queues `dial_string` (at most 255
  // characters; 'P' pulse, 'T' DTMF, then digits) for the kernel to dial.
  virtual int dial(int fd, std::string_view dial_string) = 0;
  // Realtime: bytes moved, or -errno (EAGAIN: no block; ELAST, which
  // <dahdi/user.h> defines as 500: an event is pending).
  virtual long read(int fd, std::span<std::byte> data) = 0;
  virtual long write(int fd, std::span<const std::byte> data) = 0;
  // poll(2); the driver passes its own eventfd among the channel fds.
  virtual int poll(std::span<pollfd> fds, int timeout_ms) = 0;
};

// The implementation over the real system calls (open, ioctl, read, write, poll).
std::unique_ptr<DahdiIo> make_system_dahdi_io();

// PortKind of a DAHDI signalling type (FXO signalling = our FXS port), or
// nullopt for non-analog signalling (E&M, CAS, HDLC, none).
std::optional<PortKind> dahdi_kind_for_sigtype(int sigtype);
// "fxo_ks", "fxs_ls", ..., or "sigtype 0x..." for the others.
std::string dahdi_sigtype_name(int sigtype);

struct DahdiPortConfig {
  std::string name;     // e.g. "fxs1"; empty = "<kind><channel>"
  int span = 0;         // 0 = any; otherwise checked against the channel's span
  int channel = 0;      // DAHDI's global channel number (as in system.conf)
  PortKind kind = PortKind::fxs;  // what the card module must be
  // FXS: the country's hook-switch times; only flash_max_ms and debounce_ms
  // reach the kernel (see "Hook switch" above).
  dsp::HookTiming hook{};
};

struct DahdiDriverConfig {
  std::vector<DahdiPortConfig> ports;
  std::string device = "/dev/dahdi/channel";
};

struct DahdiPortStatus {
  bool working = false;    // false: an alarm port (see error)
  bool in_alarm = false;   // the card reported an alarm not yet cleared
  std::string error;       // why the channel failed to open (empty when working)
  uint64_t frames_read = 0;
  uint64_t underruns = 0;       // read found no block ready: silence given
  uint64_t event_blocked = 0;   // read or write found an event pending (ELAST)
  uint64_t write_drops = 0;     // write found the card's buffer full
  uint64_t io_errors = 0;       // any other read/write/ioctl failure
  uint64_t events_dropped = 0;  // the event queue was full
};

class DahdiDriver final : public LineDriver {
 public:
  // Opens every configured channel through `io` (which must outlive the
  // driver) and starts the event thread. Throws std::invalid_argument only for
  // a config that names the same channel twice or a channel < 1, and
  // std::runtime_error when eventfd or the thread cannot be made (start-up).
  DahdiDriver(const DahdiDriverConfig& config, DahdiIo& io);
  ~DahdiDriver() override;

  std::string_view name() const override { return "dahdi"; }
  // All configured ports, working or not; indices follow config order.
  std::size_t port_count() const override;
  LinePort& port(std::size_t index) override;
  int event_fd() const override;
  void drain_events(const std::function<void(const LineEvent&)>& handler) override;

  // Control thread: one error per channel that failed to open, naming it.
  const std::vector<base::Error>& errors() const;
  std::size_t working_port_count() const;
  // Any thread.
  DahdiPortStatus port_status(std::size_t index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::drivers
