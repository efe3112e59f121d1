#pragma once
// Raw SIP over UDP on 127.0.0.1 for tests that send hand-made (also broken)
// messages and read the answers, plus a few parsing helpers for responses.
// Messages built here name 127.0.0.1 only (see PEERS.md: keep test traffic on
// the machine).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sipline::test {

class SipUdpPeer {
 public:
  SipUdpPeer();  // binds 127.0.0.1, ephemeral port
  // Binds 127.0.0.1:`port` (0 = ephemeral); for a peer that must receive on a
  // fixed port, e.g. 5060 where responses go by a Via without a port.
  explicit SipUdpPeer(std::uint16_t port);
  ~SipUdpPeer();
  SipUdpPeer(const SipUdpPeer&) = delete;
  SipUdpPeer& operator=(const SipUdpPeer&) = delete;

  bool ok() const { return fd_ >= 0; }
  std::uint16_t port() const { return port_; }
  bool send_to(std::uint16_t port, const std::string& message);
  // The next datagram, or nullopt after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // Reads datagrams until a response to the request with `call_id` whose status
  // is >= 200 arrives (provisional responses are skipped), or `timeout`.
  std::optional<std::string> receive_final(const std::string& call_id, std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// One SIP-over-TCP connection from 127.0.0.1 to 127.0.0.1:port (RFC 3261
// §18.3: messages framed by Content-Length), for messages whose Via names
// TCP; responses come back on the same connection.
class SipTcpPeer {
 public:
  explicit SipTcpPeer(std::uint16_t port);  // connects
  ~SipTcpPeer();
  SipTcpPeer(const SipTcpPeer&) = delete;
  SipTcpPeer& operator=(const SipTcpPeer&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool send(const std::string& message);
  // The next whole message on the stream, or nullopt after `timeout` or when
  // the far end closed the connection.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// "SIP/2.0 486 Busy Here" -> 486; 0 for a request or garbage.
int sip_status(const std::string& message);
// Value of the first header `name` (case-insensitive, compact forms not expanded), trimmed; "" if absent.
std::string sip_header(const std::string& message, const std::string& name);
// A random token for Call-IDs, tags and branches.
std::string random_token();

// A hand-made INVITE from 127.0.0.1:local_port to user@127.0.0.1:remote_port.
struct InviteSpec {
  std::string user = "201";
  std::uint16_t remote_port = 5060;
  std::uint16_t local_port = 0;
  std::string call_id = random_token() + "@127.0.0.1";
  std::string from_tag = random_token();
  std::string branch = "z9hG4bK" + random_token();
  std::string content_type = "application/sdp";
  std::string body;                     // "" = no body
  long content_length = -1;             // -1 = the body's real length
  std::string extra_headers;            // more header lines, each ending in CRLF
};
std::string make_invite(const InviteSpec& spec);
// The ACK for a non-2xx final response to that INVITE (same branch, To tag from the response).
std::string make_ack(const InviteSpec& spec, const std::string& response);
// A valid audio offer: PCMU and telephone-event 101 on 127.0.0.1:rtp_port.
std::string pcmu_offer(std::uint16_t rtp_port);
// From a fresh peer: a hand-made INVITE to user@127.0.0.1:gw_port with a PCMU
// offer; its final response (ACKed), or "" when none came within `timeout`.
std::string invite_final_response(std::uint16_t gw_port, const std::string& user, std::chrono::milliseconds timeout);

}  // namespace sipline::test
