#include "harness/sip_udp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <random>
#include <sstream>

namespace sipline::test {

SipUdpPeer::SipUdpPeer() : SipUdpPeer(0) {}

SipUdpPeer::SipUdpPeer(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
}

SipUdpPeer::~SipUdpPeer() {
  if (fd_ >= 0) ::close(fd_);
}

bool SipUdpPeer::send_to(std::uint16_t port, const std::string& message) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
         static_cast<ssize_t>(message.size());
}

std::optional<std::string> SipUdpPeer::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) continue;
    return std::string(buf, static_cast<std::size_t>(n));
  }
}

std::optional<std::string> SipUdpPeer::receive_final(const std::string& call_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto msg = receive(left);
    if (!msg) return std::nullopt;
    const int status = sip_status(*msg);
    if (status >= 200 && sip_header(*msg, "Call-ID") == call_id) return msg;
  }
}

SipTcpPeer::SipTcpPeer(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

SipTcpPeer::~SipTcpPeer() {
  if (fd_ >= 0) ::close(fd_);
}

bool SipTcpPeer::send(const std::string& message) {
  std::size_t sent = 0;
  while (sent < message.size()) {
    const ssize_t n = ::send(fd_, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> SipTcpPeer::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // A whole message: the head, then Content-Length (or "l") bytes of body.
    const auto head_end = buffer_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const std::string head = buffer_.substr(0, head_end + 2);
      std::string length = sip_header(head + "\r\n", "Content-Length");
      if (length.empty()) length = sip_header(head + "\r\n", "l");
      const std::size_t body = length.empty() ? 0 : std::strtoul(length.c_str(), nullptr, 10);
      if (buffer_.size() >= head_end + 4 + body) {
        std::string message = buffer_.substr(0, head_end + 4 + body);
        buffer_.erase(0, head_end + 4 + body);
        return message;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (fd_ < 0 || left.count() <= 0) return std::nullopt;
    pollfd pfd{fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // closed
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

int sip_status(const std::string& message) {
  if (message.rfind("SIP/2.0 ", 0) != 0 || message.size() < 11) return 0;
  int code = 0;
  for (std::size_t i = 8; i < 11; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(message[i]))) return 0;
    code = code * 10 + (message[i] - '0');
  }
  return code;
}

std::string sip_header(const std::string& message, const std::string& name) {
  std::istringstream in(message);
  std::string line;
  std::getline(in, line);  // start line
  const auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  const std::string want = lower(name);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    if (lower(key) != want) continue;
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    return first == std::string::npos ? "" : value.substr(first);
  }
  return {};
}

std::string random_token() {
  static std::mt19937_64 gen(std::random_device{}());
  std::ostringstream out;
  out << std::hex << gen();
  return out.str();
}

namespace {

std::string common_headers(const InviteSpec& s, const std::string& method) {
  std::ostringstream m;
  m << method << " sip:" << s.user << "@127.0.0.1:" << s.remote_port << " SIP/2.0\r\n"
    << "Via: SIP/2.0/UDP 127.0.0.1:" << s.local_port << ";branch=" << s.branch << ";rport\r\n"
    << "Max-Forwards: 70\r\n"
    << "From: \"test\" <sip:test@127.0.0.1:" << s.local_port << ">;tag=" << s.from_tag << "\r\n";
  return m.str();
}

}  // namespace

std::string make_invite(const InviteSpec& s) {
  std::ostringstream m;
  m << common_headers(s, "INVITE") << "To: <sip:" << s.user << "@127.0.0.1:" << s.remote_port << ">\r\n"
    << "Call-ID: " << s.call_id << "\r\n"
    << "CSeq: 1 INVITE\r\n"
    << "Contact: <sip:test@127.0.0.1:" << s.local_port << ">\r\n"
    << s.extra_headers;
  if (!s.body.empty()) m << "Content-Type: " << s.content_type << "\r\n";
  m << "Content-Length: " << (s.content_length >= 0 ? s.content_length : static_cast<long>(s.body.size()))
    << "\r\n\r\n"
    << s.body;
  return m.str();
}

std::string make_ack(const InviteSpec& s, const std::string& response) {
  std::ostringstream m;
  m << common_headers(s, "ACK") << "To: " << sip_header(response, "To") << "\r\n"
    << "Call-ID: " << s.call_id << "\r\n"
    << "CSeq: 1 ACK\r\n"
    << "Content-Length: 0\r\n\r\n";
  return m.str();
}

std::string pcmu_offer(std::uint16_t rtp_port) {
  std::ostringstream b;
  b << "v=0\r\n"
    << "o=test 1 1 IN IP4 127.0.0.1\r\n"
    << "s=-\r\n"
    << "c=IN IP4 127.0.0.1\r\n"
    << "t=0 0\r\n"
    << "m=audio " << rtp_port << " RTP/AVP 0 101\r\n"
    << "a=rtpmap:0 PCMU/8000\r\n"
    << "a=rtpmap:101 telephone-event/8000\r\n"
    << "a=fmtp:101 0-15\r\n"
    << "a=sendrecv\r\n";
  return b.str();
}

std::string invite_final_response(std::uint16_t gw_port, const std::string& user, std::chrono::milliseconds timeout) {
  SipUdpPeer peer;
  if (!peer.ok()) return "";
  InviteSpec spec;
  spec.user = user;
  spec.remote_port = gw_port;
  spec.local_port = peer.port();
  spec.body = pcmu_offer(peer.port() + 2);
  if (!peer.send_to(gw_port, make_invite(spec))) return "";
  const auto response = peer.receive_final(spec.call_id, timeout);
  if (!response) return "";
  peer.send_to(gw_port, make_ack(spec, *response));
  return *response;
}

}  // namespace sipline::test
