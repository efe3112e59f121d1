#pragma once
// Client for the daemon's control socket: a Unix stream socket carrying
// newline-delimited JSON, one response line per request line.
// Connects lazily and reconnects after an error. Every call has a timeout.
// Thread: the test's thread only.
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sipline::test {

class ControlClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Sends one request and reads one response line. nullopt on a transport
  // failure (no socket, timeout, closed, not JSON); see last_error().
  std::optional<nlohmann::json> request(const nlohmann::json& req,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::string& last_error() const { return error_; }
  void close();

 private:
  bool connect_socket();

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  std::string error_;
};

}  // namespace sipline::test
