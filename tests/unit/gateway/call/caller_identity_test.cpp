#include "call/caller_identity.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::call {
namespace {

std::tm noon() {
  std::tm t{};
  t.tm_mon = 11;  // December
  t.tm_mday = 1;
  t.tm_hour = 12;
  t.tm_min = 5;
  return t;
}

sip::InviteInfo invite(const std::string& from_uri, const std::string& display = "") {
  sip::InviteInfo i;
  i.from_uri = from_uri;
  i.from_display = display;
  return i;
}

TEST(CallerIdentity, NumberAndQuotedNameFromFromWithTheLocalTime) {
  const auto id = caller_id_from_invite(invite("sip:+12025550150@example.net", "\"Alice \\\"Al\\\" Smith\""), false,
                                        noon());
  EXPECT_EQ(id.number, "+12025550150");
  EXPECT_EQ(id.name, "Alice \"Al\" Smith");
  EXPECT_EQ(id.number_absence, dsp::Absence::none);
  EXPECT_EQ(id.name_absence, dsp::Absence::none);
  EXPECT_EQ(id.month, 12);
  EXPECT_EQ(id.day, 1);
  EXPECT_EQ(id.hour, 12);
  EXPECT_EQ(id.minute, 5);
}

TEST(CallerIdentity, TelUriAndVisualSeparators) {
  const auto id = caller_id_from_invite(invite("tel:+1-202-555-0150"), false, noon());
  EXPECT_EQ(id.number, "+12025550150");
  EXPECT_TRUE(id.name.empty());
  EXPECT_EQ(id.name_absence, dsp::Absence::unavailable);
}

TEST(CallerIdentity, AUserNameIsNoNumberButBecomesTheName) {
  const auto id = caller_id_from_invite(invite("sip:alice@example.net"), false, noon());
  EXPECT_TRUE(id.number.empty());
  EXPECT_EQ(id.number_absence, dsp::Absence::unavailable);
  EXPECT_EQ(id.name, "alice");
}

TEST(CallerIdentity, PrivacyIdOrAnAnonymousFromWithholdsBoth) {
  auto i = invite("sip:2025550150@example.net", "Alice");
  i.privacy = {"ID"};
  auto id = caller_id_from_invite(i, true, noon());
  EXPECT_TRUE(id.number.empty());
  EXPECT_TRUE(id.name.empty());
  EXPECT_EQ(id.number_absence, dsp::Absence::withheld);
  EXPECT_EQ(id.name_absence, dsp::Absence::withheld);
  EXPECT_EQ(id.month, 12);  // the time is still shown

  id = caller_id_from_invite(invite("sip:anonymous@anonymous.invalid", "\"Anonymous\""), false, noon());
  EXPECT_EQ(id.number_absence, dsp::Absence::withheld);
  i.privacy = {"none"};
  EXPECT_EQ(caller_id_from_invite(i, true, noon()).number, "2025550150");
}

TEST(CallerIdentity, AssertedIdentityOnlyFromATrustedPeer) {
  auto i = invite("sip:2025550150@example.net", "Claimed");
  i.asserted_uri = "sip:+442079460000@carrier.example";
  i.asserted_display = "\"Carrier Verified\"";
  auto trusted = caller_id_from_invite(i, true, noon());
  EXPECT_EQ(trusted.number, "+442079460000");
  EXPECT_EQ(trusted.name, "Carrier Verified");
  auto untrusted = caller_id_from_invite(i, false, noon());
  EXPECT_EQ(untrusted.number, "2025550150");
  EXPECT_EQ(untrusted.name, "Claimed");
}

TEST(CallerIdentity, ControlCharactersInTheNameBecomeSpaces) {
  const auto id = caller_id_from_invite(invite("sip:201@gw", "A\x01" "B\x7f"), false, noon());
  EXPECT_EQ(id.name, "A B ");
}

}  // namespace
}  // namespace sipline::gateway::call
