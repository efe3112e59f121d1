#pragma once
// ControlServer: the control socket. A Unix stream socket on the control
// thread's GLib main context speaking newline-delimited JSON: one request
// object per line, one response object per line. Every response has "ok";
// failures carry "error". siplinectl is its command-line client.
// Requests larger than 64 KiB close the connection; at most 32 clients.
// Answers are sent without blocking the control thread: what the socket does
// not take at once waits for G_IO_OUT; a client with over 1 MiB of unread
// answers is dropped.
// Thread: control.
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sipline/base/result.hpp"

namespace sipline::gateway::ctl {

enum class CtlError { socket };

using RequestHandler = std::function<nlohmann::json(const nlohmann::json& request)>;

// The server's request path without the socket (pure; also the fuzz entry,
// tests/fuzz/control_command_fuzz.cpp). Takes every complete line (up to
// '\n') from the front of `in`, answers each and returns the answers, one
// line each; what follows the last newline stays in `in`. A line that is not
// a JSON object, or whose handler throws, is answered {"ok":false,"error":..}.
// Strings in an answer that are not UTF-8 (a SIP peer's User-Agent, say) are
// sent with U+FFFD in place of the bad bytes. Never throws.
std::string answer_requests(std::string& in, const RequestHandler& handler);

class ControlServer {
 public:
  static base::Result<std::unique_ptr<ControlServer>> create(const std::string& path, RequestHandler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  struct Impl;

 private:
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::gateway::ctl
