// dsp::Channel: DTMF detection on the line audio; tones and DTMF to the line.
#include "sipline/dsp/channel.hpp"

#include <algorithm>
#include <cmath>

namespace sipline::dsp {

// Silence after a queued digit, so that repeated digits stay distinct (Q.24: >= 40 ms).
constexpr int kQueuedDtmfGapMs = 100;

Channel::Channel(const ToneProfile& profile) : profile_(&profile) {}

// Realtime.
// Voice: this much audio that is no progress tone (an answer without polarity reversal).
constexpr int kVoiceMs = 500;
// Quiet: frames below this level, this long (silence disconnect supervision).
constexpr int kQuietMs = 1000;
// -45 dBm0 as a mean square: 0 dBm0 is a sine of peak 22800 (spandsp's scale).
constexpr double kQuietMeanSquare = 22800.0 * 22800.0 / 2 * 3.1623e-5;

// The end of a data call, for the echo canceller's return: both directions
// below -36 dBm0 (as a mean square) for 250 ms (G.165 §3.4.2).
constexpr double kDataEndMeanSquare = 22800.0 * 22800.0 / 2 * 2.5119e-4;
constexpr int kDataEndMs = 260;  // whole frames, at least 250 ms

double mean_square(base::ConstFrameSpan frame) {
  double sum = 0;
  for (int16_t v : frame) sum += static_cast<double>(v) * v;
  return sum / static_cast<double>(frame.size());
}

bool frame_is_quiet(base::ConstFrameSpan frame) { return mean_square(frame) < kQuietMeanSquare; }

void Channel::set_echo_canceller(std::unique_ptr<EchoCanceller> ec) {
  ec_ = std::move(ec);
  if (ec_) {
    answer_tx_ = std::make_unique<AnswerToneDetector>();
    answer_rx_ = std::make_unique<AnswerToneDetector>();
  }
}

void Channel::set_gains(double rx_db, double tx_db) {
  rx_gain_ = static_cast<float>(std::pow(10.0, std::clamp(rx_db, -24.0, 24.0) / 20));
  tx_gain_ = static_cast<float>(std::pow(10.0, std::clamp(tx_db, -24.0, 24.0) / 20));
}

namespace {

// Each frame weighs this much in the meters (about 100 ms of averaging).
constexpr double kMeterWeight = 0.2;

void apply_gain(base::FrameSpan frame, float gain) {
  if (gain == 1.0f) return;
  for (int16_t& v : frame) v = static_cast<int16_t>(std::clamp(std::lrint(v * gain), -32768L, 32767L));
}

// A narrowband frame (a tone, two tones, DTMF): an order-4 linear predictor,
// fitted to the frame by the covariance method (no window, so a steady
// sinusoid is predicted exactly), leaves less than 1/100 of its power (20
// dB of prediction gain). Measured on speech (espeak-ng, G.711): about 2 % of
// frames get there; a 1 kHz tone gets 60 dB, DTMF 23-25 dB, US dial tone at
// -30 dBm0 27 dB, ringback 30 dB. `before` holds the 4 samples before `frame`.
bool is_narrowband(const std::array<int16_t, 4>& before, base::ConstFrameSpan frame) {
  constexpr int kOrder = 4;
  constexpr double kMinPower = 160 * 100.0;  // below about -58 dBm0: not worth deciding
  auto sample = [&](int n) -> double { return n >= 0 ? frame[static_cast<std::size_t>(n)] : before[static_cast<std::size_t>(kOrder + n)]; };
  double phi[kOrder + 1][kOrder + 1] = {}, psi[kOrder + 1] = {}, power = 0;
  for (int n = 0; n < static_cast<int>(frame.size()); ++n) {
    const double x = sample(n);
    power += x * x;
    for (int i = 1; i <= kOrder; ++i) {
      const double xi = sample(n - i);
      psi[i] += x * xi;
      for (int k = i; k <= kOrder; ++k) phi[i][k] += xi * sample(n - k);
    }
  }
  if (power < kMinPower) return false;
  // Solve phi a = psi by Cholesky (phi is symmetric; a touch of diagonal
  // loading keeps it positive definite for a single tone).
  double l[kOrder + 1][kOrder + 1] = {};
  for (int i = 1; i <= kOrder; ++i) {
    for (int k = 1; k <= i; ++k) {
      double s = (k == i ? phi[k][i] * (1 + 1e-6) : phi[k][i]);
      for (int j = 1; j < k; ++j) s -= l[i][j] * l[k][j];
      if (i == k) {
        if (s <= 0) return true;  // singular: the frame is a perfectly predictable tone
        l[i][i] = std::sqrt(s);
      } else {
        l[i][k] = s / l[k][k];
      }
    }
  }
  double y[kOrder + 1] = {}, a[kOrder + 1] = {};
  for (int i = 1; i <= kOrder; ++i) {
    double s = psi[i];
    for (int j = 1; j < i; ++j) s -= l[i][j] * y[j];
    y[i] = s / l[i][i];
  }
  for (int i = kOrder; i >= 1; --i) {
    double s = y[i];
    for (int j = i + 1; j <= kOrder; ++j) s -= l[j][i] * a[j];
    a[i] = s / l[i][i];
  }
  double error = power;
  for (int i = 1; i <= kOrder; ++i) error -= a[i] * psi[i];
  return error < power / 100;
}

double to_dbm0(double ms) {
  constexpr double kZeroDbm0 = 22800.0 * 22800.0 / 2;
  return ms * 1e9 < kZeroDbm0 ? -99.0 : 10 * std::log10(ms / kZeroDbm0);
}

}  // namespace

void Channel::line_written(base::ConstFrameSpan to_line) {
  std::copy(echo_reference_.end() - reference_tail_.size(), echo_reference_.end(), reference_tail_.begin());
  std::copy(to_line.begin(), to_line.end(), echo_reference_.begin());
  rx_mean_square_ += kMeterWeight * (mean_square(to_line) - rx_mean_square_);
}

double Channel::tx_level_dbm0() const { return to_dbm0(tx_mean_square_); }
double Channel::rx_level_dbm0() const { return to_dbm0(rx_mean_square_); }

// Realtime.
void Channel::prepare_tx(base::FrameSpan from_line) {
  cancel_echo(from_line);
  apply_gain(from_line, tx_gain_);
  tx_mean_square_ += kMeterWeight * (mean_square(from_line) - tx_mean_square_);
}

// Realtime.
void Channel::cancel_echo(base::FrameSpan from_line) {
  bypass_started_ = bypass_ended_ = false;
  if (!ec_) return;
  if (bypassed_) {
    const bool quiet = mean_square(from_line) < kDataEndMeanSquare && mean_square(echo_reference_) < kDataEndMeanSquare;
    data_quiet_ms_ = quiet ? data_quiet_ms_ + base::kFrameMs : 0;
    if (data_quiet_ms_ < kDataEndMs) return;
    // The data call is over: a fresh model, as the line may be another call's.
    bypassed_ = false;
    bypass_ended_ = true;
    ec_->reset();
    answer_tx_->reset();
    answer_rx_->reset();
  }
  // Both detectors run on every frame: the tone may come from either side.
  const bool tone_from_line = answer_tx_->process(from_line);
  const bool tone_to_line = answer_rx_->process(echo_reference_);
  if (tone_from_line || tone_to_line) {
    bypassed_ = bypass_started_ = true;
    data_quiet_ms_ = 0;
    return;
  }
  narrowband_frames_ = is_narrowband(reference_tail_, echo_reference_) ? 2 : std::max(0, narrowband_frames_ - 1);
  ec_->hold_adaptation(own_tone_frames_ > 0 || narrowband_frames_ > 0);
  ec_->process(echo_reference_, from_line);
}

std::span<const DtmfEvent> Channel::process_tx(base::ConstFrameSpan from_line) {
  if (cid_rx_) cid_rx_->process(from_line);
  if (progress_rx_) {
    progress_ = progress_rx_->process(from_line);
    const bool voice = progress_rx_->non_tone_audio_for(kVoiceMs);
    voice_started_ = voice && !voice_;
    voice_ = voice;
    quiet_started_ = sound_started_ = false;
    if (frame_is_quiet(from_line)) {
      quiet_ms_ = std::min(quiet_ms_ + base::kFrameMs, kQuietMs);
      if (quiet_ms_ >= kQuietMs && !quiet_) quiet_ = quiet_started_ = true;
    } else {
      quiet_ms_ = 0;
      if (quiet_) {
        quiet_ = false;
        sound_started_ = true;
      }
    }
  }
  return detector_.process(from_line);
}

void Channel::enable_caller_id(CallerIdFormat format, bool automatic) {
  cid_rx_ = std::make_unique<CallerIdReceiver>(format, automatic);
  progress_rx_ = std::make_unique<CallProgressDetector>(*profile_);
}

// Realtime. DTMF has priority over a tone, a tone over the network audio.
// Exception: the call waiting tone plays during a conversation, so between
// its bursts (whole silent frames) the network audio passes through.
void Channel::process_rx(base::FrameSpan to_line) {
  // The reference the canceller sees next: a tone of ours now, and its echo
  // for another frame (the tail).
  own_tone_frames_ = overlay_rx(to_line) ? 2 : std::max(0, own_tone_frames_ - 1);
  apply_gain(to_line, rx_gain_);
}

bool Channel::overlay_rx(base::FrameSpan to_line) {
  if (dtmf_out_.active()) {
    dtmf_out_.generate(to_line);
    return true;
  }
  if (!tones_.active()) return false;
  if (tone_kind_ != ToneKind::call_waiting) {
    tones_.generate(to_line);
    return true;
  }
  base::AudioFrame tone;
  tones_.generate(tone);
  if (std::any_of(tone.begin(), tone.end(), [](int16_t v) { return v != 0; })) {
    std::copy(tone.begin(), tone.end(), to_line.begin());
    return true;
  }
  return false;
}

void Channel::play_tone(ToneKind kind) {
  tone_kind_ = kind;
  tones_.start(&profile_->tone(kind));
}

void Channel::stop_tone() {
  tone_kind_ = ToneKind::none;
  tones_.stop();
}

void Channel::start_dtmf(char digit) { dtmf_out_.start(digit); }

void Channel::stop_dtmf() { dtmf_out_.stop(); }

void Channel::queue_dtmf(char digit, int duration_ms) {
  const char digits[1] = {digit};
  dtmf_out_.queue(std::string_view(digits, 1), duration_ms, kQueuedDtmfGapMs);
}

}  // namespace sipline::dsp
