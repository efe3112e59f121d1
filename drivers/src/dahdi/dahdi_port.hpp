#pragma once
// DahdiPort: one analog channel of the dahdi driver (private to the driver).
//
// Thread hand-offs, all lock-free:
//   event thread -> control: events_ (SPSC; the driver signals its eventfd)
//   media worker -> any:     the counters and in_alarm_ (relaxed atomics)
// Signalling (set_ring, set_polarity, set_hook, disconnect_battery,
// pulse_dial) is one to three ioctls on the control thread; the kernel
// serialises them with the media worker's read/write.
// The fd is owned by the driver (closed through DahdiIo after the event
// thread has stopped); -1 marks an alarm port that failed to open.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "dahdi_events.hpp"
#include "sipline/base/spsc_queue.hpp"
#include "sipline/drivers/dahdi_driver.hpp"
#include "sipline/drivers/line_driver.hpp"

namespace sipline::drivers::dahdi {

inline constexpr int kBlockBytes = static_cast<int>(base::kFrameSamples * sizeof(int16_t));
// Pulse dialing as LinePort::pulse_dial states it (DAHDI's defaults are 50/50/750).
inline constexpr DahdiPulseTiming kPulseTiming{.break_ms = 60, .make_ms = 40, .after_ms = 700};
// DAHDI_KEWLTIME (include/dahdi/kernel.h): the kernel's fixed OSI length.
inline constexpr int kKewlTimeMs = 500;

class DahdiPort final : public LinePort {
 public:
  // `fd` < 0: an alarm port; `error` says why. `sigtype`: DAHDI_SIG_* as opened.
  DahdiPort(std::size_t index, std::string name, PortKind kind, int channel, DahdiIo& io, int fd,
            std::string error, int sigtype = 0);

  std::size_t index() const override { return index_; }
  const std::string& name() const override { return name_; }
  PortKind kind() const override { return kind_; }
  // Thread: control. FXS only (ignored on FXO and alarm ports).
  void set_ring(bool on) override;
  void set_polarity(bool reversed) override;
  // Thread: control. FXO only.
  void set_hook(bool off_hook) override;
  // Thread: control. FXS with kewlstart (fxoks) signalling only: an OSI of
  // DAHDI_KEWLTIME (500 ms, fixed by the kernel; `ms` only says whether).
  void disconnect_battery(int ms) override;
  // Thread: control. FXO only: "P" + the digits (0-9, others skipped, at most
  // 255) through DAHDI_DIAL; DIALCOMPLETE comes as dial_complete.
  void pulse_dial(std::string_view digits) override;
  // Realtime: one 160-sample block from the card, or silence.
  void read(base::FrameSpan from_line) override;
  // Realtime: one 160-sample block to the card (dropped when its buffer is full).
  void write(base::ConstFrameSpan to_line) override;

  int fd() const { return fd_; }
  int channel() const { return channel_; }
  bool working() const { return fd_ >= 0; }

  // Thread: the event thread (before it starts: the constructing thread).
  // Maps one DAHDI event and queues what it means; true when a LineEvent was queued.
  bool handle_event(int dahdi_event);
  bool queue_alarm();
  bool queue_off_hook() { return push(LineEventType::off_hook); }
  // Thread: control.
  std::optional<LineEvent> take_event() { return events_.pop(); }
  // Thread: any.
  DahdiPortStatus status() const;
  void count_io_error() { io_errors_.fetch_add(1, std::memory_order_relaxed); }

 private:
  bool push(LineEventType type, char digit = 0);

  const std::size_t index_;
  const std::string name_;
  const PortKind kind_;
  const int channel_;
  DahdiIo& io_;
  const int fd_;
  const std::string error_;
  const int sigtype_;

  EventMapper mapper_;  // event thread
  base::SpscQueue<LineEvent, 64> events_;
  std::atomic<bool> in_alarm_{false};
  std::atomic<uint64_t> frames_read_{0}, underruns_{0}, event_blocked_{0}, write_drops_{0}, io_errors_{0},
      events_dropped_{0};
};

}  // namespace sipline::drivers::dahdi
