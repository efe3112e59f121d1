#include "registrar/registrar.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "sipline/base/log.hpp"

namespace sipline::gateway::registrar {

using base::Sub;
namespace log = base::log;

namespace {
sip::RegisterReply reply(int status, std::int64_t min_expires = 0) {
  sip::RegisterReply r;
  r.status = status;
  r.min_expires = min_expires;
  return r;
}
}  // namespace

std::vector<std::string> digest_authorizations(const std::vector<std::string>& authorizations) {
  std::vector<std::string> digest;
  for (const auto& value : authorizations) {
    const auto start = value.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    const auto end = value.find_first_of(" \t", start);
    const std::string_view scheme = std::string_view(value).substr(start, end == std::string::npos ? end : end - start);
    const bool is_digest = scheme.size() == 6 && std::equal(scheme.begin(), scheme.end(), "digest", [](char a, char b) {
                             return std::tolower(static_cast<unsigned char>(a)) == b;
                           });
    if (is_digest) digest.push_back(value);
  }
  return digest;
}

base::Result<std::unique_ptr<Registrar>> Registrar::create(RegistrarOptions options, const base::Clock& clock,
                                                           const WallClock& wall_clock) {
  auto digest = auth::DigestAuthenticator::create(options.digest, clock);
  if (!digest) return base::fail(digest.error());
  auto store = BindingStore::open(options.store, wall_clock);
  if (!store) return base::fail(store.error());
  return std::unique_ptr<Registrar>(
      new Registrar(std::move(options), std::move(*digest), std::move(*store), clock, wall_clock));
}

Registrar::Registrar(RegistrarOptions options, auth::DigestAuthenticator digest, BindingStore store,
                     const base::Clock& clock, const WallClock& wall_clock)
    : options_(std::move(options)),
      digest_(std::move(digest)),
      store_(std::move(store)),
      bans_(options_.ban, clock),
      wall_clock_(wall_clock) {}

std::optional<auth::StoredCredential> Registrar::credential(std::string_view user, std::string_view,
                                                            auth::DigestAlgorithm hash) const {
  for (const auto& u : options_.users) {
    if (u.name != user) continue;
    if (!u.password.empty()) return auth::StoredCredential{auth::StoredCredential::Kind::password, u.password};
    const std::string& ha1 = hash == auth::DigestAlgorithm::sha256 ? u.ha1_sha256 : u.ha1_md5;
    if (!ha1.empty()) return auth::StoredCredential{auth::StoredCredential::Kind::ha1, ha1};
    return std::nullopt;
  }
  return std::nullopt;
}

std::vector<std::vector<std::string>> Registrar::contacts(std::string_view user) {
  std::vector<std::vector<std::string>> out;
  auto bindings = store_.lookup(user);
  if (!bindings) {
    log::warn(Sub::sip, "event=user_lookup_failed user={} error=\"{}\"", user, bindings.error().message());
    return out;
  }
  int q = -1;
  for (const auto& b : *bindings) {  // highest q first
    if (out.empty() || b.q_milli != q) out.emplace_back();
    q = b.q_milli;
    out.back().push_back(b.contact);
  }
  return out;
}

bool Registrar::is_user(std::string_view name) const {
  return std::any_of(options_.users.begin(), options_.users.end(),
                     [&](const UserCredentials& u) { return u.name == name; });
}

sip::RegisterReply Registrar::challenge(bool stale) {
  sip::RegisterReply r;
  r.status = 401;
  r.www_authenticate = digest_.challenges(stale);
  return r;
}

base::Result<std::string> Registrar::authenticate(std::string_view method,
                                                 const std::vector<std::string>& authorizations,
                                                 std::string_view source_ip) {
  if (authorizations.empty()) return base::fail(auth::DigestError::malformed, "no credentials");
  // The first credentials count (a UA may send others for other realms).
  auto user = digest_.verify(method, authorizations.front(),
                             [this](std::string_view u, std::string_view realm, auth::DigestAlgorithm h) {
                               return credential(u, realm, h);
                             });
  if (!user) {
    // A stale nonce is the normal re-challenge of a good client, not a guess.
    if (!user.error().is(auth::DigestError::stale_nonce) && bans_.record_failure(source_ip))
      log::warn(Sub::sip, "event=source_banned source={} method={} reason=\"{}\"", source_ip, method,
                user.error().message());
    return base::fail(user.error());
  }
  bans_.record_success(source_ip);
  return user->username;
}

sip::RegisterReply Registrar::on_register(const sip::RegisterInfo& info) {
  if (bans_.banned(info.source_ip)) return reply(403);
  const std::vector<std::string> credentials = digest_authorizations(info.authorizations);
  if (credentials.empty()) return challenge(false);
  auto user = authenticate("REGISTER", credentials, info.source_ip);
  if (!user) {
    const auto& e = user.error();
    log::info(Sub::sip, "event=register_auth_failed user={} source={} reason=\"{}\"", info.aor_user,
              info.source_address, e.message());
    if (bans_.banned(info.source_ip)) return reply(403);  // this failure was one too many
    if (e.is(auth::DigestError::malformed)) return reply(400);
    return challenge(e.is(auth::DigestError::stale_nonce));
  }
  if (*user != info.aor_user) {
    log::info(Sub::sip, "event=register_refused user={} authenticated_as={}", info.aor_user, *user);
    return reply(403);
  }

  RegisterRequest req;
  req.aor = info.aor_user;
  req.call_id = info.call_id;
  req.cseq = info.cseq;
  if (info.expires) req.expires = std::chrono::seconds(std::max<std::int64_t>(0, *info.expires));
  req.wildcard = info.wildcard;
  req.source_address = info.source_address;
  req.transport = info.transport;
  req.user_agent = info.user_agent;
  for (const auto& c : info.contacts) {
    ContactUpdate u;
    u.uri = c.uri;
    if (c.expires) u.expires = std::chrono::seconds(*c.expires);
    if (!c.q.empty()) {
      auto q = parse_qvalue(c.q);
      if (!q) return reply(400);
      u.q_milli = *q;
    }
    u.instance_id = c.instance;
    req.contacts.push_back(std::move(u));
  }
  auto bindings = store_.apply(req);
  if (!bindings) {
    const auto& e = bindings.error();
    log::info(Sub::sip, "event=register_failed user={} error=\"{}\"", info.aor_user, e.message());
    if (e.is(BindingError::interval_too_brief))
      return reply(423, options_.store.min_expires.count());
    if (e.is(BindingError::invalid_request)) return reply(400);
    if (e.is(BindingError::too_many)) return reply(403);
    return reply(500);
  }
  sip::RegisterReply r;
  r.status = 200;
  const auto now = wall_clock_.now();
  for (const auto& b : *bindings) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires_at - now).count();
    if (!r.contacts.empty()) r.contacts += ", ";
    r.contacts += "<" + b.contact + ">;expires=" + std::to_string(std::max<std::int64_t>(0, left));
    if (b.q_milli != 1000) r.contacts += ";q=" + format_qvalue(b.q_milli);
  }
  return r;
}

}  // namespace sipline::gateway::registrar
