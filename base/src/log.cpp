#include "sipline/base/log.hpp"

#include <array>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>

namespace sipline::base {
namespace {

thread_local LogContextFields t_context;

constexpr std::array<const char*, 12> kSubNames = {
    "main", "sip", "call", "route", "media", "dsp", "driver", "enum", "ice", "srtp", "ctl", "config"};

struct Loggers {
  std::array<std::shared_ptr<spdlog::logger>, kSubNames.size()> by_sub;
  Loggers() {
    // Logs go to stderr: stdout stays free for what a command prints.
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    for (std::size_t i = 0; i < kSubNames.size(); ++i) {
      by_sub[i] = std::make_shared<spdlog::logger>(kSubNames[i], sink);
      by_sub[i]->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l [%n] %v");
      by_sub[i]->set_level(spdlog::level::info);
    }
  }
};

Loggers& loggers() {
  static Loggers l;
  return l;
}

}  // namespace

LogContext::LogContext(LogContextFields fields) : saved_(t_context) {
  // Fields left empty inherit the enclosing context (a line context inside a call's keeps the Call-ID).
  if (!fields.call_id.empty()) t_context.call_id = std::move(fields.call_id);
  if (!fields.line.empty()) t_context.line = std::move(fields.line);
}
LogContext::~LogContext() { t_context = std::move(saved_); }

namespace log {

void init(std::string_view level) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  for (auto& l : loggers().by_sub) {
    l->set_level(lvl);
    l->flush_on(spdlog::level::trace);
  }
}

spdlog::logger& get(Sub sub) { return *loggers().by_sub[static_cast<std::size_t>(sub)]; }

std::string context_suffix() {
  std::string out;
  if (!t_context.call_id.empty()) out += " call_id=" + t_context.call_id;
  if (!t_context.line.empty()) out += " line=" + t_context.line;
  return out;
}

}  // namespace log
}  // namespace sipline::base
