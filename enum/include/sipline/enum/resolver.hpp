#pragma once
// EnumResolver: ENUM lookups (RFC 6116) with c-ares, asynchronous, on a GLib
// main context (the daemon's control loop; a tool's own loop).
//
// lookup(number) asks each configured suffix in order for the NAPTRs of the
// number's domain, applies the RFC 3402/3403 rules (naptr_rules.hpp), follows
// non-terminal rules to further domains up to max_depth (a domain already
// visited in this lookup is not asked again: loops end), and reports the
// ordered targets of the first suffix that gives any. A suffix that times out,
// fails (SERVFAIL, REFUSED, unparsable answer) or has no usable records is
// skipped for the next one; when none gives targets the result carries the
// error of the most telling failure (timeout over server_failure over
// too_deep over not_found). One lookup asks at most 16 questions in all
// (suffixes, non-terminal rules), however the zones fan out. A truncated
// answer (still TC after c-ares' TCP retry) is a server failure, not cached.
//
// Answers are cached by domain (EnumCache: TTLs, RFC 2308 negative answers,
// bounded LRU). Lookups that need the same domain while a query for it is on
// the wire share that one query. The records are cached, not the rules'
// results: each lookup applies the rules again, with the resolver's own
// RegexCache so that each REGEXP is compiled once (regex_cache_entries).
//
// The callback runs on the loop, never inside lookup() itself, exactly once,
// unless the lookup is cancelled first. A callback must not destroy the
// resolver. Every query has a deadline of
// timeout_ms (c-ares' own retries fit inside it).
// Thread: the thread that runs `context`; not thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sipline/base/clock.hpp"
#include "sipline/base/result.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/enum_cache.hpp"
#include "sipline/enum/naptr_rules.hpp"
#include "sipline/enum/regex_cache.hpp"

typedef struct _GMainContext GMainContext;

namespace sipline::e164 {

struct ResolverConfig {
  // DNS servers as "ip", "ip:port", "[ipv6]:port"; empty: the system's (/etc/resolv.conf).
  std::vector<std::string> servers;
  std::vector<std::string> suffixes = {"e164.arpa"};  // asked in this order
  int timeout_ms = 1500;        // per query, including c-ares' retries
  int max_depth = 4;            // non-terminal rules followed at most this deep
  std::size_t cache_entries = 10000;  // 0 = no cache
  std::chrono::seconds max_cache_ttl{86400};
  // Compiled NAPTR regexps kept (RegexCache, LRU); 0 = compile on every use.
  std::size_t regex_cache_entries = kDefaultRegexCacheEntries;
};

// One DNS question asked (or answered from the cache) during a lookup.
struct QueryTrace {
  std::string domain;
  std::string suffix;
  int depth = 0;                  // 0 for the suffix's own domain
  bool from_cache = false;
  bool shared = false;            // joined a query already on the wire
  std::optional<base::Error> error;  // timeout, server_failure, not_found, bad_message, ...
  std::vector<Naptr> records;
  std::vector<SkippedRecord> skipped;  // records the rules did not use, with why
  std::chrono::microseconds elapsed{0};
};

struct LookupResult {
  E164 number;
  std::string suffix;             // the suffix whose records gave the targets
  std::vector<Target> targets;    // ordered; empty when `error` is set
  std::optional<base::Error> error;
  std::vector<QueryTrace> queries;
  std::chrono::microseconds elapsed{0};
};

struct ResolverStats {
  std::uint64_t lookups = 0;
  std::uint64_t queries_sent = 0;     // DNS queries handed to c-ares
  std::uint64_t queries_shared = 0;   // waiters that joined a query in flight
  std::uint64_t timeouts = 0;
  std::uint64_t failures = 0;         // server failures and bad answers
  CacheStats cache;
};

using LookupId = std::uint64_t;
using LookupCallback = std::function<void(const LookupResult&)>;

class EnumResolver {
 public:
  // Errors: resolver (c-ares initialisation, a server string that does not parse).
  static base::Result<std::unique_ptr<EnumResolver>> create(const ResolverConfig& config, GMainContext* context,
                                                            const base::Clock& clock);
  virtual ~EnumResolver() = default;

  virtual LookupId lookup(const E164& number, LookupCallback callback) = 0;
  // The callback of `id` will not run. Unknown or finished ids are ignored.
  virtual void cancel(LookupId id) = 0;
  virtual ResolverStats stats() const = 0;
  virtual void clear_cache() = 0;
  virtual const ResolverConfig& config() const = 0;
};

}  // namespace sipline::e164
