// DTMF rx/tx over spandsp 0.0.6.
//  Detector: dtmf_rx with a realtime callback, which spandsp calls with the
//  digit when a tone is confirmed (two agreeing 102-sample blocks) and with 0
//  when it ends; a direct change from one digit to another is reported as the
//  end of the first and the start of the second.
//  Generator: queued digits go one at a time into dtmf_tx, so each keeps the
//  on/off timing it was queued with; start()/stop() play one digit through
//  our ToneGenerator at spandsp's DTMF level (-10 dBm0 per tone, no twist).
#include "sipline/dsp/dtmf.hpp"

#include <algorithm>
#include <string_view>

#include "sipline/base/c_ptr.hpp"
#include "sipline/dsp/tone_generator.hpp"
#include "spandsp.hpp"

namespace sipline::dsp {
namespace {

constexpr std::string_view kDigits = "123A456B789C*0#D";  // row-major keypad
constexpr int kRowHz[4] = {697, 770, 852, 941};
constexpr int kColHz[4] = {1209, 1336, 1477, 1633};
constexpr int kTxLevelDbm0 = -10;     // spandsp's DEFAULT_DTMF_TX_LEVEL
constexpr std::size_t kMaxQueued = 128;
constexpr std::size_t kMaxEventsPerFrame = 8;  // a frame spans at most 2 decision blocks

int digit_index(char digit) {
  if (digit >= 'a' && digit <= 'd') digit = static_cast<char>(digit - 'a' + 'A');
  const auto pos = kDigits.find(digit);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Continuous tones for start()/stop(), built once (before any realtime use).
const std::array<ToneSpec, 16>& continuous_specs() {
  static const std::array<ToneSpec, 16> kSpecs = [] {
    std::array<ToneSpec, 16> specs;
    for (int i = 0; i < 16; ++i) {
      specs[i].steps.push_back(ToneStep{.f1_hz = kRowHz[i / 4],
                                        .f2_hz = kColHz[i % 4],
                                        .mod_hz = 0,
                                        .level_dbm0 = kTxLevelDbm0,
                                        .duration_ms = 0});
    }
    return specs;
  }();
  return kSpecs;
}

}  // namespace

// ---------------------------------------------------------------- detector

struct DtmfDetector::Impl {
  base::CPtr<dtmf_rx_state_t, dtmf_rx_free> rx;
  std::array<DtmfEvent, kMaxEventsPerFrame> events{};
  std::size_t count = 0;
  char current = 0;

  void push(char digit, bool end) {
    if (count < events.size()) events[count++] = DtmfEvent{.digit = digit, .end = end};
  }

  static void on_tone(void* user, int code, int /*level*/, int /*delay*/) noexcept {
    auto* self = static_cast<Impl*>(user);
    const char digit = static_cast<char>(code);
    if (digit == self->current) return;
    if (self->current != 0) self->push(self->current, true);
    if (digit != 0) self->push(digit, false);
    self->current = digit;
  }
};

bool is_dtmf_digit(char c) { return digit_index(c) >= 0; }

// Accepted reverse twist, dB.
constexpr int kReverseTwistDb = 5;

DtmfDetector::DtmfDetector() : impl_(std::make_unique<Impl>()) {
  impl_->rx.reset(dtmf_rx_init(nullptr, nullptr, nullptr));
  detail::quiet_spandsp_log(dtmf_rx_get_logging_state(impl_->rx.get()));
  // Reverse twist (high group louder) up to 5 dB: spandsp's default of 4 dB
  // sits exactly on Q.24's 4 dB and lost digits there; normal twist stays
  // at spandsp's 8 dB (-1 keeps it, and the dial tone filter and threshold).
  dtmf_rx_parms(impl_->rx.get(), -1, -1, kReverseTwistDb, -99);
  dtmf_rx_set_realtime_callback(impl_->rx.get(), &Impl::on_tone, impl_.get());
}

DtmfDetector::~DtmfDetector() = default;
DtmfDetector::DtmfDetector(DtmfDetector&&) noexcept = default;
DtmfDetector& DtmfDetector::operator=(DtmfDetector&&) noexcept = default;

// Realtime.
std::span<const DtmfEvent> DtmfDetector::process(base::ConstFrameSpan in) {
  if (!impl_ || !impl_->rx) return {};
  impl_->count = 0;
  dtmf_rx(impl_->rx.get(), in.data(), static_cast<int>(in.size()));
  return {impl_->events.data(), impl_->count};
}

// ---------------------------------------------------------------- generator

struct DtmfGenerator::Impl {
  struct Queued {
    char digit;
    int on_ms;
    int off_ms;
  };
  base::CPtr<dtmf_tx_state_t, dtmf_tx_free> tx;
  std::array<Queued, kMaxQueued> ring{};
  std::size_t head = 0;
  std::size_t count = 0;
  int tx_remaining = 0;  // samples left of the digit handed to dtmf_tx
  ToneGenerator continuous;

  void clear_queued() {
    head = count = 0;
    tx_remaining = 0;
    dtmf_tx_init(tx.get());  // re-initialises in place, dropping spandsp's queue
  }
};

DtmfGenerator::DtmfGenerator() : impl_(std::make_unique<Impl>()) {
  impl_->tx.reset(dtmf_tx_init(nullptr));
  (void)continuous_specs();  // build the tables now, not on the media path
}

DtmfGenerator::~DtmfGenerator() = default;
DtmfGenerator::DtmfGenerator(DtmfGenerator&&) noexcept = default;
DtmfGenerator& DtmfGenerator::operator=(DtmfGenerator&&) noexcept = default;

void DtmfGenerator::queue(std::string_view digits, int on_ms, int off_ms) {
  if (!impl_) return;
  on_ms = std::clamp(on_ms, 1, 60000);
  off_ms = std::clamp(off_ms, 0, 60000);
  for (char c : digits) {
    const int idx = digit_index(c);
    if (idx < 0 || impl_->count == impl_->ring.size()) continue;
    impl_->ring[(impl_->head + impl_->count) % impl_->ring.size()] =
        Impl::Queued{.digit = kDigits[static_cast<std::size_t>(idx)], .on_ms = on_ms, .off_ms = off_ms};
    ++impl_->count;
  }
}

void DtmfGenerator::start(char digit) {
  if (!impl_) return;
  const int idx = digit_index(digit);
  if (idx < 0) return;
  impl_->clear_queued();
  impl_->continuous.start(&continuous_specs()[static_cast<std::size_t>(idx)]);
}

void DtmfGenerator::stop() {
  if (!impl_) return;
  impl_->continuous.stop();
  impl_->clear_queued();
}

bool DtmfGenerator::active() const {
  return impl_ && (impl_->continuous.active() || impl_->count > 0 || impl_->tx_remaining > 0);
}

// Realtime.
void DtmfGenerator::generate(base::FrameSpan out) {
  if (!impl_) {
    std::fill(out.begin(), out.end(), int16_t{0});
    return;
  }
  Impl& s = *impl_;
  if (s.continuous.active()) {
    s.continuous.generate(out);
    return;
  }
  const int total = static_cast<int>(out.size());
  int pos = 0;
  while (pos < total) {
    if (s.tx_remaining <= 0) {
      if (s.count == 0) break;
      const Impl::Queued q = s.ring[s.head];
      s.head = (s.head + 1) % s.ring.size();
      --s.count;
      dtmf_tx_set_timing(s.tx.get(), q.on_ms, q.off_ms);
      dtmf_tx_put(s.tx.get(), &q.digit, 1);
      s.tx_remaining = (q.on_ms + q.off_ms) * (base::kSampleRate / 1000);
    }
    const int want = std::min(total - pos, s.tx_remaining);
    const int n = dtmf_tx(s.tx.get(), out.data() + pos, want);
    pos += std::max(n, 0);
    s.tx_remaining = n < want ? 0 : s.tx_remaining - n;
  }
  std::fill(out.begin() + pos, out.end(), int16_t{0});
}

}  // namespace sipline::dsp
