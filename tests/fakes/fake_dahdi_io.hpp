#pragma once
// FakeDahdiIo: a drivers::DahdiIo without a card, header-only.
//
// Each channel replays a recorded script in order: DAHDI events (which
// surface as POLLPRI and through DAHDI_GETEVENT) and 160-sample audio blocks
// (which read() returns). As with a real DAHDI channel, read() returns -ELAST
// while an event is at the head of the script, and -EAGAIN when the script
// has no audio ready. Every signalling call is recorded (calls()), and what
// the driver writes is kept (written()), as are dial strings (dialed()) and
// the pulse and hook times set (pulse_timing(), hook_timing()).
// ChannelSetup::set_params_error makes DAHDI_SET_PARAMS (set_pulse_timing,
// set_hook_timing) fail on that channel; the call is still recorded.
// poll() blocks like the real one: on the fake channels' scripts and on any
// real fds passed to it (the driver's wake eventfd), through an eventfd of
// its own that every script change signals. Nothing sleeps.
// Thread: any (one mutex; acceptable in a fake).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <dahdi/user.h>  // ELAST (DAHDI's own errno, 500) and the event values scripts use

#include "sipline/base/audio_frame.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/drivers/dahdi_driver.hpp"

namespace sipline::fakes {

class FakeDahdiIo final : public drivers::DahdiIo {
 public:
  enum class Op {
    open, close, specify, set_blocksize, set_linear, set_cadence, get_params, hook, set_polarity,
    set_pulse_timing,  // value: the break time
    set_hook_timing,   // value: rxflashtime
    dial,              // value: DAHDI_DIAL_OP_APPEND; the string in dialed()
  };
  struct Call {
    Op op;
    int channel;  // 0 before DAHDI_SPECIFY
    int value;    // the ioctl's argument (set_cadence: the first "on" time; see Op)
    bool operator==(const Call&) const = default;
  };
  struct ChannelSetup {
    int sigtype = 0;        // DAHDI_SIG_*
    int spanno = 1;
    uint32_t alarms = 0;
    int specify_error = 0;  // e.g. EBUSY
    bool rx_off_hook = false;
    int set_params_error = 0;  // e.g. EINVAL: DAHDI_SET_PARAMS fails
  };

  FakeDahdiIo() : notify_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  void add_channel(int channel, ChannelSetup setup) {
    std::lock_guard lock(mutex_);
    channels_[channel].setup = setup;
  }
  // errno values for the next opens, in order (0 = that open succeeds).
  void set_open_errors(std::vector<int> errors) {
    std::lock_guard lock(mutex_);
    open_errors_.assign(errors.begin(), errors.end());
  }

  void push_event(int channel, int event) { push(channel, Item{event}); }
  // While held, poll() does not report events (a slow event thread), so the
  // port's read() meets them as ELAST.
  void hold_events(bool hold) {
    std::lock_guard lock(mutex_);
    hold_ = hold;
    changed();
  }
  // Appends audio as 160-sample blocks (the last one padded with silence).
  void push_audio(int channel, std::span<const int16_t> samples) {
    for (std::size_t i = 0; i < samples.size(); i += base::kFrameSamples) {
      base::AudioFrame block{};
      std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(i),
                  std::min(base::kFrameSamples, samples.size() - i), block.begin());
      push(channel, Item{block});
    }
  }
  void push_silence(int channel, int blocks) {
    for (int i = 0; i < blocks; ++i) push(channel, Item{base::AudioFrame{}});
  }

  bool script_done(int channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    return it == channels_.end() || it->second.script.empty();
  }
  // Waits (at most 5 s) until the events at the head of the script have been
  // taken by the driver: the head is audio, or the script is done.
  bool wait_audio_or_done(int channel) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] {
      const auto& s = channels_[channel].script;
      return s.empty() || std::holds_alternative<base::AudioFrame>(s.front());
    });
  }

  std::vector<Call> calls(int channel) const {
    std::lock_guard lock(mutex_);
    std::vector<Call> out;
    for (const auto& c : calls_) {
      if (c.channel == channel) out.push_back(c);
    }
    return out;
  }
  std::vector<std::string> dialed(int channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    return it == channels_.end() ? std::vector<std::string>{} : it->second.dialed;
  }
  drivers::DahdiPulseTiming pulse_timing(int channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    return it == channels_.end() ? drivers::DahdiPulseTiming{} : it->second.pulse_timing;
  }
  // The hook times last set successfully (zeros: never).
  drivers::DahdiHookTiming hook_timing(int channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    return it == channels_.end() ? drivers::DahdiHookTiming{} : it->second.hook_timing;
  }
  std::vector<int16_t> written(int channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    return it == channels_.end() ? std::vector<int16_t>{} : it->second.written;
  }
  int open_fds() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(fds_.size());
  }

  // ---- DahdiIo ----
  int open(const std::string&) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({Op::open, 0, 0});
    if (!open_errors_.empty()) {
      const int err = open_errors_.front();
      open_errors_.pop_front();
      if (err) return -err;
    }
    const int fd = next_fd_++;
    fds_[fd] = 0;
    return fd;
  }
  void close(int fd) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({Op::close, fds_[fd], 0});
    fds_.erase(fd);
  }
  int specify(int fd, int channel) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({Op::specify, channel, channel});
    auto it = channels_.find(channel);
    if (it == channels_.end()) return -ENXIO;
    if (it->second.setup.specify_error) return -it->second.setup.specify_error;
    fds_[fd] = channel;
    return 0;
  }
  int set_blocksize(int fd, int samples) override { return record(fd, Op::set_blocksize, samples); }
  int set_linear(int fd, bool linear) override { return record(fd, Op::set_linear, linear ? 1 : 0); }
  int set_cadence(int fd, std::span<const int> ms) override {
    return record(fd, Op::set_cadence, ms.empty() ? 0 : ms[0]);
  }
  int get_params(int fd, drivers::DahdiParams& params) override {
    std::lock_guard lock(mutex_);
    const int channel = fds_.at(fd);
    calls_.push_back({Op::get_params, channel, 0});
    const auto& s = channels_.at(channel).setup;
    params = {.sigtype = s.sigtype, .spanno = s.spanno, .chanpos = channel, .alarms = s.alarms,
              .rx_off_hook = s.rx_off_hook, .name = "FAKE/" + std::to_string(channel)};
    return 0;
  }
  int hook(int fd, int op) override { return record(fd, Op::hook, op); }
  int set_polarity(int fd, bool reversed) override { return record(fd, Op::set_polarity, reversed ? 1 : 0); }
  int set_pulse_timing(int fd, const drivers::DahdiPulseTiming& timing) override {
    std::lock_guard lock(mutex_);
    const int channel = fds_.at(fd);
    calls_.push_back({Op::set_pulse_timing, channel, timing.break_ms});
    if (const int err = channels_[channel].setup.set_params_error) return -err;
    channels_[channel].pulse_timing = timing;
    return 0;
  }
  int set_hook_timing(int fd, const drivers::DahdiHookTiming& timing) override {
    std::lock_guard lock(mutex_);
    const int channel = fds_.at(fd);
    calls_.push_back({Op::set_hook_timing, channel, timing.rx_flash_ms});
    if (const int err = channels_[channel].setup.set_params_error) return -err;
    channels_[channel].hook_timing = timing;
    return 0;
  }
  int dial(int fd, std::string_view dial_string) override {
    std::lock_guard lock(mutex_);
    const int channel = fds_.at(fd);
    calls_.push_back({Op::dial, channel, DAHDI_DIAL_OP_APPEND});
    channels_[channel].dialed.emplace_back(dial_string);
    return 0;
  }

  int get_event(int fd, int& event) override {
    std::lock_guard lock(mutex_);
    event = 0;
    auto& s = channels_.at(fds_.at(fd)).script;
    if (!s.empty() && std::holds_alternative<int>(s.front())) {
      event = std::get<int>(s.front());
      s.pop_front();
      changed();
    }
    return 0;
  }
  long read(int fd, std::span<std::byte> data) override {
    std::lock_guard lock(mutex_);
    auto& s = channels_.at(fds_.at(fd)).script;
    if (s.empty()) return -EAGAIN;
    if (std::holds_alternative<int>(s.front())) return -ELAST;
    const auto& block = std::get<base::AudioFrame>(s.front());
    const std::size_t n = std::min(data.size(), sizeof block);
    std::memcpy(data.data(), block.data(), n);
    s.pop_front();
    changed();
    return static_cast<long>(n);
  }
  long write(int fd, std::span<const std::byte> data) override {
    std::lock_guard lock(mutex_);
    auto& w = channels_.at(fds_.at(fd)).written;
    const std::size_t old = w.size();
    w.resize(old + data.size() / sizeof(int16_t));
    std::memcpy(w.data() + old, data.data(), data.size() / sizeof(int16_t) * sizeof(int16_t));
    return static_cast<long>(data.size());
  }
  int poll(std::span<pollfd> fds, int timeout_ms) override {
    for (;;) {
      int ready = 0;
      std::vector<pollfd> real;
      {
        std::lock_guard lock(mutex_);
        for (auto& p : fds) {
          p.revents = 0;
          auto it = fds_.find(p.fd);
          if (p.fd < 0 || it == fds_.end()) continue;
          const auto& s = channels_[it->second].script;
          if (!hold_ && (p.events & POLLPRI) && !s.empty() && std::holds_alternative<int>(s.front())) {
            p.revents = POLLPRI;
            ++ready;
          }
        }
        if (ready) return ready;
        for (const auto& p : fds) {
          if (p.fd >= 0 && !fds_.contains(p.fd)) real.push_back(p);
        }
      }
      real.push_back({.fd = notify_.get(), .events = POLLIN, .revents = 0});
      const int n = ::poll(real.data(), real.size(), timeout_ms);
      if (n < 0) return -errno;
      if (n == 0) return 0;
      for (std::size_t i = 0; i + 1 < real.size(); ++i) {
        if (!real[i].revents) continue;
        for (auto& p : fds) {
          if (p.fd == real[i].fd) p.revents = real[i].revents;
        }
        ++ready;
      }
      if (ready) return ready;
      uint64_t count = 0;
      [[maybe_unused]] const auto r = ::read(notify_.get(), &count, sizeof count);
    }
  }

 private:
  using Item = std::variant<int, base::AudioFrame>;  // an event, or an audio block
  struct Channel {
    ChannelSetup setup;
    std::deque<Item> script;
    std::vector<int16_t> written;
    std::vector<std::string> dialed;
    drivers::DahdiPulseTiming pulse_timing;
    drivers::DahdiHookTiming hook_timing;
  };

  void push(int channel, Item item) {
    std::lock_guard lock(mutex_);
    channels_[channel].script.push_back(std::move(item));
    changed();
  }
  int record(int fd, Op op, int value) {
    std::lock_guard lock(mutex_);
    calls_.push_back({op, fds_.at(fd), value});
    return 0;
  }
  // With mutex_ held.
  void changed() {
    const uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(notify_.get(), &one, sizeof one);
    changed_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  base::UniqueFd notify_;
  std::map<int, Channel> channels_;
  std::map<int, int> fds_;  // open fake fd -> channel (0 until specified)
  std::deque<int> open_errors_;
  std::vector<Call> calls_;
  int next_fd_ = 1000;
  bool hold_ = false;
};

}  // namespace sipline::fakes
