#pragma once
// SRTP and SRTCP (RFC 3711) for one RTP stream, with libsrtp2, keyed by SDES
// (RFC 4568): each side picks its own master key and salt and sends it in its
// a=crypto line; we protect what we send with ours and unprotect what we
// receive with the peer's.
//
// Suites: AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568 §6.2; SRTCP keeps the
// 80-bit tag with _32, RFC 5764 §4.1.2), and AEAD_AES_128_GCM (RFC 7714,
// 16-byte tag). The policy decides what offers and answers carry:
//   off        no crypto; an RTP/SAVP offer is refused (488)
//   optional   offers are RTP/AVP with a=crypto lines (best effort); an offer
//              with usable crypto is answered with SRTP, one without in the clear
//   mandatory  offers are RTP/SAVP; an offer or answer without usable crypto
//              is refused (488)
//
// SrtpContext is created on the control thread (libsrtp allocates there) and
// used by one media worker. protect/unprotect allocate nothing, except that
// libsrtp clones its inbound template once for each new remote SSRC (the
// first packet of a stream). A packet that fails authentication or replay
// checks is dropped by the caller.
// Thread: create and destroy on control; the rest on one worker (Realtime).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/result.hpp"

namespace sipline::gateway::media {

enum class SrtpSuite { aes_cm_128_hmac_sha1_80, aes_cm_128_hmac_sha1_32, aead_aes_128_gcm };
enum class SrtpPolicy { off, optional, mandatory };
enum class SrtpError { init, bad_key };

// The RFC 4568 / RFC 7714 name ("AES_CM_128_HMAC_SHA1_80").
std::string_view srtp_suite_name(SrtpSuite suite);
std::optional<SrtpSuite> srtp_suite_from_name(std::string_view name);
// Master key plus master salt, in bytes: 30 for AES-CM, 28 for AES-GCM.
std::size_t srtp_key_length(SrtpSuite suite);
std::string_view srtp_policy_name(SrtpPolicy policy);
std::optional<SrtpPolicy> srtp_policy_from_name(std::string_view name);

// Room an SRTP or SRTCP packet needs beyond its plaintext (tag, SRTCP index).
inline constexpr std::size_t kSrtpMaxOverhead = 148;

// What one offer/answer agreed: raw key material (master key || salt).
struct SrtpKeys {
  SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
  std::string local_key;   // protects what we send (our a=crypto)
  std::string remote_key;  // unprotects what we receive (the peer's a=crypto)
  bool operator==(const SrtpKeys&) const = default;
};

// A fresh random master key and salt for `suite` (getrandom).
std::string make_srtp_key(SrtpSuite suite);

class SrtpContext {
 public:
  // Keys of the wrong length give bad_key. `local_ssrc` is the SSRC we send with.
  // The first call initialises libsrtp2 (srtp_init, which may run only once
  // per process: nothing else in sipline may call it).
  static base::Result<std::unique_ptr<SrtpContext>> create(const SrtpKeys& keys, std::uint32_t local_ssrc);
  ~SrtpContext();
  SrtpContext(const SrtpContext&) = delete;
  SrtpContext& operator=(const SrtpContext&) = delete;

  // Realtime. `packet` holds `length` plaintext bytes and has room for
  // length + kSrtpMaxOverhead; on success `length` is the protected length.
  bool protect_rtp(std::span<std::uint8_t> packet, std::size_t& length) noexcept;
  bool protect_rtcp(std::span<std::uint8_t> packet, std::size_t& length) noexcept;
  // Realtime. On success `length` is the plaintext length; false: drop it.
  bool unprotect_rtp(std::span<std::uint8_t> packet, std::size_t& length) noexcept;
  bool unprotect_rtcp(std::span<std::uint8_t> packet, std::size_t& length) noexcept;

  SrtpSuite suite() const { return suite_; }

 private:
  struct Session;
  SrtpContext(std::unique_ptr<Session> session, SrtpSuite suite);
  std::unique_ptr<Session> session_;
  SrtpSuite suite_;
};

}  // namespace sipline::gateway::media
