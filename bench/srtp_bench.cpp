// SRTP cost per 20 ms G.711 packet (172 bytes of RTP: 12 header + 160
// payload), protect on one side and unprotect on the other, as sipline's
// media path does it and as libsrtp2 does it when called directly: the
// difference is what sipline's wrapper adds. A third pair measures the whole
// media path per packet over loopback UDP (RtpSession::send_frame: G.711
// encode, header, protect, sendto; then receive: recvmsg, unprotect, parse,
// jitter buffer), with SRTP and in the clear, so the SRTP share of a
// stream's cost is read from one run.
#include <srtp2/srtp.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

#include <benchmark/benchmark.h>

#include "media/rtp_packet.hpp"
#include "media/rtp_session.hpp"
#include "media/srtp.hpp"
#include "sipline/base/audio_frame.hpp"

namespace {

using namespace sipline::gateway::media;

constexpr std::size_t kRtp = 172;

std::array<std::uint8_t, kRtp + kSrtpMaxOverhead> packet(std::uint16_t seq, std::uint32_t ssrc) {
  std::array<std::uint8_t, kRtp + kSrtpMaxOverhead> p{};
  RtpHeader h;
  h.sequence = seq;
  h.timestamp = 160u * seq;
  h.ssrc = ssrc;
  std::array<std::uint8_t, 160> payload;
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  (void)write_rtp(h, payload, p);
  return p;
}

// libsrtp2 called directly: one session per side, AES_CM_128_HMAC_SHA1_80.
// libsrtp's srtp_init() may run once per process, and sipline's SrtpContext
// owns that call: a throwaway context initialises the library here.
void BM_Libsrtp2ProtectUnprotect(benchmark::State& state) {
  const std::string k = make_srtp_key(SrtpSuite::aes_cm_128_hmac_sha1_80);
  if (!SrtpContext::create({SrtpSuite::aes_cm_128_hmac_sha1_80, k, k}, 1)) {
    state.SkipWithError("libsrtp2 did not initialise");
    return;
  }
  std::string key = make_srtp_key(SrtpSuite::aes_cm_128_hmac_sha1_80);
  srtp_policy_t tx{}, rx{};
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&tx.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&tx.rtcp);
  tx.ssrc.type = ssrc_specific;
  tx.ssrc.value = 0x1234;
  tx.key = reinterpret_cast<unsigned char*>(key.data());
  tx.window_size = 1024;
  rx = tx;
  rx.ssrc.type = ssrc_any_inbound;
  srtp_t sender = nullptr, receiver = nullptr;
  if (srtp_create(&sender, &tx) != srtp_err_status_ok || srtp_create(&receiver, &rx) != srtp_err_status_ok) {
    state.SkipWithError("srtp_create failed");
    return;
  }
  std::uint16_t seq = 0;
  for (auto _ : state) {
    auto p = packet(seq++, 0x1234);
    int len = kRtp;
    if (srtp_protect(sender, p.data(), &len) != srtp_err_status_ok) state.SkipWithError("protect");
    if (srtp_unprotect(receiver, p.data(), &len) != srtp_err_status_ok) state.SkipWithError("unprotect");
    benchmark::DoNotOptimize(p);
  }
  srtp_dealloc(sender);
  srtp_dealloc(receiver);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Libsrtp2ProtectUnprotect);

// The same through SrtpContext, for each suite (arg: 0 = _80, 1 = _32, 2 = GCM).
void BM_SiplineSrtpProtectUnprotect(benchmark::State& state) {
  const auto suite = static_cast<SrtpSuite>(state.range(0));
  const std::string ka = make_srtp_key(suite), kb = make_srtp_key(suite);
  auto a = SrtpContext::create({suite, ka, kb}, 0x1234);
  auto b = SrtpContext::create({suite, kb, ka}, 0x5678);
  if (!a || !b) {
    state.SkipWithError("SrtpContext::create failed");
    return;
  }
  std::uint16_t seq = 0;
  for (auto _ : state) {
    auto p = packet(seq++, 0x1234);
    std::size_t len = kRtp;
    if (!(*a)->protect_rtp(p, len)) state.SkipWithError("protect");
    if (!(*b)->unprotect_rtp(p, len)) state.SkipWithError("unprotect");
    benchmark::DoNotOptimize(p);
  }
  state.SetLabel(std::string(srtp_suite_name(suite)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SiplineSrtpProtectUnprotect)->Arg(0)->Arg(1)->Arg(2);

struct NullListener final : RtpSessionListener {
  void on_first_packet() noexcept override {}
  void on_remote_dtmf_begin(char) noexcept override {}
  void on_remote_dtmf_end(char, int, bool) noexcept override {}
};

// One packet through two RtpSessions over 127.0.0.1 (arg: 1 = SRTP, 0 = plain).
void BM_RtpSessionSendReceive(benchmark::State& state) {
  const bool srtp = state.range(0) != 0;
  RtpSessionOptions o;
  o.port_min = 43000;
  o.port_max = 43999;
  std::size_t cursor = 0;
  o.ssrc = 0x1111;
  auto a = RtpSession::open(o, cursor);
  o.ssrc = 0x2222;
  auto b = RtpSession::open(o, cursor);
  if (!a || !b) {
    state.SkipWithError("cannot open RTP sessions on 127.0.0.1");
    return;
  }
  StreamParams to_b, to_a;
  to_b.remote_address = to_a.remote_address = "127.0.0.1";
  to_b.remote_port = (*b)->local_port();
  to_a.remote_port = (*a)->local_port();
  if (srtp) {
    const std::string ka = make_srtp_key(SrtpSuite::aes_cm_128_hmac_sha1_80);
    const std::string kb = make_srtp_key(SrtpSuite::aes_cm_128_hmac_sha1_80);
    to_b.srtp = SrtpKeys{SrtpSuite::aes_cm_128_hmac_sha1_80, ka, kb};
    to_a.srtp = SrtpKeys{SrtpSuite::aes_cm_128_hmac_sha1_80, kb, ka};
    auto ca = SrtpContext::create(*to_b.srtp, (*a)->ssrc());
    auto cb = SrtpContext::create(*to_a.srtp, (*b)->ssrc());
    if (!ca || !cb) {
      state.SkipWithError("SrtpContext::create failed");
      return;
    }
    (*a)->swap_srtp(std::move(*ca));
    (*b)->swap_srtp(std::move(*cb));
  }
  const auto now = std::chrono::steady_clock::now();
  (*a)->connect(*resolve_stream_params(to_b, AF_INET), now);
  (*b)->connect(*resolve_stream_params(to_a, AF_INET), now);
  sipline::base::AudioFrame frame{};
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::int16_t>((i * 397) % 16000 - 8000);
  NullListener listener;
  sipline::base::AudioFrame out{};
  for (auto _ : state) {
    (*a)->send_frame(frame);
    (*b)->receive(now, listener);  // loopback delivers before sendto returns
    benchmark::DoNotOptimize((*b)->playout(out));
  }
  (*b)->publish_stats();
  const auto stats = (*b)->published_stats();
  state.counters["received"] = static_cast<double>(stats.packets_received);
  state.counters["srtp_failures"] = static_cast<double>(stats.srtp_failures);
  state.SetLabel(srtp ? "SRTP AES_CM_128_HMAC_SHA1_80" : "plain RTP");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpSessionSendReceive)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
