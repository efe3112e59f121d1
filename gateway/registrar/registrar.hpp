#pragma once
// Registrar: the REGISTER side of the Registrar and Location roles (RFC 3261
// §10.3). Every REGISTER must carry digest credentials of a configured
// [[user]] (auth::DigestAuthenticator: SHA-256 and MD5 challenges, expiring
// nonces, nc replay checks) whose name is the To user; the accepted bindings
// go to the SQLite BindingStore, so they survive a restart.
//
// Answers: 401 with fresh challenges for missing, wrong or unknown-user
// credentials alike (a scanner cannot tell which users exist), with
// stale=true for a right answer to an expired nonce (credentials in another
// scheme than Digest are ignored, so they get the 401 too); 400 for a
// malformed Digest Authorization header or request; 403 when the authenticated user is not
// the To user or has too many contacts; 423 with Min-Expires; 500 for a
// storage error or an out-of-order CSeq; 200 with the user's current contacts
// (each with its remaining expires and q). A source that keeps failing
// authentication (REGISTER or INVITE) is banned for a while (auth::BanList):
// 403 to everything it sends.
// Thread: control.
#include <memory>
#include <string>
#include <vector>

#include "auth/ban_list.hpp"
#include "auth/digest.hpp"
#include "registrar/binding_store.hpp"
#include "sip/sip_stack.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::registrar {

// One [[user]]: a password, or precomputed HA1s (hex) for each hash.
struct UserCredentials {
  std::string name;
  std::string password;
  std::string ha1_md5;
  std::string ha1_sha256;
};

struct RegistrarOptions {
  auth::DigestConfig digest;
  BindingStoreOptions store;
  std::vector<UserCredentials> users;
  auth::BanPolicy ban;
};

// The Authorization / Proxy-Authorization values whose scheme is Digest.
// Credentials in a scheme the registrar does not know are ignored, as if the
// request had none, so the answer is a fresh 401 with a Digest challenge
// (RFC 4475 §3.3.7), not a 400, and they count as no failed guess.
std::vector<std::string> digest_authorizations(const std::vector<std::string>& authorizations);

class Registrar final : public sip::RegisterHandler {
 public:
  // Opens the binding store and sets up digest authentication.
  static base::Result<std::unique_ptr<Registrar>> create(RegistrarOptions options, const base::Clock& clock,
                                                         const WallClock& wall_clock);

  sip::RegisterReply on_register(const sip::RegisterInfo& info) override;

  // Checks a request's digest credentials (Authorization / Proxy-Authorization
  // values) against the [[user]]s: the user's name, or the DigestError
  // (malformed -> 400; anything else -> a fresh 401, stale=true for stale_nonce).
  // Failures count towards a ban of `source_ip`.
  base::Result<std::string> authenticate(std::string_view method, const std::vector<std::string>& authorizations,
                                         std::string_view source_ip);
  bool banned(std::string_view source_ip) { return bans_.banned(source_ip); }
  auth::BanList& bans() { return bans_; }
  // Challenge header values for a 401 (one per algorithm).
  std::vector<std::string> challenges(bool stale) { return digest_.challenges(stale); }

  // Every live binding (`siplinectl users`).
  base::Result<std::vector<Binding>> bindings() { return store_.all(); }
  // The live contacts of one user, highest q first (calls fork to them).
  base::Result<std::vector<Binding>> lookup(std::string_view user) { return store_.lookup(user); }
  // Just their URIs, grouped by q (highest first; calls ring a group's
  // contacts at once, RFC 3261 §16.6); none when the store fails (logged).
  std::vector<std::vector<std::string>> contacts(std::string_view user);
  // Whether `name` is a configured [[user]].
  bool is_user(std::string_view name) const;
  const std::vector<UserCredentials>& users() const { return options_.users; }

 private:
  Registrar(RegistrarOptions options, auth::DigestAuthenticator digest, BindingStore store, const base::Clock& clock,
            const WallClock& wall_clock);
  std::optional<auth::StoredCredential> credential(std::string_view user, std::string_view realm,
                                                   auth::DigestAlgorithm hash) const;
  sip::RegisterReply challenge(bool stale);

  RegistrarOptions options_;
  auth::DigestAuthenticator digest_;
  BindingStore store_;
  auth::BanList bans_;
  const WallClock& wall_clock_;
};

}  // namespace sipline::gateway::registrar
