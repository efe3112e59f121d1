// SimDriver: the control-thread side of the simulated phones. Validates each
// command, does the file I/O (WAV load and save) here, and posts the command
// to the port's media side (sim_port.cpp).
#include "sipline/drivers/sim_driver.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <utility>

#include <sys/eventfd.h>
#include <unistd.h>

#include "exchange_port.hpp"
#include "sim_port.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/base/wav.hpp"
#include "sipline/dsp/dtmf.hpp"

namespace sipline::drivers {
namespace {

// How long stop_recording waits for the media worker to hand the recording over.
constexpr auto kStopRecordingWait = std::chrono::milliseconds(200);


}  // namespace

struct SimDriver::Impl {
  // Control-thread bookkeeping per port.
  struct Control {
    uint64_t next_seq = 1;
    uint64_t hook_seq = 0;      // seq of the last off_hook/on_hook posted
    bool hook_off = false;      // what it asked for
    bool recording = false;
    bool stop_posted = false;   // a stop_recording is waiting for its ack
    uint64_t stop_seq = 0;
    std::string record_path;
    std::optional<sim::Returned> recorded;  // the ack, once it arrived
  };

  // Control-thread bookkeeping per exchange line.
  struct ExchangeControl {
    uint64_t next_seq = 1;
    uint64_t call_seq = 0;  // seq of the last exchange_call posted
  };

  base::UniqueFd event_fd;
  std::vector<std::unique_ptr<sim::SimPort>> ports;  // FXS: indices 0..P-1
  std::vector<Control> control;
  sim::ExchangeSwitch exchange_switch;  // calls between the exchange lines (outlives the ports)
  std::vector<std::unique_ptr<sim::ExchangePort>> exchange;  // FXO: indices P..
  std::vector<ExchangeControl> exchange_control;

  std::size_t total() const { return ports.size() + exchange.size(); }

  base::Result<void> check_port(std::size_t index) const {
    if (index >= total()) {
      return base::fail(SimError::bad_port, "no sim port " + std::to_string(index) + " (there are " +
                                                std::to_string(total()) + ")");
    }
    if (index >= ports.size()) {
      return base::fail(SimError::bad_port, "sim port " + std::to_string(index) + " (" +
                                                exchange[index - ports.size()]->name() +
                                                ") is an FXO port: it has no phone (use the exchange_* commands)");
    }
    return {};
  }

  // The exchange line of FXO port `index`.
  base::Result<sim::ExchangePort*> check_exchange(std::size_t index) const {
    if (index >= total()) {
      return base::fail(SimError::bad_port, "no sim port " + std::to_string(index) + " (there are " +
                                                std::to_string(total()) + ")");
    }
    if (index < ports.size()) {
      return base::fail(SimError::bad_port, port_name(index) + " is an FXS port: it has no exchange line");
    }
    return exchange[index - ports.size()].get();
  }

  base::Result<void> post_exchange(std::size_t index, sim::ExchangeCommand&& c) {
    auto& port = *exchange[index - ports.size()];
    auto& ctl = exchange_control[index - ports.size()];
    while (port.take_returned()) {
    }  // buffers the media side handed back, freed here
    c.seq = ctl.next_seq;
    if (!port.post(std::move(c))) {
      return base::fail(SimError::busy, "sim port " + std::to_string(index) + " (" + port.name() +
                                            "): command queue full (is a media worker ticking the port?)");
    }
    ++ctl.next_seq;
    return {};
  }

  // Frees buffers the media side handed back, and keeps a recording ack.
  void collect(std::size_t index) {
    while (auto r = ports[index]->take_returned()) {
      if (r->kind == sim::Returned::Kind::recording) control[index].recorded = std::move(*r);
      // garbage: freed here as `r` goes out of scope
    }
  }

  base::Result<void> post(std::size_t index, sim::Command&& c) {
    collect(index);
    c.seq = control[index].next_seq;
    if (!ports[index]->post(std::move(c))) {
      return base::fail(SimError::busy, port_name(index) +
                                            ": command queue full (is a media worker ticking the port?)");
    }
    ++control[index].next_seq;
    return {};
  }

  // The hook state the phone will have once the commands posted so far are applied
  // (the media side may also go off hook by itself: auto-answer).
  bool will_be_off_hook(std::size_t index) const {
    const auto s = ports[index]->status();
    const auto& c = control[index];
    return c.hook_seq > s.processed_seq ? c.hook_off : s.off_hook;
  }

  std::string port_name(std::size_t index) const {
    return "sim port " + std::to_string(index) + " (" + ports[index]->name() + ")";
  }
};

SimDriver::SimDriver(const SimDriverConfig& config) : impl_(std::make_unique<Impl>()) {
  impl_->event_fd = base::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!impl_->event_fd) throw std::runtime_error("sim driver: eventfd failed");  // start-up only
  for (std::size_t i = 0; i < config.phones.size(); ++i) {
    const auto& p = config.phones[i];
    std::string name = p.name.empty() ? "fxs" + std::to_string(i + 1) : p.name;
    impl_->ports.push_back(
        std::make_unique<sim::SimPort>(i, std::move(name), p.auto_answer_ms, p.caller_id, p.caller_id_auto, p.hook, p.echo,
                                       impl_->event_fd.get()));
  }
  impl_->control.resize(impl_->ports.size());
  for (std::size_t i = 0; i < config.exchange_lines.size(); ++i) {
    const auto& line = config.exchange_lines[i];
    const dsp::ToneProfile* profile = line.profile != nullptr ? line.profile : dsp::find_tone_profile("US");
    if (profile == nullptr) throw std::runtime_error("sim driver: no built-in US tone profile");  // start-up only
    std::string name = line.name.empty() ? "fxo" + std::to_string(i + 1) : line.name;
    impl_->exchange.push_back(std::make_unique<sim::ExchangePort>(impl_->ports.size() + i, std::move(name), line,
                                                                  *profile, config.subscribers,
                                                                  impl_->event_fd.get()));
  }
  impl_->exchange_control.resize(impl_->exchange.size());
  // The switch: every line can reach every other (a frame ring per direction).
  auto& sw = impl_->exchange_switch;
  const std::size_t lines = impl_->exchange.size();
  for (const auto& line : impl_->exchange) sw.lines.push_back(line.get());
  sw.rings.resize(lines * lines);
  for (std::size_t from = 0; from < lines; ++from) {
    for (std::size_t to = 0; to < lines; ++to) {
      if (from != to) sw.rings[from * lines + to] = std::make_unique<sim::FrameRing>();
    }
  }
  for (std::size_t i = 0; i < lines; ++i) impl_->exchange[i]->attach(sw, i);
}

SimDriver::~SimDriver() = default;

std::size_t SimDriver::port_count() const { return impl_->total(); }

LinePort& SimDriver::port(std::size_t index) {
  if (index < impl_->ports.size()) return *impl_->ports[index];
  return *impl_->exchange.at(index - impl_->ports.size());
}

int SimDriver::event_fd() const { return impl_->event_fd.get(); }

void SimDriver::drain_events(const std::function<void(const LineEvent&)>& handler) {
  // Reset the eventfd first: an event queued after this re-signals it.
  uint64_t count = 0;
  [[maybe_unused]] const auto n = ::read(impl_->event_fd.get(), &count, sizeof count);
  for (auto& port : impl_->ports) {
    while (auto e = port->take_event()) handler(*e);
  }
  for (auto& port : impl_->exchange) {
    while (auto e = port->take_event()) handler(*e);
  }
}

base::Result<void> SimDriver::off_hook(std::size_t index) {
  if (auto r = impl_->check_port(index); !r) return r;
  if (auto r = impl_->post(index, {.type = sim::CommandType::off_hook}); !r) return r;
  auto& c = impl_->control[index];
  c.hook_seq = c.next_seq - 1;
  c.hook_off = true;
  return {};
}

base::Result<void> SimDriver::on_hook(std::size_t index) {
  if (auto r = impl_->check_port(index); !r) return r;
  if (auto r = impl_->post(index, {.type = sim::CommandType::on_hook}); !r) return r;
  auto& c = impl_->control[index];
  c.hook_seq = c.next_seq - 1;
  c.hook_off = false;
  return {};
}

base::Result<void> SimDriver::dial(std::size_t index, const std::string& digits, bool pulse) {
  if (auto r = impl_->check_port(index); !r) return r;
  if (digits.empty()) return base::fail(SimError::bad_argument, "dial: no digits given");
  if (digits.size() > sim::kMaxDialDigits) {
    return base::fail(SimError::bad_argument,
                      "dial: at most " + std::to_string(sim::kMaxDialDigits) + " digits at a time");
  }
  sim::Command c{.type = sim::CommandType::dial, .pulse = pulse};
  for (const char d : digits) {
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(d)));
    if (pulse && (d < '0' || d > '9')) {
      return base::fail(SimError::bad_argument,
                        std::string("dial: '") + d + "' cannot be pulse dialed (a rotary dial has 0-9)");
    }
    if (!dsp::is_dtmf_digit(u)) {
      return base::fail(SimError::bad_argument,
                        std::string("dial: '") + d + "' is not a DTMF digit (use 0-9 * # A-D)");
    }
    c.digits[c.digit_count++] = u;
  }
  if (!impl_->will_be_off_hook(index)) {
    return base::fail(SimError::bad_argument, impl_->port_name(index) + " is on hook: go off hook before dialing");
  }
  return impl_->post(index, std::move(c));
}

base::Result<void> SimDriver::flash(std::size_t index, int ms) {
  if (auto r = impl_->check_port(index); !r) return r;
  if (ms == -1) {
    const auto& t = impl_->ports[index]->hook_timing();
    ms = t.flash_min_ms + (t.flash_max_ms - t.flash_min_ms) / 2;
  }
  if (ms < 1 || ms > sim::kMaxFlashMs) {
    return base::fail(SimError::bad_argument,
                      "flash: ms must be 1.." + std::to_string(sim::kMaxFlashMs) + ", or -1 (the profile's middle)");
  }
  if (!impl_->will_be_off_hook(index)) {
    return base::fail(SimError::bad_argument, impl_->port_name(index) + " is on hook: go off hook before a flash");
  }
  return impl_->post(index, {.type = sim::CommandType::flash, .flash_ms = ms});
}

base::Result<void> SimDriver::play_file(std::size_t index, const std::string& path, bool loop) {
  if (auto r = impl_->check_port(index); !r) return r;
  auto wav = base::read_wav(path);
  if (!wav) {
    const auto code = wav.error().is(base::WavError::io) ? SimError::io : SimError::bad_argument;
    return base::fail(code, "play_file: " + wav.error().message());
  }
  if (wav->sample_rate != base::kSampleRate || wav->channels != 1) {
    return base::fail(SimError::bad_argument,
                      "play_file: " + path + " is " + std::to_string(wav->sample_rate) + " Hz, " +
                          std::to_string(wav->channels) + " channel(s); need 8000 Hz mono 16-bit PCM");
  }
  if (wav->samples.empty()) return base::fail(SimError::bad_argument, "play_file: " + path + " has no samples");
  return impl_->post(index, {.type = sim::CommandType::play_samples,
                             .samples = std::make_unique<sim::Samples>(std::move(wav->samples)),
                             .loop = loop});
}

base::Result<void> SimDriver::play_tone(std::size_t index, int f1_hz, int f2_hz, double level_dbfs) {
  if (auto r = impl_->check_port(index); !r) return r;
  const int nyquist = base::kSampleRate / 2;
  if (f1_hz <= 0 || f1_hz >= nyquist || f2_hz < 0 || f2_hz >= nyquist) {
    return base::fail(SimError::bad_argument, "play_tone: frequencies must be in 1.." +
                                                  std::to_string(nyquist - 1) + " Hz (f2 may be 0)");
  }
  if (!(level_dbfs <= 0 && level_dbfs >= -90)) {
    return base::fail(SimError::bad_argument, "play_tone: level must be between -90 and 0 dBFS");
  }
  // level_dbfs per frequency; 0 dBFS is a full-scale square wave, so a sine of
  // peak A has level 20 log10(A / (32767 sqrt 2)).
  const double amplitude = 32767.0 * std::sqrt(2.0) * std::pow(10.0, level_dbfs / 20.0);
  return impl_->post(index, {.type = sim::CommandType::play_tone,
                             .f1_hz = double(f1_hz),
                             .f2_hz = double(f2_hz),
                             .amplitude = amplitude});
}

base::Result<void> SimDriver::stop_playing(std::size_t index) {
  if (auto r = impl_->check_port(index); !r) return r;
  return impl_->post(index, {.type = sim::CommandType::stop_playing});
}

base::Result<void> SimDriver::start_recording(std::size_t index, const std::string& path) {
  if (auto r = impl_->check_port(index); !r) return r;
  auto& c = impl_->control[index];
  if (c.recording) {
    return base::fail(SimError::busy, impl_->port_name(index) + " is already recording to " + c.record_path);
  }
  if (path.empty()) return base::fail(SimError::bad_argument, "start_recording: empty path");
  std::error_code ec;
  const auto dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec || !std::filesystem::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
    return base::fail(SimError::io, "start_recording: cannot write in " + dir.string());
  }
  auto buffer = std::make_unique<sim::Samples>();
  buffer->reserve(sim::kMaxRecordSamples);
  if (auto r = impl_->post(index, {.type = sim::CommandType::start_recording, .samples = std::move(buffer)}); !r)
    return r;
  c.recording = true;
  c.stop_posted = false;
  c.recorded.reset();
  c.record_path = path;
  return {};
}

base::Result<void> SimDriver::stop_recording(std::size_t index) {
  if (auto r = impl_->check_port(index); !r) return r;
  auto& c = impl_->control[index];
  if (!c.recording) return base::fail(SimError::bad_argument, impl_->port_name(index) + " is not recording");
  if (!c.stop_posted) {
    if (auto r = impl_->post(index, {.type = sim::CommandType::stop_recording}); !r) return r;
    c.stop_posted = true;
    c.stop_seq = c.next_seq - 1;
  }
  // Wait for the media worker's ack, which carries the recorded samples.
  const auto deadline = std::chrono::steady_clock::now() + kStopRecordingWait;
  for (;;) {
    impl_->collect(index);
    if (c.recorded && c.recorded->seq == c.stop_seq) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return base::fail(SimError::busy, impl_->port_name(index) +
                                            ": no media tick took the recording within 200 ms; it stops at the "
                                            "next tick, call stop_recording again to write " + c.record_path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const sim::SamplesPtr samples = std::move(c.recorded->samples);
  c.recorded.reset();
  c.recording = false;
  c.stop_posted = false;
  static const std::vector<int16_t> kNothing;
  auto written = base::write_wav(c.record_path, samples ? *samples : kNothing, base::kSampleRate);
  if (!written) return base::fail(SimError::io, "stop_recording: " + written.error().message());
  return {};
}

base::Result<void> SimDriver::listen(std::size_t index, double freq_hz) {
  if (auto r = impl_->check_port(index); !r) return r;
  if (!(freq_hz >= 0 && freq_hz < base::kSampleRate / 2.0)) {
    return base::fail(SimError::bad_argument, "listen: frequency must be 0 (off) or below 4000 Hz");
  }
  return impl_->post(index, {.type = sim::CommandType::listen, .f1_hz = freq_hz});
}

base::Result<void> SimDriver::set_auto_answer(std::size_t index, int delay_ms) {
  if (auto r = impl_->check_port(index); !r) return r;
  if (delay_ms < -1) return base::fail(SimError::bad_argument, "set_auto_answer: delay must be >= 0 ms, or -1 (off)");
  return impl_->post(index, {.type = sim::CommandType::auto_answer, .delay_ms = delay_ms});
}

base::Result<SimPhoneStatus> SimDriver::status(std::size_t index) const {
  if (auto r = impl_->check_port(index); !r) return base::fail(r.error());
  const auto d = impl_->ports[index]->status();
  return SimPhoneStatus{
      .off_hook = d.off_hook,
      .ringing = d.ringing,
      .rings = d.rings,
      .playing = d.playing,
      .recording = d.recording,
      .polarity_reversed = d.polarity_reversed,
      .polarity_changes = d.polarity_changes,
      .battery = d.battery,
      .battery_drops = d.battery_drops,
      .heard_digits = std::string(d.heard.data(), d.heard_count),
      .listen_hz = d.listen_hz,
      .listen_ratio = d.listen_ratio,
      .level_dbfs = d.level_dbfs,
      .caller_id_count = d.caller_id_count,
      .caller_id = {.format = d.cid_format,
                    .id = {.number = std::string(d.cid_number.data(), d.cid_number_len),
                           .name = std::string(d.cid_name.data(), d.cid_name_len),
                           .number_absence = d.cid_number_absence,
                           .name_absence = d.cid_name_absence,
                           .month = d.cid_month,
                           .day = d.cid_day,
                           .hour = d.cid_hour,
                           .minute = d.cid_minute}},
      .ring_segments_ms = std::vector<int>(d.ring_segments.begin(),
                                           d.ring_segments.begin() + static_cast<std::ptrdiff_t>(d.ring_segment_count)),
  };
}

// ---- the exchange behind the FXO ports ----

base::Result<void> SimDriver::exchange_call(std::size_t index, const SimIncomingCall& call) {
  auto port = impl_->check_exchange(index);
  if (!port) return base::fail(port.error());
  const int nyquist = base::kSampleRate / 2;
  if (call.tone_hz < 0 || call.tone_hz >= nyquist || !(call.listen_hz >= 0 && call.listen_hz < nyquist)) {
    return base::fail(SimError::bad_argument, "exchange_call: tone and listen frequencies must be 0 (none) or below " +
                                                  std::to_string(nyquist) + " Hz");
  }
  const auto s = (*port)->status();
  const auto& ctl = impl_->exchange_control[index - impl_->ports.size()];
  if (s.state != sim::ExchangeState::idle || s.seized || (*port)->hook_requested() || ctl.call_seq > s.processed_seq) {
    return base::fail(SimError::busy, "sim port " + std::to_string(index) + " (" + (*port)->name() +
                                          ") already has a call (" + sim::to_string(s.state) +
                                          (s.seized || (*port)->hook_requested() ? ", seized" : "") + ")");
  }
  // Render the caller ID audio here: the media side only plays it.
  const auto& timing = (*port)->profile().caller_id;
  const auto format = call.format.value_or(timing.format);
  const auto alert = call.alert.value_or(timing.alert);
  sim::ExchangeCommand c{.type = sim::ExchangeCommandType::call, .alert = alert};
  if (format != dsp::CallerIdFormat::none) {
    c.data = std::make_unique<sim::Samples>(dsp::render_caller_id(format, call.caller, timing.level_dbm0));
    if (c.data->empty()) c.data.reset();
  }
  if (c.data && alert == dsp::CallerIdAlert::dt_as) {
    c.tone = std::make_unique<sim::Samples>(dsp::render_alert_tone(timing.alert_ms > 0 ? timing.alert_ms : 100));
  }
  c.number_len = std::min(call.caller.number.size(), c.number.size());
  std::copy_n(call.caller.number.begin(), c.number_len, c.number.begin());
  c.tone_hz = call.tone_hz;
  c.listen_hz = call.listen_hz;
  if (auto r = impl_->post_exchange(index, std::move(c)); !r) return r;
  impl_->exchange_control[index - impl_->ports.size()].call_seq =
      impl_->exchange_control[index - impl_->ports.size()].next_seq - 1;
  return {};
}

base::Result<void> SimDriver::exchange_hangup(std::size_t index) {
  if (auto port = impl_->check_exchange(index); !port) return base::fail(port.error());
  return impl_->post_exchange(index, {.type = sim::ExchangeCommandType::hangup});
}

base::Result<void> SimDriver::exchange_listen(std::size_t index, double freq_hz) {
  if (auto port = impl_->check_exchange(index); !port) return base::fail(port.error());
  if (!(freq_hz >= 0 && freq_hz < base::kSampleRate / 2.0)) {
    return base::fail(SimError::bad_argument, "exchange_listen: frequency must be 0 (off) or below 4000 Hz");
  }
  return impl_->post_exchange(index, {.type = sim::ExchangeCommandType::listen, .listen_hz = freq_hz});
}

base::Result<void> SimDriver::exchange_dial(std::size_t index, const std::string& digits) {
  auto port = impl_->check_exchange(index);
  if (!port) return base::fail(port.error());
  sim::ExchangeCommand c{.type = sim::ExchangeCommandType::far_dial};
  if (digits.empty()) return base::fail(SimError::bad_argument, "exchange_dial: no digits given");
  if (digits.size() > c.digits.size()) {
    return base::fail(SimError::bad_argument,
                      "exchange_dial: at most " + std::to_string(c.digits.size()) + " digits at a time");
  }
  for (const char d : digits) {
    if (!dsp::is_dtmf_digit(d)) {
      return base::fail(SimError::bad_argument,
                        std::string("exchange_dial: '") + d + "' is not a DTMF digit (use 0-9 * # A-D)");
    }
    c.digits[c.digit_count++] = static_cast<char>(std::toupper(static_cast<unsigned char>(d)));
  }
  if (const auto s = (*port)->status(); s.state != sim::ExchangeState::connected) {
    return base::fail(SimError::bad_argument, "sim port " + std::to_string(index) + " (" + (*port)->name() +
                                                  "): the far party can press keys only once the call is "
                                                  "answered (state " + sim::to_string(s.state) + ")");
  }
  return impl_->post_exchange(index, std::move(c));
}

base::Result<SimExchangeStatus> SimDriver::exchange_status(std::size_t index) const {
  auto port = impl_->check_exchange(index);
  if (!port) return base::fail(port.error());
  const auto d = (*port)->status();
  return SimExchangeStatus{
      .state = sim::to_string(d.state),
      .seized = d.seized,
      .polarity_reversed = d.polarity_reversed,
      .ringing = d.ringing,
      .digits = std::string(d.digits.data(), d.digit_count),
      .far_number = std::string(d.far.data(), d.far_len),
      .listen_hz = d.listen_hz,
      .listen_ratio = d.listen_ratio,
      .rings = d.rings,
  };
}

}  // namespace sipline::drivers
