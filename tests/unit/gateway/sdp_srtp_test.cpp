// SDES (RFC 4568) in offer/answer: what our offers carry under each policy,
// which offered a=crypto line we answer, and what we accept as an answer.
#include <gtest/gtest.h>

#include "sip/sdp.hpp"
#include "sipline/base/base64.hpp"

namespace sipline::gateway::sip {
namespace {

using media::SrtpPolicy;
using media::SrtpSuite;

std::string b64(const std::string& raw) {
  return base::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()),
                             base::Base64::standard);
}

// Keys that are easy to recognise: 30 (or 28) copies of one letter.
const std::string kTheirs80(30, 'T');
const std::string kTheirsGcm(28, 'G');

LocalMedia local(SrtpPolicy policy) {
  LocalMedia l{.address = "127.0.0.1",
               .port = 16400,
               .codecs = {media::AudioCodec::pcmu, media::AudioCodec::pcma},
               .dtmf_payload_type = 101,
               .session_id = 7,
               .session_version = 1,
               .ptime_ms = 20,
               .srtp = policy,
               .keys = {}};
  if (policy != SrtpPolicy::off) {
    l.keys = {{SrtpSuite::aes_cm_128_hmac_sha1_80, std::string(30, 'a')},
              {SrtpSuite::aes_cm_128_hmac_sha1_32, std::string(30, 'b')},
              {SrtpSuite::aead_aes_128_gcm, std::string(28, 'c')}};
  }
  return l;
}

std::string offer_text(std::string_view proto, std::string_view crypto_lines) {
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio 31000 " + std::string(proto) + " 0 101\r\na=rtpmap:101 telephone-event/8000\r\n" +
         std::string(crypto_lines) + "a=sendrecv\r\n";
}

SessionDescription parsed(const std::string& text) {
  auto sdp = parse_sdp(text);
  EXPECT_TRUE(sdp) << sdp.error().message();
  return sdp ? *sdp : SessionDescription{};
}

TEST(SdpSrtp, OffersCarryOneCryptoLinePerSuite) {
  const SessionDescription optional = make_offer(local(SrtpPolicy::optional));
  ASSERT_EQ(optional.media.size(), 1u);
  EXPECT_EQ(optional.media[0].proto, "RTP/AVP");  // best effort: peers without SRTP still answer
  ASSERT_EQ(optional.media[0].crypto.size(), 3u);
  EXPECT_EQ(optional.media[0].crypto[0].tag, 1u);
  EXPECT_EQ(optional.media[0].crypto[0].suite, "AES_CM_128_HMAC_SHA1_80");
  EXPECT_EQ(optional.media[0].crypto[0].key_params, "inline:" + b64(std::string(30, 'a')));
  EXPECT_EQ(optional.media[0].crypto[2].suite, "AEAD_AES_128_GCM");

  EXPECT_EQ(make_offer(local(SrtpPolicy::mandatory)).media[0].proto, "RTP/SAVP");
  const SessionDescription off = make_offer(local(SrtpPolicy::off));
  EXPECT_EQ(off.media[0].proto, "RTP/AVP");
  EXPECT_TRUE(off.media[0].crypto.empty());

  // Printed and parsed back unchanged.
  const std::string text = print_sdp(optional);
  EXPECT_NE(text.find("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"), std::string::npos) << text;
  EXPECT_EQ(parsed(text).media[0].crypto.size(), 3u);
}

TEST(SdpSrtp, AnswersTheOfferersFirstUsableLineWithOurOwnKey) {
  const std::string offer = offer_text("RTP/SAVP",
                                       "a=crypto:5 AEAD_AES_128_GCM inline:" + b64(kTheirsGcm) + "\r\n"
                                       "a=crypto:6 AES_CM_128_HMAC_SHA1_80 inline:" + b64(kTheirs80) + "|2^31\r\n");
  auto answer = answer_offer(parsed(offer), local(SrtpPolicy::optional));
  ASSERT_TRUE(answer) << answer.error().message();
  const SdpMedia& m = answer->answer.media[0];
  EXPECT_EQ(m.proto, "RTP/SAVP");
  ASSERT_EQ(m.crypto.size(), 1u);
  EXPECT_EQ(m.crypto[0].tag, 5u);
  EXPECT_EQ(m.crypto[0].suite, "AEAD_AES_128_GCM");
  EXPECT_EQ(m.crypto[0].key_params, "inline:" + b64(std::string(28, 'c')));
  const auto& keys = answer->negotiated.stream.srtp;
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->suite, SrtpSuite::aead_aes_128_gcm);
  EXPECT_EQ(keys->local_key, std::string(28, 'c'));
  EXPECT_EQ(keys->remote_key, kTheirsGcm);
}

TEST(SdpSrtp, SkipsLinesWeCannotHonour) {
  // RFC 4568's own example has an MKI (|1:32): not supported, skipped; a line
  // with UNENCRYPTED_SRTP is skipped; a key of the wrong length is skipped;
  // an unknown suite is skipped. The last line is usable (no padding: tolerated).
  std::string unpadded = b64(kTheirs80);
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
  const std::string offer = offer_text(
      "RTP/SAVP",
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
      "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" + b64(kTheirs80) + " UNENCRYPTED_SRTP\r\n"
      "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" + b64(std::string(16, 'x')) + "\r\n"
      "a=crypto:4 F8_128_HMAC_SHA1_80 inline:" + b64(kTheirs80) + "\r\n"
      "a=crypto:9 AES_CM_128_HMAC_SHA1_32 inline:" + unpadded + " WSH=128\r\n");
  auto answer = answer_offer(parsed(offer), local(SrtpPolicy::optional));
  ASSERT_TRUE(answer) << answer.error().message();
  ASSERT_EQ(answer->answer.media[0].crypto.size(), 1u);
  EXPECT_EQ(answer->answer.media[0].crypto[0].tag, 9u);
  EXPECT_EQ(answer->negotiated.stream.srtp->suite, SrtpSuite::aes_cm_128_hmac_sha1_32);
  EXPECT_EQ(answer->negotiated.stream.srtp->remote_key, kTheirs80);
}

TEST(SdpSrtp, PolicyDecidesWhatIsRefused) {
  const std::string savp_mki_only = offer_text(
      "RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n");
  const std::string savp = offer_text("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(kTheirs80) + "\r\n");
  const std::string avp_crypto = offer_text("RTP/AVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(kTheirs80) + "\r\n");
  const std::string plain = offer_text("RTP/AVP", "");

  auto refused = [](const base::Result<AnswerResult>& r) {
    return !r && r.error().is(SdpError::no_common_crypto);
  };
  EXPECT_TRUE(refused(answer_offer(parsed(savp_mki_only), local(SrtpPolicy::optional))));
  EXPECT_TRUE(refused(answer_offer(parsed(savp), local(SrtpPolicy::off))));
  EXPECT_TRUE(refused(answer_offer(parsed(plain), local(SrtpPolicy::mandatory))));

  auto clear = answer_offer(parsed(plain), local(SrtpPolicy::optional));
  ASSERT_TRUE(clear);
  EXPECT_FALSE(clear->negotiated.stream.srtp);
  EXPECT_TRUE(clear->answer.media[0].crypto.empty());

  // Best-effort SRTP offered to us (RTP/AVP + crypto): taken under optional
  // and mandatory, ignored under off.
  auto best_effort = answer_offer(parsed(avp_crypto), local(SrtpPolicy::mandatory));
  ASSERT_TRUE(best_effort);
  EXPECT_EQ(best_effort->answer.media[0].proto, "RTP/AVP");
  EXPECT_TRUE(best_effort->negotiated.stream.srtp);
  auto ignored = answer_offer(parsed(avp_crypto), local(SrtpPolicy::off));
  ASSERT_TRUE(ignored);
  EXPECT_FALSE(ignored->negotiated.stream.srtp);
  EXPECT_TRUE(ignored->answer.media[0].crypto.empty());
}

std::string answer_text(std::string_view proto, std::string_view crypto_lines) {
  return "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio 32000 " + std::string(proto) + " 0\r\n" + std::string(crypto_lines) + "a=sendrecv\r\n";
}

TEST(SdpSrtp, AcceptsAnAnswerThatPicksOneOfOurLines) {
  const SessionDescription offer = make_offer(local(SrtpPolicy::optional));
  auto n = accept_answer(offer, parsed(answer_text("RTP/AVP", "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" +
                                                                  b64(kTheirs80) + "|2^31\r\n")));
  ASSERT_TRUE(n) << n.error().message();
  ASSERT_TRUE(n->stream.srtp);
  EXPECT_EQ(n->stream.srtp->suite, SrtpSuite::aes_cm_128_hmac_sha1_32);
  EXPECT_EQ(n->stream.srtp->local_key, std::string(30, 'b'));  // ours for tag 2, read back from our offer
  EXPECT_EQ(n->stream.srtp->remote_key, kTheirs80);

  // A peer without SRTP answers plainly: plain RTP (optional policy).
  auto plain = accept_answer(offer, parsed(answer_text("RTP/AVP", "")));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->stream.srtp);
}

TEST(SdpSrtp, RefusesAnswersThatBreakTheExchange) {
  const SessionDescription optional = make_offer(local(SrtpPolicy::optional));
  const SessionDescription mandatory = make_offer(local(SrtpPolicy::mandatory));
  auto refused = [](const base::Result<Negotiated>& r) {
    return !r && r.error().is(SdpError::no_common_crypto);
  };
  EXPECT_TRUE(refused(accept_answer(mandatory, parsed(answer_text("RTP/SAVP", "")))));
  EXPECT_TRUE(refused(accept_answer(
      optional, parsed(answer_text("RTP/AVP", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + b64(kTheirs80) + "\r\n")))));
  EXPECT_TRUE(refused(accept_answer(  // tag 1 is our _80 line, not _32
      optional, parsed(answer_text("RTP/AVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" + b64(kTheirs80) + "\r\n")))));
  EXPECT_TRUE(refused(accept_answer(
      optional, parsed(answer_text("RTP/AVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b64("short") + "\r\n")))));
}

}  // namespace
}  // namespace sipline::gateway::sip
