#include "harness/baresip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/ports.hpp"

namespace sipline::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;

BaresipCtrl::~BaresipCtrl() {
  if (fd_ >= 0) ::close(fd_);
}

bool BaresipCtrl::connect_to(std::uint16_t port, std::chrono::milliseconds timeout) {
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

bool BaresipCtrl::send(const std::string& command, const std::string& params) {
  if (fd_ < 0) return false;
  Json j = {{"command", command}, {"token", "t" + std::to_string(++token_)}};
  if (!params.empty()) j["params"] = params;
  const std::string body = j.dump();
  const std::string frame = std::to_string(body.size()) + ":" + body + ",";
  return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size());
}

void BaresipCtrl::pump(std::chrono::milliseconds wait) {
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
    std::size_t len = 0;
    try {
      len = std::stoul(buffer_.substr(0, colon));
    } catch (...) {
      buffer_.clear();  // not a netstring: drop what we have
      break;
    }
    if (buffer_.size() < colon + 1 + len + 1) break;
    auto j = Json::parse(buffer_.substr(colon + 1, len), nullptr, false);
    if (!j.is_discarded()) messages_.push_back(j);
    buffer_.erase(0, colon + 1 + len + 1);
  }
}

bool BaresipCtrl::wait_event(const std::string& type, const std::string& param, std::chrono::milliseconds timeout) {
  return poll_until(
      [&] {
        pump(20ms);
        return has_event(type, param);
      },
      timeout, 10ms);
}

bool BaresipCtrl::has_event(const std::string& type, const std::string& param) const {
  for (const auto& m : messages_) {
    if (m.value("event", false) && m.value("type", "") == type && (param.empty() || m.value("param", "") == param)) {
      return true;
    }
  }
  return false;
}

std::string BaresipCtrl::transcript() const {
  std::string out;
  for (const auto& m : messages_) out += m.dump() + "\n";
  return out;
}

Baresip::~Baresip() {
  if (process_.pid() > 0 && process_.running()) process_.terminate(2s);
}

bool Baresip::start(const BaresipOptions& o) {
  dir_ = o.dir;
  std::error_code ec;
  std::filesystem::create_directories(rec_dir(), ec);
  sip_port_ = pick_free_port_block(3);  // SIP on the port, TLS on port + 1
  ctrl_port_ = pick_free_port();
  const std::uint16_t rtp_min = pick_free_udp_range(20);
  std::ofstream(dir_ + "/config") << "poll_method epoll\n"
                                  << "sip_listen 127.0.0.1:" << sip_port_ << "\n"
                                  << "audio_player alsa,null\n"
                                  << "audio_alert alsa,null\n"
                                  << "audio_source ausine," << o.ausine_hz << "\n"
                                  << "ausrc_srate 48000\n"
                                  << "ausrc_channels 2\n"
                                  << "rtp_ports " << rtp_min << "-" << rtp_min + 19 << "\n"
                                  << "net_interface 127.0.0.1\n"
                                  << "module_path /usr/lib/baresip/modules\n"
                                  << "module g711.so\n"
                                  << "module ausine.so\n"
                                  << "module alsa.so\n"
                                  << "module sndfile.so\n"
                                  << "module srtp.so\n"
                                  << "module_app account.so\n"
                                  // ctrl_tcp's dial/accept/hangup/quit commands come from the menu module.
                                  << "module_app menu.so\n"
                                  << "module_app ctrl_tcp.so\n"
                                  << "ctrl_tcp_listen 127.0.0.1:" << ctrl_port_ << "\n"
                                  << "snd_path " << rec_dir() << "\n";
  if (o.account.empty()) {
    std::ofstream(dir_ + "/accounts") << "<" << aor() << ">;regint=0;answermode=" << o.answermode
                                      << o.account_params << "\n";
  } else {
    std::ofstream(dir_ + "/accounts") << o.account << "\n";
  }
  std::ofstream(dir_ + "/contacts") << "";

  ProcessOptions po = command({"stdbuf", "-oL", "-eL", "baresip", "-f", dir_, "-t", std::to_string(o.lifetime_s)},
                              dir_ + "/baresip.log");
  po.cwd = dir_;
  if (!process_.start(po)) {
    error_ = "baresip did not start: " + process_.error();
    return false;
  }
  if (!ctrl_.connect_to(ctrl_port_, 10s)) {
    error_ = "baresip's ctrl_tcp did not open\n" + process_.log_tail();
    return false;
  }
  return true;
}

std::string Baresip::aor() const { return "sip:alice@127.0.0.1:" + std::to_string(sip_port_); }

std::optional<std::string> Baresip::recording(const std::string& suffix) const {
  return find_sndfile_dump(rec_dir(), suffix);
}

void Baresip::quit(std::chrono::milliseconds timeout) {
  if (process_.pid() <= 0 || !process_.running()) return;
  ctrl_.send("quit");
  if (!process_.wait_exit(timeout)) process_.terminate(2s);
}

std::string Baresip::diagnostics() const {
  return "---- baresip log (" + process_.log_path() + ") ----\n" + process_.log_tail(60) + "\n---- ctrl_tcp ----\n" +
         ctrl_.transcript();
}

std::optional<std::string> find_sndfile_dump(const std::string& dir, const std::string& suffix) {
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

}  // namespace sipline::test
