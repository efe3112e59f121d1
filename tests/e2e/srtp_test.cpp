// SRTP keyed by SDES (RFC 4568) against baresip 1.0's srtp module, with a
// packet capture (tshark on lo) as the witness:
//  - baresip registers as alice with digest auth (MD5; the gateway trusts no
//    address), calls a simulated phone offering RTP/SAVP (mediaenc=srtp-mand)
//    to a gateway whose policy is mandatory: audio flows both ways (baresip's
//    1000 Hz heard by the phone, the phone's 697 Hz recorded by baresip), and
//    the capture of the gateway's RTP ports shows neither tone: the payloads
//    are ciphertext;
//  - the same call and the same capture analysis with SRTP off on both sides
//    finds both tones in the clear, so the analysis can tell the difference;
//  - with the mandatory policy, an INVITE offering plain RTP gets 488;
//  - a phone calls baresip under the optional policy (RTP/AVP with a=crypto,
//    best effort) and baresip (mediaenc=srtp) answers with SRTP.
#include <sys/types.h>

#include <csignal>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/baresip.hpp"
#include "harness/gateway_under_test.hpp"
#include "harness/process.hpp"
#include "harness/sip_udp.hpp"
#include "harness/tools.hpp"
#include "harness/wav_analysis.hpp"
#include "sipline/dsp/g711.hpp"

namespace sipline::test {
namespace {

GatewayOptions srtp_options(const std::string& policy) {
  GatewayOptions o;
  o.phones[0].auto_answer_ms = 300;
  o.extra_toml = "\n[auth]\n"
                 "algorithms = [\"MD5\"]\n"
                 "trusted = []\n"
                 "\n[[user]]\n"
                 "name = \"alice\"\n"
                 "password = \"secret\"\n";
  o.media_extra_toml = "srtp = \"" + policy + "\"\n";
  return o;
}

// The audio in the G.711 payloads of one direction of a capture.
struct CapturedAudio {
  MonoAudio to_gateway;    // packets whose destination is one of the gateway's RTP ports
  MonoAudio from_gateway;
  int packets = 0;
};

// tshark on lo, capturing UDP into `path` until stop().
class Capture {
 public:
  bool start(const std::string& dir) {
    path_ = dir + "/rtp.pcap";
    ProcessOptions po = command({"tshark", "-i", "lo", "-n", "-q", "-f", "udp", "-w", path_}, dir + "/tshark.log");
    if (!process_.start(po)) return false;
    // tshark says so on stderr once the interface is open.
    return process_.wait_for_log("Capturing on", std::chrono::seconds(10));
  }
  void stop() {
    if (process_.pid() > 0 && process_.running()) {
      process_.send_signal(SIGINT);
      process_.terminate(std::chrono::seconds(5));
    }
  }
  const std::string& path() const { return path_; }
  std::string log() const { return process_.log_tail(); }

 private:
  Process process_;
  std::string path_;
};

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ':') {
      --i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Reads the capture's UDP payloads on even ports in [rtp_min, rtp_max] and
// decodes each as a 20 ms G.711 RTP packet, as an eavesdropper would.
CapturedAudio decode_capture(const std::string& pcap, std::uint16_t rtp_min, std::uint16_t rtp_max,
                             const std::string& log_path, std::string* error) {
  CapturedAudio out;
  const ToolRun run = run_tool({"tshark", "-r", pcap, "-n", "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport",
                                "-e", "udp.payload"},
                               log_path, std::chrono::seconds(60));
  if (!run.finished || run.exit_code != 0) {
    *error = "tshark -r failed: " + run.output.substr(0, 2000);
    return out;
  }
  std::istringstream lines(run.output);
  std::string line;
  auto ours = [&](int port) { return port >= rtp_min && port <= rtp_max && port % 2 == 0; };
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    int src = 0, dst = 0;
    std::string hex;
    if (!(f >> src >> dst >> hex)) continue;
    if (!ours(src) && !ours(dst)) continue;
    const auto bytes = from_hex(hex);
    if (bytes.size() < 12 + 160 || (bytes[0] >> 6) != 2) continue;
    const int pt = bytes[1] & 0x7f;
    if (pt != 0 && pt != 8) continue;
    std::vector<std::int16_t> pcm(160);
    dsp::g711_decode(pt == 0 ? dsp::G711Law::ulaw : dsp::G711Law::alaw,
                     std::span<const std::uint8_t>(bytes.data() + 12, 160), pcm);
    MonoAudio& audio = ours(dst) ? out.to_gateway : out.from_gateway;
    audio.samples.insert(audio.samples.end(), pcm.begin(), pcm.end());
    ++out.packets;
  }
  return out;
}

class SrtpTest : public GatewayTest {
 protected:
  // baresip registered as alice at the gateway, with `mediaenc` ("" = none).
  bool start_alice(Baresip& phone, const std::string& mediaenc, const std::string& answermode) {
    BaresipOptions bo;
    bo.dir = gw.peer_dir("baresip");
    bo.lifetime_s = 60;
    bo.account = "<sip:alice@127.0.0.1:" + std::to_string(gw.sip_port()) + ">;auth_pass=secret;regint=120;answermode=" +
                 answermode + (mediaenc.empty() ? "" : ";mediaenc=" + mediaenc);
    if (!phone.start(bo)) {
      ADD_FAILURE() << phone.error();
      return false;
    }
    const bool registered = poll_until(
        [&] {
          const Json users = gw.request({{"cmd", "users"}});
          return users.value("ok", false) && users.contains("users") && !users["users"].empty();
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(registered) << phone.diagnostics() << "\n" << gw.process().log_tail();
    return registered;
  }

  // baresip calls phone 1 (201); audio both ways; the capture's analysis.
  void call_phone_and_capture(const std::string& mediaenc, bool expect_srtp) {
    Baresip phone;
    ASSERT_TRUE(start_alice(phone, mediaenc, "manual"));
    Capture capture;
    ASSERT_TRUE(capture.start(gw.peer_dir("tshark"))) << capture.log();

    ASSERT_TRUE(phone.ctrl().send("dial", "sip:201@127.0.0.1:" + std::to_string(gw.sip_port())));
    ASSERT_TRUE(gw.wait_line_state(1, "connected", 15s)) << gw.describe() << "\n" << phone.diagnostics();
    const Json calls = gw.calls();
    ASSERT_EQ(calls["calls"].size(), 1u) << calls.dump();
    const std::string srtp = calls["calls"][0].value("srtp", "");
    if (expect_srtp) {
      EXPECT_NE(srtp, "off") << calls.dump();
      EXPECT_FALSE(srtp.empty()) << calls.dump();
    } else {
      EXPECT_EQ(srtp, "off") << calls.dump();
    }

    ASSERT_TRUE(is_ok(gw.phone(1, "listen", {{"hz", 1000}})));
    const auto heard = gw.wait_listen_ratio(1, 0.3, 5s);
    EXPECT_TRUE(heard.sustained) << "1000 Hz at the phone: " << heard.history;
    ASSERT_TRUE(is_ok(gw.phone(1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));
    std::this_thread::sleep_for(2s);
    ASSERT_TRUE(is_ok(gw.phone(1, "stop")));
    const Json during = gw.calls();
    ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
    EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
    capture.stop();
    phone.quit();

    // baresip decrypted and recorded the phone's tone.
    const auto dec = phone.recording("-dec.wav");
    ASSERT_TRUE(dec.has_value()) << "no dump-*-dec.wav in " << phone.rec_dir();
    std::string error;
    const auto received = load_mono(*dec, &error);
    ASSERT_TRUE(received.has_value()) << error;
    EXPECT_GE(tone_windows(*received, 697, 0.5).above, 10) << "baresip did not hear the phone's 697 Hz";
    // Nothing authentic was dropped on our side. libre (baresip) opens the
    // RTCP path with one plain RTCP APP packet ("PINGPONG") before its first
    // SRTCP report: that one must fail authentication, nothing else may.
    const int failures = during["calls"][0]["rtp"].value("srtp_failures", -1);
    EXPECT_GE(failures, 0) << during.dump();
    EXPECT_LE(failures, expect_srtp ? 1 : 0) << during.dump();

    const CapturedAudio wire = decode_capture(capture.path(), gw.rtp_port_min(), gw.rtp_port_max(),
                                              gw.peer_dir("tshark") + "/read.log", &error);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_GT(wire.packets, 100) << "the capture holds too few RTP packets to judge: " << capture.log();
    const auto in = tone_windows(wire.to_gateway, 1000, 0.3);
    const auto out = tone_windows(wire.from_gateway, 697, 0.3);
    if (expect_srtp) {
      EXPECT_EQ(in.above, 0) << "baresip's 1000 Hz is audible on the wire (best ratio " << in.max_ratio << ")";
      EXPECT_EQ(out.above, 0) << "the phone's 697 Hz is audible on the wire (best ratio " << out.max_ratio << ")";
    } else {
      EXPECT_GE(in.above, 10) << "plain RTP: 1000 Hz should be on the wire (best ratio " << in.max_ratio << ")";
      EXPECT_GE(out.above, 10) << "plain RTP: 697 Hz should be on the wire (best ratio " << out.max_ratio << ")";
    }
  }
};

TEST_F(SrtpTest, RegisteredBaresipCallsAPhoneOverSrtpAndTheWireShowsNoAudio) {
  if (!require_tool("baresip") || !require_tool("tshark")) return;
  ASSERT_TRUE(start_gateway(srtp_options("mandatory")));
  call_phone_and_capture("srtp-mand", true);
}

TEST_F(SrtpTest, TheSameCallInPlainRtpShowsBothTonesOnTheWire) {
  if (!require_tool("baresip") || !require_tool("tshark")) return;
  ASSERT_TRUE(start_gateway(srtp_options("off")));
  call_phone_and_capture("", false);
}

TEST_F(SrtpTest, MandatoryPolicyRefusesAPlainRtpOfferWith488) {
  GatewayOptions options = srtp_options("mandatory");
  options.extra_toml = "";  // trusted loopback: the hand-made INVITE needs no credentials
  ASSERT_TRUE(start_gateway(options));
  const std::string response = invite_final_response(gw.sip_port(), "201", 5s);
  EXPECT_EQ(response.rfind("SIP/2.0 488", 0), 0u) << response;
  EXPECT_EQ(gw.lines()["lines"][0].value("state", ""), "idle") << gw.lines().dump();
  EXPECT_NE(gw.process().log_text().find("media.srtp is mandatory"), std::string::npos) << gw.process().log_tail();
}

TEST_F(SrtpTest, PhoneCallsBaresipWithBestEffortSrtp) {
  if (!require_tool("baresip")) return;
  GatewayOptions options = srtp_options("optional");
  options.extra_toml = "";
  Baresip phone;  // local account; answers by itself with SRTP if offered
  options.dial_plan = {{.pattern = "3XX", .target = "sip:alice@127.0.0.1:{baresip}"}};
  ASSERT_TRUE(phone.start({.dir = gw.peer_dir("baresip"),
                           .ausine_hz = 1000,
                           .answermode = "auto",
                           .account_params = ";mediaenc=srtp"}))
      << phone.error();
  options.dial_plan[0].target = "sip:alice@127.0.0.1:" + std::to_string(phone.sip_port());
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(is_ok(gw.phone(1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(1, "listen", {{"hz", 1000}})));
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "301"}})));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 10s)) << gw.describe() << "\n" << phone.diagnostics();
  const auto heard = gw.wait_listen_ratio(1, 0.5, 5s);
  EXPECT_TRUE(heard.sustained) << heard.history;
  const Json calls = gw.calls();
  ASSERT_EQ(calls["calls"].size(), 1u) << calls.dump();
  EXPECT_NE(calls["calls"][0].value("srtp", "off"), "off") << calls.dump() << "\n" << phone.diagnostics();
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  phone.quit();
}

}  // namespace
}  // namespace sipline::test
