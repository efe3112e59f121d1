// libFuzzer target for the Authorization / Proxy-Authorization header parser
// and the digest verifier (gateway/auth/digest.hpp). Checks, besides memory
// safety:
//  - a header that parses, formatted again (when it fits the length limit and
//    has a known parameter),
//    parses to the same parameters;
//  - verify() of the input gives a typed DigestError and never succeeds (the
//    fuzzer cannot know a fresh nonce of this process).
// Build (clang): see tests/fuzz/CMakeLists.txt (target fuzz_digest_header).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "auth/digest.hpp"

namespace {

using namespace sipline::gateway::auth;

class FixedClock final : public sipline::base::Clock {
 public:
  sipline::base::TimePoint now() const override { return sipline::base::TimePoint(std::chrono::hours(1)); }
};

bool same(const DigestCredentials& a, const DigestCredentials& b) {
  return a.username == b.username && a.realm == b.realm && a.nonce == b.nonce && a.uri == b.uri &&
         a.response == b.response && a.algorithm == b.algorithm && a.cnonce == b.cnonce && a.opaque == b.opaque &&
         a.qop == b.qop && a.nc == b.nc && a.userhash == b.userhash;
}

DigestAuthenticator& authenticator() {
  static FixedClock clock;
  static DigestAuthenticator a = std::move(*DigestAuthenticator::create(
      {.realm = "gw.example",
       .algorithms = {DigestAlgorithm::sha256, DigestAlgorithm::md5, DigestAlgorithm::sha256_sess,
                      DigestAlgorithm::md5_sess},
       .allow_rfc2069 = true},
      clock));
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_authorization(text);
  if (parsed) {
    const std::string printed = format_authorization(*parsed);
    if (printed != "Digest" && printed.size() <= 4096) {  // "Digest": only unknown parameters
      auto again = parse_authorization(printed);
      if (!again || !same(*parsed, *again)) std::abort();
    }
  } else if (!parsed.error().is(DigestError::malformed)) {
    std::abort();
  }

  CredentialLookup lookup = [](std::string_view user, std::string_view, DigestAlgorithm hash)
      -> std::optional<StoredCredential> {
    if (user.empty() || user[0] == 'x') return std::nullopt;
    if (user[0] == 'h') return StoredCredential{StoredCredential::Kind::ha1, compute_ha1(hash, user, "gw.example", "pw")};
    return StoredCredential{StoredCredential::Kind::password, "pw"};
  };
  auto verified = authenticator().verify("REGISTER", text, lookup);
  if (verified) std::abort();
  if (verified.error().code() < static_cast<int>(DigestError::malformed) ||
      verified.error().code() > static_cast<int>(DigestError::algorithm_not_allowed)) {
    std::abort();
  }
  return 0;
}
