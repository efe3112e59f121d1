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

int ticks_of(int ms) { return static_cast<int>(ticks_for_ms(ms)); }

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
  polarity_changes_.store(d.polarity_changes, w);
  battery_.store(d.battery, w);
  battery_drops_.store(d.battery_drops, w);
  listen_hz_.store(d.listen_hz, w);
  listen_ratio_.store(d.listen_ratio, w);
  level_dbfs_.store(d.level_dbfs, w);
  heard_.store(d.heard, d.heard_count, w);
  caller_id_count_.store(d.caller_id_count, w);
  cid_format_.store(d.cid_format, w);
  cid_number_.store(d.cid_number, d.cid_number_len, w);
  cid_name_.store(d.cid_name, d.cid_name_len, w);
  cid_number_absence_.store(d.cid_number_absence, w);
  cid_name_absence_.store(d.cid_name_absence, w);
  cid_month_.store(d.cid_month, w);
  cid_day_.store(d.cid_day, w);
  cid_hour_.store(d.cid_hour, w);
  cid_minute_.store(d.cid_minute, w);
  for (std::size_t i = 0; i < d.ring_segment_count; ++i) ring_segments_[i].store(d.ring_segments[i], w);
  ring_segment_count_.store(d.ring_segment_count, w);
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
    d.polarity_changes = polarity_changes_.load(r);
    d.battery = battery_.load(r);
    d.battery_drops = battery_drops_.load(r);
    d.listen_hz = listen_hz_.load(r);
    d.listen_ratio = listen_ratio_.load(r);
    d.level_dbfs = level_dbfs_.load(r);
    d.heard_count = heard_.load(d.heard, r);
    d.caller_id_count = caller_id_count_.load(r);
    d.cid_format = cid_format_.load(r);
    d.cid_number_len = cid_number_.load(d.cid_number, r);
    d.cid_name_len = cid_name_.load(d.cid_name, r);
    d.cid_number_absence = cid_number_absence_.load(r);
    d.cid_name_absence = cid_name_absence_.load(r);
    d.cid_month = cid_month_.load(r);
    d.cid_day = cid_day_.load(r);
    d.cid_hour = cid_hour_.load(r);
    d.cid_minute = cid_minute_.load(r);
    d.ring_segment_count = std::min(ring_segment_count_.load(r), kMaxRingSegments);
    for (std::size_t i = 0; i < d.ring_segment_count; ++i) d.ring_segments[i] = ring_segments_[i].load(r);
    if (seq_.load(std::memory_order_relaxed) == s1) return d;
  }
}

// ---- SimPort: control side ----

SimPort::SimPort(std::size_t index, std::string name, int auto_answer_ms, dsp::CallerIdFormat caller_id,
                 bool caller_id_auto, const dsp::HookTiming& hook, const std::optional<dsp::EchoPathOptions>& echo,
                 int event_fd)
    : index_(index), name_(std::move(name)), event_fd_(event_fd), hook_timing_(hook),
      auto_answer_ms_(auto_answer_ms < 0 ? -1 : auto_answer_ms),
      cid_rx_(caller_id, caller_id_auto),
      car_capable_(caller_id_auto || caller_id == dsp::CallerIdFormat::jclip), hook_(hook) {
  cid_.id.number.reserve(dsp::kMaxCallerIdNumber + 8);
  cid_.id.name.reserve(dsp::kMaxCallerIdName + 8);
  if (echo) echo_.emplace(*echo);
  publish();
}

SimPort::~SimPort() = default;

void SimPort::set_ring(bool on) { ring_.store(on, std::memory_order_release); }
void SimPort::set_polarity(bool reversed) {
  if (polarity_.exchange(reversed, std::memory_order_acq_rel) != reversed) {
    polarity_changes_.fetch_add(1, std::memory_order_release);
  }
}
void SimPort::set_hook(bool) {}
void SimPort::disconnect_battery(int ms) {
  if (ms > 0) battery_request_ms_.store(ms, std::memory_order_release);
}
void SimPort::pulse_dial(std::string_view) {}

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
  follow_battery();
  follow_ring();
  run_dialing();
  read_hook();
  produce(from_line);
  // The hybrid reflects what the line carried last tick into what it sends.
  if (echo_ && loop_closed()) echo_->process(last_heard_, from_line);
  publish();
}

void SimPort::write(base::ConstFrameSpan to_line) {
  // On hook the earpiece is disconnected: the phone hears silence.
  static constexpr base::AudioFrame kSilence{};
  // So is it while a flash or a dial pulse breaks the loop.
  const base::ConstFrameSpan heard = loop_closed() ? to_line : base::ConstFrameSpan(kSilence);
  std::copy(heard.begin(), heard.end(), last_heard_.begin());
  // The caller ID receiver is bridged across the line on hook (and during
  // NTT's primary response), as in a real phone.
  if (!off_hook_ || primary_response_) hear_caller_id(to_line);

  if (loop_closed()) {
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
        dial_[dial_head_++ % dial_.size()] = {
            .kind = c.pulse ? DialStep::Kind::pulse : DialStep::Kind::dtmf, .digit = c.digits[i]};
      }
      break;
    case CommandType::flash:
      // After the digits still to dial, like a phone's R key pressed after them.
      if (!off_hook_ || dial_head_ - dial_tail_ == dial_.size()) break;
      dial_[dial_head_++ % dial_.size()] = {.kind = DialStep::Kind::flash, .flash_ms = c.flash_ms};
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
  primary_response_ = false;  // someone picked up: an answer now, not a primary response
  if (off_hook_) return;
  off_hook_ = true;
  heard_count_ = 0;
}

void SimPort::go_on_hook() {
  answer_at_tick_ = 0;
  primary_response_ = false;
  if (!off_hook_) return;
  off_hook_ = false;
  rings_ = 0;
  ring_segment_count_ = 0;
  stop_dialing();
}

// Hanging up cancels everything still to dial, and ends a break in progress.
void SimPort::stop_dialing() {
  dial_head_ = dial_tail_ = 0;
  dtmf_tx_.stop();
  pulses_left_ = loop_break_ticks_ = loop_make_ticks_ = 0;
  loop_open_ = false;
}

// Realtime: a disconnect_battery() request starts an interval at this tick.
void SimPort::follow_battery() {
  if (const int ms = battery_request_ms_.exchange(0, std::memory_order_acq_rel); ms > 0) {
    battery_off_ticks_ = ticks_of(ms);
    ++battery_drops_;
  }
  battery_ = battery_off_ticks_ == 0;
  if (battery_off_ticks_ > 0) --battery_off_ticks_;
}

// Realtime: starts the next thing to dial when the previous one is done, and
// decides whether a dial pulse or a flash keeps the loop open during this tick.
void SimPort::run_dialing() {
  if (!off_hook_) {
    stop_dialing();  // the NTT primary response ends without go_on_hook()
    loop_closed_ticks_ = 0;
    return;
  }
  const bool busy = dtmf_tx_.active() || pulses_left_ > 0 || loop_break_ticks_ > 0 || loop_make_ticks_ > 0;
  if (!busy && dial_tail_ != dial_head_) {
    const DialStep& step = dial_[dial_tail_ % dial_.size()];
    switch (step.kind) {
      case DialStep::Kind::dtmf:
        dtmf_tx_.queue(std::string_view(&step.digit, 1), kDtmfOnMs, kDtmfOffMs);
        ++dial_tail_;
        break;
      case DialStep::Kind::pulse:
        // The dial runs after a pause with the loop made.
        if (loop_closed_ticks_ >= ticks_for_ms(kDialPauseMs)) {
          pulses_left_ = step.digit == '0' ? 10 : step.digit - '0';
          ++dial_tail_;
        }
        break;
      case DialStep::Kind::flash:
        // Once the hook has been read as off hook and any pulse digit has
        // ended, so that the break reads as a flash of its own.
        if (loop_closed_ticks_ >= ticks_for_ms(std::max(hook_timing_.debounce_ms, hook_timing_.pulse_interdigit_ms))) {
          loop_break_ticks_ = ticks_of(step.flash_ms);
          ++dial_tail_;
        }
        break;
    }
  }
  if (pulses_left_ > 0 && loop_break_ticks_ == 0 && loop_make_ticks_ == 0) {
    --pulses_left_;
    loop_break_ticks_ = ticks_of(kDialBreakMs);
    loop_make_ticks_ = ticks_of(kDialMakeMs);
  }
  loop_open_ = loop_break_ticks_ > 0;
  if (loop_break_ticks_ > 0) {
    --loop_break_ticks_;
  } else if (loop_make_ticks_ > 0) {
    --loop_make_ticks_;
  }
  loop_closed_ticks_ = loop_open_ ? 0 : loop_closed_ticks_ + 1;
}

// Realtime: the hook switch and the loop, read as a line card reads them;
// every hook event comes from here.
void SimPort::read_hook() {
  const HookEvents events = hook_.step(loop_closed(), base::kFrameMs);
  for (std::size_t i = 0; i < events.count; ++i) post_event(events.events[i].type, events.events[i].digit);
}

void SimPort::follow_ring() {
  const bool ring = ring_.load(std::memory_order_acquire);
  if (ring != ringing_) ring_edge(ring);
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
  if (primary_response_ && tick_ >= primary_end_tick_) {
    // No message in time: hang up again, as the NTT phone does.
    off_hook_ = primary_response_ = false;
  }
  if (answer_at_tick_ != 0) {
    if (tick_ - last_ring_tick_ >= ticks_for_ms(kRingAbandonMs)) {
      answer_at_tick_ = 0;  // the ringing ended long ago: the caller gave up
    } else if (tick_ >= answer_at_tick_) {
      go_off_hook();
    }
  }
}

// The ring voltage changed: note the segment that ended, and answer NTT's
// CAR (a short burst, a short pause, and the voltage back) when the phone
// decodes JCLIP.
void SimPort::ring_edge(bool ring) {
  const int ms = static_cast<int>((tick_ - segment_start_tick_) * base::kFrameMs);
  const bool new_call = ring && (ring_segment_count_ == 0 || tick_ - last_ring_tick_ >= ticks_for_ms(kRingAbandonMs));
  if (new_call) {
    ring_segment_count_ = 0;
    car_answered_ = false;
  } else if (ring_segment_count_ < kMaxRingSegments) {
    ring_segments_[ring_segment_count_++] = ms;
  }
  segment_start_tick_ = tick_;
  const auto car_like = [](int segment) { return segment >= kCarMinSegmentMs && segment <= kCarMaxSegmentMs; };
  if (!ring && ms > kCarMaxSegmentMs) car_answered_ = false;  // a real ring: the next CAR is a new call's
  if (ring && car_capable_ && !car_answered_ && !off_hook_ && ring_segment_count_ >= 2 &&
      car_like(ring_segments_[ring_segment_count_ - 2]) && car_like(ring_segments_[ring_segment_count_ - 1])) {
    car_answered_ = true;
    rings_ = 0;
    answer_at_tick_ = 0;
    off_hook_ = primary_response_ = true;
    primary_end_tick_ = tick_ + ticks_for_ms(kPrimaryResponseMs);
  }
}

// Realtime: caller ID decoding; during NTT's primary response a complete
// message ends it (the phone hangs up).
void SimPort::hear_caller_id(base::ConstFrameSpan line_audio) {
  cid_rx_.process(line_audio);
  const dsp::CallerIdMessage* m = cid_rx_.take();
  if (!m) return;
  cid_.format = m->format;
  cid_.id.number.assign(m->id.number, 0, dsp::kMaxCallerIdNumber);  // within the reserved capacity
  cid_.id.name.assign(m->id.name, 0, dsp::kMaxCallerIdName);
  cid_.id.number_absence = m->id.number_absence;
  cid_.id.name_absence = m->id.name_absence;
  cid_.id.month = m->id.month;
  cid_.id.day = m->id.day;
  cid_.id.hour = m->id.hour;
  cid_.id.minute = m->id.minute;
  ++cid_count_;
  if (primary_response_) off_hook_ = primary_response_ = false;
}

void SimPort::produce(base::FrameSpan out) {
  std::fill(out.begin(), out.end(), int16_t{0});
  if (!loop_closed()) return;

  // DTMF dialing, one digit at a time (run_dialing) so that hanging up cancels the rest.
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

void SimPort::give_back(SamplesPtr samples) { give_back_samples(returned_, std::move(samples)); }

void SimPort::post_event(LineEventType type, char digit) {
  post_line_event(events_, event_fd_, index_, type, digit);
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
  d.polarity_changes = polarity_changes_.load(std::memory_order_acquire);
  d.battery = battery_;
  d.battery_drops = battery_drops_;
  d.listen_hz = listen_hz_;
  d.listen_ratio = listen_ratio_;
  d.level_dbfs = level_dbfs_;
  d.heard = heard_;
  d.heard_count = heard_count_;
  d.caller_id_count = cid_count_;
  d.cid_format = cid_.format;
  d.cid_number_len = std::min(cid_.id.number.size(), d.cid_number.size());
  std::copy_n(cid_.id.number.begin(), d.cid_number_len, d.cid_number.begin());
  d.cid_name_len = std::min(cid_.id.name.size(), d.cid_name.size());
  std::copy_n(cid_.id.name.begin(), d.cid_name_len, d.cid_name.begin());
  d.cid_number_absence = cid_.id.number_absence;
  d.cid_name_absence = cid_.id.name_absence;
  d.cid_month = cid_.id.month;
  d.cid_day = cid_.id.day;
  d.cid_hour = cid_.id.hour;
  d.cid_minute = cid_.id.minute;
  d.ring_segments = ring_segments_;
  d.ring_segment_count = ring_segment_count_;
  status_.publish(d);
}

}  // namespace sipline::drivers::sim
