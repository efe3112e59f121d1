// SIP over TLS: a sipp caller reaches a phone over TLS, and a phone's call to
// a TLS peer connects only when the peer's certificate chains to the
// configured CA and names the host dialed (else it is refused, with
// event=tls_verify_failed in the daemon log).
//
// Debian's sipp 3.6.1 is built without TLS (no -t l1), so sipp speaks TCP and
// a relay in this file terminates TLS in front of it with OpenSSL. The
// certificates (a test CA, a server certificate for IP 127.0.0.1 signed by
// it, and a self-signed one) are made by the openssl tool in the test's temp
// dir at every run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "harness/gateway_under_test.hpp"
#include "harness/ports.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";

std::string openssl_errors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no OpenSSL error" : out;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// A TLS client context that trusts `ca_file` and wants IP 127.0.0.1 in the
// peer's certificate; `max_version` 0 = no cap.
SSL_CTX* client_context(const std::string& ca_file, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
  if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
  return ctx;
}

// Relays one TCP side and one TLS side, both on 127.0.0.1.
// to_tls:   accepts plain TCP, connects by TLS to the target (sipp UAC -> gateway),
//           checking the target's certificate against ca_file and IP 127.0.0.1.
// from_tls: accepts TLS with certificate/private_key, connects by TCP to the
//           target (gateway -> sipp UAS).
// One thread accepts; one per connection copies bytes. Thread: start/stop on the test's thread.
class TlsRelay {
 public:
  enum class Mode { to_tls, from_tls };
  struct Options {
    Mode mode = Mode::to_tls;
    std::uint16_t target_port = 0;
    std::string certificate;  // from_tls
    std::string private_key;  // from_tls
    std::string ca_file;      // to_tls
  };

  ~TlsRelay() { stop(); }

  bool start(const Options& options) {
    std::signal(SIGPIPE, SIG_IGN);  // a peer that closes first must not end the test
    options_ = options;
    target_port_ = options.target_port;
    if (options.mode == Mode::to_tls) {
      ctx_ = client_context(options.ca_file, 0);
    } else {
      ctx_ = SSL_CTX_new(TLS_server_method());
      if (SSL_CTX_use_certificate_chain_file(ctx_, options.certificate.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx_, options.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        note("certificate not loaded: " + openssl_errors());
        return false;
      }
    }
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return false;
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
    return true;
  }

  void stop() {
    if (stop_fd_ < 0) return;
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mutex_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
    ::close(listen_fd_);
    ::close(stop_fd_);
    stop_fd_ = -1;
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }

  std::uint16_t port() const { return port_; }
  // The port to connect to, when it was not known at start().
  void set_target(std::uint16_t port) { target_port_ = port; }
  int handshakes() const { return handshakes_; }
  std::size_t bytes_to_target() const { return bytes_to_target_; }
  // "handshake TLSv1.3", "handshake failed: ...": for assertion messages.
  std::string events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  void note(const std::string& event) {
    std::lock_guard lock(mutex_);
    events_ += event + "\n";
  }

  void accept_loop() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN)) return;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int accepted) {
    const int target = connect_loopback(target_port_);
    if (target < 0) {
      note("cannot connect to port " + std::to_string(target_port_));
      ::close(accepted);
      return;
    }
    const bool to_tls = options_.mode == Mode::to_tls;
    const int tls_fd = to_tls ? target : accepted;
    const int plain_fd = to_tls ? accepted : target;
    timeval five{5, 0};  // no read waits longer (handshake included)
    ::setsockopt(tls_fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, tls_fd);
    if ((to_tls ? SSL_connect(ssl) : SSL_accept(ssl)) != 1) {
      note("handshake failed: " + openssl_errors());
    } else {
      ++handshakes_;
      note(std::string("handshake ") + SSL_get_version(ssl));
      pump(ssl, tls_fd, plain_fd, to_tls);
    }
    SSL_free(ssl);
    ::close(accepted);
    ::close(target);
  }

  void pump(SSL* ssl, int tls_fd, int plain_fd, bool to_tls) {
    char buf[16384];
    while (true) {
      pollfd fds[3] = {{tls_fd, POLLIN, 0}, {plain_fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (SSL_pending(ssl) == 0 && ::poll(fds, 3, -1) < 0) return;
      if (fds[2].revents & POLLIN) return;
      if (SSL_pending(ssl) > 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
          if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ) continue;
          note("tls side closed");
          return;
        }
        if (!write_all(plain_fd, buf, static_cast<std::size_t>(n))) return;
        if (!to_tls) bytes_to_target_ += static_cast<std::size_t>(n);
      }
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::read(plain_fd, buf, sizeof buf);
        if (n <= 0) {
          note("tcp side closed");
          return;
        }
        if (SSL_write(ssl, buf, static_cast<int>(n)) != n) return;
        if (to_tls) bytes_to_target_ += static_cast<std::size_t>(n);
      }
    }
  }

  static bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  Options options_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;  // guarded by mutex_
  std::string events_;                // guarded by mutex_
  std::atomic<std::uint16_t> target_port_{0};
  std::atomic<int> handshakes_{0};
  std::atomic<std::size_t> bytes_to_target_{0};
};

// A TLS handshake with the gateway as a client capped at `max_version`:
// the protocol it agreed ("TLSv1.3"), or "failed: <OpenSSL's reason>".
std::string handshake_with(std::uint16_t port, const std::string& ca_file, int max_version) {
  SSL_CTX* ctx = client_context(ca_file, max_version);
  const int fd = connect_loopback(port);
  if (fd < 0) {
    SSL_CTX_free(ctx);
    return "failed: cannot connect";
  }
  timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  const std::string result = SSL_connect(ssl) == 1 ? SSL_get_version(ssl) : "failed: " + openssl_errors();
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return result;
}

// The test PKI in `dir`: ca.pem (a CA), server.pem/.key (IP 127.0.0.1,
// signed by the CA), rogue.pem/.key (self-signed, also for IP 127.0.0.1).
::testing::AssertionResult make_test_pki(const std::string& dir) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  const std::string script =
      "set -e; cd '" + dir + "'\n"
      "openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj '/CN=sipline test CA'\n"
      "openssl req " + ec + " -keyout server.key -out server.csr -subj '/CN=127.0.0.1'\n"
      "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth,clientAuth\\n' > ext.cnf\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem\n"
      "openssl req -x509 " + ec + " -keyout rogue.key -out rogue.pem -days 2 -subj '/CN=127.0.0.1'"
      " -addext subjectAltName=IP:127.0.0.1\n";
  const ToolRun run = run_tool({"sh", "-c", script}, dir + "/openssl.log");
  if (run.finished && run.exit_code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "openssl failed: " << run.output;
}

class TlsTest : public GatewayTest {
 protected:
  // Makes the PKI and returns options for a gateway with TLS on its own port.
  bool prepare(GatewayOptions& options, const std::string& min_version = "1.2") {
    pki_ = gw.peer_dir("pki");
    if (auto made = make_test_pki(pki_); !made) {
      ADD_FAILURE() << made.message();
      return false;
    }
    tls_port_ = pick_free_port();
    options.sip_extra_toml = "transports = [\"udp\", \"tcp\", \"tls\"]\ntls_port = " + std::to_string(tls_port_) + "\n";
    options.extra_toml += "\n[tls]\ncertificate = \"" + pki_ + "/server.pem\"\nprivate_key = \"" + pki_ +
                          "/server.key\"\nca_file = \"" + pki_ + "/ca.pem\"\nmin_version = \"" + min_version + "\"\n";
    return true;
  }
  std::string log() { return read_file(gw.log_path()); }

  std::string pki_;
  std::uint16_t tls_port_ = 0;
};

TEST_F(TlsTest, SippCallsAPhoneOverTlsAndTheCallEndsWithBye) {
  if (!require_tool("sipp") || !require_tool("openssl")) return;
  GatewayOptions options;
  options.phones[0].auto_answer_ms = 300;
  ASSERT_TRUE(prepare(options));
  ASSERT_TRUE(start_gateway(options));

  TlsRelay relay;  // sipp (TCP) -> relay -> gateway (TLS, its certificate checked)
  ASSERT_TRUE(relay.start({.mode = TlsRelay::Mode::to_tls,
                           .target_port = tls_port_,
                           .certificate = "",
                           .private_key = "",
                           .ca_file = pki_ + "/ca.pem"}))
      << relay.events();
  Sipp sipp(gw.peer_dir("sipp"));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_tls_call.xml";
  so.remote = "127.0.0.1:" + std::to_string(relay.port());
  so.service = "201";
  so.timeout_s = 30;
  so.extra = {"-t", "t1", "-key", "tls_port", std::to_string(tls_port_)};
  ASSERT_TRUE(sipp.start(so)) << sipp.process().error();

  bool connected = false;
  poll_until(
      [&] {
        connected = connected || gw.line_state(1) == "connected";
        return !sipp.process().running();
      },
      40s, 50ms);
  ASSERT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics() << "\nrelay:\n" << relay.events();
  EXPECT_TRUE(connected) << "line 1 never reached connected; " << gw.describe();
  EXPECT_GE(relay.handshakes(), 1) << relay.events();
  EXPECT_TRUE(relay.events().find("handshake TLSv1.2") != std::string::npos ||
              relay.events().find("handshake TLSv1.3") != std::string::npos)
      << relay.events();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  // sipp's BYE ended the call: the phone, still off hook, hears reorder until it hangs up.
  EXPECT_TRUE(gw.wait_line_state(1, "disconnected", 5s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(1, "idle", 5s)) << gw.describe();
}

// A sipp UAS behind a relay that shows `certificate` (pki/<name>.pem).
struct TlsPeer {
  TlsRelay relay;
  std::unique_ptr<Sipp> uas;
};

void start_peer(TlsPeer& peer, GatewayUnderTest& gw, const std::string& name, const std::string& pki,
                const std::string& certificate) {
  // The relay's port goes into the UAS's Contact and sipp's port is the
  // relay's target: listen first, start sipp, then aim the relay at it.
  ASSERT_TRUE(peer.relay.start({.mode = TlsRelay::Mode::from_tls,
                                .target_port = 0,
                                .certificate = pki + "/" + certificate + ".pem",
                                .private_key = pki + "/" + certificate + ".key",
                                .ca_file = ""}))
      << peer.relay.events();
  peer.uas = std::make_unique<Sipp>(gw.peer_dir(name));
  SippOptions so;
  so.scenario_file = kFixtures + "/uas_tls_answer.xml";
  so.timeout_s = 60;
  so.extra = {"-t", "t1", "-key", "relay_port", std::to_string(peer.relay.port())};
  ASSERT_TRUE(peer.uas->start(so)) << peer.uas->process().error();
  peer.relay.set_target(peer.uas->sip_port());
}

TEST_F(TlsTest, PhoneCallToAPeerWithAnUntrustedCertificateIsRefusedAndLogged) {
  if (!require_tool("sipp") || !require_tool("openssl")) return;
  GatewayOptions options;
  ASSERT_TRUE(prepare(options));
  TlsPeer peer;
  start_peer(peer, gw, "sipp-rogue", pki_, "rogue");
  if (HasFatalFailure()) return;
  const std::string peer_port = std::to_string(peer.relay.port());
  options.dial_plan.push_back({"6XXX", "sips:$digits@127.0.0.1:" + peer_port});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(is_ok(gw.phone(1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "6001#"}})));
  // Refused at once, as an unreachable target: the caller hears reorder.
  EXPECT_TRUE(gw.wait_line_state(1, "disconnected", 5s)) << gw.describe();
  EXPECT_TRUE(poll_until([&] { return log().find("event=tls_verify_failed") != std::string::npos; }, 3s));
  const std::string expected = "event=tls_verify_failed peer=127.0.0.1:" + peer_port + " reason=\"self-signed certificate";
  EXPECT_NE(log().find(expected), std::string::npos) << "no '" << expected << "' in the daemon log";
  EXPECT_EQ(peer.relay.bytes_to_target(), 0u) << "the INVITE reached the untrusted peer: " << peer.relay.events();
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

TEST_F(TlsTest, PhoneCallToAPeerWhoseCertificateChainsToTheCaConnects) {
  if (!require_tool("sipp") || !require_tool("openssl")) return;
  GatewayOptions options;
  ASSERT_TRUE(prepare(options));
  TlsPeer peer;
  start_peer(peer, gw, "sipp-trusted", pki_, "server");
  if (HasFatalFailure()) return;
  // The sip: form with ;transport=tls this time (the sips: form is above).
  options.dial_plan.push_back({"7XXX", "sip:$digits@127.0.0.1:" + std::to_string(peer.relay.port()) + ";transport=tls"});
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(is_ok(gw.phone(1, "offhook")));
  ASSERT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.describe();
  ASSERT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "7001#"}})));
  EXPECT_TRUE(gw.wait_line_state(1, "connected", 8s)) << gw.describe() << "\nrelay:\n" << peer.relay.events();
  EXPECT_EQ(log().find("event=tls_verify_failed"), std::string::npos);
  ASSERT_TRUE(is_ok(gw.phone(1, "onhook")));  // BYE over TLS, through the relay
  ASSERT_TRUE(peer.uas->wait(10s)) << peer.uas->diagnostics();
  EXPECT_EQ(peer.uas->process().exit_code(), 0) << peer.uas->diagnostics() << "\nrelay:\n" << peer.relay.events();
  EXPECT_GE(peer.relay.handshakes(), 1) << peer.relay.events();
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

TEST_F(TlsTest, MinVersion13RefusesATls12Client) {
  if (!require_tool("openssl")) return;
  GatewayOptions options;
  ASSERT_TRUE(prepare(options, "1.3"));
  ASSERT_TRUE(start_gateway(options));
  const std::string ca = pki_ + "/ca.pem";
  EXPECT_EQ(handshake_with(tls_port_, ca, 0), "TLSv1.3");
  EXPECT_EQ(handshake_with(tls_port_, ca, TLS1_2_VERSION).rfind("failed:", 0), 0u);
}

TEST_F(TlsTest, MinVersion12AcceptsATls12Client) {
  if (!require_tool("openssl")) return;
  GatewayOptions options;
  ASSERT_TRUE(prepare(options));
  ASSERT_TRUE(start_gateway(options));
  const std::string ca = pki_ + "/ca.pem";
  EXPECT_EQ(handshake_with(tls_port_, ca, TLS1_2_VERSION), "TLSv1.2");
  EXPECT_EQ(handshake_with(tls_port_, ca, TLS1_1_VERSION).rfind("failed:", 0), 0u);
}

}  // namespace
}  // namespace sipline::test
