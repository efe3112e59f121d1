#pragma once
// KnotServer: Knot DNS (package knot, `knotd`) as a real authoritative server
// for the ENUM tests: zones given as master-file text, served on
// 127.0.0.1@<free port>, UDP and TCP.
//
// How: start() writes knot.conf, the zone files, rundir and an empty database
// into a fresh temporary directory, runs `knotd -c knot.conf` in the
// foreground (a Process, log in the temp dir), and waits until every zone
// answers an SOA query over UDP with NOERROR and an answer (zones load after
// the server starts; a zone that fails to load fails start()). The temporary
// directory is removed by the destructor.
//
// Query counting uses Knot's own counters: the global mod-stats module, read
// with `knotc -s <control socket> stats mod-stats` (package knot); queries()
// is the sum of `mod-stats.server-operation[query]`, one per DNS query
// received (UDP or TCP). It needs a running, not paused, server.
//
// pause()/resume() send SIGSTOP/SIGCONT and return once every knotd thread
// is stopped (running again), read from /proc/<pid>/task/*/stat: a paused
// server receives queries into its socket buffers but answers none (a dead
// server, as a client sees it) and answers them after resume(). stop()
// resumes a paused server before terminating it.
//
// Independent of any system knotd (Debian's knot.service): own port, rundir,
// database and control socket; the system one is never talked to.
// Thread: the test's thread only.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/process.hpp"

namespace sipline::test {

struct KnotZone {
  std::string domain;  // "e164.arpa" (no final dot needed)
  std::string text;    // the master file; its $ORIGIN should match `domain`
};

struct KnotServerOptions {
  std::vector<KnotZone> zones;
  int udp_workers = 2;
};

// A zone whose text is the file tests/fixtures/dns/<domain>.zone.
KnotZone knot_fixture_zone(const std::string& domain);

class KnotServer {
 public:
  KnotServer() = default;
  ~KnotServer();
  KnotServer(const KnotServer&) = delete;
  KnotServer& operator=(const KnotServer&) = delete;

  // False (with error()) when knotd does not start or a zone does not load
  // within `timeout`. Call require_tool("knotd") first.
  bool start(const KnotServerOptions& options,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::string& error() const { return error_; }

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }  // for ResolverConfig::servers
  const std::string& dir() const { return dir_; }

  void pause();
  void resume();
  bool paused() const { return paused_; }
  // SIGTERM (after SIGCONT when paused), SIGKILL after a grace period.
  void stop();
  bool running();

  // DNS queries received so far (mod-stats), nullopt when knotc fails (the
  // server is paused or gone).
  std::optional<std::uint64_t> queries();
  // The counters as knotc prints them ("mod-stats.query-type[NAPTR] = 3"
  // lines), nullopt when knotc fails.
  std::optional<std::string> stats_text();

  // knotd's log tail and the config, for failure messages.
  std::string diagnostics() const;

 private:
  bool write_files(const KnotServerOptions& options);
  bool zones_answer(const KnotServerOptions& options);

  std::string dir_;
  std::string error_;
  std::uint16_t port_ = 0;
  bool paused_ = false;
  Process knotd_;
};

// One DNS query over UDP to 127.0.0.1:`port` (for readiness checks and tests):
// the RCODE and the answer count of the response, or nullopt on timeout or a
// malformed response.
struct DnsReply {
  int rcode = -1;
  int answers = 0;
  bool authoritative = false;
};
std::optional<DnsReply> udp_dns_query(std::uint16_t port, const std::string& name, std::uint16_t qtype,
                                      std::chrono::milliseconds timeout);

}  // namespace sipline::test
