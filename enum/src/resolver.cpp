// AresResolver: EnumResolver on c-ares and a GLib main context.
//
// c-ares reports the sockets it wants watched through ARES_OPT_SOCK_STATE_CB;
// each becomes a GLib unix-fd source on the context, and one timeout source
// follows ares_timeout(). Answers arrive as raw DNS messages, parsed by
// parse_naptr_response() (TTLs and RFC 2308 negative answers for the cache).
//
// A lookup is a small state machine (Lookup): for each suffix, a stack of
// frames, one per domain being looked at; a frame holds the targets and the
// non-terminal rules of its domain's records, and the rules are followed
// depth-first before the frame's own targets are used (they come first in
// ORDER/PREFERENCE). A DNS question (Wire) is shared by every lookup waiting
// for the same domain; its deadline is ours, not only c-ares' (c-ares' tries
// fit inside it), so a silent server costs timeout_ms and no more.
#include "sipline/enum/resolver.hpp"

#include <ares.h>
#include <glib-unix.h>
#include <glib.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "sipline/base/glib_source.hpp"
#include "sipline/base/log.hpp"
#include "sipline/enum/dns_message.hpp"

namespace sipline::e164 {

namespace {

using base::Sub;
namespace log = base::log;

using Micros = std::chrono::microseconds;

// A hostile zone can fan out (64 non-terminal rules per domain, several
// levels): no lookup asks more than this many questions in all.
constexpr std::size_t kMaxQueriesPerLookup = 16;

// Which failure says most about a lookup that found nothing.
int severity(const base::Error& e) {
  if (e.is(EnumError::timeout)) return 4;
  if (e.is(EnumError::server_failure) || e.is(EnumError::bad_message) || e.is(EnumError::question_mismatch) ||
      e.is(EnumError::cname_loop) || e.is(EnumError::resolver)) {
    return 3;
  }
  if (e.is(EnumError::too_deep)) return 2;
  return 1;
}

// RAII for the c-ares library's global state (reference counted by c-ares).
struct AresLibrary {
  int status = ares_library_init(ARES_LIB_INIT_ALL);
  ~AresLibrary() {
    if (status == ARES_SUCCESS) ares_library_cleanup();
  }
};

using base::SourcePtr;

class AresResolver;

// One DNS question on the wire, shared by the lookups that need its domain.
struct Wire {
  AresResolver* owner = nullptr;
  std::uint64_t serial = 0;
  std::string domain;
  std::string key;
  base::TimePoint sent;
  bool finished = false;  // answered, failed or past its deadline
  SourcePtr deadline;
  struct Waiter {
    LookupId lookup;
    std::size_t trace;  // index of the lookup's QueryTrace to fill
  };
  std::vector<Waiter> waiters;
};

// What a domain's question came back with, from the wire or the cache.
struct Answer {
  std::optional<base::Error> error;  // set: no records
  std::vector<Naptr> records;
};

class AresResolver final : public EnumResolver {
 public:
  AresResolver(const ResolverConfig& config, GMainContext* context, const base::Clock& clock)
      : config_(config),
        context_(context ? g_main_context_ref(context) : g_main_context_ref(g_main_context_default())),
        clock_(clock),
        cache_(clock, config.cache_entries, config.max_cache_ttl),
        deliver_(context_, [this] { deliver_completed(); }) {
    if (config.regex_cache_entries > 0) regexes_.emplace(config.regex_cache_entries);
  }

  ~AresResolver() override {
    lookups_.clear();
    if (channel_) ares_destroy(channel_);  // runs the callbacks of queries in flight with ARES_EDESTRUCTION
    timer_.reset();
    deliver_.cancel();
    fds_.clear();
    g_main_context_unref(context_);
  }

  base::Result<void> init() {
    if (library_.status != ARES_SUCCESS) {
      return base::fail(EnumError::resolver, std::string("c-ares: ") + ares_strerror(library_.status));
    }
    if (config_.timeout_ms < 10) return base::fail(EnumError::resolver, "resolver timeout_ms must be >= 10");
    ares_options opts{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    opts.sock_state_cb = &AresResolver::on_sock_state;
    opts.sock_state_cb_data = this;
    // c-ares doubles the timeout for each further round of tries: T + 2T
    // with two tries. Our own deadline (timeout_ms) still bounds the query.
    opts.timeout = std::max(1, config_.timeout_ms / 3);
    opts.tries = 2;
    // EDNS: NAPTR sets are often larger than 512 octets. STAYOPEN: one UDP
    // socket for all queries instead of one per query (half the cost).
    opts.flags = ARES_FLAG_EDNS | ARES_FLAG_STAYOPEN;
    mask |= ARES_OPT_EDNSPSZ;
    opts.ednspsz = 1232;
    const int rc = ares_init_options(&channel_, &opts, mask);
    if (rc != ARES_SUCCESS) {
      channel_ = nullptr;
      return base::fail(EnumError::resolver, std::string("c-ares init: ") + ares_strerror(rc));
    }
    if (!config_.servers.empty()) {
      std::string csv;
      for (const auto& s : config_.servers) {
        if (s.empty() || s.find(',') != std::string::npos) {
          return base::fail(EnumError::resolver, "bad DNS server '" + s + "'");
        }
        if (!csv.empty()) csv += ',';
        csv += s;
      }
      const int src = ares_set_servers_ports_csv(channel_, csv.c_str());
      if (src != ARES_SUCCESS) {
        return base::fail(EnumError::resolver, "DNS servers '" + csv + "': " + ares_strerror(src));
      }
    }
    if (config_.suffixes.empty()) return base::fail(EnumError::resolver, "no ENUM suffix configured");
    return {};
  }

  LookupId lookup(const E164& number, LookupCallback callback) override {
    const LookupId id = next_lookup_++;
    ++stats_.lookups;
    auto l = std::make_unique<Lookup>(id, std::move(callback), number, clock_.now());
    Lookup& ref = *l;
    lookups_.emplace(id, std::move(l));
    start_suffix(ref);
    return id;
  }

  void cancel(LookupId id) override { lookups_.erase(id); }

  ResolverStats stats() const override {
    ResolverStats s = stats_;
    s.cache = cache_.stats();
    s.cache.entries = cache_.size();
    return s;
  }

  void clear_cache() override { cache_.clear(); }
  const ResolverConfig& config() const override { return config_; }

 private:
  struct Frame {
    std::string domain;
    int depth = 0;
    std::vector<Target> targets;
    std::vector<NextLookup> next;
    std::size_t next_index = 0;
  };
  struct Lookup {
    Lookup(LookupId i, LookupCallback cb, const E164& number, base::TimePoint now)
        : id(i), callback(std::move(cb)), result{.number = number, .suffix = {}, .targets = {}, .error = {}, .queries = {}, .elapsed = {}},
          started(now) {}
    LookupId id;
    LookupCallback callback;
    LookupResult result;
    std::vector<Frame> stack;
    std::size_t suffix = 0;
    std::set<std::string> visited;  // cache keys asked in this lookup
    std::optional<base::Error> worst;
    base::TimePoint started;
    bool done = false;
  };

  // --- the lookup state machine ---------------------------------------------

  void start_suffix(Lookup& l) {
    l.stack.clear();
    l.visited.clear();
    if (l.suffix >= config_.suffixes.size()) {
      finish(l, l.worst.value_or(base::Error(EnumError::not_found, "no ENUM records for " + l.result.number.str())));
      return;
    }
    const std::string domain = to_enum_domain(l.result.number, config_.suffixes[l.suffix]);
    l.stack.push_back(Frame{domain, 0, {}, {}, 0});
    ask(l, domain, 0);
  }

  void note_failure(Lookup& l, const base::Error& e) {
    if (!l.worst || severity(e) > severity(*l.worst)) l.worst = e;
  }

  // The top frame's domain has been answered.
  void on_answer(LookupId id, std::size_t trace_index, const Answer& answer) {
    auto it = lookups_.find(id);
    if (it == lookups_.end() || it->second->done) return;
    Lookup& l = *it->second;
    QueryTrace& trace = l.result.queries[trace_index];
    trace.elapsed = std::chrono::duration_cast<Micros>(clock_.now() - l.started) - trace.elapsed;
    trace.records = answer.records;
    Frame& f = l.stack.back();
    if (answer.error) {
      trace.error = answer.error;
      note_failure(l, *answer.error);
    } else {
      RuleResult rules = regexes_ ? apply_naptr_rules(l.result.number, answer.records, *regexes_)
                                  : apply_naptr_rules(l.result.number, answer.records);
      trace.skipped = std::move(rules.skipped);
      f.targets = std::move(rules.targets);
      // Non-terminal rules ranked before the best target are followed first;
      // ones ranked after it are never needed.
      for (auto& n : rules.next) {
        if (f.targets.empty() || n.preference < f.targets.front().preference) f.next.push_back(std::move(n));
      }
      if (f.targets.empty() && f.next.empty()) {
        auto e = base::Error(EnumError::not_found, "no usable NAPTR records at " + f.domain);
        trace.error = e;
        note_failure(l, e);
      }
    }
    advance(l);
  }

  void advance(Lookup& l) {
    while (!l.stack.empty()) {
      Frame& f = l.stack.back();
      if (f.next_index < f.next.size()) {
        const NextLookup& n = f.next[f.next_index++];
        const int depth = f.depth + 1;
        if (depth > config_.max_depth) {
          note_failure(l, base::Error(EnumError::too_deep, "non-terminal NAPTR chain deeper than " +
                                                               std::to_string(config_.max_depth) + " at " + n.domain));
          continue;
        }
        if (l.result.queries.size() >= kMaxQueriesPerLookup) {
          note_failure(l, base::Error(EnumError::too_deep, "more than " + std::to_string(kMaxQueriesPerLookup) +
                                                               " NAPTR queries for one number"));
          continue;
        }
        if (l.visited.count(cache_key(n.domain))) {
          note_failure(l, base::Error(EnumError::too_deep, "non-terminal NAPTR loop back to " + n.domain));
          continue;
        }
        l.stack.push_back(Frame{n.domain, depth, {}, {}, 0});
        ask(l, n.domain, depth);
        return;
      }
      if (!f.targets.empty()) {
        l.result.targets = std::move(f.targets);
        l.result.suffix = config_.suffixes[l.suffix];
        finish(l, std::nullopt);
        return;
      }
      l.stack.pop_back();
    }
    ++l.suffix;
    start_suffix(l);
  }

  void finish(Lookup& l, std::optional<base::Error> error) {
    l.done = true;
    l.result.error = std::move(error);
    l.result.elapsed = std::chrono::duration_cast<Micros>(clock_.now() - l.started);
    if (l.result.error) l.result.targets.clear();
    completed_.push_back(l.id);
    deliver_.schedule();
  }

  // Looks `domain` up for the top frame of `l`: from the cache, by joining a
  // question on the wire, or by asking.
  void ask(Lookup& l, const std::string& domain, int depth) {
    const std::string key = cache_key(domain);
    l.visited.insert(key);
    QueryTrace trace;
    trace.domain = domain;
    trace.suffix = config_.suffixes[l.suffix];
    trace.depth = depth;
    // elapsed holds the start offset until the answer comes (see on_answer).
    trace.elapsed = std::chrono::duration_cast<Micros>(clock_.now() - l.started);
    l.result.queries.push_back(std::move(trace));
    const std::size_t index = l.result.queries.size() - 1;

    if (auto cached = cache_.get(key)) {
      l.result.queries[index].from_cache = true;
      Answer a;
      if (cached->negative) {
        a.error = base::Error(EnumError::not_found, (cached->nxdomain ? "NXDOMAIN " : "no NAPTR records at ") +
                                                        domain + " (cached)");
      } else {
        a.records = std::move(cached->records);
      }
      on_answer(l.id, index, a);
      return;
    }
    if (auto it = inflight_.find(key); it != inflight_.end()) {
      l.result.queries[index].shared = true;
      ++stats_.queries_shared;
      it->second->waiters.push_back({l.id, index});
      return;
    }
    auto wire = std::make_unique<Wire>();
    wire->owner = this;
    wire->serial = next_wire_++;
    wire->domain = domain;
    wire->key = key;
    wire->sent = clock_.now();
    wire->waiters.push_back({l.id, index});
    Wire* w = wire.get();
    wire->deadline = add_timeout(config_.timeout_ms, &AresResolver::on_deadline, w);
    wires_.emplace(w->serial, std::move(wire));
    inflight_.emplace(key, w);
    ++stats_.queries_sent;
    log::debug(Sub::e164, "event=dns_query domain={}", domain);
    ares_query(channel_, domain.c_str(), kClassIn, kTypeNaptr, &AresResolver::on_ares_answer, w);
    reschedule_timer();
  }

  // --- answers -------------------------------------------------------------

  static void on_ares_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) noexcept {
    auto* w = static_cast<Wire*>(arg);
    AresResolver* self = w->owner;
    auto owned = self->wires_.extract(w->serial);  // freed when this returns
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
    self->handle_answer(*w, status, abuf, alen);
  }

  void handle_answer(Wire& w, int status, const unsigned char* abuf, int alen) {
    Answer a;
    bool cacheable = false;
    if (abuf && alen > 0 &&
        (status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND)) {
      auto parsed = parse_naptr_response({abuf, static_cast<std::size_t>(alen)}, w.domain);
      if (!parsed) {
        a.error = parsed.error();
      } else if (parsed->truncated) {
        // c-ares retries truncated answers over TCP; one that is still
        // truncated is incomplete and must not be cached as the whole set.
        a.error = base::Error(EnumError::server_failure, "truncated DNS answer for " + w.domain);
      } else if (parsed->rcode == static_cast<std::uint8_t>(Rcode::nxdomain)) {
        a.error = base::Error(EnumError::not_found, "NXDOMAIN " + w.domain);
        if (parsed->negative_ttl) cache_.put_negative(w.key, true, std::chrono::seconds(*parsed->negative_ttl));
        cacheable = true;
      } else if (parsed->rcode != static_cast<std::uint8_t>(Rcode::noerror)) {
        a.error = base::Error(EnumError::server_failure,
                              "DNS RCODE " + std::to_string(parsed->rcode) + " for " + w.domain);
      } else if (parsed->records.empty()) {
        a.error = base::Error(EnumError::not_found, "no NAPTR records at " + w.domain);
        if (parsed->negative_ttl) cache_.put_negative(w.key, false, std::chrono::seconds(*parsed->negative_ttl));
        cacheable = true;
      } else {
        a.records = parsed->records;
        cache_.put_positive(w.key, std::move(parsed->records), parsed->canonical_name,
                            std::chrono::seconds(parsed->ttl));
        cacheable = true;
      }
    } else if (status == ARES_ETIMEOUT) {
      a.error = base::Error(EnumError::timeout, "DNS query for " + w.domain + " timed out");
    } else {
      a.error = base::Error(EnumError::server_failure, "DNS query for " + w.domain + ": " + ares_strerror(status));
    }
    if (w.finished) return;  // past our deadline (counted there): the answer only fed the cache
    if (a.error && !cacheable) ++(a.error->is(EnumError::timeout) ? stats_.timeouts : stats_.failures);
    log::debug(Sub::e164, "event=dns_answer domain={} records={} error={}", w.domain, a.records.size(),
               a.error ? a.error->message() : "none");
    complete_wire(w, a);
  }

  static gboolean on_deadline(gpointer data) noexcept {
    auto* w = static_cast<Wire*>(data);
    AresResolver* self = w->owner;
    base::release_dispatched(w->deadline);  // destroyed by returning G_SOURCE_REMOVE
    ++self->stats_.timeouts;
    self->complete_wire(*w, Answer{base::Error(EnumError::timeout, "DNS query for " + w->domain + " timed out after " +
                                                                       std::to_string(self->config_.timeout_ms) + " ms"),
                                   {}});
    return G_SOURCE_REMOVE;
  }

  void complete_wire(Wire& w, const Answer& a) {
    w.finished = true;
    w.deadline.reset();
    inflight_.erase(w.key);
    auto waiters = std::move(w.waiters);
    for (const auto& waiter : waiters) on_answer(waiter.lookup, waiter.trace, a);
  }

  // --- completions, delivered from the loop ---------------------------------

  void deliver_completed() {
    auto done = std::move(completed_);
    completed_.clear();
    for (LookupId id : done) {
      auto node = lookups_.extract(id);
      if (node.empty()) continue;  // cancelled
      Lookup& l = *node.mapped();
      if (l.callback) l.callback(l.result);
    }
  }

  // --- c-ares sockets and timer on the GLib context -------------------------

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
    auto* self = static_cast<AresResolver*>(data);
    self->fds_.erase(fd);
    if (!readable && !writable) return;
    GIOCondition cond = static_cast<GIOCondition>((readable ? G_IO_IN : 0) | (writable ? G_IO_OUT : 0));
    SourcePtr src(g_unix_fd_source_new(fd, cond));
    g_source_set_callback(src.get(), G_SOURCE_FUNC(+[](gint fd, GIOCondition c, gpointer d) noexcept {
                            auto* r = static_cast<AresResolver*>(d);
                            const bool in = (c & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0;
                            const bool out = (c & G_IO_OUT) != 0;
                            ares_process_fd(r->channel_, in ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
                            r->reschedule_timer();
                            return gboolean{G_SOURCE_CONTINUE};
                          }),
                          self, nullptr);
    g_source_attach(src.get(), self->context_);
    self->fds_.emplace(fd, std::move(src));
  }

  void reschedule_timer() {
    timer_.reset();
    if (!channel_) return;
    timeval tv{};
    if (!ares_timeout(channel_, nullptr, &tv)) return;  // nothing pending
    const guint ms = static_cast<guint>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
    timer_ = add_timeout(static_cast<int>(std::max<guint>(ms, 1)), &AresResolver::on_ares_timer, this);
  }

  static gboolean on_ares_timer(gpointer data) noexcept {
    auto* self = static_cast<AresResolver*>(data);
    base::release_dispatched(self->timer_);  // destroyed by returning G_SOURCE_REMOVE
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self->reschedule_timer();
    return G_SOURCE_REMOVE;
  }

  SourcePtr add_timeout(int ms, GSourceFunc fn, gpointer data) {
    SourcePtr src(g_timeout_source_new(static_cast<guint>(ms)));
    g_source_set_callback(src.get(), fn, data, nullptr);
    g_source_attach(src.get(), context_);
    return src;
  }

  AresLibrary library_;
  ResolverConfig config_;
  GMainContext* context_;
  const base::Clock& clock_;
  EnumCache cache_;
  ares_channel channel_ = nullptr;
  std::unordered_map<int, SourcePtr> fds_;
  SourcePtr timer_;
  base::DeferredCall deliver_;                // completed lookups to their callbacks
  std::optional<RegexCache> regexes_;         // compiled NAPTR regexps; none when regex_cache_entries = 0
  std::map<LookupId, std::unique_ptr<Lookup>> lookups_;
  std::map<std::uint64_t, std::unique_ptr<Wire>> wires_;
  std::unordered_map<std::string, Wire*> inflight_;
  std::vector<LookupId> completed_;
  LookupId next_lookup_ = 1;
  std::uint64_t next_wire_ = 1;
  ResolverStats stats_;
};

}  // namespace

base::Result<std::unique_ptr<EnumResolver>> EnumResolver::create(const ResolverConfig& config, GMainContext* context,
                                                                 const base::Clock& clock) {
  auto r = std::make_unique<AresResolver>(config, context, clock);
  if (auto ok = r->init(); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<EnumResolver>(std::move(r));
}

}  // namespace sipline::e164
