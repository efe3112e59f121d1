// Which credentials the registrar reads: Digest ones only (RFC 4475 §3.3.7:
// an unknown scheme gets a fresh Digest challenge, not a 400).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "registrar/registrar.hpp"

namespace sipline::gateway::registrar {
namespace {

using Values = std::vector<std::string>;

TEST(DigestAuthorizations, KeepsDigestCredentialsInAnyCase) {
  const Values in = {"Digest username=\"alice\", realm=\"r\"", "digest username=\"bob\"", "  DIGEST\tusername=\"c\""};
  EXPECT_EQ(digest_authorizations(in), in);
}

TEST(DigestAuthorizations, IgnoresCredentialsInAnUnknownScheme) {
  // RFC 4475 §3.3.7 (regaut01.dat): "Authorization: NoOneKnowsThisScheme opaque-data=here".
  EXPECT_TRUE(digest_authorizations({"NoOneKnowsThisScheme opaque-data=here"}).empty());
  EXPECT_TRUE(digest_authorizations({"Basic YWxpY2U6c2VjcmV0", "", "   "}).empty());
  EXPECT_TRUE(digest_authorizations({"Digestive username=\"alice\""}).empty());
}

TEST(DigestAuthorizations, KeepsTheDigestOnesOfAMixInOrder) {
  EXPECT_EQ(digest_authorizations({"Bearer abc", "Digest username=\"a\"", "Basic x", "Digest username=\"b\""}),
            (Values{"Digest username=\"a\"", "Digest username=\"b\""}));
}

TEST(DigestAuthorizations, NoneGivesNone) { EXPECT_TRUE(digest_authorizations({}).empty()); }

}  // namespace
}  // namespace sipline::gateway::registrar
