#include "media/srtp.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <climits>
#include <mutex>

#include <srtp2/srtp.h>

namespace sipline::gateway::media {

namespace {

struct SuiteInfo {
  SrtpSuite suite;
  std::string_view name;
  std::size_t key_length;
};

constexpr std::array<SuiteInfo, 3> kSuites{{
    {SrtpSuite::aes_cm_128_hmac_sha1_80, "AES_CM_128_HMAC_SHA1_80", 30},
    {SrtpSuite::aes_cm_128_hmac_sha1_32, "AES_CM_128_HMAC_SHA1_32", 30},
    {SrtpSuite::aead_aes_128_gcm, "AEAD_AES_128_GCM", 28},
}};

constexpr std::array<std::string_view, 3> kPolicies{"off", "optional", "mandatory"};

// libsrtp's global state (its crypto kernel) is set up once per process.
srtp_err_status_t init_library() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  return status;
}

void set_crypto(SrtpSuite suite, srtp_crypto_policy_t& rtp, srtp_crypto_policy_t& rtcp) {
  switch (suite) {
    case SrtpSuite::aes_cm_128_hmac_sha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);
      return;
    case SrtpSuite::aes_cm_128_hmac_sha1_32:
      // RFC 4568 §6.2.1: SRTCP keeps the 80-bit tag.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);
      return;
    case SrtpSuite::aead_aes_128_gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtcp);
      return;
  }
}

// Runs one libsrtp packet operation on a span: int lengths, capacity checked.
template <typename Op>
bool run(Op op, srtp_t ctx, std::span<std::uint8_t> packet, std::size_t& length, bool grows) noexcept {
  if (length > packet.size() || length > INT_MAX / 2) return false;
  if (grows && packet.size() - length < kSrtpMaxOverhead) return false;
  int len = static_cast<int>(length);
  if (op(ctx, packet.data(), &len) != srtp_err_status_ok || len < 0) return false;
  length = static_cast<std::size_t>(len);
  return true;
}

}  // namespace

struct SrtpContext::Session {
  srtp_t ctx = nullptr;
  ~Session() {
    if (ctx != nullptr) srtp_dealloc(ctx);
  }
};

std::string_view srtp_suite_name(SrtpSuite suite) {
  for (const auto& s : kSuites) {
    if (s.suite == suite) return s.name;
  }
  return "?";
}

std::optional<SrtpSuite> srtp_suite_from_name(std::string_view name) {
  for (const auto& s : kSuites) {
    if (s.name == name) return s.suite;
  }
  return std::nullopt;
}

std::size_t srtp_key_length(SrtpSuite suite) {
  for (const auto& s : kSuites) {
    if (s.suite == suite) return s.key_length;
  }
  return 0;
}

std::string_view srtp_policy_name(SrtpPolicy policy) { return kPolicies[static_cast<std::size_t>(policy)]; }

std::optional<SrtpPolicy> srtp_policy_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kPolicies.size(); ++i) {
    if (kPolicies[i] == name) return static_cast<SrtpPolicy>(i);
  }
  return std::nullopt;
}

std::string make_srtp_key(SrtpSuite suite) {
  std::string key(srtp_key_length(suite), '\0');
  std::size_t filled = 0;
  while (filled < key.size()) {
    const ssize_t n = getrandom(key.data() + filled, key.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no entropy: never send a predictable key
    }
    filled += static_cast<std::size_t>(n);
  }
  return key;
}

SrtpContext::SrtpContext(std::unique_ptr<Session> session, SrtpSuite suite)
    : session_(std::move(session)), suite_(suite) {}

SrtpContext::~SrtpContext() = default;

base::Result<std::unique_ptr<SrtpContext>> SrtpContext::create(const SrtpKeys& keys, std::uint32_t local_ssrc) {
  if (init_library() != srtp_err_status_ok) return base::fail(SrtpError::init, "libsrtp2 failed to initialise");
  const std::size_t need = srtp_key_length(keys.suite);
  if (keys.local_key.size() != need || keys.remote_key.size() != need) {
    return base::fail(SrtpError::bad_key, "SRTP key of the wrong length for " +
                                              std::string(srtp_suite_name(keys.suite)));
  }
  // libsrtp keeps its own copy of the keys; these buffers only live for srtp_create.
  std::string local = keys.local_key;
  std::string remote = keys.remote_key;

  srtp_policy_t outbound{};
  set_crypto(keys.suite, outbound.rtp, outbound.rtcp);
  outbound.ssrc.type = ssrc_specific;
  outbound.ssrc.value = local_ssrc;
  outbound.key = reinterpret_cast<unsigned char*>(local.data());
  outbound.window_size = 1024;

  srtp_policy_t inbound{};
  set_crypto(keys.suite, inbound.rtp, inbound.rtcp);
  inbound.ssrc.type = ssrc_any_inbound;
  inbound.key = reinterpret_cast<unsigned char*>(remote.data());
  inbound.window_size = 1024;
  outbound.next = &inbound;

  auto session = std::make_unique<Session>();
  const srtp_err_status_t status = srtp_create(&session->ctx, &outbound);
  if (status != srtp_err_status_ok) {
    session->ctx = nullptr;
    return base::fail(SrtpError::init, "srtp_create failed (" + std::to_string(static_cast<int>(status)) + ")");
  }
  return std::unique_ptr<SrtpContext>(new SrtpContext(std::move(session), keys.suite));
}

bool SrtpContext::protect_rtp(std::span<std::uint8_t> packet, std::size_t& length) noexcept {
  return run(srtp_protect, session_->ctx, packet, length, true);
}

bool SrtpContext::protect_rtcp(std::span<std::uint8_t> packet, std::size_t& length) noexcept {
  return run(srtp_protect_rtcp, session_->ctx, packet, length, true);
}

bool SrtpContext::unprotect_rtp(std::span<std::uint8_t> packet, std::size_t& length) noexcept {
  return run(srtp_unprotect, session_->ctx, packet, length, false);
}

bool SrtpContext::unprotect_rtcp(std::span<std::uint8_t> packet, std::size_t& length) noexcept {
  return run(srtp_unprotect_rtcp, session_->ctx, packet, length, false);
}

}  // namespace sipline::gateway::media
