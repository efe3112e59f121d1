#include "sip/sdp.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::sip {
namespace {

using media::AudioCodec;
using media::Direction;

// Captured from baresip 1.0.0 (Debian 12) dialing sip:201@127.0.0.1.
constexpr std::string_view kBaresipOffer =
    "v=0\r\n"
    "o=- 3916658761 842098415 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 31006 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:562160523 cname:sip:alice@127.0.0.1:25170\r\n"
    "a=minptime:20\r\n"
    "a=ptime:20\r\n";

// sipp 3.6.1's built-in uac_pcap scenario (sipp -sd uac_pcap), with its
// keywords filled in; LF line endings.
constexpr std::string_view kSippOffer =
    "v=0\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
    "s=-\n"
    "c=IN IP4 127.0.0.1\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 8 101\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-11,16\n"
    "\n";

LocalMedia local(std::vector<AudioCodec> codecs = {AudioCodec::pcmu, AudioCodec::pcma}) {
  return LocalMedia{.address = "192.0.2.10",
                    .port = 16400,
                    .codecs = std::move(codecs),
                    .dtmf_payload_type = 101,
                    .session_id = 42,
                    .session_version = 1,
                    .ptime_ms = 20,
                    .srtp = media::SrtpPolicy::off,
                    .keys = {}};
}

SessionDescription parse_ok(std::string_view text) {
  auto sdp = parse_sdp(text);
  EXPECT_TRUE(sdp) << sdp.error().message();
  return sdp ? *sdp : SessionDescription{};
}

TEST(Sdp, ParsesABaresipOffer) {
  auto sdp = parse_ok(kBaresipOffer);
  EXPECT_EQ(sdp.origin_user, "-");
  EXPECT_EQ(sdp.session_id, 3916658761u);
  EXPECT_EQ(sdp.session_version, 842098415u);
  EXPECT_EQ(sdp.origin_address, "127.0.0.1");
  EXPECT_EQ(sdp.connection_address, "127.0.0.1");
  ASSERT_EQ(sdp.media.size(), 1u);
  const SdpMedia& m = sdp.media[0];
  EXPECT_EQ(m.type, "audio");
  EXPECT_EQ(m.port, 31006);
  EXPECT_EQ(m.proto, "RTP/AVP");
  ASSERT_EQ(m.formats.size(), 3u);
  EXPECT_EQ(m.formats[0].payload_type, 0);
  EXPECT_EQ(m.formats[0].encoding, "PCMU");
  EXPECT_EQ(m.formats[1].encoding, "PCMA");
  EXPECT_EQ(m.formats[2].payload_type, 101);
  EXPECT_EQ(m.formats[2].encoding, "telephone-event");
  EXPECT_EQ(m.formats[2].clock_rate, 8000);
  EXPECT_EQ(m.formats[2].fmtp, "0-15");
  EXPECT_EQ(m.ptime_ms, 20);
  EXPECT_EQ(m.direction, Direction::sendrecv);
  EXPECT_EQ(m.other_attributes,
            (std::vector<std::string>{"label:1", "rtcp-rsize", "ssrc:562160523 cname:sip:alice@127.0.0.1:25170",
                                      "minptime:20"}));
}

TEST(Sdp, ParsesASippOfferWithLfEndings) {
  auto sdp = parse_ok(kSippOffer);
  EXPECT_EQ(sdp.origin_user, "user1");
  ASSERT_EQ(sdp.media.size(), 1u);
  ASSERT_EQ(sdp.media[0].formats.size(), 2u);
  EXPECT_EQ(sdp.media[0].formats[0].encoding, "PCMA");
  EXPECT_EQ(sdp.media[0].formats[1].fmtp, "0-11,16");
  EXPECT_EQ(sdp.media[0].port, 6000);
}

TEST(Sdp, KnowsStaticPayloadTypesWithoutRtpmap) {
  auto sdp = parse_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "m=audio 4000 RTP/AVP 8 0 96\r\n");
  ASSERT_EQ(sdp.media.at(0).formats.size(), 3u);
  EXPECT_EQ(sdp.media[0].formats[0].encoding, "PCMA");
  EXPECT_EQ(sdp.media[0].formats[1].encoding, "PCMU");
  EXPECT_EQ(sdp.media[0].formats[2].encoding, "");  // dynamic, no rtpmap
}

TEST(Sdp, AcceptsAllLineTypesAndIpv6) {
  auto sdp = parse_ok(
      "v=0\r\no=alice 1 2 IN IP6 2001:db8::1\r\ns=call\r\ni=info\r\nu=http://x\r\ne=a@b\r\np=+1 555\r\n"
      "c=IN IP6 2001:db8::1\r\nb=AS:64\r\nt=0 0\r\nr=604800 3600 0 90000\r\nz=2882844526 -1h\r\nk=prompt\r\n"
      "a=recvonly\r\nm=audio 5004 RTP/AVP 0\r\ni=media\r\nc=IN IP4 198.51.100.7\r\nb=TIAS:64000\r\n");
  EXPECT_EQ(sdp.session_name, "call");
  EXPECT_EQ(sdp.connection_address, "2001:db8::1");
  ASSERT_EQ(sdp.media.size(), 1u);
  EXPECT_EQ(sdp.media[0].connection_address, "198.51.100.7");
  EXPECT_EQ(sdp.media[0].direction, Direction::recvonly);  // from the session level
}

TEST(Sdp, PrintsInRfc4566OrderWithCrlf) {
  SessionDescription sdp;
  sdp.session_id = 7;
  sdp.session_version = 8;
  sdp.origin_address = "192.0.2.1";
  sdp.connection_address = "192.0.2.1";
  SdpMedia m;
  m.port = 4000;
  SdpFormat pcma;
  pcma.payload_type = 8;
  pcma.encoding = "PCMA";
  SdpFormat dtmf;
  dtmf.payload_type = 101;
  dtmf.encoding = "telephone-event";
  dtmf.fmtp = "0-16";
  m.formats = {pcma, dtmf};
  m.ptime_ms = 20;
  m.direction = Direction::sendonly;
  m.other_attributes = {"rtcp:4001"};
  sdp.media.push_back(m);
  EXPECT_EQ(print_sdp(sdp),
            "v=0\r\n"
            "o=- 7 8 IN IP4 192.0.2.1\r\n"
            "s=-\r\n"
            "c=IN IP4 192.0.2.1\r\n"
            "t=0 0\r\n"
            "m=audio 4000 RTP/AVP 8 101\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendonly\r\n"
            "a=rtcp:4001\r\n");
}

void expect_same(const SessionDescription& a, const SessionDescription& b) {
  EXPECT_EQ(a.origin_user, b.origin_user);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.session_version, b.session_version);
  EXPECT_EQ(a.origin_address, b.origin_address);
  EXPECT_EQ(a.session_name, b.session_name);
  EXPECT_EQ(a.connection_address, b.connection_address);
  ASSERT_EQ(a.media.size(), b.media.size());
  for (std::size_t i = 0; i < a.media.size(); ++i) {
    const auto& x = a.media[i];
    const auto& y = b.media[i];
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.port, y.port);
    EXPECT_EQ(x.proto, y.proto);
    EXPECT_EQ(x.connection_address, y.connection_address);
    EXPECT_EQ(x.direction, y.direction);
    EXPECT_EQ(x.ptime_ms, y.ptime_ms);
    EXPECT_EQ(x.other_attributes, y.other_attributes);
    ASSERT_EQ(x.formats.size(), y.formats.size());
    for (std::size_t f = 0; f < x.formats.size(); ++f) {
      EXPECT_EQ(x.formats[f].payload_type, y.formats[f].payload_type);
      EXPECT_EQ(x.formats[f].encoding, y.formats[f].encoding);
      EXPECT_EQ(x.formats[f].clock_rate, y.formats[f].clock_rate);
      EXPECT_EQ(x.formats[f].channels, y.formats[f].channels);
      EXPECT_EQ(x.formats[f].fmtp, y.formats[f].fmtp);
    }
  }
}

TEST(Sdp, RoundTripsThroughPrintAndParse) {
  for (auto text : {kBaresipOffer, kSippOffer}) {
    auto first = parse_ok(text);
    auto second = parse_ok(print_sdp(first));
    expect_same(first, second);
  }
  // A non-RTP stream keeps its format tokens.
  auto t38 = parse_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "m=image 4002 udptl t38\r\na=T38FaxVersion:0\r\n");
  auto again = parse_ok(print_sdp(t38));
  expect_same(t38, again);
  EXPECT_NE(print_sdp(t38).find("m=image 4002 udptl t38\r\n"), std::string::npos);
}

TEST(Sdp, ReportsGarbageAsASyntaxErrorWithItsLine) {
  auto r = parse_sdp("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nthis is not sdp\r\n");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SdpError::syntax));
  EXPECT_NE(r.error().message().find("line 4"), std::string::npos) << r.error().message();

  auto binary = parse_sdp(std::string_view("\x01\x02\x03garbage", 10));
  ASSERT_FALSE(binary);
  EXPECT_NE(binary.error().message().find("line 1"), std::string::npos) << binary.error().message();
}

TEST(Sdp, RequiresVersionZeroFirst) {
  auto missing = parse_sdp("o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("v=0"), std::string::npos);
  EXPECT_FALSE(parse_sdp("v=1\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"));
  EXPECT_FALSE(parse_sdp(""));
}

TEST(Sdp, RejectsTruncatedSdp) {
  const std::string full(kBaresipOffer);
  // Cut in the middle of the m= line, the c= address and the o= line.
  for (std::string_view cut : {"m=audio 31006 RTP", "c=IN IP4 127.0", "o=- 3916658761"}) {
    const auto at = full.find(cut) + cut.size();
    auto r = parse_sdp(std::string_view(full).substr(0, at));
    ASSERT_FALSE(r) << cut;
    EXPECT_NE(r.error().message().find("line "), std::string::npos);
  }
  auto bad_c = parse_sdp(std::string_view(full).substr(0, full.find("c=IN IP4 127.0") + 14));
  ASSERT_FALSE(bad_c);
  EXPECT_TRUE(bad_c.error().is(SdpError::bad_address));
}

TEST(Sdp, RejectsBadMediaLinesWithLineNumbers) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  for (std::string_view m : {"m=audio\r\n", "m=audio 70000 RTP/AVP 0\r\n", "m=audio x RTP/AVP 0\r\n",
                             "m=audio 4000 RTP/AVP 128\r\n", "m=audio 4000 RTP/AVP PCMU\r\n",
                             "m=audio 4000 RTP/AVP\r\n"}) {
    auto r = parse_sdp(head + std::string(m));
    ASSERT_FALSE(r) << m;
    EXPECT_TRUE(r.error().is(SdpError::syntax)) << m;
    EXPECT_NE(r.error().message().find("line 6"), std::string::npos) << r.error().message();
  }
}

TEST(Sdp, RejectsConnectionAddressesThatAreNotLiterals) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n";
  for (std::string_view c : {"c=IN IP4 pbx.example.org\r\n", "c=IN IP4 2001:db8::1\r\n", "c=ATM NSAP 47\r\n",
                             "c=IN IP6 10.0.0.1\r\n"}) {
    auto r = parse_sdp(head + std::string(c));
    ASSERT_FALSE(r) << c;
    EXPECT_TRUE(r.error().is(SdpError::bad_address)) << c;
    EXPECT_NE(r.error().message().find("line 4"), std::string::npos) << r.error().message();
  }
  // Found by the fuzzer: inet_pton stops at a NUL, so "127.0.0.1\0..." looked valid.
  const std::string nul = head + std::string("c=IN IP4 127.0.0.1\0:x\r\n", 23);
  auto r = parse_sdp(nul);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("line 4"), std::string::npos) << r.error().message();
}

TEST(SdpOfferAnswer, OfferListsCodecsThenTelephoneEvent) {
  auto offer = make_offer(local({AudioCodec::pcma, AudioCodec::pcmu}));
  const std::string text = print_sdp(offer);
  EXPECT_NE(text.find("m=audio 16400 RTP/AVP 8 0 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=fmtp:101 0-16\r\n"), std::string::npos);
  EXPECT_NE(text.find("c=IN IP4 192.0.2.10\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=sendrecv\r\n"), std::string::npos);

  auto no_dtmf = local();
  no_dtmf.dtmf_payload_type = -1;
  EXPECT_EQ(make_offer(no_dtmf).media.at(0).formats.size(), 2u);
}

TEST(SdpOfferAnswer, AnswerTakesTheOfferersFirstCommonCodec) {
  auto offer = parse_ok(kSippOffer);  // lists 8 (PCMA) first
  auto r = answer_offer(offer, local({AudioCodec::pcmu, AudioCodec::pcma}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->negotiated.codec_name, "PCMA");
  EXPECT_EQ(r->negotiated.stream.codec, AudioCodec::pcma);
  EXPECT_EQ(r->negotiated.stream.payload_type, 8);
  EXPECT_EQ(r->negotiated.stream.remote_address, "127.0.0.1");
  EXPECT_EQ(r->negotiated.stream.remote_port, 6000);
  EXPECT_EQ(r->negotiated.stream.direction, Direction::sendrecv);
  ASSERT_EQ(r->answer.media.size(), 1u);
  EXPECT_EQ(r->answer.media[0].port, 16400);
  EXPECT_EQ(r->answer.media[0].formats.at(0).payload_type, 8);
  EXPECT_EQ(r->answer.connection_address, "192.0.2.10");

  auto baresip = answer_offer(parse_ok(kBaresipOffer), local({AudioCodec::pcma, AudioCodec::pcmu}));
  ASSERT_TRUE(baresip);
  EXPECT_EQ(baresip->negotiated.codec_name, "PCMU");  // the offerer's order, not ours
}

TEST(SdpOfferAnswer, CarriesTelephoneEventWithTheOffersPayloadType) {
  auto offer = parse_ok(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n");
  auto r = answer_offer(offer, local());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->negotiated.stream.dtmf_payload_type, 96);
  const auto& f = r->answer.media.at(0).formats;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].payload_type, 96);
  EXPECT_EQ(f[1].encoding, "telephone-event");
  EXPECT_NE(print_sdp(r->answer).find("a=rtpmap:96 telephone-event/8000\r\n"), std::string::npos);

  // telephone-event at another rate is not ours.
  auto wideband = parse_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                           "m=audio 4000 RTP/AVP 0 97\r\na=rtpmap:97 telephone-event/48000\r\n");
  auto w = answer_offer(wideband, local());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->negotiated.stream.dtmf_payload_type, -1);
  EXPECT_EQ(w->answer.media.at(0).formats.size(), 1u);

  auto pcmu_only = answer_offer(parse_ok(kSippOffer), local({AudioCodec::pcmu}));
  EXPECT_FALSE(pcmu_only);
}

TEST(SdpOfferAnswer, NoCommonCodecIsAnError) {
  auto offer = parse_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 9 18 101\r\na=rtpmap:101 telephone-event/8000\r\n");
  auto r = answer_offer(offer, local());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(SdpError::no_common_codec));

  auto video_only = parse_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                             "m=video 4000 RTP/AVP 96\r\n");
  auto v = answer_offer(video_only, local());
  ASSERT_FALSE(v);
  EXPECT_TRUE(v.error().is(SdpError::no_audio));
}

TEST(SdpOfferAnswer, RejectsOtherStreamsWithPortZeroKeepingOrder) {
  auto offer = parse_ok(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
      "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
      "m=audio 4000 RTP/SAVP 0\r\n"
      "m=audio 4002 RTP/AVP 8\r\n"
      "m=audio 4004 RTP/AVP 0\r\n");
  auto r = answer_offer(offer, local());
  ASSERT_TRUE(r) << r.error().message();
  const auto& m = r->answer.media;
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].type, "video");
  EXPECT_EQ(m[0].port, 0);
  EXPECT_FALSE(m[0].formats.empty());
  EXPECT_EQ(m[1].port, 0);  // SRTP is not offered by us yet
  EXPECT_EQ(m[1].proto, "RTP/SAVP");
  EXPECT_EQ(m[2].port, 16400);
  EXPECT_EQ(m[3].port, 0);  // only one audio stream
  EXPECT_EQ(r->negotiated.stream.remote_port, 4002);
  EXPECT_EQ(r->negotiated.codec_name, "PCMA");
  // And the answer prints and parses again with the same structure.
  auto back = parse_ok(print_sdp(r->answer));
  EXPECT_EQ(back.media.size(), 4u);
}

TEST(SdpOfferAnswer, AnswersHoldWithTheMirroredDirection) {
  std::string held(kBaresipOffer);
  held.replace(held.find("a=sendrecv"), 10, "a=sendonly");
  auto r = answer_offer(parse_ok(held), local());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer.media.at(0).direction, Direction::recvonly);
  EXPECT_EQ(r->negotiated.stream.direction, Direction::recvonly);
  EXPECT_NE(print_sdp(r->answer).find("a=recvonly\r\n"), std::string::npos);

  std::string inactive(kBaresipOffer);
  inactive.replace(inactive.find("a=sendrecv"), 10, "a=inactive");
  auto i = answer_offer(parse_ok(inactive), local());
  ASSERT_TRUE(i);
  EXPECT_EQ(i->negotiated.stream.direction, Direction::inactive);

  // RFC 2543 hold: c=0.0.0.0 means "do not send to me".
  std::string old_style(kBaresipOffer);
  old_style.replace(old_style.find("c=IN IP4 127.0.0.1"), 18, "c=IN IP4 0.0.0.0");
  auto o = answer_offer(parse_ok(old_style), local());
  ASSERT_TRUE(o);
  EXPECT_EQ(o->negotiated.stream.direction, Direction::recvonly);
  EXPECT_EQ(o->negotiated.stream.remote_address, "0.0.0.0");
}

TEST(SdpOfferAnswer, AcceptsAnAnswerToOurOffer) {
  auto offer = make_offer(local());
  auto answer = parse_ok("v=0\r\no=bob 5 5 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                         "m=audio 30000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n");
  auto n = accept_answer(offer, answer);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->codec_name, "PCMA");
  EXPECT_EQ(n->stream.payload_type, 8);
  EXPECT_EQ(n->stream.dtmf_payload_type, 101);
  EXPECT_EQ(n->stream.remote_address, "198.51.100.2");
  EXPECT_EQ(n->stream.remote_port, 30000);
  EXPECT_EQ(n->stream.direction, Direction::sendonly);

  // Our own answer to our own offer closes the loop.
  auto ours = answer_offer(offer, local({AudioCodec::pcma}));
  ASSERT_TRUE(ours);
  auto loop = accept_answer(offer, ours->answer);
  ASSERT_TRUE(loop) << loop.error().message();
  EXPECT_EQ(loop->codec_name, "PCMA");
  EXPECT_EQ(loop->stream.remote_port, 16400);
}

TEST(SdpOfferAnswer, RejectsAnAnswerWithACodecWeDidNotOffer) {
  auto offer = make_offer(local({AudioCodec::pcmu}));
  auto answer = parse_ok("v=0\r\no=bob 5 5 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                         "m=audio 30000 RTP/AVP 8\r\n");
  auto n = accept_answer(offer, answer);
  ASSERT_FALSE(n);
  EXPECT_TRUE(n.error().is(SdpError::no_common_codec));
  EXPECT_NE(n.error().message().find("PCMA"), std::string::npos);

  auto two_lines = answer;
  two_lines.media.push_back(two_lines.media[0]);
  EXPECT_FALSE(accept_answer(offer, two_lines));

  auto rejected = parse_ok("v=0\r\no=bob 5 5 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                           "m=audio 0 RTP/AVP 0\r\n");
  auto rj = accept_answer(offer, rejected);
  ASSERT_FALSE(rj);
  EXPECT_TRUE(rj.error().is(SdpError::no_audio));
}

}  // namespace
}  // namespace sipline::gateway::sip
