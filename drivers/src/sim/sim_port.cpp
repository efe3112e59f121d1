#include "sim_port.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string_view>
#include <utility>

#include <unistd.h>

#include "sipline/dsp/goertzel.hpp"

namespace sipline::drivers::sim {
namespace {

constexpr uint64_t ticks_for_ms(int ms) {
  return static_cast<uint64_t>((ms + base::kFrameMs - 1) / base::kFrameMs);
}

int16_t saturate(int v) { return static_cast<int16_t>(std::clamp(v, -32768, 32767)); }

}  // namespace

// ---- StatusCell ----

// Without fences (ThreadSanitizer does not model them): the data stores are
// release, so none of them can move before the odd sequence store; the data
// loads are acquire, so the closing sequence load cannot move before them. A
// reader that saw any value of a newer publish therefore sees its odd seq.
void StatusCell::publish(const StatusData& d) {
  constexpr auto w = std::memory_order_release;
  const uint32_t s = seq_.load(std::memory_order_relaxed);
  seq_.store(s + 1, std::memory_order_relaxed);
  processed_seq_.store(d.processed_seq, w);
  off_hook_.store(d.off_hook, w);
  ringing_.store(d.ringing, w);
  rings_.store(d.rings, w);
  playing_.store(d.playing, w);
  recording_.store(d.recording, w);
  polarity_.store(d.polarity_reversed, w);
  listen_hz_.store(d.listen_hz, w);
  listen_ratio_.store(d.listen_ratio, w);
  level_dbfs_.store(d.level_dbfs, w);
  for (std::size_t i = 0; i < d.heard_count; ++i) heard_[i].store(d.heard[i], w);
  heard_count_.store(d.heard_count, w);
  seq_.store(s + 2, std::memory_order_release);
}

StatusData StatusCell::read() const {
  constexpr auto r = std::memory_order_acquire;
  StatusData d;
  for (;;) {
    const uint32_t s1 = seq_.load(r);
    if (s1 & 1) continue;  // the writer is mid-publish (a few hundred ns)
    d.processed_seq = processed_seq_.load(r);
    d.off_hook = off_hook_.load(r);
    d.ringing = ringing_.load(r);
    d.rings = rings_.load(r);
    d.playing = playing_.load(r);
    d.recording = recording_.load(r);
    d.polarity_reversed = polarity_.load(r);
    d.listen_hz = listen_hz_.load(r);
    d.listen_ratio = listen_ratio_.load(r);
    d.level_dbfs = level_dbfs_.load(r);
    d.heard_count = std::min(heard_count_.load(r), kMaxHeardDigits);
    for (std::size_t i = 0; i < d.heard_count; ++i) d.heard[i] = heard_[i].load(r);
    if (seq_.load(std::memory_order_relaxed) == s1) return d;
  }
}

// ---- SimPort: control side ----

SimPort::SimPort(std::size_t index, std::string name, int auto_answer_ms, int event_fd)
    : index_(index), name_(std::move(name)), event_fd_(event_fd),
      auto_answer_ms_(auto_answer_ms < 0 ? -1 : auto_answer_ms) {
  publish();
}

SimPort::~SimPort() = default;

void SimPort::set_ring(bool on) { ring_.store(on, std::memory_order_release); }
void SimPort::set_polarity(bool reversed) { polarity_.store(reversed, std::memory_order_release); }
void SimPort::set_hook(bool) {}

bool SimPort::post(Command&& command) { return commands_.push(std::move(command)); }
std::optional<Returned> SimPort::take_returned() {
  if (auto r = recordings_.pop()) return r;
  return returned_.pop();
}
std::optional<LineEvent> SimPort::take_event() { return events_.pop(); }

// ---- SimPort: media side ----

void SimPort::read(base::FrameSpan from_line) {
  ++tick_;
  while (auto c = commands_.pop()) apply(*c);
  follow_ring();
  produce(from_line);
  publish();
}

void SimPort::write(base::ConstFrameSpan to_line) {
  // On hook the earpiece is disconnected: the phone hears silence.
  static constexpr base::AudioFrame kSilence{};
  const base::ConstFrameSpan heard = off_hook_ ? to_line : base::ConstFrameSpan(kSilence);

  if (off_hook_) {
    for (const auto& e : dtmf_rx_.process(heard)) {
      if (!e.end && heard_count_ < heard_.size()) heard_[heard_count_++] = e.digit;
    }
  }

  std::memmove(window_.data(), window_.data() + base::kFrameSamples,
               (kListenWindow - base::kFrameSamples) * sizeof(int16_t));
  std::copy(heard.begin(), heard.end(), window_.end() - base::kFrameSamples);
  level_dbfs_ = dsp::level_dbfs(window_);
  listen_ratio_ = listen_hz_ > 0 ? dsp::tone_power_ratio(window_, listen_hz_, base::kSampleRate) : 0;

  if (record_ && record_->size() + heard.size() <= record_->capacity()) {
    record_->insert(record_->end(), heard.begin(), heard.end());  // within capacity: no allocation
  }
  publish();
}

void SimPort::apply(Command& c) {
  processed_seq_ = c.seq;
  switch (c.type) {
    case CommandType::off_hook:
      go_off_hook();
      break;
    case CommandType::on_hook:
      go_on_hook();
      break;
    case CommandType::dial:
      if (!off_hook_) break;  // the control side refuses this; a race with nothing else
      for (std::size_t i = 0; i < c.digit_count; ++i) {
        if (dial_head_ - dial_tail_ == dial_.size()) break;  // full: the rest is dropped
        dial_[dial_head_++ % dial_.size()] = c.digits[i];
      }
      break;
    case CommandType::play_samples:
      give_back(std::move(play_));
      play_ = std::move(c.samples);
      play_pos_ = 0;
      play_loop_ = c.loop;
      tone_ = false;
      break;
    case CommandType::play_tone:
      give_back(std::move(play_));
      tone_ = true;
      tone_f1_ = c.f1_hz;
      tone_f2_ = c.f2_hz;
      tone_amp_ = c.amplitude;
      tone_ph1_ = tone_ph2_ = 0;
      break;
    case CommandType::stop_playing:
      give_back(std::move(play_));
      tone_ = false;
      break;
    case CommandType::start_recording:
      give_back(std::move(record_));
      record_ = std::move(c.samples);
      break;
    case CommandType::stop_recording:
      // The ack (with the recording, or none if nothing was recording). The
      // control side keeps at most one stop outstanding, so this queue has room.
      recordings_.push({Returned::Kind::recording, c.seq, std::move(record_)});
      record_.reset();
      break;
    case CommandType::listen:
      listen_hz_ = c.f1_hz;
      break;
    case CommandType::auto_answer:
      auto_answer_ms_ = c.delay_ms < 0 ? -1 : c.delay_ms;
      if (auto_answer_ms_ < 0) answer_at_tick_ = 0;
      break;
  }
  // Any buffer the command still holds (none in normal use) goes back too.
  give_back(std::move(c.samples));
}

void SimPort::go_off_hook() {
  answer_at_tick_ = 0;
  if (off_hook_) return;
  off_hook_ = true;
  heard_count_ = 0;
  post_event(LineEventType::off_hook);
}

void SimPort::go_on_hook() {
  answer_at_tick_ = 0;
  if (!off_hook_) return;
  off_hook_ = false;
  rings_ = 0;
  dial_head_ = dial_tail_ = 0;
  dtmf_tx_.stop();
  post_event(LineEventType::on_hook);
}

void SimPort::follow_ring() {
  const bool ring = ring_.load(std::memory_order_acquire);
  if (ring) {
    if (!ringing_) {
      ++rings_;
      if (!off_hook_ && auto_answer_ms_ >= 0 && answer_at_tick_ == 0) {
        answer_at_tick_ = tick_ + ticks_for_ms(auto_answer_ms_);
      }
    }
    last_ring_tick_ = tick_;
  }
  ringing_ = ring;
  if (answer_at_tick_ != 0) {
    if (tick_ - last_ring_tick_ >= ticks_for_ms(kRingAbandonMs)) {
      answer_at_tick_ = 0;  // the ringing ended long ago: the caller gave up
    } else if (tick_ >= answer_at_tick_) {
      go_off_hook();
    }
  }
}

void SimPort::produce(base::FrameSpan out) {
  std::fill(out.begin(), out.end(), int16_t{0});
  if (!off_hook_) return;

  // DTMF dialing, one digit at a time so that hanging up cancels the rest.
  if (!dtmf_tx_.active() && dial_tail_ != dial_head_) {
    const char digit = dial_[dial_tail_++ % dial_.size()];
    dtmf_tx_.queue(std::string_view(&digit, 1), kDtmfOnMs, kDtmfOffMs);
  }
  if (dtmf_tx_.active()) dtmf_tx_.generate(out);

  if (play_) {
    const Samples& s = *play_;
    for (std::size_t i = 0; i < out.size() && play_; ++i) {
      if (play_pos_ >= s.size()) {
        if (!play_loop_ || s.empty()) {
          give_back(std::move(play_));
          break;
        }
        play_pos_ = 0;
      }
      out[i] = saturate(out[i] + s[play_pos_++]);
    }
  } else if (tone_) {
    constexpr double kTwoPi = 2 * std::numbers::pi;
    const double step1 = kTwoPi * tone_f1_ / base::kSampleRate;
    const double step2 = kTwoPi * tone_f2_ / base::kSampleRate;
    for (auto& v : out) {
      double x = std::sin(tone_ph1_);
      if (tone_f2_ > 0) x += std::sin(tone_ph2_);
      v = saturate(v + static_cast<int>(std::lround(tone_amp_ * x)));
      tone_ph1_ = std::fmod(tone_ph1_ + step1, kTwoPi);
      tone_ph2_ = std::fmod(tone_ph2_ + step2, kTwoPi);
    }
  }
}

void SimPort::give_back(SamplesPtr samples) {
  if (!samples) return;
  // If the control thread has not collected the queue for a long time, push()
  // fails and the buffer is freed here instead (a rare free on the media thread).
  returned_.push({Returned::Kind::garbage, 0, std::move(samples)});
}

void SimPort::post_event(LineEventType type) {
  if (!events_.push(LineEvent{.port = index_, .type = type, .digit = 0})) return;  // full: dropped
  const uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(event_fd_, &one, sizeof one);
}

void SimPort::publish() {
  StatusData d;
  d.processed_seq = processed_seq_;
  d.off_hook = off_hook_;
  d.ringing = ringing_;
  d.rings = rings_;
  d.playing = play_ != nullptr || tone_;
  d.recording = record_ != nullptr;
  d.polarity_reversed = polarity_.load(std::memory_order_acquire);
  d.listen_hz = listen_hz_;
  d.listen_ratio = listen_ratio_;
  d.level_dbfs = level_dbfs_;
  d.heard = heard_;
  d.heard_count = heard_count_;
  status_.publish(d);
}

}  // namespace sipline::drivers::sim
