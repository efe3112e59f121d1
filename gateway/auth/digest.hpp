#pragma once
// Server-side HTTP Digest authentication for SIP (RFC 3261 §22.4).
//
// What it does
//  - Builds the challenge header values for a 401 (WWW-Authenticate) or a
//    407 (Proxy-Authenticate): realm, nonce, opaque, algorithm, qop="auth",
//    and stale=true when asked. When several algorithms are enabled there is
//    one challenge per algorithm, in the configured order; the default order
//    is SHA-256 then MD5 (RFC 7616 §3.7, RFC 8760 §2.4: most preferred first).
//  - Parses an Authorization / Proxy-Authorization header value (the text
//    after the header name and colon): `Digest name=value, ...` with token or
//    quoted-string values (backslash escapes), any order, case-insensitive
//    names. Duplicated parameters, bad syntax, control characters and values
//    over the length limits are a `malformed` error, never a crash.
//  - Verifies a response: RFC 2617 MD5 / MD5-sess and RFC 7616 SHA-256 /
//    SHA-256-sess with qop=auth. RFC 2069 responses (no qop) only when
//    DigestConfig::allow_rfc2069 is set. qop=auth-int and userhash are refused.
//
// How nonces work
//   nonce = base64url(timestamp(8, ms of the Clock) || random(12, getrandom)
//                     || HMAC-SHA256(secret, timestamp || random || realm)[0..16))
//   The server secret (32 bytes) comes from getrandom() when the
//   DigestAuthenticator is created, so nonces need no table to be verified,
//   and nonces issued before a restart no longer verify. A nonce is valid for
//   DigestConfig::nonce_lifetime (default 300 s) after it was issued.
//   RFC 7616 §3.3: when the nonce is expired or not ours but the response is
//   right for it, the result is `stale_nonce` (answer with stale=true: the UA
//   retries with the new nonce without asking its user).
//   Replay: a bounded table remembers, per nonce, the highest nonce-count
//   (nc) that was accepted. A request whose nc is not above it is `replay`.
//   Entries leave the table when their nonce expires; when the table is full
//   of live nonces the oldest is evicted and every nonce issued up to that one
//   is treated as stale from then on (never accepted twice).
//   An RFC 2069 response (no nc) may use its nonce once.
//   opaque is derived from the realm alone (it carries no state); a UA that
//   omits it is tolerated, a different one is a bad_response.
//
// Errors (DigestError, via base::Result):
//   malformed             unparsable header, missing username/realm/nonce/uri/
//                         response, qop other than auth, bad nc/cnonce (-> 400)
//   unknown_user          the lookup knows no such user (a dummy digest is
//                         computed anyway so that timing does not tell)
//   bad_response          wrong password / response, wrong realm or opaque
//   stale_nonce           the response is right but the nonce expired (or was
//                         issued by an earlier process)
//   replay                nc not above the highest one accepted for this nonce
//   algorithm_not_allowed an algorithm that is not enabled or not known,
//                         userhash, or no qop while allow_rfc2069 is off
// To keep scanners from telling existing users from others, the caller
// answers unknown_user and bad_response alike (a fresh 401/407).
//
// Credentials: the caller's CredentialLookup returns, for (username, realm,
// base hash), either the plaintext password or the precomputed
// HA1 = H(username ":" realm ":" password) as lowercase or uppercase hex,
// H being MD5 or SHA-256 (the -sess variants use the same stored HA1).
// compute_ha1() computes it for a user store.
//
// Limits: header value <= 4096 bytes, each parameter value <= 1024 bytes,
// at most 32 parameters. Request-URI and digest-uri are not compared (SIP
// URI equality is the SIP layer's business); only presence is checked.
// Thread: control. A DigestAuthenticator is used by one thread.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/clock.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::auth {

enum class DigestError {
  malformed = 1,
  unknown_user,
  bad_response,
  stale_nonce,
  replay,
  algorithm_not_allowed,
  config,  // DigestAuthenticator::create only: bad DigestConfig or no randomness
};

enum class DigestAlgorithm { md5, md5_sess, sha256, sha256_sess };

// "MD5", "MD5-sess", "SHA-256", "SHA-256-sess" (RFC 7616 §6.1 names).
std::string_view algorithm_name(DigestAlgorithm algorithm);
// Case-insensitive inverse of algorithm_name().
std::optional<DigestAlgorithm> parse_algorithm(std::string_view name);
// The hash a stored HA1 is made with: md5 for MD5 and MD5-sess, sha256 for the others.
DigestAlgorithm base_hash(DigestAlgorithm algorithm);

// HA1 = H(username:realm:password) as lowercase hex (32 chars for MD5, 64 for SHA-256).
std::string compute_ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                        std::string_view password);

// The parameters of one Authorization header (RFC 2617 §3.2.2, RFC 7616 §3.4).
// Absent parameters are nullopt; values are unquoted and unescaped.
struct DigestCredentials {
  std::optional<std::string> username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc,
      userhash;
};

// Parses "Digest username=\"alice\", realm=..." (the scheme is case-insensitive).
// Unknown parameters are skipped. Error code: DigestError::malformed.
base::Result<DigestCredentials> parse_authorization(std::string_view header_value);
// The inverse (client side; tests and tools): every present parameter, values
// quoted except algorithm, qop and nc.
std::string format_authorization(const DigestCredentials& credentials);

struct ResponseInput {
  DigestAlgorithm algorithm = DigestAlgorithm::md5;
  std::string_view ha1;  // hex HA1 of base_hash(algorithm), see compute_ha1()
  std::string_view nonce, cnonce, nc, qop;  // qop empty: RFC 2069 form
  std::string_view method, uri;
};
// The request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1) as lowercase hex.
std::string compute_response(const ResponseInput& in);

struct DigestConfig {
  std::string realm;
  // Offered and accepted algorithms, most preferred first (one challenge each).
  std::vector<DigestAlgorithm> algorithms = {DigestAlgorithm::sha256, DigestAlgorithm::md5};
  bool allow_rfc2069 = false;  // accept responses without qop (RFC 2069)
  std::chrono::seconds nonce_lifetime{300};
  std::size_t replay_table_size = 8192;  // nonces remembered for nc checks
};

// Either the plaintext password or HA1 for base_hash(algorithm) in hex.
struct StoredCredential {
  enum class Kind { password, ha1 };
  Kind kind = Kind::password;
  std::string value;
};
// (username, realm, base hash: DigestAlgorithm::md5 or ::sha256) -> credential,
// nullopt when there is no such user (or no secret usable with that hash).
using CredentialLookup =
    std::function<std::optional<StoredCredential>(std::string_view username, std::string_view realm,
                                                  DigestAlgorithm hash)>;

struct AuthenticatedUser {
  std::string username;
  DigestAlgorithm algorithm = DigestAlgorithm::md5;
};

class DigestAuthenticator {
 public:
  // Validates config (non-empty realm without control characters, at least one
  // algorithm, no duplicates, lifetime > 0, table size > 0) and draws the
  // secret from getrandom(). Error code: DigestError::config.
  // The clock must outlive the authenticator.
  static base::Result<DigestAuthenticator> create(DigestConfig config, const base::Clock& clock);

  DigestAuthenticator(DigestAuthenticator&&) noexcept;
  DigestAuthenticator& operator=(DigestAuthenticator&&) noexcept;
  ~DigestAuthenticator();

  // Header values for WWW-Authenticate (401) or Proxy-Authenticate (407), one
  // per enabled algorithm, sharing one fresh nonce. Add each as its own header.
  std::vector<std::string> challenges(bool stale = false);

  // Checks an Authorization / Proxy-Authorization header value sent with a
  // request of `method` ("REGISTER", "INVITE"). On success the nonce's nc is
  // recorded, so the same header is a replay the second time.
  base::Result<AuthenticatedUser> verify(std::string_view method, std::string_view authorization,
                                         const CredentialLookup& lookup);

  const DigestConfig& config() const;
  // Nonces currently remembered for replay checks (for status output and tests).
  std::size_t replay_table_entries() const;

 private:
  struct State;
  explicit DigestAuthenticator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sipline::gateway::auth
