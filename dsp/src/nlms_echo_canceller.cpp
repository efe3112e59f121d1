#include "nlms_echo_canceller.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sipline::dsp::detail {

namespace {

constexpr std::size_t kLanes = NlmsEchoCanceller::kLanes;

// Power (mean square, in int16 units squared) of a sine at `dbm0`, on
// spandsp's scale (0 dBm0: peak 22800).
constexpr float power_at(double dbm0_tenths_of_db_below_zero) {
  // constexpr-friendly: 10^(-x/10) by repeated multiplication over tenths.
  double p = (22800.0 * 22800.0) / 2.0;
  for (int i = 0; i < static_cast<int>(dbm0_tenths_of_db_below_zero); ++i) p *= 0.97723722095581;   // 10^(-0.01): 0.1 dB
  return static_cast<float>(p);
}

// Adaption.
constexpr float kAlpha = 0.0f;                   // IPNLMS: -1 is NLMS, towards +1 more proportionate
constexpr float kStepFast = 1.0f;                // background's normalised step size while converging
constexpr float kStepSlow = 0.5f;                // ... once its residual is 20 dB below the line's audio
constexpr double kSlowBelowLine = 0.01;
constexpr float kActivePower = power_at(480);    // the far end talks: reference power above -48 dBm0
constexpr float kRegularisation = power_at(500); // delta, in the same units as x' G x
constexpr std::size_t kGainInterval = 16;        // samples between IPNLMS gain updates

// Two-path control, per 10 ms block.
constexpr std::size_t kBlock = 80;
constexpr double kCopyBetter = 0.63;             // background residual 2 dB below the foreground's
constexpr double kCopyBelowLine = 0.125;         // ... and 9 dB below the line's audio
constexpr double kRestoreWorse = 8.0;            // background 9 dB worse: it diverged, restore it
constexpr int kCopyStreak = 3;                   // blocks in a row, when the near end may be talking

// NLP.
constexpr float kNlpSmoothing = 1.0f / 64;       // power smoothing (8 ms)
constexpr float kNearRatio = 0.5f;               // residual above echo estimate - 3 dB: the near end talks
constexpr int kNearHangover = 480;               // 60 ms
constexpr float kEchoFloor = power_at(550);      // echo estimate below -55 dBm0: nothing to suppress
constexpr float kNlpFade = 1.0f / 16;            // gain change per sample (2 ms fade)
constexpr float kNoiseRise = 1.01f;              // noise floor tracker: +0.04 dB per frame (2 dB/s)
constexpr float kNoiseInitial = power_at(500);   // -50 dBm0: the first quiet frame brings it down
constexpr float kNoiseMin = 0.25f;               // RMS 0.5 LSB

// DC blockers: y = x - x[-1] + a y[-1], corner about 10 Hz.
constexpr float kDcPole = 0.992f;
// Pre-emphasis x - b x[-1] of both signals before the filters (de-emphasis
// after): whiter input, faster NLMS convergence on speech.
constexpr float kPreemphasis = 0.9f;

struct FilterOutputs {
  float foreground;
  float background;
  float power;   // x' G x over the background's gains
};

// The vectorised kernels, in GCC's (and Clang's) generic vector types: four
// floats, SSE2 on x86-64, NEON on ARM, at any optimisation level. (Plain
// loops with kLanes scalar accumulators vectorise well at -O2 but GCC 12 at
// -O3 turns them into a transposing, shuffle-bound loop three times slower;
// the explicit vectors give the same code at -O2 and -O3.) Two vectors of
// partial sums per output (kLanes floats), contiguous unaligned loads, no
// branch, no modulo. n is a multiple of kLanes.
using Vec = float __attribute__((vector_size(16)));
using Bits = std::uint32_t __attribute__((vector_size(16)));
constexpr std::size_t kVec = sizeof(Vec) / sizeof(float);
static_assert(kLanes == 2 * kVec);

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

inline Vec absolute(Vec v) { return reinterpret_cast<Vec>(reinterpret_cast<Bits>(v) & 0x7fffffffu); }

inline float sum(Vec a, Vec b) {
  const Vec s = a + b;
  float total = 0;
  for (std::size_t j = 0; j < kVec; ++j) total += s[j];
  return total;
}

FilterOutputs filter_vectorised(const float* __restrict x, const float* __restrict fg, const float* __restrict bg,
                                const float* __restrict g, std::size_t n) {
  Vec f0{}, f1{}, b0{}, b1{}, p0{}, p1{};
  for (std::size_t i = 0; i < n; i += kLanes) {
    const Vec x0 = load(x + i), x1 = load(x + i + kVec);
    f0 += load(fg + i) * x0;
    f1 += load(fg + i + kVec) * x1;
    b0 += load(bg + i) * x0;
    b1 += load(bg + i + kVec) * x1;
    p0 += load(g + i) * (x0 * x0);
    p1 += load(g + i + kVec) * (x1 * x1);
  }
  return {sum(f0, f1), sum(b0, b1), sum(p0, p1)};
}

void update_vectorised(float* __restrict w, const float* __restrict g, const float* __restrict x, float step,
                       std::size_t n) {
  const Vec s = Vec{} + step;
  for (std::size_t i = 0; i < n; i += kVec) store(w + i, load(w + i) + s * (load(g + i) * load(x + i)));
}

float l1_norm_vectorised(const float* __restrict w, std::size_t n) {
  Vec a0{}, a1{};
  for (std::size_t i = 0; i < n; i += kLanes) {
    a0 += absolute(load(w + i));
    a1 += absolute(load(w + i + kVec));
  }
  return sum(a0, a1);
}

void gains_vectorised(float* __restrict g, const float* __restrict w, float base, float scale, std::size_t n) {
  const Vec b = Vec{} + base, s = Vec{} + scale;
  for (std::size_t i = 0; i < n; i += kVec) store(g + i, b + s * absolute(load(w + i)));
}

// The scalar reference: the same arithmetic, one accumulator, in order.
FilterOutputs filter_scalar(const float* x, const float* fg, const float* bg, const float* g, std::size_t n) {
  FilterOutputs out{0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    out.foreground += fg[i] * x[i];
    out.background += bg[i] * x[i];
    out.power += g[i] * (x[i] * x[i]);
  }
  return out;
}

void update_scalar(float* w, const float* g, const float* x, float step, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) w[i] += step * (g[i] * x[i]);
}

float l1_norm_scalar(const float* w, std::size_t n) {
  float sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(w[i]);
  return sum;
}

void gains_scalar(float* g, const float* w, float base, float scale, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) g[i] = base + scale * std::fabs(w[i]);
}

std::uint32_t xorshift(std::uint32_t& state) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

}  // namespace

NlmsEchoCanceller::NlmsEchoCanceller(const EchoCancellerOptions& options, Kernel kernel)
    : kernel_(kernel),
      options_(options),
      taps_(static_cast<std::size_t>(std::clamp(options.tail_ms, 8, 128)) * base::kSampleRate / 1000),
      history_(2 * taps_, 0.0f),
      background_(taps_, 0.0f),
      foreground_(taps_, 0.0f),
      gains_(taps_, 0.0f),
      noise_power_(kNoiseInitial) {
  reset();
}

void NlmsEchoCanceller::reset() {
  std::fill(history_.begin(), history_.end(), 0.0f);
  std::fill(background_.begin(), background_.end(), 0.0f);
  std::fill(foreground_.begin(), foreground_.end(), 0.0f);
  pos_ = 0;
  update_proportionate_gains();
  since_gains_ = 0;
  rx_dc_in_ = rx_dc_out_ = tx_dc_in_ = tx_dc_out_ = 0;
  block_background_ = block_foreground_ = block_line_ = 0;
  block_adapted_ = 0;
  block_samples_ = 0;
  block_double_talk_ = false;
  copy_streak_ = 0;
  step_ = kStepFast;
  emphasis_rx_ = emphasis_tx_ = deemphasis_residual_ = deemphasis_estimate_ = 0;
  residual_power_ = echo_power_ = 0;
  near_hangover_ = 0;
  nlp_gain_ = 1;
  frame_residual_ = 0;
  noise_power_ = kNoiseInitial;
}

void NlmsEchoCanceller::update_proportionate_gains() {
  // k_l = (1 - alpha) / 2L + (1 + alpha) |w_l| / (2 |w|_1 + eps): the gains sum
  // to 1 (to (1 - alpha) / 2 while w is 0).
  const std::size_t n = taps_;
  const float l1 = kernel_ == Kernel::vectorised ? l1_norm_vectorised(background_.data(), n)
                                                 : l1_norm_scalar(background_.data(), n);
  const float base = (1 - kAlpha) / (2.0f * static_cast<float>(n));
  const float scale = (1 + kAlpha) / (2 * l1 + 1e-3f);
  if (kernel_ == Kernel::vectorised) gains_vectorised(gains_.data(), background_.data(), base, scale, n);
  else gains_scalar(gains_.data(), background_.data(), base, scale, n);
}

void NlmsEchoCanceller::cancel_sample(float x, float d, float& residual, float& estimate) {
  // The reference, newest first: history_[pos_ .. pos_ + taps_).
  pos_ = (pos_ == 0 ? taps_ : pos_) - 1;
  history_[pos_] = x;
  history_[pos_ + taps_] = x;
  const float* xs = history_.data() + pos_;
  const FilterOutputs f = kernel_ == Kernel::vectorised
                              ? filter_vectorised(xs, foreground_.data(), background_.data(), gains_.data(), taps_)
                              : filter_scalar(xs, foreground_.data(), background_.data(), gains_.data(), taps_);
  const float background_error = d - f.background;
  residual = d - f.foreground;
  estimate = f.foreground;

  // Background adaption, while the far end talks (and no tone of ours plays).
  if (f.power > kActivePower && !held_) {
    const float step = step_ * background_error / (f.power + kRegularisation);
    if (kernel_ == Kernel::vectorised) update_vectorised(background_.data(), gains_.data(), xs, step, taps_);
    else update_scalar(background_.data(), gains_.data(), xs, step, taps_);
    block_adapted_ += 1;
  }
  if (++since_gains_ == kGainInterval) {
    since_gains_ = 0;
    update_proportionate_gains();
  }
  block_background_ += static_cast<double>(background_error) * background_error;
  block_foreground_ += static_cast<double>(residual) * residual;
  block_line_ += static_cast<double>(d) * d;
  block_double_talk_ = block_double_talk_ || near_hangover_ > 0;
  if (++block_samples_ == kBlock) end_block();
}

float NlmsEchoCanceller::nlp_sample(float residual, float estimate) {
  // Powers of the residual and of the echo estimate; the near end talks when
  // the residual is not well below the echo estimate.
  residual_power_ += kNlpSmoothing * (residual * residual - residual_power_);
  echo_power_ += kNlpSmoothing * (estimate * estimate - echo_power_);
  frame_residual_ += static_cast<double>(residual) * residual;
  if (residual_power_ > kNearRatio * echo_power_ && residual_power_ > 4 * noise_power_) near_hangover_ = kNearHangover;
  else if (near_hangover_ > 0) --near_hangover_;
  if (!options_.nlp) return residual;
  const bool echo_present = echo_power_ > kEchoFloor && echo_power_ > noise_power_;
  const bool suppress = echo_present && near_hangover_ == 0;
  nlp_gain_ = suppress ? std::max(0.0f, nlp_gain_ - kNlpFade) : std::min(1.0f, nlp_gain_ + kNlpFade);
  float out = nlp_gain_ * residual;
  if (options_.comfort_noise && nlp_gain_ < 1) {
    // Uniform noise of power P has peak sqrt(3 P).
    const float uniform = static_cast<float>(static_cast<std::int32_t>(xorshift(rng_))) * (1.0f / 2147483648.0f);
    out += (1 - nlp_gain_) * std::sqrt(3 * noise_power_) * uniform;
  }
  return out;
}

void NlmsEchoCanceller::end_block() {
  // The far end talked for most of the block: compare the two filters.
  // While the near end may be talking (or the foreground is not converged
  // yet), only a background that is better block after block is copied: in
  // double talk a fast background can briefly cancel some near-end speech.
  if (block_adapted_ * 2 >= kBlock) {
    const bool better =
        block_background_ < kCopyBetter * block_foreground_ && block_background_ < kCopyBelowLine * block_line_;
    copy_streak_ = better ? copy_streak_ + 1 : 0;
    step_ = block_background_ < kSlowBelowLine * block_line_ ? kStepSlow : kStepFast;
    if (better && (!block_double_talk_ || copy_streak_ >= kCopyStreak)) {
      std::copy(background_.begin(), background_.end(), foreground_.begin());
    } else if (block_background_ > kRestoreWorse * block_foreground_ && block_foreground_ < block_line_) {
      std::copy(foreground_.begin(), foreground_.end(), background_.begin());
      update_proportionate_gains();
    }
  } else {
    copy_streak_ = 0;
  }
  block_background_ = block_foreground_ = block_line_ = 0;
  block_adapted_ = 0;
  block_samples_ = 0;
  block_double_talk_ = false;
}

void NlmsEchoCanceller::end_frame() {
  // Background noise of the residual: a minimum tracker, rising slowly.
  const float power = static_cast<float>(frame_residual_ / static_cast<double>(base::kFrameSamples));
  noise_power_ = std::max(kNoiseMin, power < noise_power_ ? power : noise_power_ * kNoiseRise);
  frame_residual_ = 0;
  // A filter that went non-finite (it cannot with int16 input; belt and
  // braces) starts over.
  float check = 0;
  for (std::size_t i = 0; i < taps_; ++i) check += foreground_[i] + background_[i];
  if (!std::isfinite(check) || !std::isfinite(residual_power_) || !std::isfinite(echo_power_)) reset();
}

void NlmsEchoCanceller::process(base::ConstFrameSpan rx, base::FrameSpan tx) {
  for (std::size_t n = 0; n < base::kFrameSamples; ++n) {
    const float r = rx[n], t = tx[n];
    rx_dc_out_ = r - rx_dc_in_ + kDcPole * rx_dc_out_;
    rx_dc_in_ = r;
    tx_dc_out_ = t - tx_dc_in_ + kDcPole * tx_dc_out_;
    tx_dc_in_ = t;
    const float x = rx_dc_out_ - kPreemphasis * emphasis_rx_;
    const float d = tx_dc_out_ - kPreemphasis * emphasis_tx_;
    emphasis_rx_ = rx_dc_out_;
    emphasis_tx_ = tx_dc_out_;
    float residual = 0, estimate = 0;
    cancel_sample(x, d, residual, estimate);
    deemphasis_residual_ = residual + kPreemphasis * deemphasis_residual_;
    deemphasis_estimate_ = estimate + kPreemphasis * deemphasis_estimate_;
    float out = nlp_sample(deemphasis_residual_, deemphasis_estimate_);
    if (!std::isfinite(out)) out = 0;
    tx[n] = static_cast<int16_t>(std::lrint(std::clamp(out, -32768.0f, 32767.0f)));
  }
  end_frame();
}

}  // namespace sipline::dsp::detail
