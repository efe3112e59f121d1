// The RFC 4475 SIP torture messages (tests/fixtures/rfc4475/*.dat, byte for
// byte as the RFC's Appendix A archive holds them) sent one by one from
// 127.0.0.1 to the daemon, over UDP, or over TCP when the message's Via names
// TCP. For each, the outcome the RFC's own description asks of a correct
// element (kCases, with the section):
//  - valid requests (§3.1.1, §3.2, §3.3, §3.4) are answered as any such
//    request: OPTIONS 200, an unknown method 405/501, an INVITE to a user the
//    gateway does not have 404 (481 inside an unknown dialog), an unknown URI
//    scheme 416, an unknown Require 420, REGISTER the registrar's 401
//    challenge; never a 400;
//  - invalid requests (§3.1.2) get 400, or, where the RFC allows it, the
//    answer of a liberal parser;
//  - responses that match no transaction (§3.1.1.12-13, §3.1.2.5, §3.1.2.19,
//    §3.3.10) are dropped silently.
// Four requests are discarded by Sofia-SIP's parser or Via check instead of
// answered (§3.1.1.2, §3.1.2.1, §3.1.2.8, §3.1.2.16); kCases asserts that and
// says what the RFC wants. No message may ring a phone or start a call, and
// afterwards the daemon still completes a normal call (sipp UAC to phone 201,
// which answers).
//
// The messages name hosts like 192.0.2.x and example.com in their Via headers,
// and a SIP stack sends responses where the Via says (RFC 3261 §18.2.2: to the
// source address, received=, at the Via's port). So the test runs in its own
// network namespace with only `lo` (harness/netns.hpp): no response and no DNS
// query can leave the machine. UDP responses come back to 127.0.0.1 at the
// Via's port, 5060 when it names none, so the test sends from and listens on
// 5060 (and on 5050, the port of quotbal.dat's Via).
#include <chrono>
#include <cstdint>
#include <cctype>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/netns.hpp"
#include "harness/process.hpp"
#include "harness/sip_udp.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/rfc4475";

// What a correct element does with the message.
enum class Expect {
  answer,   // a final response whose status is one of `statuses`
  dropped,  // no response at all
};

struct TortureCase {
  const char* file;
  const char* section;  // RFC 4475 section
  Expect expect;
  std::set<int> statuses = {};  // for Expect::answer
  // A second request in the same datagram that must get no answer (§3.1.1.8).
  const char* ignored_call_id = "";
};

// An INVITE to a user the gateway does not have (RFC 3261 §8.2.2.1: 404; a
// gateway may also say 480 or 484). Never 400 for a valid message.
const std::set<int> kUnknownUser = {404, 480, 484};
const std::set<int> kUnknownMethod = {405, 501};  // RFC 3261 §8.2.1
const std::set<int> kChallenge = {401};            // the registrar's digest challenge (RFC 3261 §10.3 step 3)

// Messages whose Via names TCP are sent over TCP (Sofia drops a request whose
// Via names another transport than the one it came by); bext01's Via names
// TLS, which the gateway does not serve here, so it goes over UDP with its Via
// saying UDP (see send_case).
const std::vector<TortureCase> kCases = {
    // 3.1.1 Valid messages: parsed and processed as usual.
    // wsinv's To carries a tag: a request inside a dialog we do not have, 481
    // (RFC 3261 §12.2.2).
    {"wsinv.dat", "3.1.1.1", Expect::answer, {481}},
    // §3.1.1.2: valid, to be answered 405/501. Its To display name holds the
    // quoted-pairs \NUL, \BEL and \DEL; Sofia-SIP's parser takes the NUL for
    // the end of the message and discards it as garbage ("received garbage").
    // Wrong (a valid request goes unanswered) but harmless; the fix is in Sofia.
    {"intmeth.dat", "3.1.1.2", Expect::dropped},
    {"esc01.dat", "3.1.1.3", Expect::answer, kUnknownUser},
    {"escnull.dat", "3.1.1.4", Expect::answer, kChallenge},
    {"esc02.dat", "3.1.1.5", Expect::answer, kUnknownMethod},  // RE%47IST%45R is not REGISTER
    {"lwsdisp.dat", "3.1.1.6", Expect::answer, {200}},
    {"longreq.dat", "3.1.1.7", Expect::answer, kUnknownUser},
    // The REGISTER is answered; the INVITE after its Content-Length is ignored.
    {"dblreq.dat", "3.1.1.8", Expect::answer, kChallenge, "dblreq.0ha0isnda977644900765@192.0.2.15"},
    {"semiuri.dat", "3.1.1.9", Expect::answer, {200}},
    {"transports.dat", "3.1.1.10", Expect::answer, {200}},
    {"mpart01.dat", "3.1.1.11", Expect::answer, kUnknownMethod},  // MESSAGE: not a method of this gateway
    {"unreason.dat", "3.1.1.12", Expect::dropped},  // a response matching no transaction
    {"noreason.dat", "3.1.1.13", Expect::dropped},
    // 3.1.2 Invalid messages.
    // §3.1.2.1 asks for 400; Sofia-SIP cannot parse the Via and discards the
    // request (nta). Wrong, but harmless; the fix is in Sofia, not here.
    {"badinv01.dat", "3.1.2.1", Expect::dropped},
    {"clerr.dat", "3.1.2.2", Expect::answer, {400}},
    {"ncl.dat", "3.1.2.3", Expect::answer, {400}},
    {"scalar02.dat", "3.1.2.4", Expect::answer, {400}},
    {"scalarlg.dat", "3.1.2.5", Expect::dropped},
    {"quotbal.dat", "3.1.2.6", Expect::answer, {400}},
    {"ltgtruri.dat", "3.1.2.7", Expect::answer, {400}},
    // §3.1.2.8 asks for 400 (or accepting the URI without the LWS); Sofia-SIP
    // discards a Request-Line it cannot split. Wrong but harmless.
    {"lwsruri.dat", "3.1.2.8", Expect::dropped},
    {"lwsstart.dat", "3.1.2.9", Expect::answer, {400, 404, 480, 484}},  // 400, or ignore the extra SPs
    {"trws.dat", "3.1.2.10", Expect::answer, {400, 200}},               // 400, or ignore the trailing SPs
    {"escruri.dat", "3.1.2.11", Expect::answer, {400, 404, 480, 484}},  // 400, or ignore the escaped headers
    {"baddate.dat", "3.1.2.12", Expect::answer, {400, 404, 480, 484}},  // 400, or ignore the bad Date
    {"regbadct.dat", "3.1.2.13", Expect::answer, {400, 401}},           // 400, or infer the <>
    {"badaspec.dat", "3.1.2.14", Expect::answer, {400, 200}},           // 400, or ignore the spaces
    {"baddn.dat", "3.1.2.15", Expect::answer, {400, 200}},              // 400, or accept the display names
    // §3.1.2.16 asks for 505 Version Not Supported; Sofia-SIP's Via check
    // rejects "SIP/7.0/UDP" and discards the request. Wrong but harmless.
    {"badvers.dat", "3.1.2.16", Expect::dropped},
    {"mismatch01.dat", "3.1.2.17", Expect::answer, {400}},
    {"mismatch02.dat", "3.1.2.18", Expect::answer, {400}},
    {"bigcode.dat", "3.1.2.19", Expect::dropped},
    // 3.2 Transaction layer: a branch of just the magic cookie is still valid.
    {"badbranch.dat", "3.2.1", Expect::answer, {200}},
    // 3.3 Application layer.
    {"insuf.dat", "3.3.1", Expect::answer, {400}},
    {"unkscm.dat", "3.3.2", Expect::answer, {416}},
    {"novelsc.dat", "3.3.3", Expect::answer, {416}},
    // A registrar rejects the non-SIP AOR with 400 (§3.3.4), which RFC 3261
    // §10.3 checks after authentication (step 5 after step 3): 401 first.
    {"unksm2.dat", "3.3.4", Expect::answer, {400, 401}},
    {"bext01.dat", "3.3.5", Expect::answer, {420}},
    // 415 (§3.3.6); RFC 3261 §8.2.2.1 checks the Request-URI first: 404 too.
    {"invut.dat", "3.3.6", Expect::answer, {415, 404, 480, 484}},
    // An unknown Authorization scheme is ignored: a fresh Digest challenge.
    {"regaut01.dat", "3.3.7", Expect::answer, kChallenge},
    {"multi01.dat", "3.3.8", Expect::answer, {400}},
    {"mcl01.dat", "3.3.9", Expect::answer, {400}},
    {"bcast.dat", "3.3.10", Expect::dropped},
    {"zeromf.dat", "3.3.11", Expect::answer, {200}},  // Max-Forwards 0 at its target: answered normally
    {"cparam01.dat", "3.3.12", Expect::answer, kChallenge},
    {"cparam02.dat", "3.3.13", Expect::answer, kChallenge},
    {"regescrt.dat", "3.3.14", Expect::answer, kChallenge},
    // 406 (§3.3.15); RFC 3261 §8.2.2.1 checks the Request-URI first: 404 too.
    {"sdp01.dat", "3.3.15", Expect::answer, {406, 404, 480, 484}},
    // 3.4 Backward compatibility: RFC 2543 syntax (no branch).
    {"inv2543.dat", "3.4.1", Expect::answer, kUnknownUser},
};

std::string fixture(const std::string& file) {
  std::ifstream in(kFixtures + "/" + file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string head_of(const std::string& message) { return message.substr(0, message.find("\r\n\r\n") + 2) + "\r\n"; }

// The value of header `name` or its compact form in the message's head.
std::string header_of(const std::string& message, const std::string& name, const std::string& compact = "") {
  const std::string head = head_of(message);
  std::string v = sip_header(head, name);
  if (v.empty() && !compact.empty()) v = sip_header(head, compact);
  return v;
}

std::string first_line(const std::string& message) { return message.substr(0, message.find("\r\n")); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The transport the message's top Via names: "UDP", "TCP" or "TLS".
std::string via_transport(const std::string& message) {
  std::string head = head_of(message);
  for (auto at = head.find("\r\n "); at != std::string::npos; at = head.find("\r\n ")) head.replace(at, 2, "");
  for (auto at = head.find("\r\n\t"); at != std::string::npos; at = head.find("\r\n\t")) head.replace(at, 2, "");
  std::istringstream in(head);
  std::string line;
  while (std::getline(in, line)) {
    const std::string u = upper(line);
    if (u.rfind("VIA", 0) != 0 && u.rfind("V ", 0) != 0 && u.rfind("V:", 0) != 0) continue;
    for (const char* t : {"TLS", "TCP", "UDP"}) {
      if (u.find(t) != std::string::npos) return t;
    }
  }
  return "UDP";
}

// The ACK for a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3):
// the INVITE's Request-URI, the response's top Via, From, To, Call-ID and
// CSeq number.
std::string ack_for(const std::string& invite, const std::string& response) {
  std::istringstream start(first_line(invite));
  std::string method, uri;
  start >> method >> uri;
  std::istringstream cseq(header_of(response, "CSeq"));
  std::string number;
  cseq >> number;
  return "ACK " + uri + " SIP/2.0\r\nVia: " + header_of(response, "Via", "v") +
         "\r\nMax-Forwards: 70\r\nFrom: " + header_of(response, "From", "f") + "\r\nTo: " +
         header_of(response, "To", "t") + "\r\nCall-ID: " + header_of(response, "Call-ID", "i") + "\r\nCSeq: " +
         number + " ACK\r\nContent-Length: 0\r\n\r\n";
}

std::string statuses_of(const std::vector<std::string>& msgs) {
  std::string out;
  for (const auto& m : msgs) out += (sip_status(m) ? std::to_string(sip_status(m)) : first_line(m)) + " ";
  return out.empty() ? "(nothing)" : out;
}

// Sends the torture messages and collects what comes back. Over UDP it sends
// from 127.0.0.1:5060 and listens there and on 5050 (quotbal.dat's Via port);
// over TCP it opens a connection per message and reads the answers from it.
class TorturePeer {
 public:
  explicit TorturePeer(std::uint16_t gw_port) : gw_port_(gw_port), p5060_(5060), p5050_(5050) {}
  bool ok() const { return p5060_.ok() && p5050_.ok(); }

  // Everything that came back for `c` within `window` (its Call-ID, or its
  // CSeq when it has no Call-ID), and in `ignored` anything for c.ignored_call_id.
  std::vector<std::string> exchange(const TortureCase& c, std::string message, std::chrono::milliseconds window,
                                    std::vector<std::string>* ignored) {
    const std::string call_id = header_of(message, "Call-ID", "i");
    const std::string cseq = header_of(message, "CSeq");
    const bool invite = upper(cseq).find("INVITE") != std::string::npos;
    const std::string transport = via_transport(message);
    std::unique_ptr<SipTcpPeer> tcp;
    if (transport == "TCP") {
      tcp = std::make_unique<SipTcpPeer>(gw_port_);
      if (!tcp->ok() || !tcp->send(message)) return {"(cannot send over TCP)"};
    } else {
      if (transport == "TLS") {
        // No TLS here: the same request as it would arrive over UDP.
        const auto at = upper(message).find("SIP/2.0/TLS");
        if (at != std::string::npos) message.replace(at, 11, "SIP/2.0/UDP");
      }
      if (!p5060_.send_to(gw_port_, message)) return {"(cannot send over UDP)"};
    }
    std::vector<std::string> mine;
    const auto deadline = std::chrono::steady_clock::now() + window;
    auto settle = deadline;
    bool final_seen = false;
    while (std::chrono::steady_clock::now() < std::min(deadline, settle)) {
      std::vector<std::string> got;
      if (tcp) {
        if (auto m = tcp->receive(std::chrono::milliseconds(30))) got.push_back(*m);
      } else {
        for (SipUdpPeer* p : {&p5060_, &p5050_}) {
          if (auto m = p->receive(std::chrono::milliseconds(15))) got.push_back(*m);
        }
      }
      for (const auto& m : got) {
        const std::string id = header_of(m, "Call-ID", "i");
        if (*c.ignored_call_id != '\0' && id == c.ignored_call_id) ignored->push_back(m);
        const bool match = call_id.empty() ? (id.empty() && header_of(m, "CSeq") == cseq) : id == call_id;
        if (!match) continue;  // a retransmission for an earlier message
        mine.push_back(m);
        const int status = sip_status(m);
        if (status >= 300 && invite) {
          const std::string ack = ack_for(message, m);
          if (tcp) {
            tcp->send(ack);
          } else {
            p5060_.send_to(gw_port_, ack);
          }
        }
        if (!final_seen && status >= 200) {
          final_seen = true;  // a little longer, for anything else it sends
          settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
        }
      }
    }
    return mine;
  }

 private:
  std::uint16_t gw_port_;
  SipUdpPeer p5060_;
  SipUdpPeer p5050_;
};

class TortureTest : public GatewayTest {};

TEST_F(TortureTest, AnswersEveryRfc4475MessageAsTheRfcSaysAndStillCompletesACall) {
  if (!enter_loopback_only_netns()) return;
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.phones = {{"fxs1", "201", 300}, {"fxs2", "202", 300}};
  // The registrar answers REGISTER (with its challenge); the default
  // auth.trusted (127.0.0.0/8) lets the INVITEs reach routing unchallenged.
  options.extra_toml = "\n[registrar]\ndatabase = \"" + gw.dir() + "/bindings.sqlite\"\n" +
                       "\n[[user]]\nname = \"alice\"\npassword = \"secret\"\n";
  ASSERT_TRUE(start_gateway(options));
  TorturePeer peer(gw.sip_port());
  ASSERT_TRUE(peer.ok()) << "cannot listen on 127.0.0.1:5060 and :5050 in the namespace";

  std::string table;
  for (const TortureCase& c : kCases) {
    SCOPED_TRACE(std::string(c.file) + " (RFC 4475 §" + c.section + ")");
    const std::string message = fixture(c.file);
    ASSERT_FALSE(message.empty()) << "missing fixture";
    std::vector<std::string> ignored;
    const auto window = std::chrono::milliseconds(c.expect == Expect::dropped ? 1000 : 3000);
    const auto got = peer.exchange(c, message, window, &ignored);
    table += std::string("  §") + c.section + " " + c.file + " (" + via_transport(message) + ") -> " +
             statuses_of(got) + "\n";
    std::string transcript;
    for (const auto& m : got) transcript += "<<<\n" + m + "\n";
    int final_status = 0;
    for (const auto& m : got) {
      if (sip_status(m) >= 200) {
        final_status = sip_status(m);
        break;
      }
    }
    if (c.expect == Expect::dropped) {
      EXPECT_TRUE(got.empty()) << transcript;
    } else {
      EXPECT_EQ(c.statuses.count(final_status), 1u) << "final " << final_status << "\n" << transcript;
    }
    EXPECT_TRUE(ignored.empty()) << "answered the request after Content-Length:\n" << statuses_of(ignored);
    ASSERT_TRUE(gw.process().running()) << gw.process().describe_exit() << "\n" << gw.process().log_tail(40);
  }
  std::cout << "[ torture ] outcomes:\n" << table;

  // Nothing rang and no call exists.
  EXPECT_TRUE(is_ok(gw.status()));
  EXPECT_EQ(gw.call_count(), 0u) << gw.calls().dump();
  for (int line : {1, 2}) {
    const Json l = gw.line(line);
    ASSERT_TRUE(l.is_object()) << gw.describe();
    EXPECT_EQ(l.value("state", std::string()), "idle") << gw.describe();
    EXPECT_EQ(l["phone"].value("rings", -1), 0) << gw.describe();
  }

  // A normal call still works: sipp calls phone 201, which answers.
  Sipp sipp(gw.peer_dir("sipp"));
  SippOptions so;
  so.scenario_file = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp/uac_pcap.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "201";
  so.timeout_s = 20;
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();
  ASSERT_TRUE(sipp.wait(std::chrono::seconds(25))) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_GE(gw.line(1)["phone"].value("rings", -1), 1) << gw.describe();
  EXPECT_TRUE(gw.process().running()) << gw.process().describe_exit();
}

}  // namespace
}  // namespace sipline::test
