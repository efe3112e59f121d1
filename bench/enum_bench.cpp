// ENUM lookups against a real authoritative server: a private knotd on
// 127.0.0.1 (tests/harness/knot_server.hpp) serving
// tests/fixtures/dns/e164.arpa.zone, and one number, +81312345678 (six NAPTRs,
// three targets after the rules).
//
//   BM_EnumLookupCached  EnumResolver::lookup() answered from its cache,
//                        including driving the GMainContext until the callback
//                        has run: what a repeated number costs. The cache
//                        holds records, so the rules run on every lookup;
//                        regex_cache:1 is the resolver as configured by
//                        default (each REGEXP compiled once, RegexCache),
//                        regex_cache:0 compiles them on every lookup (the
//                        reference for the regex cache).
//   BM_EnumLookupDns     the same with cache_entries = 0: one DNS query per
//                        lookup, through c-ares on the GLib loop, parsed and
//                        ruled by our code. Its median is the latency one ENUM
//                        lookup adds to call setup.
//   BM_AresQueryRaw      the in-run reference: plain c-ares, ares_query() for
//                        the same name with the resolver's options, on a
//                        select()/ares_process() loop with no GLib, parsed by
//                        ares_parse_naptr_reply(). Arg 1 adds
//                        ARES_FLAG_STAYOPEN (the socket is kept between
//                        queries; our resolver does not set it).
//   BM_NaptrRules        parse_naptr_response() + apply_naptr_rules() on an
//                        answer captured from the server (pure CPU);
//                        regex_cache:1 with a warm RegexCache, regex_cache:0
//                        compiling every REGEXP;
//   BM_NaptrParseOnly    parse_naptr_response() alone, and the reference
//   BM_AresParseNaptr    ares_parse_naptr_reply() on the same bytes.
//
// The DNS benchmarks measure wall time (UseRealTime) and report the median and
// 99th percentile of single lookups as counters; their CPU column is the
// benchmark thread's own CPU, i.e. the client side. At the end the program
// prints the ratios against the references of the same run.
// Needs knotd (package knot). Bounded: about 25 s in all.
#include <ares.h>
#include <glib.h>
#include <sys/select.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness/knot_server.hpp"
#include "sipline/base/c_ptr.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/base/log.hpp"
#include "sipline/enum/dns_message.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/naptr_rules.hpp"
#include "sipline/enum/regex_cache.hpp"
#include "sipline/enum/resolver.hpp"

namespace {

using namespace sipline;
using Clock = std::chrono::steady_clock;

constexpr const char* kNumber = "+81312345678";
constexpr std::size_t kExpectedTargets = 3;
constexpr const char* kExpectedFirstUri = "sip:312345678@jp.example.test";
constexpr double kDnsMinTime = 2.0;  // seconds per DNS benchmark
constexpr double kCpuMinTime = 1.0;

using GMainContextPtr = base::CPtr<GMainContext, g_main_context_unref>;
using AresChannel = base::CPtr<ares_channeldata, ares_destroy>;

// What every benchmark shares: the server, the number, its domain and one
// answer captured from the server.
struct BenchEnv {
  test::KnotServer knot;
  e164::E164 number = *e164::E164::parse(kNumber);
  std::string domain = e164::to_enum_domain(number, "e164.arpa");
  std::vector<std::uint8_t> answer;
};
BenchEnv* env = nullptr;

// --- sipline's resolver -------------------------------------------------------

struct LookupOutcome {
  bool done = false;
  std::size_t targets = 0;
  bool first_uri_ok = false;
  bool from_cache = false;
};

// One lookup, iterating `context` until its callback has run.
LookupOutcome run_lookup(e164::EnumResolver& resolver, GMainContext* context) {
  LookupOutcome out;
  resolver.lookup(env->number, [&out](const e164::LookupResult& r) {
    out.done = true;
    out.targets = r.targets.size();
    out.first_uri_ok = !r.targets.empty() && r.targets.front().uri == kExpectedFirstUri;
    out.from_cache = !r.queries.empty() && r.queries.front().from_cache;
  });
  while (!out.done) g_main_context_iteration(context, TRUE);
  return out;
}

void set_percentiles(benchmark::State& state, std::vector<double>& micros) {
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  state.counters["median_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}

void enum_lookup(benchmark::State& state, bool cached, bool regex_cache) {
  GMainContextPtr context(g_main_context_new());
  base::SteadyClock clock;
  e164::ResolverConfig config;
  config.servers = {env->knot.address()};
  config.suffixes = {"e164.arpa"};
  config.cache_entries = cached ? 10000 : 0;
  config.regex_cache_entries = regex_cache ? e164::kDefaultRegexCacheEntries : 0;
  auto created = e164::EnumResolver::create(config, context.get(), clock);
  if (!created) {
    state.SkipWithError(("EnumResolver::create: " + created.error().message()).c_str());
    return;
  }
  auto& resolver = **created;
  // The first lookup fills the cache (cached) and checks the answer.
  const auto first = run_lookup(resolver, context.get());
  if (first.targets != kExpectedTargets || !first.first_uri_ok) {
    state.SkipWithError("the first lookup did not give the zone's three targets");
    return;
  }
  const auto sent_before = resolver.stats().queries_sent;
  std::vector<double> micros;
  bool wrong = false;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const auto r = run_lookup(resolver, context.get());
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    wrong = wrong || r.targets != kExpectedTargets || r.from_cache != cached;
  }
  const auto sent = resolver.stats().queries_sent - sent_before;
  if (wrong) {
    state.SkipWithError("a lookup gave other targets, or the cache was (not) used");
    return;
  }
  if (sent != (cached ? 0U : static_cast<std::uint64_t>(state.iterations()))) {
    state.SkipWithError(("DNS queries sent: " + std::to_string(sent) + " for " +
                         std::to_string(state.iterations()) + " lookups")
                            .c_str());
    return;
  }
  state.counters["lookups/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  set_percentiles(state, micros);
}

void BM_EnumLookupCached(benchmark::State& state) { enum_lookup(state, true, state.range(0) != 0); }
BENCHMARK(BM_EnumLookupCached)->ArgName("regex_cache")->Arg(0)->Arg(1)->MinTime(kCpuMinTime)->UseRealTime();

void BM_EnumLookupDns(benchmark::State& state) { enum_lookup(state, false, true); }
BENCHMARK(BM_EnumLookupDns)->MinTime(kDnsMinTime)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --- plain c-ares (the reference) ----------------------------------------------

struct RawQuery {
  bool done = false;
  int status = ARES_ENODATA;
  int records = 0;
  std::vector<std::uint8_t>* capture = nullptr;
};

void on_raw_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) noexcept {
  auto& q = *static_cast<RawQuery*>(arg);
  q.done = true;
  q.status = status;
  if (status != ARES_SUCCESS) return;
  if (q.capture) q.capture->assign(abuf, abuf + alen);
  ares_naptr_reply* naptr = nullptr;
  q.status = ares_parse_naptr_reply(abuf, alen, &naptr);
  for (auto* n = naptr; n; n = n->next) ++q.records;
  if (naptr) ares_free_data(naptr);
}

// A channel with the options EnumResolver uses (resolver.cpp init()), plus
// `extra_flags`.
AresChannel make_channel(int extra_flags, std::string& error) {
  ares_options opts{};
  opts.timeout = 500;
  opts.tries = 2;
  opts.flags = ARES_FLAG_EDNS | extra_flags;
  opts.ednspsz = 1232;
  ares_channel raw = nullptr;
  int rc = ares_init_options(&raw, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ);
  AresChannel channel(rc == ARES_SUCCESS ? raw : nullptr);
  if (rc == ARES_SUCCESS) rc = ares_set_servers_ports_csv(channel.get(), env->knot.address().c_str());
  if (rc != ARES_SUCCESS) {
    error = std::string("c-ares: ") + ares_strerror(rc);
    return nullptr;
  }
  return channel;
}

// One query, on a select() loop until its callback has run.
RawQuery run_raw_query(ares_channel channel, std::vector<std::uint8_t>* capture = nullptr) {
  RawQuery q;
  q.capture = capture;
  ares_query(channel, env->domain.c_str(), e164::kClassIn, e164::kTypeNaptr, &on_raw_answer, &q);
  while (!q.done) {
    fd_set readers;
    fd_set writers;
    FD_ZERO(&readers);
    FD_ZERO(&writers);
    const int nfds = ares_fds(channel, &readers, &writers);
    if (nfds == 0) break;
    timeval max_wait{1, 0};
    timeval tv{};
    timeval* wait = ares_timeout(channel, &max_wait, &tv);
    ::select(nfds, &readers, &writers, nullptr, wait);
    ares_process(channel, &readers, &writers);
  }
  return q;
}

void BM_AresQueryRaw(benchmark::State& state) {
  std::string error;
  const auto channel = make_channel(state.range(0) ? ARES_FLAG_STAYOPEN : 0, error);
  if (!channel) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::vector<double> micros;
  bool wrong = false;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const auto q = run_raw_query(channel.get());
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    wrong = wrong || q.status != ARES_SUCCESS || q.records != 6;
  }
  if (wrong) {
    state.SkipWithError("a query failed or did not give the zone's six NAPTRs");
    return;
  }
  state.SetLabel(state.range(0) ? "ARES_FLAG_STAYOPEN" : "resolver's flags");
  state.counters["queries/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  set_percentiles(state, micros);
}
BENCHMARK(BM_AresQueryRaw)->Arg(0)->Arg(1)->MinTime(kDnsMinTime)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --- pure CPU: the rules on a captured answer --------------------------------------

void BM_NaptrRules(benchmark::State& state) {
  const std::span<const std::uint8_t> message(env->answer);
  std::optional<e164::RegexCache> regexes;
  if (state.range(0)) regexes.emplace();
  for (auto _ : state) {
    auto response = e164::parse_naptr_response(message, env->domain);
    if (!response) {
      state.SkipWithError(("parse_naptr_response: " + response.error().message()).c_str());
      return;
    }
    auto rules = regexes ? e164::apply_naptr_rules(env->number, response->records, *regexes)
                         : e164::apply_naptr_rules(env->number, response->records);
    benchmark::DoNotOptimize(rules);
    if (rules.targets.size() != kExpectedTargets) {
      state.SkipWithError("the rules did not give the zone's three targets");
      return;
    }
  }
  if (regexes) {
    // Every REGEXP compiled once, in the first iteration.
    const auto& st = regexes->stats();
    state.counters["regcomp"] = static_cast<double>(st.misses);
    if (st.misses != regexes->size() || st.evictions != 0) {
      state.SkipWithError("the regex cache compiled a REGEXP more than once");
      return;
    }
  }
}
BENCHMARK(BM_NaptrRules)->ArgName("regex_cache")->Arg(0)->Arg(1)->MinTime(kCpuMinTime);

// BM_NaptrRules without the rules: parse_naptr_response() alone.
void BM_NaptrParseOnly(benchmark::State& state) {
  const std::span<const std::uint8_t> message(env->answer);
  for (auto _ : state) {
    auto response = e164::parse_naptr_response(message, env->domain);
    benchmark::DoNotOptimize(response);
    if (!response) {
      state.SkipWithError(("parse_naptr_response: " + response.error().message()).c_str());
      return;
    }
  }
}
BENCHMARK(BM_NaptrParseOnly)->MinTime(kCpuMinTime);

// Reference for BM_NaptrRules: c-ares' own NAPTR parser (no rules, no regex).
void BM_AresParseNaptr(benchmark::State& state) {
  for (auto _ : state) {
    ares_naptr_reply* naptr = nullptr;
    const int rc = ares_parse_naptr_reply(env->answer.data(), static_cast<int>(env->answer.size()), &naptr);
    benchmark::DoNotOptimize(naptr);
    if (naptr) ares_free_data(naptr);
    if (rc != ARES_SUCCESS) {
      state.SkipWithError("ares_parse_naptr_reply failed");
      return;
    }
  }
}
BENCHMARK(BM_AresParseNaptr)->MinTime(kCpuMinTime);

// --- ratios against the references ---------------------------------------------------

// The console output, plus each run kept for the ratios printed at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (!r.error_occurred && r.run_type == Run::RT_Iteration) runs_[r.benchmark_name()] = r;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print_ratios() const {
    std::printf("\nRatios in this run (per operation):\n");
    ratio("sipline DNS lookup / raw c-ares query, wall", "BM_EnumLookupDns", "BM_AresQueryRaw/0/", false);
    ratio("sipline DNS lookup / raw c-ares query, client CPU", "BM_EnumLookupDns", "BM_AresQueryRaw/0/", true);
    ratio("raw c-ares with STAYOPEN / raw c-ares, wall", "BM_AresQueryRaw/1/", "BM_AresQueryRaw/0/", false);
    ratio("sipline cached lookup / raw c-ares query, wall", "BM_EnumLookupCached/regex_cache:1/",
          "BM_AresQueryRaw/0/", false);
    ratio("sipline cached lookup, regex cache / none, CPU", "BM_EnumLookupCached/regex_cache:1/",
          "BM_EnumLookupCached/regex_cache:0/", true);
    ratio("parse_naptr_response+apply_naptr_rules / ares_parse_naptr_reply, CPU", "BM_NaptrRules/regex_cache:0/",
          "BM_AresParseNaptr", true);
    ratio("the same with a warm RegexCache / ares_parse_naptr_reply, CPU", "BM_NaptrRules/regex_cache:1/",
          "BM_AresParseNaptr", true);
    ratio("parse+rules, regex cache / none, CPU", "BM_NaptrRules/regex_cache:1/", "BM_NaptrRules/regex_cache:0/",
          true);
    ratio("parse_naptr_response / ares_parse_naptr_reply, CPU", "BM_NaptrParseOnly", "BM_AresParseNaptr", true);
    const Run* raw = find("BM_AresQueryRaw/0/");
    if (const Run* dns = find("BM_EnumLookupDns"); dns && raw && dns->counters.count("median_us") &&
                                                     raw->counters.count("median_us")) {
      const double a = dns->counters.at("median_us");
      const double b = raw->counters.at("median_us");
      std::printf("  sipline DNS lookup / raw c-ares query, median: %.3g us / %.3g us = %.2f\n", a, b, a / b);
    }
    if (const Run* dns = find("BM_EnumLookupDns"); dns && dns->counters.count("median_us")) {
      std::printf("  median latency one ENUM lookup adds to call setup: %.1f us (p99 %.1f us)\n",
                  static_cast<double>(dns->counters.at("median_us")),
                  static_cast<double>(dns->counters.at("p99_us")));
    }
  }

 private:
  // The run whose name starts with `prefix`, or null (filtered out or failed).
  const Run* find(const std::string& prefix) const {
    for (const auto& [name, run] : runs_) {
      if (name.starts_with(prefix)) return &run;
    }
    return nullptr;
  }

  void ratio(const char* what, const std::string& a, const std::string& b, bool cpu) const {
    const Run* ra = find(a);
    const Run* rb = find(b);
    if (!ra || !rb) return;
    // Adjusted times are in each run's own unit; compare in seconds.
    const double ta = (cpu ? ra->GetAdjustedCPUTime() : ra->GetAdjustedRealTime()) /
                      benchmark::GetTimeUnitMultiplier(ra->time_unit);
    const double tb = (cpu ? rb->GetAdjustedCPUTime() : rb->GetAdjustedRealTime()) /
                      benchmark::GetTimeUnitMultiplier(rb->time_unit);
    std::printf("  %s: %.3g us / %.3g us = %.2f\n", what, ta * 1e6, tb * 1e6, ta / tb);
  }

  std::map<std::string, Run> runs_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  base::log::init("warn");
  BenchEnv shared;
  env = &shared;
  test::KnotServerOptions options;
  options.zones = {test::knot_fixture_zone("e164.arpa")};
  if (!shared.knot.start(options)) {
    std::fprintf(stderr, "enum_bench: knotd: %s\n", shared.knot.error().c_str());
    return 1;
  }
  const int init = ares_library_init(ARES_LIB_INIT_ALL);
  if (init != ARES_SUCCESS) {
    std::fprintf(stderr, "enum_bench: c-ares: %s\n", ares_strerror(init));
    return 1;
  }
  {
    std::string error;
    const auto channel = make_channel(0, error);
    const auto q = channel ? run_raw_query(channel.get(), &shared.answer) : RawQuery{};
    if (q.status != ARES_SUCCESS || shared.answer.empty()) {
      std::fprintf(stderr, "enum_bench: capturing the answer for %s failed: %s\n", shared.domain.c_str(),
                   error.empty() ? ares_strerror(q.status) : error.c_str());
      return 1;
    }
  }
  std::printf("knotd on %s, number %s (%s), answer %zu octets\n", shared.knot.address().c_str(), kNumber,
              shared.domain.c_str(), shared.answer.size());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  ares_library_cleanup();
  env = nullptr;
  return 0;
}
