// baresip 1.0 as a softphone calling a simulated phone: audio both ways
// (ausine 1000 Hz into the call, the phone's 697 Hz recorded by sndfile) and
// an RFC 4733 digit from the phone to baresip. Configured as in PEERS.md (plus
// the menu module, which provides ctrl_tcp's commands), in
// its own directory with its own ports; controlled over ctrl_tcp (netstrings of JSON).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/ports.hpp"
#include "harness/tools.hpp"
#include "harness/wav_analysis.hpp"

namespace sipline::test {
namespace {

// A ctrl_tcp client: sends commands, collects the JSON events and responses baresip pushes.
class BaresipCtrl {
 public:
  ~BaresipCtrl() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect_to(std::uint16_t port, std::chrono::milliseconds timeout) {
    return poll_until(
        [&] {
          fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          sockaddr_in addr{};
          addr.sin_family = AF_INET;
          addr.sin_port = htons(port);
          addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
          ::close(fd_);
          fd_ = -1;
          return false;
        },
        timeout, 100ms);
  }
  bool send(const std::string& command, const std::string& params = "") {
    Json j = {{"command", command}, {"token", "t" + std::to_string(++token_)}};
    if (!params.empty()) j["params"] = params;
    const std::string body = j.dump();
    const std::string frame = std::to_string(body.size()) + ":" + body + ",";
    return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size());
  }
  // Reads what has arrived (waiting up to `wait`) and parses complete netstrings.
  void pump(std::chrono::milliseconds wait) {
    if (fd_ < 0) return;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(wait.count())) <= 0) return;
    char buf[8192];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    while (true) {
      const auto colon = buffer_.find(':');
      if (colon == std::string::npos) break;
      const std::size_t len = std::stoul(buffer_.substr(0, colon));
      if (buffer_.size() < colon + 1 + len + 1) break;
      auto j = Json::parse(buffer_.substr(colon + 1, len), nullptr, false);
      if (!j.is_discarded()) messages_.push_back(j);
      buffer_.erase(0, colon + 1 + len + 1);
    }
  }
  // True once an event of `type` (with `param` if given) has arrived.
  bool wait_event(const std::string& type, const std::string& param, std::chrono::milliseconds timeout) {
    return poll_until(
        [&] {
          pump(20ms);
          return has_event(type, param);
        },
        timeout, 10ms);
  }
  bool has_event(const std::string& type, const std::string& param) const {
    for (const auto& m : messages_) {
      if (m.value("event", false) && m.value("type", "") == type &&
          (param.empty() || m.value("param", "") == param)) {
        return true;
      }
    }
    return false;
  }
  std::string transcript() const {
    std::string out;
    for (const auto& m : messages_) out += m.dump() + "\n";
    return out;
  }

 private:
  int fd_ = -1;
  int token_ = 0;
  std::string buffer_;
  std::vector<Json> messages_;
};

std::optional<std::string> find_dump(const std::string& dir, const std::string& suffix) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("dump-", 0) == 0 && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return e.path().string();
    }
  }
  return std::nullopt;
}

TEST_F(GatewayTest, BaresipCallsAPhoneWithAudioBothWaysAndReceivesItsDigit) {
  if (!require_tool("baresip")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(start_gateway(options));

  const std::string dir = gw.dir() + "/baresip";
  std::filesystem::create_directories(dir + "/rec");
  const std::uint16_t sip_port = pick_free_port_block(3);  // SIP on port, TLS on port + 1
  const std::uint16_t ctrl_port = pick_free_port();
  const std::uint16_t rtp_min = pick_free_udp_range(20);
  std::ofstream(dir + "/config") << "poll_method epoll\n"
                                 << "sip_listen 127.0.0.1:" << sip_port << "\n"
                                 << "audio_player alsa,null\n"
                                 << "audio_alert alsa,null\n"
                                 << "audio_source ausine,1000\n"
                                 << "ausrc_srate 48000\n"
                                 << "ausrc_channels 2\n"
                                 << "rtp_ports " << rtp_min << "-" << rtp_min + 19 << "\n"
                                 << "net_interface 127.0.0.1\n"
                                 << "module_path /usr/lib/baresip/modules\n"
                                 << "module g711.so\n"
                                 << "module ausine.so\n"
                                 << "module alsa.so\n"
                                 << "module sndfile.so\n"
                                 << "module_app account.so\n"
                                 // ctrl_tcp's dial/hangup/quit commands come from the menu module.
                                 << "module_app menu.so\n"
                                 << "module_app ctrl_tcp.so\n"
                                 << "ctrl_tcp_listen 127.0.0.1:" << ctrl_port << "\n"
                                 << "snd_path " << dir << "/rec\n";
  std::ofstream(dir + "/accounts") << "<sip:alice@127.0.0.1:" << sip_port << ">;regint=0;answermode=manual\n";
  std::ofstream(dir + "/contacts") << "";

  Process baresip;
  ProcessOptions po = command({"stdbuf", "-oL", "-eL", "baresip", "-f", dir, "-t", "90"}, dir + "/baresip.log");
  po.cwd = dir;
  ASSERT_TRUE(baresip.start(po)) << baresip.error();
  BaresipCtrl ctrl;
  ASSERT_TRUE(ctrl.connect_to(ctrl_port, 10s)) << "ctrl_tcp did not open\n" << baresip.log_tail();

  ASSERT_TRUE(ctrl.send("dial", "sip:201@127.0.0.1:" + std::to_string(gw.sip_port())));
  ASSERT_TRUE(gw.wait_line_state(1, "connected", 15s)) << gw.lines().dump() << "\n" << baresip.log_tail();
  EXPECT_TRUE(ctrl.wait_event("CALL_ESTABLISHED", "", 5s)) << ctrl.transcript();

  // baresip -> phone: ausine's 1000 Hz.
  ASSERT_TRUE(is_ok(gw.phone(1, "listen", {{"hz", 1000}})));
  const auto heard = gw.wait_listen_ratio(1, 0.3, 5s);
  EXPECT_TRUE(heard.sustained) << "1000 Hz at the phone: " << heard.history;

  // phone -> baresip: 697 Hz for 2 s, recorded by sndfile.
  ASSERT_TRUE(is_ok(gw.phone(1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(is_ok(gw.phone(1, "stop")));

  // A digit dialed on the phone during the call reaches baresip as an RFC 4733 event.
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "5"}})));
  const bool dtmf = poll_until(
      [&] {
        ctrl.pump(20ms);
        return ctrl.has_event("CALL_DTMF_START", "5") ||
               baresip.log_text().find("received event: '5'") != std::string::npos;
      },
      5s);
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(ctrl.wait_event("CALL_CLOSED", "", 5s)) << ctrl.transcript();
  EXPECT_TRUE(gw.wait_line_state(1, "idle", 5s)) << gw.lines().dump();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  ctrl.send("quit");
  if (!baresip.wait_exit(5s)) baresip.terminate(2s);
  EXPECT_TRUE(dtmf || baresip.log_text().find("received event: '5'") != std::string::npos)
      << "baresip saw no RFC 4733 '5'\n" << ctrl.transcript() << baresip.log_tail();

  const auto dec = find_dump(dir + "/rec", "-dec.wav");
  ASSERT_TRUE(dec.has_value()) << "no dump-*-dec.wav in " << dir << "/rec";
  std::string error;
  const auto audio = load_mono(*dec, &error);
  ASSERT_TRUE(audio.has_value()) << error;
  // 2 s of tone: at least 1 s worth of 100 ms windows must be clearly 697 Hz.
  const auto windows = tone_windows(*audio, 697, 0.5);
  EXPECT_GE(windows.above, 10) << *dec << ": " << audio->sample_rate << " Hz, " << audio->seconds() << " s, "
                               << windows.above << " of " << windows.windows
                               << " windows with 697 Hz (best ratio " << windows.max_ratio << ")";
}

}  // namespace
}  // namespace sipline::test
