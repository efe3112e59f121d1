// sipline-enum: ENUM lookups from the command line, like dig for ENUM.
//
//   sipline-enum +81312345678 --suffix e164.arpa --server 127.0.0.1:5353
//
// prints the number's domain under each suffix asked, every NAPTR record
// seen, and the resulting URIs in order, with timing and cache status. It runs
// sipline's own resolver (the library the daemon uses), so what it prints is
// what a call would get. --repeat N runs the same lookup N times on one
// resolver (the second shows the cache); --json prints one JSON object per
// lookup. Exit status: 0 targets found, 1 none, 2 usage error.
#include <glib.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "sipline/base/clock.hpp"
#include "sipline/base/log.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/resolver.hpp"
#include "sipline/enum/tel_uri.hpp"

namespace {

using namespace sipline;
using nlohmann::json;

const char* error_name(const base::Error& e) {
  using e164::EnumError;
  switch (static_cast<EnumError>(e.code())) {
    case EnumError::timeout: return "timeout";
    case EnumError::not_found: return "not_found";
    case EnumError::server_failure: return "server_failure";
    case EnumError::too_deep: return "too_deep";
    case EnumError::bad_message: return "bad_message";
    case EnumError::question_mismatch: return "question_mismatch";
    case EnumError::cname_loop: return "cname_loop";
    case EnumError::resolver: return "resolver";
    default: return "error";
  }
}

base::Result<e164::E164> parse_number(const std::string& text, const std::string& country) {
  if (text.rfind("tel:", 0) == 0 || text.rfind("TEL:", 0) == 0) {
    auto uri = e164::parse_tel_uri(text);
    if (!uri) return tl::unexpected(uri.error());
    return e164::to_e164(*uri);
  }
  auto plan = e164::builtin_plan(country);
  if (!plan) return base::fail(e164::EnumError::malformed, "unknown country '" + country + "'");
  return e164::normalise(text, *plan);
}

json record_json(const e164::Naptr& n) {
  return {{"order", n.order},        {"preference", n.preference}, {"flags", n.flags},
          {"services", n.services},  {"regexp", n.regexp},         {"replacement", n.replacement}};
}

double ms(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

json result_json(const e164::LookupResult& r, const e164::ResolverStats& stats) {
  json j;
  j["number"] = r.number.str();
  j["suffix"] = r.suffix;
  j["targets"] = json::array();
  for (const auto& t : r.targets) {
    j["targets"].push_back({{"uri", t.uri}, {"service", t.service}, {"order", t.order}, {"preference", t.preference}});
  }
  j["error"] = r.error ? json{{"code", error_name(*r.error)}, {"message", r.error->message()}} : json(nullptr);
  j["queries"] = json::array();
  for (const auto& q : r.queries) {
    json jq{{"domain", q.domain}, {"suffix", q.suffix}, {"depth", q.depth}, {"cached", q.from_cache},
            {"shared", q.shared}, {"ms", ms(q.elapsed)}};
    jq["error"] = q.error ? json(q.error->message()) : json(nullptr);
    jq["records"] = json::array();
    for (const auto& n : q.records) jq["records"].push_back(record_json(n));
    jq["skipped"] = json::array();
    for (const auto& s : q.skipped) jq["skipped"].push_back({{"index", s.index}, {"reason", s.error.message()}});
    j["queries"].push_back(std::move(jq));
  }
  j["ms"] = ms(r.elapsed);
  j["cache"] = {{"hits", stats.cache.hits}, {"misses", stats.cache.misses}};
  return j;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

void print_text(const e164::LookupResult& r, const e164::ResolverStats& stats) {
  std::printf("number %s\n", r.number.str().c_str());
  for (const auto& q : r.queries) {
    std::printf(";; %*s%s NAPTR (suffix %s): %s, %zu record%s, %.3f ms, %s\n", q.depth * 2, "", q.domain.c_str(),
                q.suffix.c_str(), q.error ? q.error->message().c_str() : "answer", q.records.size(),
                q.records.size() == 1 ? "" : "s", ms(q.elapsed),
                q.from_cache ? "from cache" : (q.shared ? "shared query" : "queried"));
    for (const auto& n : q.records) {
      std::printf("   %*sNAPTR %u %u %s %s %s %s\n", q.depth * 2, "", n.order, n.preference, quoted(n.flags).c_str(),
                  quoted(n.services).c_str(), quoted(n.regexp).c_str(),
                  n.replacement.empty() ? "." : (n.replacement + ".").c_str());
    }
    for (const auto& s : q.skipped) std::printf("   %*s(record %zu skipped: %s)\n", q.depth * 2, "", s.index + 1,
                                                s.error.message().c_str());
  }
  if (r.error) {
    std::printf("no targets: %s\n", r.error->message().c_str());
  } else {
    std::printf("targets (suffix %s):\n", r.suffix.c_str());
    int i = 1;
    for (const auto& t : r.targets) {
      std::printf("  %d. %s  (%s, order %u, preference %u)\n", i++, t.uri.c_str(), t.service.c_str(), t.order,
                  t.preference);
    }
  }
  std::printf(";; %.3f ms; cache %llu hits, %llu misses\n", ms(r.elapsed),
              static_cast<unsigned long long>(stats.cache.hits), static_cast<unsigned long long>(stats.cache.misses));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sipline-enum: ENUM (RFC 6116) lookups with sipline's resolver"};
  std::string number_text;
  std::vector<std::string> suffixes;
  std::vector<std::string> servers;
  std::string country = "US";
  int timeout_ms = 1500;
  int max_depth = 4;
  int repeat = 1;
  bool as_json = false;
  app.add_option("number", number_text, "+E.164 number, digits as dialed (see --country) or a tel: URI")->required();
  app.add_option("--suffix", suffixes, "ENUM suffix, asked in the order given (default e164.arpa)");
  app.add_option("--server", servers, "DNS server ip[:port] or [ipv6]:port (default: /etc/resolv.conf)");
  app.add_option("--country", country, "numbering plan for dialed digits: US, JP, DE, UK, FR")->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "per DNS query, including retries")->capture_default_str()
      ->check(CLI::Range(10, 60000));
  app.add_option("--max-depth", max_depth, "non-terminal NAPTR rules followed at most this deep")
      ->capture_default_str()->check(CLI::Range(0, 16));
  app.add_option("--repeat", repeat, "run the lookup this many times on one resolver")->check(CLI::Range(1, 1000000));
  app.add_flag("--json", as_json, "one JSON object per lookup");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  base::log::init("warn");

  auto number = parse_number(number_text, country);
  if (!number) {
    std::fprintf(stderr, "sipline-enum: %s: %s\n", number_text.c_str(), number.error().message().c_str());
    return 2;
  }
  e164::ResolverConfig config;
  if (!suffixes.empty()) config.suffixes = suffixes;
  config.servers = servers;
  config.timeout_ms = timeout_ms;
  config.max_depth = max_depth;

  GMainContext* context = g_main_context_new();
  base::SteadyClock clock;
  int status = 2;
  {
    auto resolver = e164::EnumResolver::create(config, context, clock);
    if (!resolver) {
      std::fprintf(stderr, "sipline-enum: %s\n", resolver.error().message().c_str());
      g_main_context_unref(context);
      return 2;
    }
    for (int i = 0; i < repeat; ++i) {
      bool done = false;
      (*resolver)->lookup(*number, [&](const e164::LookupResult& r) {
        done = true;
        status = r.targets.empty() ? 1 : 0;
        const auto stats = (*resolver)->stats();
        if (as_json) {
          std::cout << result_json(r, stats).dump() << "\n";
        } else {
          if (i > 0) std::printf("\n");
          print_text(r, stats);
        }
      });
      while (!done) g_main_context_iteration(context, TRUE);
    }
    std::cout.flush();
  }
  g_main_context_unref(context);
  return status;
}
