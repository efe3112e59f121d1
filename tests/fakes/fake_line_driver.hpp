#pragma once
// FakeLineDriver / FakeLinePort: a drivers::LineDriver for tests, header-only.
//
// The test decides what the "line" sends (the read side: silence, a sine, or
// any source function) and keeps everything the gateway writes to the line.
// Signaling calls (ring, polarity, hook) are recorded; line events are
// injected with push_event() and delivered by drain_events().
// Thread: read()/write() run on a media worker while the test thread
// configures and inspects the port, so the port guards its state with a mutex
// (acceptable in a fake; real drivers must not lock on the media path).
#include <atomic>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <numbers>
#include <string>
#include <vector>

#include <sys/eventfd.h>
#include <unistd.h>

#include "sipline/base/audio_frame.hpp"
#include "sipline/drivers/line_driver.hpp"

namespace sipline::fakes {

class FakeLinePort final : public drivers::LinePort {
 public:
  using Source = std::function<void(base::FrameSpan)>;

  FakeLinePort(std::size_t index, std::string name, drivers::PortKind kind)
      : index_(index), name_(std::move(name)), kind_(kind) {}

  std::size_t index() const override { return index_; }
  const std::string& name() const override { return name_; }
  drivers::PortKind kind() const override { return kind_; }

  void set_ring(bool on) override {
    std::lock_guard lock(mu_);
    ringing_ = on;
    ring_calls_.push_back(on);
  }
  void set_polarity(bool reversed) override {
    std::lock_guard lock(mu_);
    polarity_reversed_ = reversed;
  }
  void set_hook(bool off_hook) override {
    std::lock_guard lock(mu_);
    off_hook_ = off_hook;
  }
  void disconnect_battery(int ms) override {
    std::lock_guard lock(mu_);
    battery_drops_.push_back(ms);
  }
  void pulse_dial(std::string_view digits) override {
    std::lock_guard lock(mu_);
    pulse_dialed_ += digits;
  }

  void read(base::FrameSpan from_line) override {
    std::lock_guard lock(mu_);
    if (source_) source_(from_line);
    else std::fill(from_line.begin(), from_line.end(), std::int16_t{0});
    ++reads_;
  }
  void write(base::ConstFrameSpan to_line) override {
    std::lock_guard lock(mu_);
    if (recording_) written_.insert(written_.end(), to_line.begin(), to_line.end());
    ++writes_;
  }

  // --- test side ---
  // What the line sends from now on (called on the worker with the port's lock held).
  void set_source(Source source) {
    std::lock_guard lock(mu_);
    source_ = std::move(source);
  }
  // A continuous sine at `hz`, `amplitude` in linear units (phase-continuous).
  void play_sine(double hz, double amplitude = 8000) {
    auto phase = std::make_shared<double>(0.0);
    set_source([hz, amplitude, phase](base::FrameSpan out) {
      const double step = 2 * std::numbers::pi * hz / base::kSampleRate;
      for (auto& s : out) {
        s = static_cast<std::int16_t>(std::lround(amplitude * std::sin(*phase)));
        *phase += step;
      }
      *phase = std::fmod(*phase, 2 * std::numbers::pi);
    });
  }
  void play_silence() { set_source(nullptr); }

  // Everything written to the line since the last clear (copy).
  std::vector<std::int16_t> written() const {
    std::lock_guard lock(mu_);
    return written_;
  }
  // The last `samples` written (fewer if not available).
  std::vector<std::int16_t> last_written(std::size_t samples) const {
    std::lock_guard lock(mu_);
    const std::size_t n = std::min(samples, written_.size());
    return std::vector<std::int16_t>(written_.end() - static_cast<std::ptrdiff_t>(n), written_.end());
  }
  void clear_written() {
    std::lock_guard lock(mu_);
    written_.clear();
  }
  void set_recording(bool on) {
    std::lock_guard lock(mu_);
    recording_ = on;
  }

  std::uint64_t reads() const {
    std::lock_guard lock(mu_);
    return reads_;
  }
  std::uint64_t writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  bool ringing() const {
    std::lock_guard lock(mu_);
    return ringing_;
  }
  std::vector<bool> ring_calls() const {
    std::lock_guard lock(mu_);
    return ring_calls_;
  }
  bool polarity_reversed() const {
    std::lock_guard lock(mu_);
    return polarity_reversed_;
  }
  bool off_hook() const {
    std::lock_guard lock(mu_);
    return off_hook_;
  }
  std::vector<int> battery_drops() const {
    std::lock_guard lock(mu_);
    return battery_drops_;
  }
  std::string pulse_dialed() const {
    std::lock_guard lock(mu_);
    return pulse_dialed_;
  }

 private:
  const std::size_t index_;
  const std::string name_;
  const drivers::PortKind kind_;
  mutable std::mutex mu_;
  Source source_;
  std::vector<std::int16_t> written_;
  bool recording_ = true;
  std::uint64_t reads_ = 0;
  std::uint64_t writes_ = 0;
  bool ringing_ = false;
  std::vector<bool> ring_calls_;
  bool polarity_reversed_ = false;
  bool off_hook_ = false;
  std::vector<int> battery_drops_;
  std::string pulse_dialed_;
};

class FakeLineDriver final : public drivers::LineDriver {
 public:
  explicit FakeLineDriver(std::vector<drivers::PortKind> kinds = {drivers::PortKind::fxs}) {
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      const std::string name = (kinds[i] == drivers::PortKind::fxs ? "fxs" : "fxo") + std::to_string(i + 1);
      ports_.push_back(std::make_unique<FakeLinePort>(i, name, kinds[i]));
    }
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~FakeLineDriver() override {
    if (event_fd_ >= 0) ::close(event_fd_);
  }
  FakeLineDriver(const FakeLineDriver&) = delete;
  FakeLineDriver& operator=(const FakeLineDriver&) = delete;

  std::string_view name() const override { return "fake"; }
  std::size_t port_count() const override { return ports_.size(); }
  drivers::LinePort& port(std::size_t index) override { return *ports_.at(index); }
  FakeLinePort& fake_port(std::size_t index) { return *ports_.at(index); }
  int event_fd() const override { return event_fd_; }

  // Test side: queues a line event (any thread) and signals event_fd().
  void push_event(const drivers::LineEvent& event) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(event);
    }
    const std::uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  }

  void drain_events(const std::function<void(const drivers::LineEvent&)>& handler) override {
    std::uint64_t count = 0;
    (void)!::read(event_fd_, &count, sizeof count);
    std::deque<drivers::LineEvent> events;
    {
      std::lock_guard lock(mu_);
      events.swap(events_);
    }
    for (const auto& e : events) handler(e);
  }

 private:
  std::vector<std::unique_ptr<FakeLinePort>> ports_;
  int event_fd_ = -1;
  std::mutex mu_;
  std::deque<drivers::LineEvent> events_;
};

}  // namespace sipline::fakes
