#include "harness/knot_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "harness/ports.hpp"
#include "harness/tools.hpp"

namespace sipline::test {

namespace {

constexpr std::uint16_t kTypeSoa = 6;

std::string without_final_dot(std::string d) {
  while (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// RFC 1035 §4.1: header, one question, RD set.
std::string make_query(std::uint16_t id, const std::string& name, std::uint16_t qtype) {
  std::string q;
  auto put16 = [&](std::uint16_t v) {
    q.push_back(static_cast<char>(v >> 8));
    q.push_back(static_cast<char>(v & 0xff));
  };
  put16(id);
  put16(0x0100);  // RD
  put16(1);
  put16(0);
  put16(0);
  put16(0);
  std::istringstream labels(without_final_dot(name));
  for (std::string label; std::getline(labels, label, '.');) {
    q.push_back(static_cast<char>(label.size()));
    q += label;
  }
  q.push_back('\0');
  put16(qtype);
  put16(1);  // IN
  return q;
}

// Whether every thread of `pid` is (or none is) in the stopped state: kill()
// returns before SIGSTOP/SIGCONT have taken effect, and a knotd worker that
// still runs would answer a query meant to meet a dead server.
bool all_threads_stopped(pid_t pid, bool stopped) {
  std::error_code ec;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(task_dir, ec)) {
    const std::string stat = read_file(entry.path().string() + "/stat");
    // "tid (comm) S ...": the state follows the last ')'.
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    const char state = stat[paren + 2];
    const bool is_stopped = state == 'T' || state == 't';
    if (is_stopped != stopped) return false;
    any = true;
  }
  return any;
}

}  // namespace

KnotZone knot_fixture_zone(const std::string& domain) {
  const std::string d = without_final_dot(domain);
  return {d, read_file(SIPLINE_SOURCE_DIR "/tests/fixtures/dns/" + d + ".zone")};
}

std::optional<DnsReply> udp_dns_query(std::uint16_t port, const std::string& name, std::uint16_t qtype,
                                      std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  std::random_device rd;
  const auto id = static_cast<std::uint16_t>(rd());
  const std::string query = make_query(id, name, qtype);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<DnsReply> reply;
  if (::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
      static_cast<ssize_t>(query.size())) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reply) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{fd, POLLIN, 0};
      const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r <= 0) continue;
      unsigned char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 12) continue;
      if (((buf[0] << 8) | buf[1]) != id || (buf[2] & 0x80) == 0) continue;  // not our response
      DnsReply r2;
      r2.rcode = buf[3] & 0x0f;
      r2.authoritative = (buf[2] & 0x04) != 0;
      r2.answers = (buf[6] << 8) | buf[7];
      reply = r2;
    }
  }
  ::close(fd);
  return reply;
}

KnotServer::~KnotServer() {
  stop();
  remove_tree(dir_);
}

bool KnotServer::write_files(const KnotServerOptions& options) {
  std::error_code ec;
  for (const char* sub : {"run", "db", "zones"}) std::filesystem::create_directories(dir_ + "/" + sub, ec);
  std::ostringstream conf;
  conf << "# written by sipline's tests/harness/knot_server.cpp\n"
       << "server:\n"
       << "    listen: 127.0.0.1@" << port_ << "\n"
       << "    rundir: " << dir_ << "/run\n"
       << "    pidfile: " << dir_ << "/run/knot.pid\n"
       << "    udp-workers: " << options.udp_workers << "\n"
       << "    tcp-workers: 1\n"
       << "    background-workers: 1\n"
       << "database:\n"
       << "    storage: " << dir_ << "/db\n"
       << "control:\n"
       << "    listen: " << dir_ << "/run/knot.sock\n"
       << "log:\n"
       << "  - target: stderr\n"
       << "    any: info\n"
       << "mod-stats:\n"
       << "  - id: count\n"
       << "    request-protocol: on\n"
       << "    server-operation: on\n"
       << "    response-code: on\n"
       << "    query-type: on\n"
       << "template:\n"
       << "  - id: default\n"
       << "    storage: " << dir_ << "/zones\n"
       << "    file: \"%s.zone\"\n"
       << "    global-module: mod-stats/count\n"
       << "    zonefile-sync: -1\n"       // never write the zone files back
       << "    journal-content: none\n"   // no journal: each run serves the text as given
       << "zone:\n";
  for (const auto& z : options.zones) {
    const std::string d = without_final_dot(z.domain);
    conf << "  - domain: " << d << "\n";
    if (!write_text(dir_ + "/zones/" + d + ".zone", z.text)) {
      error_ = "cannot write zone file for " + d;
      return false;
    }
  }
  if (!write_text(dir_ + "/knot.conf", conf.str())) {
    error_ = "cannot write knot.conf";
    return false;
  }
  return true;
}

bool KnotServer::zones_answer(const KnotServerOptions& options) {
  for (const auto& z : options.zones) {
    const auto r = udp_dns_query(port_, z.domain, kTypeSoa, std::chrono::milliseconds(200));
    if (!r || r->rcode != 0 || r->answers == 0) return false;
  }
  return true;
}

bool KnotServer::start(const KnotServerOptions& options, std::chrono::milliseconds timeout) {
  error_.clear();
  if (dir_.empty()) dir_ = make_temp_dir("sipline-knot");
  if (dir_.empty()) {
    error_ = "cannot create a temporary directory";
    return false;
  }
  port_ = pick_free_port();
  if (!write_files(options)) return false;
  const std::string knotd = find_tool("knotd");
  if (knotd.empty()) {
    error_ = "knotd is not installed (package knot; scripts/setup.sh)";
    return false;
  }
  if (!knotd_.start(command({knotd, "-c", dir_ + "/knot.conf"}, dir_ + "/knotd.log"))) {
    error_ = "cannot start knotd: " + knotd_.error();
    return false;
  }
  const bool up = poll_until(
      [&] {
        if (!knotd_.running()) return true;
        const std::string log = knotd_.log_text();
        if (log.find("failed to load") != std::string::npos || log.find("failed to parse") != std::string::npos) {
          return true;
        }
        return zones_answer(options);
      },
      timeout, std::chrono::milliseconds(20));
  if (!knotd_.running()) {
    error_ = "knotd ended (" + knotd_.describe_exit() + ")\n" + diagnostics();
    return false;
  }
  if (!up || !zones_answer(options)) {
    error_ = "knotd does not serve every zone\n" + diagnostics();
    stop();
    return false;
  }
  return true;
}

void KnotServer::pause() {
  if (knotd_.running() && !paused_) {
    knotd_.send_signal(SIGSTOP);
    paused_ = true;
    poll_until([&] { return all_threads_stopped(knotd_.pid(), true); }, std::chrono::seconds(2),
               std::chrono::milliseconds(2));
  }
}

void KnotServer::resume() {
  if (paused_) {
    knotd_.send_signal(SIGCONT);
    paused_ = false;
    poll_until([&] { return all_threads_stopped(knotd_.pid(), false); }, std::chrono::seconds(2),
               std::chrono::milliseconds(2));
  }
}

void KnotServer::stop() {
  if (knotd_.pid() <= 0) return;
  resume();
  if (knotd_.running()) knotd_.terminate(std::chrono::seconds(5));
}

bool KnotServer::running() { return knotd_.pid() > 0 && knotd_.running(); }

std::optional<std::string> KnotServer::stats_text() {
  if (paused_ || !running()) return std::nullopt;
  const ToolRun run = run_tool({"knotc", "-c", dir_ + "/knot.conf", "-s", dir_ + "/run/knot.sock", "-t", "2",
                                "stats", "mod-stats"},
                               dir_ + "/knotc.log", std::chrono::seconds(5));
  if (!run.finished || run.exit_code != 0) return std::nullopt;
  return run.output;
}

std::optional<std::uint64_t> KnotServer::queries() {
  const auto text = stats_text();
  if (!text) return std::nullopt;
  // "mod-stats.server-operation[query] = 12"; absent until the first query.
  std::uint64_t total = 0;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    const std::string key = "mod-stats.server-operation[query] = ";
    if (line.rfind(key, 0) == 0) total += std::stoull(line.substr(key.size()));
  }
  return total;
}

std::string KnotServer::diagnostics() const {
  return "--- knotd log (" + dir_ + ") ---\n" + knotd_.log_tail(40) + "--- knot.conf ---\n" +
         read_file(dir_ + "/knot.conf");
}

}  // namespace sipline::test
