// MediaEngine::Impl: the control-thread side (stream table, command posting,
// event draining) and the Worker (one thread, a timerfd tick over its lines).
//
// Hand-offs: RtpSession objects are created and bound on the control thread
// and travel to their worker inside an open_stream command; on close they
// travel back through the worker's return queue and are destroyed on the
// control thread, so a worker never frees memory. Each worker has its own
// command, event and return queues (SPSC); one eventfd wakes the control
// thread for all of them.
#include "media/media_engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <unordered_map>

#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "media/rtp_session.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/base/spsc_queue.hpp"
#include "sipline/dsp/channel.hpp"

namespace sipline::gateway::media {
namespace {

constexpr std::size_t kCommandQueueSize = 256;
constexpr std::size_t kEventQueueSize = 1024;
constexpr std::size_t kReturnQueueSize = 256;
constexpr std::size_t kPendingReturns = 64;
constexpr std::uint64_t kMaxCatchUpTicks = 5;
constexpr int kPublishEveryTicks = 5;  // 100 ms
constexpr auto kTick = std::chrono::milliseconds(20);
constexpr std::size_t kDtmfHoldFrames = 2;
constexpr int kDialDigitMs = 100;  // dialing on an exchange line: 100 ms tones, 100 ms apart

struct Command {
  enum class Type { none, open_stream, open_relay, connect, close_stream, play_tone, play_signal, dial };
  Type type = Type::none;
  LineId line = 0;
  StreamId stream = 0;
  std::unique_ptr<RtpSession> session;  // open_stream, open_relay
  SessionParams params{};               // connect
  bool srtp_change = false;             // connect: install `srtp` (null = plain RTP)
  std::unique_ptr<SrtpContext> srtp;
  dsp::ToneKind tone = dsp::ToneKind::none;
  std::unique_ptr<std::vector<int16_t>> signal;  // play_signal (null or empty: stop)
  std::array<char, 32> digits{};                 // dial
  std::size_t digit_count = 0;
  // open_relay: the second stream, and each stream's DTMF channel.
  StreamId stream2 = 0;
  std::unique_ptr<RtpSession> session2;
  std::unique_ptr<dsp::Channel> channel;
  std::unique_ptr<dsp::Channel> channel2;
};

// What a worker hands back to the control thread to destroy.
struct Returned {
  std::unique_ptr<RtpSession> session;
  std::unique_ptr<dsp::Channel> channel;  // relay streams only
  std::unique_ptr<SrtpContext> srtp;      // replaced by a connect (re-key)
  std::unique_ptr<std::vector<int16_t>> signal;  // a line signal played out or stopped
  bool empty() const { return !session && !channel && !srtp && !signal; }
};

// Thread: the worker's own thread between start and join; constructed and
// destroyed on the control thread.
class Worker final : public RtpSessionListener {
 public:
  struct LineSlot {
    LineId id = 0;
    drivers::LinePort* port = nullptr;
    std::unique_ptr<dsp::Channel> channel;
    int active = -1;  // index in streams_ of the connected stream
    LineMeter* meter = nullptr;  // published every kPublishEveryTicks
    // Transmit audio held back kDtmfHoldFrames ticks while digits are relayed
    // as RFC 4733 events, so that the onset of a digit (heard for 30-40 ms
    // before the detector confirms it) can be blanked instead of leaking
    // in-band ahead of the event (RFC 4733 §2.5.1.2).
    std::array<base::AudioFrame, kDtmfHoldFrames> held{};
    std::size_t held_next = 0;
    // A line signal (caller ID) being played, and how far.
    std::unique_ptr<std::vector<int16_t>> signal{};
    std::size_t signal_pos = 0;
  };
  struct StreamSlot {
    StreamId id = 0;  // 0 = free
    std::size_t line = 0;  // index in lines_ (line streams)
    std::unique_ptr<RtpSession> session;
    bool timeout_reported = false;
    // Relay streams: the joined stream's index in streams_ (-1 once it is
    // closed), and the channel that detects and plays DTMF in the audio
    // going from this stream to the other.
    bool relay = false;
    int peer = -1;
    std::unique_ptr<dsp::Channel> channel;
  };

  Worker(int event_fd, int rtp_timeout_ms, std::size_t relay_streams)
      : event_fd_(event_fd), rtp_timeout_(rtp_timeout_ms), relay_streams_(relay_streams) {}

  void add_line(LineId id, drivers::LinePort& port, std::unique_ptr<dsp::Channel> channel,
                std::vector<int>& line_index, LineMeter& meter) {
    line_index[id] = static_cast<int>(lines_.size());
    lines_.push_back(LineSlot{.id = id, .port = &port, .channel = std::move(channel), .active = -1, .meter = &meter});
  }

  base::Result<void> start(const std::vector<int>* line_index) {
    line_index_ = line_index;
    streams_.resize(max_streams());
    timer_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    if (!timer_fd_) return base::fail(MediaError::socket, std::string("timerfd: ") + std::strerror(errno));
    itimerspec spec{};
    spec.it_interval.tv_nsec = std::chrono::nanoseconds(kTick).count();
    spec.it_value = spec.it_interval;
    if (::timerfd_settime(timer_fd_.get(), 0, &spec, nullptr) != 0)
      return base::fail(MediaError::socket, std::string("timerfd_settime: ") + std::strerror(errno));
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

  std::size_t max_streams() const { return 4 * lines_.size() + 16 + relay_streams_; }

  // Control thread: true when a push is sure to succeed.
  bool command_room() const {
    return pushed_ - done_.load(std::memory_order_acquire) < kCommandQueueSize;
  }
  void push_command(Command&& c) {
    commands_.push(std::move(c));
    ++pushed_;
  }

  base::SpscQueue<MediaEvent, kEventQueueSize>& events() { return events_; }
  // RtpSessionListener (called from receive(), with the ctx_ fields set).
  // A digit received on a line's stream is played to the line; on a relay
  // stream it goes on as an event when the other leg takes events, else it
  // is played into the audio the other leg gets.
  void on_first_packet() noexcept override { post(MediaEventType::rtp_started, 0); }
  void on_remote_dtmf_begin(char digit) noexcept override {
    post(MediaEventType::remote_dtmf, digit);
    StreamSlot& s = streams_[ctx_slot_];
    if (RtpSession* out = event_peer(s)) {
      out->dtmf_begin(digit);
      return;
    }
    channel_of(s).start_dtmf(digit);
  }
  void on_remote_dtmf_end(char digit, int duration_ms, bool begin_seen) noexcept override {
    StreamSlot& s = streams_[ctx_slot_];
    if (!begin_seen) post(MediaEventType::remote_dtmf, digit);
    if (RtpSession* out = event_peer(s)) {
      if (!begin_seen) out->dtmf_begin(digit);
      out->dtmf_end();
      return;
    }
    if (begin_seen) {
      channel_of(s).stop_dtmf();
    } else {
      channel_of(s).queue_dtmf(digit, std::clamp(duration_ms, 60, 1000));
    }
  }

 private:
  void run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      std::uint64_t expirations = 0;
      const ssize_t r = ::read(timer_fd_.get(), &expirations, sizeof expirations);
      if (r != sizeof expirations) continue;  // EINTR
      // Missed ticks (the thread was descheduled) are run, up to a cap.
      const std::uint64_t ticks = std::min(expirations, kMaxCatchUpTicks);
      for (std::uint64_t i = 0; i < ticks; ++i) tick(std::chrono::steady_clock::now());
    }
  }

  // Realtime: one 20 ms tick over every line and relay of this worker.
  void tick(base::TimePoint now) {
    posted_ = false;
    process_commands(now);
    flush_pending_returns();

    for (std::size_t i = 0; i < streams_.size(); ++i) {
      StreamSlot& s = streams_[i];
      if (s.id == 0) continue;
      set_context(i);
      s.session->receive(now, *this);
    }

    for (std::size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].id != 0 && streams_[i].relay) relay(i);
    }

    for (std::size_t li = 0; li < lines_.size(); ++li) {
      LineSlot& line = lines_[li];
      StreamSlot* s = line.active >= 0 ? &streams_[static_cast<std::size_t>(line.active)] : nullptr;
      ctx_line_id_ = line.id;
      ctx_stream_ = s ? s->id : 0;

      line.port->read(mic_);
      line.channel->prepare_tx(mic_);
      if (line.channel->echo_bypass_started()) post(MediaEventType::echo_bypassed, 0);
      if (line.channel->echo_bypass_ended()) post(MediaEventType::echo_restored, 0);
      bool digit_edge = false;
      for (const dsp::DtmfEvent& e : line.channel->process_tx(mic_)) {
        post(e.end ? MediaEventType::line_digit_end : MediaEventType::line_digit_begin, e.digit);
        digit_edge = true;
        if (s) {
          if (e.end) s->session->dtmf_end();
          else s->session->dtmf_begin(e.digit);
        }
      }
      if (const dsp::CallerIdMessage* cid = line.channel->caller_id()) post_caller_id(*cid);
      if (const auto tone = line.channel->progress()) post(MediaEventType::line_progress, static_cast<char>(*tone));
      if (line.channel->voice_started()) post(MediaEventType::line_voice, 0);
      if (line.channel->quiet_started()) post(MediaEventType::line_quiet, 0);
      if (line.channel->sound_started()) post(MediaEventType::line_sound, 0);
      if (s) {
        if (s->session->relays_dtmf()) hold_back(line, digit_edge);
        s->session->send_frame(mic_);
        s->session->playout(out_);
      } else {
        out_.fill(0);
      }
      line.channel->process_rx(out_);
      if (line.signal) play_signal(line);
      line.port->write(out_);
      line.channel->line_written(out_);
    }

    const bool publish = ++tick_count_ % kPublishEveryTicks == 0;
    if (publish) {
      for (LineSlot& line : lines_) {
        line.meter->tx_dbm0.store(static_cast<float>(line.channel->tx_level_dbm0()), std::memory_order_relaxed);
        line.meter->rx_dbm0.store(static_cast<float>(line.channel->rx_level_dbm0()), std::memory_order_relaxed);
        line.meter->echo_bypassed.store(line.channel->echo_bypassed(), std::memory_order_relaxed);
      }
    }
    for (StreamSlot& s : streams_) {
      if (s.id == 0) continue;
      s.session->tick_rtcp(now);
      check_timeout(s, now);
      if (publish) s.session->publish_stats();
    }
    if (posted_) {
      const std::uint64_t one = 1;
      (void)!::write(event_fd_, &one, sizeof one);
    }
  }

  // Realtime: the audio received on relay stream `i` this tick goes out on
  // the stream joined to it, with DTMF converted as the two legs need.
  void relay(std::size_t i) {
    StreamSlot& s = streams_[i];
    RtpSession* out = s.peer >= 0 ? streams_[static_cast<std::size_t>(s.peer)].session.get() : nullptr;
    if (!out) return;
    set_context(i);
    s.session->playout(relay_);
    if (out->relays_dtmf() && !s.session->relays_dtmf()) {
      for (const dsp::DtmfEvent& e : s.channel->process_tx(relay_)) {
        if (e.end) out->dtmf_end();
        else out->dtmf_begin(e.digit);
      }
    }
    s.channel->process_rx(relay_);
    out->send_frame(relay_);
  }

  // The stream that takes a digit received on `s` as an RFC 4733 event: the
  // other leg of a relay when it negotiated events; null otherwise.
  RtpSession* event_peer(const StreamSlot& s) noexcept {
    if (!s.relay || s.peer < 0) return nullptr;
    RtpSession* out = streams_[static_cast<std::size_t>(s.peer)].session.get();
    return out->relays_dtmf() ? out : nullptr;
  }

  // The channel that plays digits received on `s`: its line's, or its own.
  dsp::Channel& channel_of(StreamSlot& s) noexcept { return s.relay ? *s.channel : *lines_[s.line].channel; }

  void set_context(std::size_t slot) noexcept {
    const StreamSlot& s = streams_[slot];
    ctx_slot_ = slot;
    ctx_stream_ = s.id;
    ctx_line_id_ = s.relay ? kNoLine : lines_[s.line].id;
  }

  // Realtime: swaps mic_ with the frame held kDtmfHoldFrames ticks ago. At a
  // digit's start or end every held frame and the current one may hold tone
  // that the event already carries: they are blanked.
  void hold_back(LineSlot& line, bool digit_edge) noexcept {
    if (digit_edge) {
      for (auto& f : line.held) f.fill(0);
      mic_.fill(0);
    }
    std::swap(mic_, line.held[line.held_next]);
    line.held_next = (line.held_next + 1) % line.held.size();
  }

  void check_timeout(StreamSlot& s, base::TimePoint now) {
    if (rtp_timeout_.count() <= 0 || !s.session->connected() || !s.session->may_receive()) {
      s.timeout_reported = false;
      return;
    }
    const bool silent = now - s.session->last_receive() > rtp_timeout_;
    if (silent && !s.timeout_reported) {
      s.timeout_reported = true;
      ctx_line_id_ = s.relay ? kNoLine : lines_[s.line].id;
      ctx_stream_ = s.id;
      post(MediaEventType::rtp_timeout, 0);
    } else if (!silent) {
      s.timeout_reported = false;  // RTP came back: report again if it stops again
    }
  }

  int find_stream(StreamId id) const {
    for (std::size_t i = 0; i < streams_.size(); ++i)
      if (streams_[i].id == id) return static_cast<int>(i);
    return -1;
  }

  void process_commands(base::TimePoint now) {
    while (auto c = commands_.pop()) {
      done_.fetch_add(1, std::memory_order_release);
      const int li = c->line < line_index_->size() ? (*line_index_)[c->line] : -1;
      switch (c->type) {
        case Command::Type::open_stream: {
          const int free = find_stream(0);
          if (li < 0 || free < 0) {
            give_back({std::move(c->session), nullptr, nullptr, nullptr});  // cannot happen: the control thread checks
            break;
          }
          StreamSlot& s = streams_[static_cast<std::size_t>(free)];
          s.id = c->stream;
          s.line = static_cast<std::size_t>(li);
          s.session = std::move(c->session);
          s.timeout_reported = false;
          s.relay = false;
          s.peer = -1;
          break;
        }
        case Command::Type::open_relay: {
          const int a = find_stream(0);
          if (a >= 0) streams_[static_cast<std::size_t>(a)].id = c->stream;  // reserve it
          const int b = find_stream(0);
          if (a < 0 || b < 0) {  // cannot happen: the control thread checks
            if (a >= 0) streams_[static_cast<std::size_t>(a)].id = 0;
            give_back({std::move(c->session), std::move(c->channel), nullptr, nullptr});
            give_back({std::move(c->session2), std::move(c->channel2), nullptr, nullptr});
            break;
          }
          StreamSlot& sa = streams_[static_cast<std::size_t>(a)];
          StreamSlot& sb = streams_[static_cast<std::size_t>(b)];
          sa = StreamSlot{c->stream, 0, std::move(c->session), false, true, b, std::move(c->channel)};
          sb = StreamSlot{c->stream2, 0, std::move(c->session2), false, true, a, std::move(c->channel2)};
          break;
        }
        case Command::Type::connect: {
          const int i = find_stream(c->stream);
          if (i < 0) break;
          StreamSlot& s = streams_[static_cast<std::size_t>(i)];
          if (!s.relay) {
            LineSlot& line = lines_[s.line];
            if (line.active >= 0 && line.active != i)
              streams_[static_cast<std::size_t>(line.active)].session->disconnect();
            line.active = i;
          }
          if (c->srtp_change) give_back({nullptr, nullptr, s.session->swap_srtp(std::move(c->srtp)), nullptr});
          s.session->connect(c->params, now);
          s.timeout_reported = false;
          break;
        }
        case Command::Type::close_stream: {
          const int i = find_stream(c->stream);
          if (i < 0) break;
          StreamSlot& s = streams_[static_cast<std::size_t>(i)];
          if (s.relay) {
            if (s.peer >= 0) streams_[static_cast<std::size_t>(s.peer)].peer = -1;
          } else if (LineSlot& line = lines_[s.line]; line.active == i) {
            line.active = -1;
            line.channel->stop_dtmf();
          }
          s.session->publish_stats();
          give_back({std::move(s.session), std::move(s.channel), nullptr, nullptr});
          s.id = 0;
          s.relay = false;
          s.peer = -1;
          break;
        }
        case Command::Type::play_signal:
          if (li < 0) {
            give_back({nullptr, nullptr, nullptr, std::move(c->signal)});
            break;
          } else {
            LineSlot& line = lines_[static_cast<std::size_t>(li)];
            give_back({nullptr, nullptr, nullptr, std::move(line.signal)});
            line.signal_pos = 0;
            if (c->signal && !c->signal->empty()) line.signal = std::move(c->signal);
            else give_back({nullptr, nullptr, nullptr, std::move(c->signal)});
          }
          break;
        case Command::Type::dial:
          if (li < 0) break;
          for (std::size_t k = 0; k < c->digit_count; ++k)
            lines_[static_cast<std::size_t>(li)].channel->queue_dtmf(c->digits[k], kDialDigitMs);
          break;
        case Command::Type::play_tone:
          if (li < 0) break;
          if (c->tone == dsp::ToneKind::none) lines_[static_cast<std::size_t>(li)].channel->stop_tone();
          else lines_[static_cast<std::size_t>(li)].channel->play_tone(c->tone);
          break;
        case Command::Type::none:
          break;
      }
    }
  }

  // Realtime: the next frame of the line's signal replaces the audio to the
  // line; a finished signal goes back to the control thread.
  void play_signal(LineSlot& line) {
    const std::vector<int16_t>& sig = *line.signal;
    const std::size_t n = std::min(out_.size(), sig.size() - line.signal_pos);
    std::copy_n(sig.begin() + static_cast<std::ptrdiff_t>(line.signal_pos), n, out_.begin());
    std::fill(out_.begin() + static_cast<std::ptrdiff_t>(n), out_.end(), int16_t{0});
    line.signal_pos += n;
    if (line.signal_pos >= sig.size()) {
      give_back({nullptr, nullptr, nullptr, std::move(line.signal)});
      line.signal_pos = 0;
    }
  }

  // Realtime: hands a session (and its channel) back to the control thread
  // (never frees here).
  void give_back(Returned r) {
    if (r.empty()) return;
    for (auto& p : pending_) {
      if (p.empty()) {
        p = std::move(r);
        flush_pending_returns();
        return;
      }
    }
    // pending_ is full: the control thread is not draining. Keep the objects
    // alive by leaking them rather than freeing on the media thread.
    (void)r.session.release();
    (void)r.channel.release();
    (void)r.srtp.release();
    (void)r.signal.release();
  }

  void flush_pending_returns() {
    for (auto& p : pending_) {
      if (p.empty()) continue;
      // push() takes its argument by value (a failed push would free it
      // here): hand it over only when it is sure to fit.
      if (!returns_room()) break;
      returns_.push(std::move(p));
      ++returned_;
      posted_ = true;
    }
  }

  bool returns_room() const { return returned_ - returns_taken_.load(std::memory_order_acquire) < kReturnQueueSize; }

 public:
  // Control thread: pops returned sessions (destroying them here).
  void drain_returns() {
    while (auto s = returns_.pop()) returns_taken_.fetch_add(1, std::memory_order_release);
  }

 private:
  // Realtime: posts an event up with the current line/stream context.
  void post_caller_id(const dsp::CallerIdMessage& m) noexcept {
    MediaEvent ev;
    ev.type = MediaEventType::line_caller_id;
    ev.line = ctx_line_id_;
    ev.stream = ctx_stream_;
    ev.caller_id = CallerIdText::from(m);
    if (events_.push(ev)) posted_ = true;
  }

  void post(MediaEventType type, char digit) noexcept {
    MediaEvent ev;
    ev.type = type;
    ev.line = ctx_line_id_;
    ev.stream = ctx_stream_;
    ev.digit = digit;
    if (events_.push(ev)) posted_ = true;  // a full queue drops the event (control thread stalled)
  }

  int event_fd_;
  std::chrono::milliseconds rtp_timeout_;
  base::UniqueFd timer_fd_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  const std::vector<int>* line_index_ = nullptr;
  std::vector<LineSlot> lines_;
  std::vector<StreamSlot> streams_;

  base::SpscQueue<Command, kCommandQueueSize> commands_;
  std::size_t pushed_ = 0;                 // control thread
  std::atomic<std::size_t> done_{0};       // worker -> control
  base::SpscQueue<MediaEvent, kEventQueueSize> events_;
  base::SpscQueue<Returned, kReturnQueueSize> returns_;
  std::size_t returned_ = 0;               // worker
  std::atomic<std::size_t> returns_taken_{0};  // control -> worker
  std::array<Returned, kPendingReturns> pending_;
  std::size_t relay_streams_;

  base::AudioFrame mic_{};
  base::AudioFrame out_{};
  base::AudioFrame relay_{};
  // What post() reports: set before each session call and line step.
  std::size_t ctx_slot_ = 0;
  LineId ctx_line_id_ = 0;
  StreamId ctx_stream_ = 0;
  bool posted_ = false;
  std::uint64_t tick_count_ = 0;
};

}  // namespace

struct MediaEngine::Impl {
  struct ControlStream {
    LineId line = 0;
    std::size_t worker = 0;
    const RtpSession* session = nullptr;  // owned by the worker; valid while in this table
    int family = 0;
    std::optional<SrtpKeys> srtp;         // the keys the worker has now
  };

  Impl(const MediaEngineConfig& c, drivers::LineDriver& d, std::vector<const dsp::ToneProfile*> p)
      : config(c), driver(d), profiles(std::move(p)), rng(std::random_device{}()) {
    event_fd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    char buf[32];
    std::snprintf(buf, sizeof buf, "sipline-%016llx", static_cast<unsigned long long>(rng()));
    cname = buf;  // RFC 7022: a random, per-engine CNAME
  }

  // Control thread: waits (briefly) for room in a worker's command queue.
  bool post(std::size_t w, Command&& c) {
    for (int i = 0; i < 1000 && !workers[w]->command_room(); ++i) {
      workers[w]->drain_returns();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!workers[w]->command_room()) return false;
    workers[w]->push_command(std::move(c));
    return true;
  }

  void drain_returns() {
    for (auto& w : workers) w->drain_returns();
  }

  // Control thread: binds a new stream's sockets with fresh random SSRC,
  // sequence and timestamp.
  base::Result<std::unique_ptr<RtpSession>> new_session() {
    RtpSessionOptions o;
    o.bind_address = config.rtp_address;
    o.port_min = config.port_min;
    o.port_max = config.port_max;
    o.jitter_buffer_ms = config.jitter_buffer_ms;
    o.ssrc = static_cast<std::uint32_t>(rng());
    o.initial_sequence = static_cast<std::uint16_t>(rng());
    o.initial_timestamp = static_cast<std::uint32_t>(rng());
    o.seed = rng();
    o.cname = cname;
    return RtpSession::open(o, port_cursor);
  }

  StreamId next_id() {
    const StreamId id = next_stream++;
    if (next_stream == 0) next_stream = 1;
    return id;
  }

  MediaEngineConfig config;
  drivers::LineDriver& driver;
  std::vector<const dsp::ToneProfile*> profiles;
  // detect_caller_id(): the lines whose audio is searched for caller ID.
  std::vector<std::pair<LineId, std::pair<dsp::CallerIdFormat, bool>>> caller_id_lines;
  // cancel_echo(): the lines whose echo is cancelled, and how.
  std::vector<std::pair<LineId, std::pair<dsp::EchoCancellerKind, dsp::EchoCancellerOptions>>> echo_lines;
  base::UniqueFd event_fd;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<LineMeter[]> meters;  // one per line, written by its worker
  std::vector<std::string> echo_names;  // the canceller per line ("off")
  // set_gains(): rx and tx gain per line, dB.
  std::vector<std::pair<LineId, std::pair<double, double>>> gains;
  std::vector<int> line_worker;   // LineId -> worker
  std::vector<int> line_index;    // LineId -> index in its worker's lines
  std::vector<std::size_t> worker_streams;
  std::unordered_map<StreamId, ControlStream> streams;
  StreamId next_stream = 1;
  std::size_t port_cursor = 0;
  std::mt19937_64 rng;
  std::string cname;
  bool running = false;
};

MediaEngine::MediaEngine(const MediaEngineConfig& config, drivers::LineDriver& driver,
                         std::vector<const dsp::ToneProfile*> profiles)
    : impl_(std::make_unique<Impl>(config, driver, std::move(profiles))) {}

MediaEngine::~MediaEngine() { stop(); }

base::Result<void> MediaEngine::start() {
  Impl& m = *impl_;
  if (m.running) return {};
  if (!m.event_fd) return base::fail(MediaError::socket, "eventfd failed");
  const std::size_t n_workers = static_cast<std::size_t>(std::max(1, m.config.workers));
  const std::size_t n_lines = m.driver.port_count();
  // Relay streams: spread over the workers, two per relay.
  const auto relay_streams = static_cast<std::size_t>(
      2 * ((std::max(0, m.config.max_relays) + static_cast<int>(n_workers) - 1) / static_cast<int>(n_workers)));
  m.workers.clear();
  for (std::size_t w = 0; w < n_workers; ++w)
    m.workers.push_back(std::make_unique<Worker>(m.event_fd.get(), m.config.rtp_timeout_ms, relay_streams));
  m.line_worker.assign(n_lines, -1);
  m.meters = std::make_unique<LineMeter[]>(n_lines);
  m.echo_names.assign(n_lines, "off");
  m.line_index.assign(n_lines, -1);
  m.worker_streams.assign(n_workers, 0);
  const dsp::ToneProfile* fallback = dsp::find_tone_profile("US");
  // Lines are attached round-robin before the threads start (the thread start
  // publishes them), and stay attached for the life of the engine.
  for (std::size_t i = 0; i < n_lines; ++i) {
    const dsp::ToneProfile* profile = i < m.profiles.size() && m.profiles[i] ? m.profiles[i] : fallback;
    if (!profile) return base::fail(MediaError::no_port, "no tone profile for line " + std::to_string(i));
    const std::size_t w = i % n_workers;
    m.line_worker[i] = static_cast<int>(w);
    auto channel = std::make_unique<dsp::Channel>(*profile);
    for (const auto& [line, how] : m.caller_id_lines)
      if (line == i) channel->enable_caller_id(how.first, how.second);
    for (const auto& [line, ec] : m.echo_lines)
      if (line == i) channel->set_echo_canceller(dsp::make_echo_canceller(ec.first, ec.second));
    for (const auto& [line, g] : m.gains)
      if (line == i) channel->set_gains(g.first, g.second);
    m.echo_names[i] = std::string(channel->echo_canceller_name());
    m.workers[w]->add_line(i, m.driver.port(i), std::move(channel), m.line_index, m.meters[i]);
  }
  for (std::size_t w = 0; w < n_workers; ++w) {
    if (auto r = m.workers[w]->start(&m.line_index); !r) {
      for (std::size_t k = 0; k < w; ++k) m.workers[k]->stop();
      m.workers.clear();
      return r;
    }
  }
  m.running = true;
  return {};
}

void MediaEngine::stop() {
  Impl& m = *impl_;
  if (!m.running) return;
  for (auto& w : m.workers) w->stop();
  m.streams.clear();
  m.workers.clear();  // sessions and channels are destroyed here, on the control thread
  m.running = false;
}

base::Result<StreamInfo> MediaEngine::open_stream(LineId line) {
  Impl& m = *impl_;
  if (!m.running) return base::fail(MediaError::no_port, "media engine not started");
  if (line >= m.line_worker.size()) return base::fail(MediaError::no_port, "no such line " + std::to_string(line));
  m.drain_returns();
  const auto w = static_cast<std::size_t>(m.line_worker[line]);
  if (m.worker_streams[w] >= m.workers[w]->max_streams())
    return base::fail(MediaError::no_port, "too many open streams on the line's media worker");

  auto session = m.new_session();
  if (!session) return base::fail(session.error());

  const StreamId id = m.next_id();
  StreamInfo info{id, (*session)->local_port()};
  Impl::ControlStream cs{line, w, session->get(), (*session)->family(), std::nullopt};
  Command c;
  c.type = Command::Type::open_stream;
  c.line = line;
  c.stream = id;
  c.session = std::move(*session);
  if (!m.post(w, std::move(c))) return base::fail(MediaError::socket, "media worker not responding");
  m.streams.emplace(id, cs);
  ++m.worker_streams[w];
  return info;
}

base::Result<std::pair<StreamInfo, StreamInfo>> MediaEngine::open_relay() {
  Impl& m = *impl_;
  if (!m.running) return base::fail(MediaError::no_port, "media engine not started");
  m.drain_returns();
  // The worker with the most free stream slots.
  std::size_t w = 0;
  for (std::size_t k = 1; k < m.workers.size(); ++k) {
    if (m.workers[k]->max_streams() - m.worker_streams[k] > m.workers[w]->max_streams() - m.worker_streams[w]) w = k;
  }
  if (m.worker_streams[w] + 2 > m.workers[w]->max_streams())
    return base::fail(MediaError::no_port, "too many relayed calls (media.max_relays)");
  auto a = m.new_session();
  if (!a) return base::fail(a.error());
  auto b = m.new_session();
  if (!b) return base::fail(b.error());
  // DTMF in a relay is not country specific: any profile's generator and
  // detector will do.
  const dsp::ToneProfile* profile = dsp::find_tone_profile("US");
  if (!profile) return base::fail(MediaError::no_port, "no tone profile for relays");

  const StreamInfo info_a{m.next_id(), (*a)->local_port()};
  const StreamInfo info_b{m.next_id(), (*b)->local_port()};
  const Impl::ControlStream cs_a{kNoLine, w, a->get(), (*a)->family(), std::nullopt};
  const Impl::ControlStream cs_b{kNoLine, w, b->get(), (*b)->family(), std::nullopt};
  Command c;
  c.type = Command::Type::open_relay;
  c.line = kNoLine;
  c.stream = info_a.id;
  c.stream2 = info_b.id;
  c.session = std::move(*a);
  c.session2 = std::move(*b);
  c.channel = std::make_unique<dsp::Channel>(*profile);
  c.channel2 = std::make_unique<dsp::Channel>(*profile);
  if (!m.post(w, std::move(c))) return base::fail(MediaError::socket, "media worker not responding");
  m.streams.emplace(info_a.id, cs_a);
  m.streams.emplace(info_b.id, cs_b);
  m.worker_streams[w] += 2;
  return std::pair{info_a, info_b};
}

base::Result<void> MediaEngine::connect(StreamId stream, const StreamParams& params) {
  Impl& m = *impl_;
  auto it = m.streams.find(stream);
  if (it == m.streams.end()) return base::fail(MediaError::unknown_stream, "unknown stream " + std::to_string(stream));
  auto resolved = resolve_stream_params(params, it->second.family);
  if (!resolved) return base::fail(resolved.error());
  Command c;
  c.type = Command::Type::connect;
  c.line = it->second.line;
  c.stream = stream;
  c.params = *resolved;
  // A new SRTP context only when the keys change (a re-key), so that the
  // answer after early media keeps the replay window and rollover counter.
  if (params.srtp != it->second.srtp) {
    if (params.srtp) {
      auto ctx = SrtpContext::create(*params.srtp, it->second.session->ssrc());
      if (!ctx) return base::fail(MediaError::bad_address, "SRTP: " + ctx.error().message());
      c.srtp = std::move(*ctx);
    }
    c.srtp_change = true;
  }
  if (!m.post(it->second.worker, std::move(c))) return base::fail(MediaError::socket, "media worker not responding");
  it->second.srtp = params.srtp;
  return {};
}

void MediaEngine::close_stream(StreamId stream) {
  Impl& m = *impl_;
  auto it = m.streams.find(stream);
  if (it == m.streams.end()) return;
  Command c;
  c.type = Command::Type::close_stream;
  c.line = it->second.line;
  c.stream = stream;
  const std::size_t w = it->second.worker;
  m.streams.erase(it);
  --m.worker_streams[w];
  m.post(w, std::move(c));
  m.drain_returns();
}

void MediaEngine::dial_line(LineId line, const std::string& digits) {
  Impl& m = *impl_;
  if (!m.running || line >= m.line_worker.size()) return;
  Command c;
  c.type = Command::Type::dial;
  c.line = line;
  c.digit_count = std::min(digits.size(), c.digits.size());
  std::copy_n(digits.begin(), c.digit_count, c.digits.begin());
  m.post(static_cast<std::size_t>(m.line_worker[line]), std::move(c));
}

void MediaEngine::detect_caller_id(LineId line, dsp::CallerIdFormat format, bool automatic) {
  impl_->caller_id_lines.push_back({line, {format, automatic}});
}

void MediaEngine::cancel_echo(LineId line, dsp::EchoCancellerKind kind, const dsp::EchoCancellerOptions& options) {
  impl_->echo_lines.push_back({line, {kind, options}});
}

void MediaEngine::set_gains(LineId line, double rx_db, double tx_db) { impl_->gains.push_back({line, {rx_db, tx_db}}); }

LineLevels MediaEngine::line_levels(LineId line) const {
  const Impl& m = *impl_;
  if (!m.meters || line >= m.echo_names.size()) return {};
  const LineMeter& meter = m.meters[line];
  return {.tx_dbm0 = meter.tx_dbm0.load(std::memory_order_relaxed),
          .rx_dbm0 = meter.rx_dbm0.load(std::memory_order_relaxed),
          .echo_canceller = m.echo_names[line],
          .echo_bypassed = meter.echo_bypassed.load(std::memory_order_relaxed)};
}

// Realtime: copies within the fixed arrays, no allocation.
CallerIdText CallerIdText::from(const dsp::CallerIdMessage& m) {
  CallerIdText t;
  t.format = m.format;
  t.number_size = static_cast<std::uint8_t>(std::min(m.id.number.size(), t.number.size()));
  std::copy_n(m.id.number.begin(), t.number_size, t.number.begin());
  t.name_size = static_cast<std::uint8_t>(std::min(m.id.name.size(), t.name.size()));
  std::copy_n(m.id.name.begin(), t.name_size, t.name.begin());
  t.number_absence = m.id.number_absence;
  t.name_absence = m.id.name_absence;
  t.month = static_cast<std::int8_t>(m.id.month);
  t.day = static_cast<std::int8_t>(m.id.day);
  t.hour = static_cast<std::int8_t>(m.id.hour);
  t.minute = static_cast<std::int8_t>(m.id.minute);
  return t;
}

dsp::CallerIdMessage CallerIdText::message() const {
  dsp::CallerIdMessage m;
  m.format = format;
  m.id.number.assign(number.data(), number_size);
  m.id.name.assign(name.data(), name_size);
  m.id.number_absence = number_absence;
  m.id.name_absence = name_absence;
  m.id.month = month;
  m.id.day = day;
  m.id.hour = hour;
  m.id.minute = minute;
  return m;
}

void MediaEngine::play_tone(LineId line, dsp::ToneKind kind) {
  Impl& m = *impl_;
  if (!m.running || line >= m.line_worker.size()) return;
  Command c;
  c.type = Command::Type::play_tone;
  c.line = line;
  c.tone = kind;
  m.post(static_cast<std::size_t>(m.line_worker[line]), std::move(c));
}

void MediaEngine::play_signal(LineId line, std::vector<int16_t> samples) {
  Impl& m = *impl_;
  if (!m.running || line >= m.line_worker.size()) return;
  Command c;
  c.type = Command::Type::play_signal;
  c.line = line;
  c.signal = std::make_unique<std::vector<int16_t>>(std::move(samples));
  m.post(static_cast<std::size_t>(m.line_worker[line]), std::move(c));
  m.drain_returns();
}

StreamStats MediaEngine::stats(StreamId stream) const {
  const Impl& m = *impl_;
  auto it = m.streams.find(stream);
  if (it == m.streams.end()) return {};
  return it->second.session->published_stats();
}

int MediaEngine::event_fd() const { return impl_->event_fd.get(); }

void MediaEngine::drain_events(const std::function<void(const MediaEvent&)>& handler) {
  Impl& m = *impl_;
  std::uint64_t count = 0;
  (void)!::read(m.event_fd.get(), &count, sizeof count);  // clear first: no lost wake-up
  // Indexed loops: the handler may call back into the engine (even stop()).
  for (std::size_t i = 0; i < m.workers.size(); ++i) {
    while (i < m.workers.size()) {
      auto ev = m.workers[i]->events().pop();
      if (!ev) break;
      handler(*ev);
    }
  }
  m.drain_returns();
}

}  // namespace sipline::gateway::media
