#include "ctl/control_server.hpp"

#include <cerrno>
#include <cstring>
#include <map>

#include <glib-unix.h>
#include <glib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sipline/base/c_ptr.hpp"
#include "sipline/base/log.hpp"

namespace sipline::gateway::ctl {

using base::Sub;
using base::UniqueFd;
namespace log = base::log;

namespace {
constexpr std::size_t kMaxRequest = 64 * 1024;
constexpr std::size_t kMaxClients = 32;
constexpr std::size_t kMaxPendingOutput = 1024 * 1024;

std::string answer(const std::string& line, const RequestHandler& handler) {
  nlohmann::json response;
  auto request = nlohmann::json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    response = {{"ok", false}, {"error", "request is not a JSON object"}};
  } else {
    try {
      response = handler(request);
    } catch (const std::exception& e) {
      // nlohmann::json throws on type mismatches in a request: a bad request, not a crash.
      response = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
    }
  }
  // Answers carry strings from outside (a REGISTER's User-Agent, a caller's
  // From): dump() would throw on bytes that are not UTF-8.
  return response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}
}  // namespace

std::string answer_requests(std::string& in, const RequestHandler& handler) {
  std::string out;
  std::size_t start = 0;
  std::size_t nl;
  while ((nl = in.find('\n', start)) != std::string::npos) {
    out += answer(in.substr(start, nl - start), handler);
    start = nl + 1;
  }
  in.erase(0, start);
  return out;
}

struct ControlServer::Impl {
  struct Client {
    UniqueFd fd;
    guint read_source = 0;
    guint write_source = 0;  // only while `out` holds unsent bytes
    std::string in;
    std::string out;
    ~Client() {
      if (read_source) g_source_remove(read_source);
      if (write_source) g_source_remove(write_source);
    }
  };

  std::string path;
  RequestHandler handler;
  UniqueFd listen_fd;
  guint listen_source = 0;
  std::map<int, std::unique_ptr<Client>> clients;

  ~Impl() {
    clients.clear();
    if (listen_source) g_source_remove(listen_source);
    if (listen_fd) ::unlink(path.c_str());
  }

  static gboolean on_accept(gint fd, GIOCondition, gpointer data) noexcept {
    auto* self = static_cast<Impl*>(data);
    UniqueFd client(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) return G_SOURCE_CONTINUE;
    if (self->clients.size() >= kMaxClients) return G_SOURCE_CONTINUE;  // closes it
    auto c = std::make_unique<Client>();
    const int cfd = client.get();
    c->fd = std::move(client);
    c->read_source =
        g_unix_fd_add(cfd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), &Impl::on_readable, self);
    self->clients.emplace(cfd, std::move(c));
    return G_SOURCE_CONTINUE;
  }

  // Drops a client; `from_source` is the GLib source calling us, which GLib
  // removes itself when we return G_SOURCE_REMOVE.
  gboolean drop(int fd, guint Client::*from_source) {
    auto it = clients.find(fd);
    if (it != clients.end()) {
      it->second.get()->*from_source = 0;
      clients.erase(it);
    }
    return G_SOURCE_REMOVE;
  }

  static gboolean on_readable(gint fd, GIOCondition, gpointer data) noexcept {
    auto* self = static_cast<Impl*>(data);
    auto it = self->clients.find(fd);
    if (it == self->clients.end()) return G_SOURCE_REMOVE;
    Client& c = *it->second;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return G_SOURCE_CONTINUE;
    if (n <= 0) return self->drop(fd, &Client::read_source);
    c.in.append(buf, static_cast<std::size_t>(n));
    c.out += answer_requests(c.in, self->handler);
    // A client that sends endless requests without newlines, or never reads
    // its answers, is dropped rather than allowed to grow our buffers.
    if (c.in.size() > kMaxRequest || c.out.size() > kMaxPendingOutput) return self->drop(fd, &Client::read_source);
    self->flush(fd, c);
    return G_SOURCE_CONTINUE;
  }

  static gboolean on_writable(gint fd, GIOCondition, gpointer data) noexcept {
    auto* self = static_cast<Impl*>(data);
    auto it = self->clients.find(fd);
    if (it == self->clients.end()) return G_SOURCE_REMOVE;
    Client& c = *it->second;
    if (!self->send_some(fd, c)) return self->drop(fd, &Client::write_source);
    if (!c.out.empty()) return G_SOURCE_CONTINUE;
    c.write_source = 0;
    return G_SOURCE_REMOVE;
  }

  // Sends what the socket takes now; the rest waits for G_IO_OUT. Never blocks.
  void flush(int fd, Client& c) {
    if (!send_some(fd, c)) {
      c.out.clear();  // the peer is gone; its read side will see the hang-up
      return;
    }
    if (!c.out.empty() && c.write_source == 0) c.write_source = g_unix_fd_add(fd, G_IO_OUT, &Impl::on_writable, this);
  }

  bool send_some(int fd, Client& c) {
    while (!c.out.empty()) {
      const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return n < 0 && errno == EAGAIN;
      }
    }
    return true;
  }
};

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() = default;

base::Result<std::unique_ptr<ControlServer>> ControlServer::create(const std::string& path, RequestHandler handler) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return base::fail(CtlError::socket, "control socket path is empty or too long: " + path);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->handler = std::move(handler);
  impl->listen_fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!impl->listen_fd) return base::fail(CtlError::socket, std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A stale socket from a previous run that nobody answers on is replaced.
  {
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
      return base::fail(CtlError::socket, "another sipline is already listening on " + path);
  }
  ::unlink(path.c_str());
  // Owner only (0600), from the moment the socket exists: it can unban
  // addresses and list users. umask is process-wide, but nothing else creates
  // files while the daemon starts.
  const mode_t old_mask = ::umask(0177);
  const bool bound = ::bind(impl->listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const int bind_errno = errno;
  ::umask(old_mask);
  if (!bound || ::listen(impl->listen_fd.get(), 16) != 0)
    return base::fail(CtlError::socket,
                      "cannot listen on " + path + ": " + std::strerror(bound ? errno : bind_errno));
  ::chmod(path.c_str(), 0600);
  impl->listen_source = g_unix_fd_add(impl->listen_fd.get(), G_IO_IN, &Impl::on_accept, impl.get());
  log::info(Sub::ctl, "event=listening socket={}", path);
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

}  // namespace sipline::gateway::ctl
