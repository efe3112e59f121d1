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
}  // namespace

struct ControlServer::Impl {
  struct Client {
    UniqueFd fd;
    guint source = 0;
    std::string buffer;
  };

  std::string path;
  RequestHandler handler;
  UniqueFd listen_fd;
  guint listen_source = 0;
  std::map<int, std::unique_ptr<Client>> clients;

  ~Impl() {
    for (auto& [fd, c] : clients) g_source_remove(c->source);
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
    c->source = g_unix_fd_add(cfd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), &Impl::on_readable, self);
    self->clients.emplace(cfd, std::move(c));
    return G_SOURCE_CONTINUE;
  }

  static gboolean on_readable(gint fd, GIOCondition, gpointer data) noexcept {
    auto* self = static_cast<Impl*>(data);
    auto it = self->clients.find(fd);
    if (it == self->clients.end()) return G_SOURCE_REMOVE;
    Client& c = *it->second;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return G_SOURCE_CONTINUE;
    if (n <= 0) {
      self->clients.erase(it);
      return G_SOURCE_REMOVE;
    }
    c.buffer.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = c.buffer.find('\n')) != std::string::npos) {
      std::string line = c.buffer.substr(0, nl);
      c.buffer.erase(0, nl + 1);
      if (!self->reply(fd, line)) {
        self->clients.erase(it);
        return G_SOURCE_REMOVE;
      }
    }
    if (c.buffer.size() > kMaxRequest) {
      self->clients.erase(it);
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }

  bool reply(int fd, const std::string& line) {
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
    std::string out = response.dump() + "\n";
    std::size_t done = 0;
    // Responses are small; a client that does not read is dropped.
    for (int tries = 0; done < out.size() && tries < 100; ++tries) {
      const ssize_t n = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return false;
      } else {
        g_usleep(1000);
      }
    }
    return done == out.size();
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
  if (::bind(impl->listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(impl->listen_fd.get(), 16) != 0)
    return base::fail(CtlError::socket, "cannot listen on " + path + ": " + std::strerror(errno));
  ::chmod(path.c_str(), 0660);
  impl->listen_source = g_unix_fd_add(impl->listen_fd.get(), G_IO_IN, &Impl::on_accept, impl.get());
  log::info(Sub::ctl, "event=listening socket={}", path);
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

}  // namespace sipline::gateway::ctl
