#include "sipline/enum/dns_message.hpp"

#include <gtest/gtest.h>

#include "unit/enum/naptr_wire.hpp"

namespace sipline::e164 {
namespace {

using testing::build_message;
using testing::Bytes;
using testing::cname_rr;
using testing::kQnameOffset;
using testing::naptr_rdata;
using testing::naptr_rr;
using testing::soa_rr;
using testing::WireMessage;
using testing::WireRr;

constexpr std::string_view kQname = "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa";
constexpr std::uint16_t kNxdomainFlags = 0x8183;
constexpr std::uint16_t kServfailFlags = 0x8182;

Bytes sip_rdata(std::uint16_t order, std::uint16_t pref, std::string_view user) {
  return naptr_rdata(order, pref, "u", "E2U+sip", "!^.*$!sip:" + std::string(user) + "@example.com!", "");
}

WireMessage answer_with(std::vector<WireRr> answers) {
  WireMessage m;
  m.qname = std::string(kQname);
  m.answers = std::move(answers);
  return m;
}

TEST(DnsMessage, ParsesPositiveAnswerWithSeveralNaptrs) {
  const Bytes msg = build_message(answer_with({
      naptr_rr(kQname, 3600, sip_rdata(100, 10, "a")),
      naptr_rr(kQname, 600, sip_rdata(100, 20, "b")),
      naptr_rr(kQname, 1800, naptr_rdata(200, 10, "", "E2U+sip", "", "next.example.com")),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rcode, static_cast<std::uint8_t>(Rcode::noerror));
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(r->canonical_name, kQname);
  ASSERT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->records[0].regexp, "!^.*$!sip:a@example.com!");
  EXPECT_EQ(r->records[1].preference, 20);
  EXPECT_EQ(r->records[2].replacement, "next.example.com");
  EXPECT_EQ(r->ttl, 600u);
  EXPECT_FALSE(r->negative_ttl);
  EXPECT_TRUE(r->errors.empty());
}

TEST(DnsMessage, CanonicalNameDropsTrailingDotOfQname) {
  const Bytes msg = build_message(answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a"))}));
  auto r = parse_naptr_response(msg, std::string(kQname) + ".");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_name, kQname);
  EXPECT_EQ(r->records.size(), 1u);
}

TEST(DnsMessage, FollowsCnameChainToNaptrs) {
  const Bytes msg = build_message(answer_with({
      cname_rr(kQname, 900, "mid.example.net"),
      naptr_rr("other.example.net", 10, sip_rdata(1, 1, "ignored")),
      cname_rr("mid.example.net", 300, "Final.Example.Net"),
      naptr_rr("final.example.net", 3600, sip_rdata(10, 1, "x")),
      naptr_rr("final.example.net", 1200, sip_rdata(10, 2, "y")),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_name, "Final.Example.Net");
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].regexp, "!^.*$!sip:x@example.com!");
  EXPECT_EQ(r->records[1].regexp, "!^.*$!sip:y@example.com!");
  EXPECT_EQ(r->ttl, 300u);  // the second CNAME's, lower than every NAPTR's
}

TEST(DnsMessage, IgnoresNaptrsOfQnameWhenItIsAnAlias) {
  const Bytes msg = build_message(answer_with({
      naptr_rr(kQname, 60, sip_rdata(1, 1, "stale")),
      cname_rr(kQname, 60, "target.example"),
      naptr_rr("target.example", 60, sip_rdata(1, 1, "real")),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].regexp, "!^.*$!sip:real@example.com!");
}

TEST(DnsMessage, RefusesCnameLoop) {
  const Bytes msg = build_message(answer_with({
      cname_rr(kQname, 60, "a.example"),
      cname_rr("a.example", 60, "b.example"),
      cname_rr("b.example", 60, "A.EXAMPLE."),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::cname_loop)) << r.error().message();
}

TEST(DnsMessage, RefusesCnamePointingAtItself) {
  const Bytes msg = build_message(answer_with({cname_rr(kQname, 60, std::string(kQname))}));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::cname_loop)) << r.error().message();
}

std::vector<WireRr> cname_chain(std::size_t length) {
  std::vector<WireRr> rrs;
  std::string owner(kQname);
  for (std::size_t i = 0; i < length; ++i) {
    std::string target = "c" + std::to_string(i) + ".example";
    rrs.push_back(cname_rr(owner, 60, target));
    owner = std::move(target);
  }
  rrs.push_back(naptr_rr(owner, 60, sip_rdata(1, 1, "end")));
  return rrs;
}

TEST(DnsMessage, FollowsChainOfMaximumLength) {
  auto r = parse_naptr_response(build_message(answer_with(cname_chain(kMaxCnameChain))), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_name, "c" + std::to_string(kMaxCnameChain - 1) + ".example");
  EXPECT_EQ(r->records.size(), 1u);
}

TEST(DnsMessage, RefusesChainLongerThanMaximum) {
  auto r = parse_naptr_response(build_message(answer_with(cname_chain(kMaxCnameChain + 1))), kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::cname_loop)) << r.error().message();
}

TEST(DnsMessage, NxdomainTakesNegativeTtlFromSoaTtl) {
  WireMessage m;
  m.flags = kNxdomainFlags;
  m.qname = std::string(kQname);
  m.authority = {soa_rr("e164.arpa", 900, 3600)};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rcode, static_cast<std::uint8_t>(Rcode::nxdomain));
  EXPECT_TRUE(r->records.empty());
  EXPECT_EQ(r->ttl, 0u);
  ASSERT_TRUE(r->negative_ttl);
  EXPECT_EQ(*r->negative_ttl, 900u);
}

TEST(DnsMessage, NxdomainTakesNegativeTtlFromSoaMinimum) {
  WireMessage m;
  m.flags = kNxdomainFlags;
  m.qname = std::string(kQname);
  m.authority = {soa_rr("e164.arpa", 86400, 300)};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->negative_ttl);
  EXPECT_EQ(*r->negative_ttl, 300u);
}

TEST(DnsMessage, NodataTakesNegativeTtlFromSoa) {
  WireMessage m = answer_with({
      WireRr{.owner = testing::wire_name(kQname), .type = 16, .ttl = 60, .rdata = {3, 'a', 'b', 'c'}},  // TXT
  });
  m.authority = {WireRr{.owner = testing::wire_name("e164.arpa"), .type = 2, .ttl = 60,
                        .rdata = testing::wire_name("ns.example")},  // NS first: skipped
                 soa_rr("e164.arpa", 120, 600)};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rcode, static_cast<std::uint8_t>(Rcode::noerror));
  EXPECT_TRUE(r->records.empty());
  ASSERT_TRUE(r->negative_ttl);
  EXPECT_EQ(*r->negative_ttl, 120u);
}

TEST(DnsMessage, NodataAtEndOfCnameChain) {
  WireMessage m = answer_with({cname_rr(kQname, 60, "alias.example")});
  m.authority = {soa_rr("example", 50, 40)};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_name, "alias.example");
  EXPECT_TRUE(r->records.empty());
  ASSERT_TRUE(r->negative_ttl);
  EXPECT_EQ(*r->negative_ttl, 40u);
}

TEST(DnsMessage, NegativeAnswerWithoutSoaHasNoNegativeTtl) {
  WireMessage m;
  m.flags = kNxdomainFlags;
  m.qname = std::string(kQname);
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rcode, static_cast<std::uint8_t>(Rcode::nxdomain));
  EXPECT_FALSE(r->negative_ttl);

  m.flags = testing::kResponseFlags;  // NODATA, no SOA
  r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->negative_ttl);
}

TEST(DnsMessage, MalformedSoaGivesNoNegativeTtl) {
  WireMessage m;
  m.flags = kNxdomainFlags;
  m.qname = std::string(kQname);
  WireRr soa = soa_rr("e164.arpa", 60, 60);
  soa.rdata.pop_back();  // MINIMUM one octet short
  m.authority = {soa};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->negative_ttl);
}

TEST(DnsMessage, PositiveAnswerHasNoNegativeTtlEvenWithSoa) {
  WireMessage m = answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a"))});
  m.authority = {soa_rr("e164.arpa", 10, 10)};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->negative_ttl);
  EXPECT_EQ(r->ttl, 60u);
}

TEST(DnsMessage, ReturnsServfailRcode) {
  WireMessage m;
  m.flags = kServfailFlags;
  m.qname = std::string(kQname);
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rcode, static_cast<std::uint8_t>(Rcode::servfail));
  EXPECT_TRUE(r->records.empty());
  EXPECT_FALSE(r->negative_ttl);
}

TEST(DnsMessage, KeepsUnknownRcode) {
  WireMessage m;
  m.flags = 0x8189;  // NOTZONE
  m.qname = std::string(kQname);
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rcode, 9);
}

TEST(DnsMessage, ReportsTcBit) {
  WireMessage m = answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a"))});
  m.flags = 0x8380;  // QR, TC, RD, RA
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->records.size(), 1u);
}

TEST(DnsMessage, RefusesAnswerToAnotherName) {
  WireMessage m = answer_with({naptr_rr("1.e164.arpa", 60, sip_rdata(1, 1, "a"))});
  m.qname = "1.e164.arpa";
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::question_mismatch)) << r.error().message();
}

TEST(DnsMessage, RefusesAnswerToAnotherTypeOrClass) {
  WireMessage m = answer_with({});
  m.qtype = 1;  // A
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::question_mismatch)) << r.error().message();

  m.qtype = kTypeNaptr;
  m.qclass = 3;  // CH
  r = parse_naptr_response(build_message(m), kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::question_mismatch)) << r.error().message();
}

TEST(DnsMessage, RefusesQueryWithoutQrBit) {
  WireMessage m = answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a"))});
  m.flags = 0x0100;  // RD only
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::bad_message)) << r.error().message();
}

TEST(DnsMessage, RefusesQdcountOtherThanOne) {
  Bytes msg = build_message(answer_with({}));
  for (const int qd : {0, 2}) {
    msg[5] = static_cast<std::uint8_t>(qd);
    auto r = parse_naptr_response(msg, kQname);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(EnumError::bad_message)) << r.error().message();
  }
}

TEST(DnsMessage, RefusesEveryTruncation) {
  WireMessage m = answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a")), cname_rr("x.example", 60, "y.example")});
  m.authority = {soa_rr("e164.arpa", 60, 60)};
  const Bytes full = build_message(m);
  ASSERT_TRUE(parse_naptr_response(full, kQname));
  // Header, question, RR header, RDATA and authority cut short: all bad_message.
  for (std::size_t len = 0; len < full.size(); ++len) {
    auto r = parse_naptr_response(std::span(full.data(), len), kQname);
    ASSERT_FALSE(r) << "length " << len;
    EXPECT_TRUE(r.error().is(EnumError::bad_message)) << len << ": " << r.error().message();
  }
}

TEST(DnsMessage, RefusesRdlengthPastTheEnd) {
  Bytes msg = build_message(answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a"))}));
  msg.push_back(0);  // one spare octet, but RDLENGTH claims many more
  const std::size_t rdlength_at = msg.size() - 1 - sip_rdata(1, 1, "a").size() - 2;
  msg[rdlength_at] = 0x01;
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::bad_message)) << r.error().message();
}

TEST(DnsMessage, IgnoresRecordsOfOtherOwnersTypesAndClasses) {
  WireRr chaos = naptr_rr(kQname, 60, sip_rdata(1, 1, "chaos"));
  chaos.rclass = 3;
  const Bytes msg = build_message(answer_with({
      naptr_rr("9." + std::string(kQname), 10, sip_rdata(1, 1, "child")),
      WireRr{.owner = testing::wire_name(kQname), .type = 1, .ttl = 5, .rdata = {192, 0, 2, 1}},
      chaos,
      naptr_rr(kQname, 60, sip_rdata(1, 1, "mine")),
      cname_rr("elsewhere.example", 1, "x.example"),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].regexp, "!^.*$!sip:mine@example.com!");
  EXPECT_EQ(r->ttl, 60u);
  EXPECT_TRUE(r->errors.empty());
}

TEST(DnsMessage, SkipsBadNaptrAndKeepsGoodOnes) {
  Bytes bad = sip_rdata(1, 1, "bad");
  bad.push_back(0x42);  // trailing octet
  Bytes short_rdata = {0, 1, 0};
  const Bytes msg = build_message(answer_with({
      naptr_rr(kQname, 60, sip_rdata(1, 1, "good1")),
      naptr_rr(kQname, 5, bad),
      naptr_rr(kQname, 90, sip_rdata(1, 2, "good2")),
      naptr_rr(kQname, 5, short_rdata),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].regexp, "!^.*$!sip:good1@example.com!");
  EXPECT_EQ(r->records[1].regexp, "!^.*$!sip:good2@example.com!");
  EXPECT_EQ(r->ttl, 60u);  // skipped records do not count
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[0].index, 1u);
  EXPECT_TRUE(r->errors[0].error.is(EnumError::trailing_data)) << r->errors[0].error.message();
  EXPECT_EQ(r->errors[1].index, 3u);
  EXPECT_TRUE(r->errors[1].error.is(EnumError::truncated)) << r->errors[1].error.message();
  EXPECT_FALSE(r->negative_ttl);  // NAPTRs exist: not NODATA
}

TEST(DnsMessage, MatchesQnameCaseInsensitively) {
  WireMessage m = answer_with({naptr_rr("8.4.1.0.6.4.9.7.0.2.4.4.E164.ARPA", 60, sip_rdata(1, 1, "a"))});
  m.qname = "8.4.1.0.6.4.9.7.0.2.4.4.E164.Arpa";
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->records.size(), 1u);
}

TEST(DnsMessage, FollowsCompressedOwnerAndReplacement) {
  // Owner: a pointer to the question's name. Replacement: "sip." + a pointer
  // into the question's name at "e164.arpa".
  const std::string qname = "1.2.e164.arpa";
  const auto e164_offset = static_cast<std::uint16_t>(kQnameOffset + 4);  // after 1"1" 1"2"
  Bytes rdata = naptr_rdata(10, 10, "", "E2U+sip", "", "");
  rdata.pop_back();
  const Bytes replacement = testing::name_with_pointer("sip", e164_offset);
  rdata.insert(rdata.end(), replacement.begin(), replacement.end());
  WireMessage m;
  m.qname = qname;
  m.answers = {WireRr{.owner = testing::name_pointer(kQnameOffset), .ttl = 77, .rdata = rdata},
               WireRr{.owner = testing::name_with_pointer("2", static_cast<std::uint16_t>(kQnameOffset + 2)),
                      .ttl = 5,
                      .rdata = sip_rdata(1, 1, "other-owner")}};  // "2.2.e164.arpa"
  auto r = parse_naptr_response(build_message(m), qname);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].replacement, "sip.e164.arpa");
  EXPECT_EQ(r->ttl, 77u);
}

TEST(DnsMessage, FollowsCompressedCnameTarget) {
  const std::string qname = "5.e164.arpa";
  WireMessage m;
  m.qname = qname;
  // 5.e164.arpa CNAME x.e164.arpa (compressed), then NAPTR at x.e164.arpa (compressed owner).
  m.answers = {WireRr{.owner = testing::name_pointer(kQnameOffset), .type = 5, .ttl = 100,
                      .rdata = testing::name_with_pointer("x", static_cast<std::uint16_t>(kQnameOffset + 2))},
               WireRr{.owner = testing::name_with_pointer("x", static_cast<std::uint16_t>(kQnameOffset + 2)),
                      .ttl = 200,
                      .rdata = sip_rdata(1, 1, "x")}};
  auto r = parse_naptr_response(build_message(m), qname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_name, "x.e164.arpa");
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->ttl, 100u);
}

TEST(DnsMessage, RefusesPointerLoopInOwner) {
  WireMessage m = answer_with({});
  Bytes msg = build_message(m);
  const auto self = static_cast<std::uint16_t>(msg.size());
  WireRr rr{.owner = testing::name_pointer(self), .ttl = 1, .rdata = sip_rdata(1, 1, "a")};
  m.answers = {rr};
  msg = build_message(m);
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EnumError::bad_message)) << r.error().message();
}

TEST(DnsMessage, TakesTtlWithTopBitSetAsZero) {
  const Bytes msg = build_message(answer_with({
      naptr_rr(kQname, 0x80000010, sip_rdata(1, 1, "a")),
      naptr_rr(kQname, 60, sip_rdata(1, 2, "b")),
  }));
  auto r = parse_naptr_response(msg, kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->ttl, 0u);

  WireMessage m;
  m.flags = kNxdomainFlags;
  m.qname = std::string(kQname);
  m.authority = {soa_rr("e164.arpa", 0xFFFFFFFF, 300)};
  r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->negative_ttl);
  EXPECT_EQ(*r->negative_ttl, 0u);
}

TEST(DnsMessage, LooksAtNoMoreThanMaxAnswerRecords) {
  std::vector<WireRr> rrs;
  for (std::size_t i = 0; i < kMaxAnswerRecords + 10; ++i) {
    rrs.push_back(naptr_rr(kQname, 60, sip_rdata(1, static_cast<std::uint16_t>(i), "a")));
  }
  WireMessage m = answer_with(std::move(rrs));
  m.authority = {soa_rr("e164.arpa", 60, 60)};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->records.size(), kMaxAnswerRecords);
  EXPECT_EQ(r->records.back().preference, kMaxAnswerRecords - 1);
}

TEST(DnsMessage, IgnoresAdditionalSection) {
  WireMessage m = answer_with({naptr_rr(kQname, 60, sip_rdata(1, 1, "a"))});
  // EDNS OPT pseudo-RR (RFC 6891): root owner, type 41.
  m.additional = {WireRr{.owner = {0}, .type = 41, .rclass = 1232, .ttl = 0, .rdata = {}}};
  auto r = parse_naptr_response(build_message(m), kQname);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->records.size(), 1u);
}

}  // namespace
}  // namespace sipline::e164
