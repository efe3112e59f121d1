// Unit tests of gateway/auth/digest: RFC 2617 / RFC 7616 vectors, nonces and
// their expiry on a fake clock, replay protection, header parsing.
#include "auth/digest.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "sipline/base/clock.hpp"

namespace sipline::gateway::auth {
namespace {

using namespace std::chrono_literals;

// The client side of one request, answering a challenge header value.
struct Client {
  std::string username = "alice";
  std::string password = "secret";
  std::string method = "REGISTER";
  std::string uri = "sip:gw.example";
  std::string cnonce = "0a4f113b";
  std::string qop = "auth";

  std::string answer(const std::string& challenge, std::uint32_t nc, std::optional<std::string> override_password = {}) const {
    auto ch = parse_authorization(challenge);  // same syntax: "Digest k=v, ..."
    EXPECT_TRUE(ch.has_value()) << challenge;
    const auto algorithm = parse_algorithm(ch->algorithm.value_or("MD5")).value();
    char nc_text[9];
    std::snprintf(nc_text, sizeof nc_text, "%08x", nc);
    const std::string ha1 = compute_ha1(algorithm, username, *ch->realm, override_password.value_or(password));
    DigestCredentials c;
    c.username = username;
    c.realm = ch->realm;
    c.nonce = ch->nonce;
    c.uri = uri;
    c.algorithm = std::string(algorithm_name(algorithm));
    c.opaque = ch->opaque;
    if (!qop.empty()) {
      c.qop = qop;
      c.nc = nc_text;
      c.cnonce = cnonce;
    }
    c.response = compute_response({.algorithm = algorithm,
                                   .ha1 = ha1,
                                   .nonce = *ch->nonce,
                                   .cnonce = cnonce,
                                   .nc = qop.empty() ? "" : nc_text,
                                   .qop = qop,
                                   .method = method,
                                   .uri = uri});
    return format_authorization(c);
  }
};

class DigestTest : public ::testing::Test {
 protected:
  DigestAuthenticator make(DigestConfig config = {}) {
    if (config.realm.empty()) config.realm = "gw.example";
    auto a = DigestAuthenticator::create(std::move(config), clock_);
    EXPECT_TRUE(a.has_value()) << a.error().message();
    return std::move(*a);
  }

  CredentialLookup passwords() {
    return [this](std::string_view user, std::string_view, DigestAlgorithm) -> std::optional<StoredCredential> {
      ++lookups_;
      auto it = users_.find(std::string(user));
      if (it == users_.end()) return std::nullopt;
      return StoredCredential{StoredCredential::Kind::password, it->second};
    };
  }

  // A challenge of the given algorithm from `a` (the first when several).
  static std::string challenge_for(DigestAuthenticator& a, DigestAlgorithm algorithm) {
    for (const auto& ch : a.challenges()) {
      if (parse_authorization(ch)->algorithm == algorithm_name(algorithm)) return ch;
    }
    ADD_FAILURE() << "no challenge for " << algorithm_name(algorithm);
    return {};
  }

  base::ManualClock clock_;
  std::map<std::string, std::string> users_ = {{"alice", "secret"}, {"bob", "hunter2"}};
  int lookups_ = 0;
};

TEST(DigestVectors, Rfc2617Section3_5Md5WithQopAuth) {
  const std::string ha1 = compute_ha1(DigestAlgorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(compute_response({.algorithm = DigestAlgorithm::md5,
                              .ha1 = ha1,
                              .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                              .cnonce = "0a4f113b",
                              .nc = "00000001",
                              .qop = "auth",
                              .method = "GET",
                              .uri = "/dir/index.html"}),
            "6629fae49393a05397450978507c4ef1");
}

TEST(DigestVectors, Rfc2617Section3_5HeaderParses) {
  auto c = parse_authorization(
      "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n"
      " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n"
      " qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n"
      " response=\"6629fae49393a05397450978507c4ef1\",\r\n opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->username, "Mufasa");
  EXPECT_EQ(c->realm, "testrealm@host.com");
  EXPECT_EQ(c->uri, "/dir/index.html");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->nc, "00000001");
  EXPECT_EQ(c->cnonce, "0a4f113b");
  EXPECT_EQ(c->response, "6629fae49393a05397450978507c4ef1");
  EXPECT_EQ(c->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_FALSE(c->algorithm.has_value());
}

TEST(DigestVectors, Rfc7616Section3_9_1Sha256AndMd5) {
  ResponseInput in{.algorithm = DigestAlgorithm::sha256,
                   .ha1 = "",
                   .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                   .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                   .nc = "00000001",
                   .qop = "auth",
                   .method = "GET",
                   .uri = "/dir/index.html"};
  const std::string sha_ha1 = compute_ha1(DigestAlgorithm::sha256, "Mufasa", "http-auth@example.org", "Circle of Life");
  in.ha1 = sha_ha1;
  EXPECT_EQ(compute_response(in), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  const std::string md5_ha1 = compute_ha1(DigestAlgorithm::md5, "Mufasa", "http-auth@example.org", "Circle of Life");
  in.algorithm = DigestAlgorithm::md5;
  in.ha1 = md5_ha1;
  EXPECT_EQ(compute_response(in), "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestVectors, SessVariantHashesHa1WithNonceAndCnonce) {
  const std::string ha1 = compute_ha1(DigestAlgorithm::md5, "u", "r", "p");
  const std::string sess_ha1 = compute_ha1(DigestAlgorithm::md5, ha1, "n", "c");  // H(HA1:n:c)
  ResponseInput in{.algorithm = DigestAlgorithm::md5_sess, .ha1 = ha1, .nonce = "n", .cnonce = "c",
                   .nc = "00000001", .qop = "auth", .method = "REGISTER", .uri = "sip:x"};
  ResponseInput plain = in;
  plain.algorithm = DigestAlgorithm::md5;
  plain.ha1 = sess_ha1;
  EXPECT_EQ(compute_response(in), compute_response(plain));
}

TEST(DigestAlgorithms, NamesRoundTripCaseInsensitively) {
  for (auto a : {DigestAlgorithm::md5, DigestAlgorithm::md5_sess, DigestAlgorithm::sha256, DigestAlgorithm::sha256_sess}) {
    EXPECT_EQ(parse_algorithm(algorithm_name(a)), a);
  }
  EXPECT_EQ(parse_algorithm("sha-256"), DigestAlgorithm::sha256);
  EXPECT_EQ(parse_algorithm("md5-SESS"), DigestAlgorithm::md5_sess);
  EXPECT_FALSE(parse_algorithm("SHA-512-256").has_value());
  EXPECT_EQ(compute_ha1(DigestAlgorithm::sha256_sess, "a", "b", "c").size(), 64u);
}

TEST_F(DigestTest, BothAlgorithmsGiveTwoChallengesSha256First) {
  auto a = make();
  auto challenges = a.challenges();
  ASSERT_EQ(challenges.size(), 2u);
  auto first = parse_authorization(challenges[0]);
  auto second = parse_authorization(challenges[1]);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->algorithm, "SHA-256");
  EXPECT_EQ(second->algorithm, "MD5");
  EXPECT_EQ(first->realm, "gw.example");
  EXPECT_EQ(first->qop, "auth");
  EXPECT_EQ(first->nonce, second->nonce);
  EXPECT_TRUE(first->opaque.has_value());
  EXPECT_EQ(challenges[0].find("stale"), std::string::npos);
  EXPECT_NE(challenges[0].find("qop=\"auth\""), std::string::npos);
  EXPECT_NE(challenges[0].find("algorithm=SHA-256,"), std::string::npos);
  // A new call gives a new nonce.
  EXPECT_NE(parse_authorization(a.challenges()[0])->nonce, first->nonce);
}

TEST_F(DigestTest, OneAlgorithmGivesOneChallengeAndStaleFlag) {
  auto a = make({.realm = "r", .algorithms = {DigestAlgorithm::md5}});
  auto challenges = a.challenges(/*stale=*/true);
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_NE(challenges[0].find("algorithm=MD5"), std::string::npos);
  EXPECT_NE(challenges[0].find(", stale=true"), std::string::npos);
}

TEST_F(DigestTest, RealmIsQuotedAndEscaped) {
  auto a = make({.realm = "home \"gw\""});
  auto ch = parse_authorization(a.challenges()[0]);
  ASSERT_TRUE(ch.has_value());
  EXPECT_EQ(ch->realm, "home \"gw\"");
}

TEST_F(DigestTest, AcceptsCorrectSha256AndMd5Responses) {
  auto a = make();
  Client client;
  for (auto alg : {DigestAlgorithm::sha256, DigestAlgorithm::md5}) {
    auto user = a.verify("REGISTER", client.answer(challenge_for(a, alg), 1), passwords());
    ASSERT_TRUE(user.has_value()) << user.error().message();
    EXPECT_EQ(user->username, "alice");
    EXPECT_EQ(user->algorithm, alg);
  }
}

TEST_F(DigestTest, AcceptsStoredHa1InEitherCase) {
  auto a = make();
  for (auto alg : {DigestAlgorithm::sha256, DigestAlgorithm::md5}) {
    std::string ha1 = compute_ha1(alg, "alice", "gw.example", "secret");
    for (char& ch : ha1) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    DigestAlgorithm asked{};
    CredentialLookup lookup = [&](std::string_view, std::string_view realm, DigestAlgorithm hash) {
      EXPECT_EQ(realm, "gw.example");
      asked = hash;
      return std::optional<StoredCredential>(StoredCredential{StoredCredential::Kind::ha1, ha1});
    };
    auto user = a.verify("REGISTER", Client{}.answer(challenge_for(a, alg), 1), lookup);
    ASSERT_TRUE(user.has_value()) << user.error().message();
    EXPECT_EQ(asked, alg);
  }
}

TEST_F(DigestTest, SessVariantsWhenEnabled) {
  auto a = make({.realm = "gw.example", .algorithms = {DigestAlgorithm::sha256_sess, DigestAlgorithm::md5_sess}});
  for (auto alg : {DigestAlgorithm::sha256_sess, DigestAlgorithm::md5_sess}) {
    DigestAlgorithm asked{};
    CredentialLookup lookup = [&](std::string_view, std::string_view, DigestAlgorithm hash) {
      asked = hash;
      return std::optional<StoredCredential>(
          StoredCredential{StoredCredential::Kind::ha1, compute_ha1(hash, "alice", "gw.example", "secret")});
    };
    auto user = a.verify("REGISTER", Client{}.answer(challenge_for(a, alg), 1), lookup);
    ASSERT_TRUE(user.has_value()) << user.error().message();
    EXPECT_EQ(asked, base_hash(alg));
  }
}

TEST_F(DigestTest, WrongPasswordIsBadResponse) {
  auto a = make();
  auto r = a.verify("REGISTER", Client{}.answer(a.challenges()[0], 1, "wrong"), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::bad_response)) << r.error().message();
}

TEST_F(DigestTest, WrongMethodOrUriIsBadResponse) {
  auto a = make();
  auto header = Client{}.answer(a.challenges()[0], 1);
  auto r = a.verify("INVITE", header, passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::bad_response));
}

TEST_F(DigestTest, UnknownUserIsLookedUpAndHashedLikeAKnownOne) {
  auto a = make();
  Client mallory;
  mallory.username = "mallory";
  auto r = a.verify("REGISTER", mallory.answer(a.challenges()[0], 1), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::unknown_user));
  EXPECT_EQ(lookups_, 1);
}

TEST_F(DigestTest, StoredHa1OfWrongLengthCountsAsUnknownUser) {
  auto a = make();
  CredentialLookup lookup = [](std::string_view, std::string_view, DigestAlgorithm) {
    return std::optional<StoredCredential>(StoredCredential{StoredCredential::Kind::ha1, "abc"});
  };
  auto r = a.verify("REGISTER", Client{}.answer(a.challenges()[0], 1), lookup);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::unknown_user));
}

TEST_F(DigestTest, ExpiredNonceWithRightResponseIsStale) {
  auto a = make();  // lifetime 300 s
  const auto challenge = a.challenges()[0];
  clock_.advance(std::chrono::seconds(299));
  EXPECT_TRUE(a.verify("REGISTER", Client{}.answer(challenge, 1), passwords()).has_value());
  clock_.advance(std::chrono::seconds(2));
  auto r = a.verify("REGISTER", Client{}.answer(challenge, 2), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::stale_nonce)) << r.error().message();
  // With a wrong password the expired nonce is just a bad response (no stale=true hint).
  auto wrong = a.verify("REGISTER", Client{}.answer(challenge, 3, "wrong"), passwords());
  ASSERT_FALSE(wrong.has_value());
  EXPECT_TRUE(wrong.error().is(DigestError::bad_response));
  // A fresh challenge works again.
  EXPECT_TRUE(a.verify("REGISTER", Client{}.answer(a.challenges(true)[0], 1), passwords()).has_value());
}

TEST_F(DigestTest, ConfiguredLifetimeIsHonoured) {
  auto a = make({.realm = "gw.example", .nonce_lifetime = 10s});
  const auto challenge = a.challenges()[0];
  clock_.advance(std::chrono::seconds(11));
  auto r = a.verify("REGISTER", Client{}.answer(challenge, 1), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::stale_nonce));
}

TEST_F(DigestTest, NonceOfAnotherServerOrTamperedIsStaleWhenResponseIsRight) {
  auto a = make();
  auto other = make();  // another secret: like a nonce from before a restart
  auto r = a.verify("REGISTER", Client{}.answer(other.challenges()[0], 1), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::stale_nonce));

  // Flip one character of our own nonce (its timestamp part).
  std::string challenge = a.challenges()[0];
  const auto at = challenge.find("nonce=\"") + 8;
  challenge[at] = challenge[at] == 'A' ? 'B' : 'A';
  auto t = a.verify("REGISTER", Client{}.answer(challenge, 1), passwords());
  ASSERT_FALSE(t.has_value());
  EXPECT_TRUE(t.error().is(DigestError::stale_nonce));
}

TEST_F(DigestTest, RepeatedOrLowerNonceCountIsReplay) {
  auto a = make();
  const auto challenge = a.challenges()[0];
  const auto first = Client{}.answer(challenge, 1);
  ASSERT_TRUE(a.verify("REGISTER", first, passwords()).has_value());
  auto again = a.verify("REGISTER", first, passwords());
  ASSERT_FALSE(again.has_value());
  EXPECT_TRUE(again.error().is(DigestError::replay));
  ASSERT_TRUE(a.verify("REGISTER", Client{}.answer(challenge, 5), passwords()).has_value());
  auto lower = a.verify("REGISTER", Client{}.answer(challenge, 3), passwords());
  ASSERT_FALSE(lower.has_value());
  EXPECT_TRUE(lower.error().is(DigestError::replay));
  EXPECT_TRUE(a.verify("REGISTER", Client{}.answer(challenge, 6), passwords()).has_value());
}

TEST_F(DigestTest, FailedAttemptDoesNotAdvanceNonceCount) {
  auto a = make();
  const auto challenge = a.challenges()[0];
  ASSERT_FALSE(a.verify("REGISTER", Client{}.answer(challenge, 9, "wrong"), passwords()).has_value());
  EXPECT_TRUE(a.verify("REGISTER", Client{}.answer(challenge, 1), passwords()).has_value());
}

TEST_F(DigestTest, ReplayTableIsBoundedAndEvictedNoncesBecomeStale) {
  auto a = make({.realm = "gw.example", .nonce_lifetime = 100s, .replay_table_size = 2});
  std::vector<std::string> challenges;
  for (int i = 0; i < 3; ++i) {
    challenges.push_back(a.challenges()[0]);
    clock_.advance(std::chrono::milliseconds(10));
  }
  for (const auto& ch : challenges) ASSERT_TRUE(a.verify("REGISTER", Client{}.answer(ch, 1), passwords()).has_value());
  EXPECT_EQ(a.replay_table_entries(), 2u);
  // The oldest was evicted: it must not be usable again (not even with a higher nc).
  auto r = a.verify("REGISTER", Client{}.answer(challenges[0], 2), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::stale_nonce));
  EXPECT_TRUE(a.verify("REGISTER", Client{}.answer(challenges[2], 2), passwords()).has_value());
  // Expired entries leave the table.
  clock_.advance(std::chrono::seconds(101));
  ASSERT_TRUE(a.verify("REGISTER", Client{}.answer(a.challenges()[0], 1), passwords()).has_value());
  EXPECT_EQ(a.replay_table_entries(), 1u);
}

TEST_F(DigestTest, AlgorithmNotEnabledOrUnknownIsRefused) {
  auto sha_only = make({.realm = "gw.example", .algorithms = {DigestAlgorithm::sha256}});
  auto both = make();
  const auto md5_header = Client{}.answer(challenge_for(both, DigestAlgorithm::md5), 1);
  auto r = sha_only.verify("REGISTER", md5_header, passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::algorithm_not_allowed));

  auto c = *parse_authorization(Client{}.answer(both.challenges()[0], 1));
  c.algorithm = "SHA-512-256";
  auto u = both.verify("REGISTER", format_authorization(c), passwords());
  ASSERT_FALSE(u.has_value());
  EXPECT_TRUE(u.error().is(DigestError::algorithm_not_allowed));

  c.algorithm = std::nullopt;  // absent means MD5, which sha_only refuses
  auto m = sha_only.verify("REGISTER", format_authorization(c), passwords());
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(m.error().is(DigestError::algorithm_not_allowed));
}

TEST_F(DigestTest, MissingAlgorithmMeansMd5) {
  auto a = make();
  auto c = *parse_authorization(Client{}.answer(challenge_for(a, DigestAlgorithm::md5), 1));
  c.algorithm = std::nullopt;
  auto user = a.verify("REGISTER", format_authorization(c), passwords());
  ASSERT_TRUE(user.has_value()) << user.error().message();
  EXPECT_EQ(user->algorithm, DigestAlgorithm::md5);
}

TEST_F(DigestTest, UserhashIsRefused) {
  auto a = make();
  auto c = *parse_authorization(Client{}.answer(a.challenges()[0], 1));
  c.userhash = "true";
  auto r = a.verify("REGISTER", format_authorization(c), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::algorithm_not_allowed));
}

TEST_F(DigestTest, Rfc2069ResponsesRefusedByDefault) {
  auto a = make();
  Client old;
  old.qop = "";
  auto r = a.verify("REGISTER", old.answer(challenge_for(a, DigestAlgorithm::md5), 1), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::algorithm_not_allowed));
}

TEST_F(DigestTest, Rfc2069ResponsesAcceptedOnceWhenAllowed) {
  auto a = make({.realm = "gw.example", .allow_rfc2069 = true});
  Client old;
  old.qop = "";
  const auto header = old.answer(challenge_for(a, DigestAlgorithm::md5), 1);
  EXPECT_TRUE(a.verify("REGISTER", header, passwords()).has_value());
  auto again = a.verify("REGISTER", header, passwords());
  ASSERT_FALSE(again.has_value());
  EXPECT_TRUE(again.error().is(DigestError::replay));
}

TEST_F(DigestTest, WrongRealmOrOpaqueIsBadResponse) {
  auto a = make();
  auto c = *parse_authorization(Client{}.answer(a.challenges()[0], 1));
  auto realm = c;
  realm.realm = "elsewhere";
  auto r = a.verify("REGISTER", format_authorization(realm), passwords());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::bad_response));
  auto opaque = c;
  opaque.opaque = "nope";
  auto o = a.verify("REGISTER", format_authorization(opaque), passwords());
  ASSERT_FALSE(o.has_value());
  EXPECT_TRUE(o.error().is(DigestError::bad_response));
  auto no_opaque = c;
  no_opaque.opaque = std::nullopt;  // tolerated: not every UA echoes it
  EXPECT_TRUE(a.verify("REGISTER", format_authorization(no_opaque), passwords()).has_value());
}

TEST_F(DigestTest, MissingOrBadFieldsAreMalformed) {
  auto a = make();
  const auto good = *parse_authorization(Client{}.answer(a.challenges()[0], 1));
  using Field = std::optional<std::string> DigestCredentials::*;
  struct Case {
    const char* what;
    Field field;
    std::optional<std::string> value;
  };
  const Case cases[] = {
      {"no username", &DigestCredentials::username, std::nullopt},
      {"empty username", &DigestCredentials::username, ""},
      {"no realm", &DigestCredentials::realm, std::nullopt},
      {"no nonce", &DigestCredentials::nonce, std::nullopt},
      {"no uri", &DigestCredentials::uri, std::nullopt},
      {"no response", &DigestCredentials::response, std::nullopt},
      {"short response", &DigestCredentials::response, "abcdef"},
      {"non-hex response", &DigestCredentials::response, std::string(64, 'z')},
      {"qop auth-int", &DigestCredentials::qop, "auth-int"},
      {"no nc", &DigestCredentials::nc, std::nullopt},
      {"short nc", &DigestCredentials::nc, "0001"},
      {"non-hex nc", &DigestCredentials::nc, "0000000g"},
      {"zero nc", &DigestCredentials::nc, "00000000"},
      {"no cnonce", &DigestCredentials::cnonce, std::nullopt},
      {"empty cnonce", &DigestCredentials::cnonce, ""},
  };
  for (const auto& c : cases) {
    auto creds = good;
    creds.*c.field = c.value;
    auto r = a.verify("REGISTER", format_authorization(creds), passwords());
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_TRUE(r.error().is(DigestError::malformed)) << c.what << ": " << r.error().message();
  }
}

TEST(DigestHeader, ParsesAnyOrderCaseAndQuoting) {
  auto c = parse_authorization(
      "digest  NC=00000002 ,Response=\"ab\", USERNAME=alice,,algorithm=\"SHA-256\", uri=\"sip:a\\\"b\\\\c\","
      "unknown=\"x, y\", qop=\"auth\"");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->nc, "00000002");
  EXPECT_EQ(c->response, "ab");
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->algorithm, "SHA-256");
  EXPECT_EQ(c->uri, "sip:a\"b\\c");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_FALSE(c->realm.has_value());
}

TEST(DigestHeader, FormatThenParseIsIdentity) {
  DigestCredentials c;
  c.username = "al\"ice\\";
  c.realm = "r e a l m";
  c.nonce = "n";
  c.uri = "sip:x@y;transport=tcp";
  c.response = "00";
  c.algorithm = "MD5";
  c.qop = "not a token";  // quoted because it is not a token
  c.nc = "00000001";
  auto parsed = parse_authorization(format_authorization(c));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->username, c.username);
  EXPECT_EQ(parsed->realm, c.realm);
  EXPECT_EQ(parsed->uri, c.uri);
  EXPECT_EQ(parsed->qop, c.qop);
  EXPECT_EQ(parsed->nc, c.nc);
  EXPECT_FALSE(parsed->cnonce.has_value());
}

TEST(DigestHeader, MalformedInputsAreTypedErrors) {
  const std::string too_long = "Digest username=\"" + std::string(5000, 'a') + "\"";
  const std::string long_value = "Digest username=\"" + std::string(1500, 'a') + "\"";
  const std::string long_token = "Digest username=" + std::string(1500, 'a');
  std::string many = "Digest ";
  for (int i = 0; i < 40; ++i) many += "p" + std::to_string(i) + "=1, ";
  const std::string cases[] = {
      "",
      "   ",
      "Digest",
      "Digest ",
      "Basic dXNlcjpwYXNz",
      "Digestusername=\"a\"",
      "Digest username",
      "Digest username=",
      "Digest username=\"alice",
      "Digest username=\"alice\\",
      "Digest =\"alice\"",
      "Digest username=\"a\" realm=\"b\"",
      "Digest username=\"a\", username=\"b\"",
      "Digest USERNAME=\"a\", username=\"a\"",
      "Digest username=\"a\x01\"",
      std::string("Digest username=\"a\0b\"", 22),
      "Digest username=\"a\\\nb\"",
      "Digest username=@@@",
      "Digest username=a;b",
      "Digest username=\"a\"x",
      too_long,
      long_value,
      long_token,
      many,
      "Digest , , ,",
      "Digest username=\"a\", nonce=\"n\", nonce=\"n\"",
  };
  int n = 0;
  for (const auto& input : cases) {
    auto r = parse_authorization(input);
    EXPECT_FALSE(r.has_value()) << "case " << n << ": " << input.substr(0, 60);
    if (!r) {
      EXPECT_TRUE(r.error().is(DigestError::malformed)) << n;
    }
    ++n;
  }
  EXPECT_GE(n, 15);
}

TEST(DigestConfigValidation, RejectsBadConfig) {
  base::ManualClock clock;
  EXPECT_FALSE(DigestAuthenticator::create({.realm = ""}, clock).has_value());
  EXPECT_FALSE(DigestAuthenticator::create({.realm = "a\nb"}, clock).has_value());
  EXPECT_FALSE(DigestAuthenticator::create({.realm = "r", .algorithms = {}}, clock).has_value());
  EXPECT_FALSE(
      DigestAuthenticator::create({.realm = "r", .algorithms = {DigestAlgorithm::md5, DigestAlgorithm::md5}}, clock)
          .has_value());
  EXPECT_FALSE(DigestAuthenticator::create({.realm = "r", .nonce_lifetime = 0s}, clock).has_value());
  auto r = DigestAuthenticator::create({.realm = "r", .replay_table_size = 0}, clock);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(DigestError::config));
}

}  // namespace
}  // namespace sipline::gateway::auth
