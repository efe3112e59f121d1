// DigestAuthenticator: challenges, stateless nonces, response verification
// and the nonce-count replay table (see digest.hpp).
#include "auth/digest.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <utility>

#include "auth/digest_crypto.hpp"
#include "auth/quoted_string.hpp"
#include "sipline/base/base64.hpp"

namespace sipline::gateway::auth {
namespace {

using detail::append_quoted;

constexpr std::size_t kTimestampBytes = 8;
constexpr std::size_t kRandomBytes = 12;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kNonceBytes = kTimestampBytes + kRandomBytes + kMacBytes;
constexpr std::size_t kSecretBytes = 32;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::size_t hex_length(DigestAlgorithm algorithm) { return base_hash(algorithm) == DigestAlgorithm::md5 ? 32 : 64; }

std::uint64_t clock_ms(const base::Clock& clock) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto p : parts) {
    if (!first) out.push_back(':');
    first = false;
    out += p;
  }
  return out;
}



}  // namespace

std::string_view algorithm_name(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::md5: return "MD5";
    case DigestAlgorithm::md5_sess: return "MD5-sess";
    case DigestAlgorithm::sha256: return "SHA-256";
    case DigestAlgorithm::sha256_sess: return "SHA-256-sess";
  }
  return "MD5";
}

std::optional<DigestAlgorithm> parse_algorithm(std::string_view name) {
  for (auto a : {DigestAlgorithm::md5, DigestAlgorithm::md5_sess, DigestAlgorithm::sha256,
                 DigestAlgorithm::sha256_sess}) {
    if (iequals(name, algorithm_name(a))) return a;
  }
  return std::nullopt;
}

DigestAlgorithm base_hash(DigestAlgorithm algorithm) {
  return (algorithm == DigestAlgorithm::md5 || algorithm == DigestAlgorithm::md5_sess) ? DigestAlgorithm::md5
                                                                                      : DigestAlgorithm::sha256;
}

std::string compute_ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                        std::string_view password) {
  return detail::hex_hash(algorithm, join({username, realm, password}));
}

std::string compute_response(const ResponseInput& in) {
  std::string ha1 = to_lower(in.ha1);
  if (in.algorithm == DigestAlgorithm::md5_sess || in.algorithm == DigestAlgorithm::sha256_sess) {
    ha1 = detail::hex_hash(in.algorithm, join({ha1, in.nonce, in.cnonce}));
  }
  const std::string ha2 = detail::hex_hash(in.algorithm, join({in.method, in.uri}));
  if (in.qop.empty()) return detail::hex_hash(in.algorithm, join({ha1, in.nonce, ha2}));
  return detail::hex_hash(in.algorithm, join({ha1, in.nonce, in.nc, in.cnonce, in.qop, ha2}));
}

struct DigestAuthenticator::State {
  DigestConfig config;
  const base::Clock* clock = nullptr;
  std::array<std::uint8_t, kSecretBytes> secret{};
  std::string opaque;
  std::string dummy_password;
  // (issue time in ms, nonce) -> highest nc accepted; ordered by issue time so
  // that expired entries leave from the front.
  std::map<std::pair<std::uint64_t, std::string>, std::uint32_t> seen;
  // Nonces issued at or before this time and not in `seen` are treated as
  // stale: their entries were evicted while still live.
  std::optional<std::uint64_t> evicted_up_to;

  std::uint64_t lifetime_ms() const {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(config.nonce_lifetime).count());
  }

  std::vector<std::uint8_t> mac(std::span<const std::uint8_t> stamp_and_random) const {
    std::vector<std::uint8_t> data(stamp_and_random.begin(), stamp_and_random.end());
    data.insert(data.end(), config.realm.begin(), config.realm.end());
    auto full = detail::hmac_sha256(secret, data);
    full.resize(kMacBytes);
    return full;
  }

  std::string make_nonce() const {
    std::array<std::uint8_t, kNonceBytes> raw{};
    const std::uint64_t now = clock_ms(*clock);
    for (std::size_t i = 0; i < kTimestampBytes; ++i) {
      raw[i] = static_cast<std::uint8_t>(now >> (8 * (kTimestampBytes - 1 - i)));
    }
    std::span<std::uint8_t> random(raw.data() + kTimestampBytes, kRandomBytes);
    if (!detail::random_bytes(random)) {
      // getrandom() worked at create(); should it fail later, a timestamp-only
      // nonce is still authenticated by the MAC and unique per millisecond.
      std::fill(random.begin(), random.end(), 0);
    }
    auto m = mac(std::span<const std::uint8_t>(raw.data(), kTimestampBytes + kRandomBytes));
    std::copy(m.begin(), m.end(), raw.begin() + kTimestampBytes + kRandomBytes);
    return base::base64_encode(raw, base::Base64::url);
  }

  // The issue time of a nonce this process made, nullopt for anything else.
  std::optional<std::uint64_t> nonce_time(std::string_view nonce) const {
    if (nonce.size() != (kNonceBytes * 4 + 2) / 3) return std::nullopt;
    auto raw = base::base64_decode(nonce, base::Base64::url);
    if (!raw || raw->size() != kNonceBytes) return std::nullopt;
    auto expect = mac(std::span<const std::uint8_t>(raw->data(), kTimestampBytes + kRandomBytes));
    const std::string_view got(reinterpret_cast<const char*>(raw->data()) + kTimestampBytes + kRandomBytes, kMacBytes);
    const std::string_view want(reinterpret_cast<const char*>(expect.data()), expect.size());
    if (!detail::constant_time_equal(got, want)) return std::nullopt;
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < kTimestampBytes; ++i) t = (t << 8) | (*raw)[i];
    return t;
  }

  void prune(std::uint64_t now) {
    while (!seen.empty() && seen.begin()->first.first + lifetime_ms() < now) seen.erase(seen.begin());
  }
};

DigestAuthenticator::DigestAuthenticator(std::unique_ptr<State> state) : state_(std::move(state)) {}
DigestAuthenticator::DigestAuthenticator(DigestAuthenticator&&) noexcept = default;
DigestAuthenticator& DigestAuthenticator::operator=(DigestAuthenticator&&) noexcept = default;
DigestAuthenticator::~DigestAuthenticator() = default;

base::Result<DigestAuthenticator> DigestAuthenticator::create(DigestConfig config, const base::Clock& clock) {
  if (config.realm.empty()) return base::fail(DigestError::config, "digest realm is empty");
  if (config.realm.size() > 256) return base::fail(DigestError::config, "digest realm is too long");
  for (char c : config.realm) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return base::fail(DigestError::config, "digest realm contains a control character");
    }
  }
  if (config.algorithms.empty()) return base::fail(DigestError::config, "no digest algorithm enabled");
  for (std::size_t i = 0; i < config.algorithms.size(); ++i) {
    for (std::size_t j = i + 1; j < config.algorithms.size(); ++j) {
      if (config.algorithms[i] == config.algorithms[j]) {
        return base::fail(DigestError::config,
                          "digest algorithm " + std::string(algorithm_name(config.algorithms[i])) + " listed twice");
      }
    }
  }
  if (config.nonce_lifetime.count() <= 0) return base::fail(DigestError::config, "nonce lifetime must be positive");
  if (config.replay_table_size == 0) return base::fail(DigestError::config, "replay table size must be positive");

  auto state = std::make_unique<State>();
  state->config = std::move(config);
  state->clock = &clock;
  std::array<std::uint8_t, 16> dummy{};
  if (!detail::random_bytes(state->secret) || !detail::random_bytes(dummy)) {
    return base::fail(DigestError::config, "getrandom() failed: no randomness for the digest secret");
  }
  state->dummy_password = base::base64_encode(dummy, base::Base64::url);
  // opaque depends on the realm only, so that it survives a restart (a
  // pre-restart nonce then gets stale=true, not a failure).
  state->opaque = detail::hex_hash(DigestAlgorithm::sha256, "sipline-opaque:" + state->config.realm).substr(0, 24);
  return DigestAuthenticator(std::move(state));
}

const DigestConfig& DigestAuthenticator::config() const { return state_->config; }

std::size_t DigestAuthenticator::replay_table_entries() const { return state_->seen.size(); }

std::vector<std::string> DigestAuthenticator::challenges(bool stale) {
  const std::string nonce = state_->make_nonce();
  std::vector<std::string> out;
  out.reserve(state_->config.algorithms.size());
  for (auto algorithm : state_->config.algorithms) {
    std::string value = "Digest realm=";
    append_quoted(value, state_->config.realm);
    value += ", nonce=\"" + nonce + "\", opaque=\"" + state_->opaque + "\", algorithm=";
    value += algorithm_name(algorithm);
    value += ", qop=\"auth\"";
    if (stale) value += ", stale=true";
    out.push_back(std::move(value));
  }
  return out;
}

base::Result<AuthenticatedUser> DigestAuthenticator::verify(std::string_view method, std::string_view authorization,
                                                            const CredentialLookup& lookup) {
  auto parsed = parse_authorization(authorization);
  if (!parsed) return base::fail(parsed.error());
  const DigestCredentials& c = *parsed;
  for (auto [value, name] : {std::pair{&c.username, "username"}, std::pair{&c.realm, "realm"},
                             std::pair{&c.nonce, "nonce"}, std::pair{&c.uri, "uri"},
                             std::pair{&c.response, "response"}}) {
    if (!value->has_value()) return base::fail(DigestError::malformed, std::string("missing ") + name);
  }
  if (c.username->empty() || c.uri->empty()) return base::fail(DigestError::malformed, "empty username or uri");

  const std::string_view algorithm_text = c.algorithm ? std::string_view(*c.algorithm) : "MD5";
  const auto algorithm = parse_algorithm(algorithm_text);
  if (!algorithm) {
    return base::fail(DigestError::algorithm_not_allowed, "unknown algorithm " + std::string(algorithm_text.substr(0, 32)));
  }
  const auto& enabled = state_->config.algorithms;
  if (std::find(enabled.begin(), enabled.end(), *algorithm) == enabled.end()) {
    return base::fail(DigestError::algorithm_not_allowed,
                      "algorithm " + std::string(algorithm_name(*algorithm)) + " is not enabled");
  }
  if (c.userhash && iequals(*c.userhash, "true")) {
    return base::fail(DigestError::algorithm_not_allowed, "userhash is not supported");
  }
  const bool sess = *algorithm == DigestAlgorithm::md5_sess || *algorithm == DigestAlgorithm::sha256_sess;

  std::uint32_t nc = 0;
  if (c.qop) {
    if (!iequals(*c.qop, "auth")) return base::fail(DigestError::malformed, "qop must be auth");
    if (!c.nc || c.nc->size() != 8 || !is_hex(*c.nc)) {
      return base::fail(DigestError::malformed, "qop=auth needs nc of 8 hex digits");
    }
    std::from_chars(c.nc->data(), c.nc->data() + c.nc->size(), nc, 16);
    if (nc == 0) return base::fail(DigestError::malformed, "nc must be at least 1");
    if (!c.cnonce || c.cnonce->empty()) return base::fail(DigestError::malformed, "qop=auth needs a cnonce");
  } else {
    if (!state_->config.allow_rfc2069) {
      return base::fail(DigestError::algorithm_not_allowed, "responses without qop (RFC 2069) are not allowed");
    }
    if (sess) return base::fail(DigestError::malformed, "-sess algorithms need qop and cnonce");
  }
  if (c.response->size() != hex_length(*algorithm) || !is_hex(*c.response)) {
    return base::fail(DigestError::malformed, "response is not a hex digest of the algorithm's length");
  }
  if (*c.realm != state_->config.realm) return base::fail(DigestError::bad_response, "realm does not match");
  if (c.opaque && *c.opaque != state_->opaque) return base::fail(DigestError::bad_response, "opaque does not match");

  // The digest is computed whether or not the user exists.
  const DigestAlgorithm hash = base_hash(*algorithm);
  auto stored = lookup(*c.username, state_->config.realm, hash);
  std::string ha1;
  bool usable = false;
  if (stored && stored->kind == StoredCredential::Kind::password) {
    ha1 = compute_ha1(*algorithm, *c.username, state_->config.realm, stored->value);
    usable = true;
  } else if (stored && stored->value.size() == hex_length(*algorithm) && is_hex(stored->value)) {
    ha1 = to_lower(stored->value);
    usable = true;
  } else {
    ha1 = compute_ha1(*algorithm, *c.username, state_->config.realm, state_->dummy_password);
  }
  const std::string qop = c.qop ? to_lower(*c.qop) : std::string();
  const std::string expected = compute_response({.algorithm = *algorithm,
                                                 .ha1 = ha1,
                                                 .nonce = *c.nonce,
                                                 .cnonce = c.cnonce.value_or(""),
                                                 .nc = c.nc.value_or(""),
                                                 .qop = qop,
                                                 .method = method,
                                                 .uri = *c.uri});
  const bool match = detail::constant_time_equal(expected, to_lower(*c.response));
  if (!usable) {
    return base::fail(DigestError::unknown_user, stored ? "stored HA1 is not a hex digest of the algorithm"
                                                        : "unknown user");
  }
  if (!match) return base::fail(DigestError::bad_response, "wrong response");

  // The client knows the password; now the nonce must be ours, live and unused.
  const std::uint64_t now = clock_ms(*state_->clock);
  state_->prune(now);
  const auto issued = state_->nonce_time(*c.nonce);
  if (!issued) return base::fail(DigestError::stale_nonce, "nonce was not issued by this server");
  if (*issued > now || now - *issued > state_->lifetime_ms()) {
    return base::fail(DigestError::stale_nonce, "nonce expired");
  }
  const auto key = std::make_pair(*issued, *c.nonce);
  auto it = state_->seen.find(key);
  if (it != state_->seen.end()) {
    if (!c.qop || nc <= it->second) return base::fail(DigestError::replay, "nonce count not above the last one");
    it->second = nc;
  } else {
    if (state_->evicted_up_to && *issued <= *state_->evicted_up_to) {
      return base::fail(DigestError::stale_nonce, "nonce left the replay table");
    }
    state_->seen.emplace(key, nc);
    while (state_->seen.size() > state_->config.replay_table_size) {
      const std::uint64_t t = state_->seen.begin()->first.first;
      state_->evicted_up_to = std::max(state_->evicted_up_to.value_or(0), t);
      state_->seen.erase(state_->seen.begin());
    }
  }
  return AuthenticatedUser{.username = *c.username, .algorithm = *algorithm};
}

}  // namespace sipline::gateway::auth
