#pragma once
// Logging: one spdlog-backed logger per subsystem, key=value messages, and a
// per-thread context (Call-ID, line) appended to every message logged while a
// LogContext is alive, so call messages always carry their Call-ID.
//   LogContext ctx({.call_id = id});
//   log::info(Sub::sip, "event=invite from={}", from);
//   -> 2026-11-30T14:00:00.000 info [sip] event=invite from=... call_id=abc
// Thread: any non-realtime thread. The 20 ms media path never logs.
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace sipline::base {

enum class Sub { main, sip, call, route, media, dsp, driver, e164, ice, srtp, ctl, config };

struct LogContextFields {
  std::string call_id;
  std::string line;
};

// RAII: sets this thread's log context, restores the previous one on exit.
// Empty fields inherit the enclosing context's values.
class LogContext {
 public:
  explicit LogContext(LogContextFields fields);
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;

 private:
  LogContextFields saved_;
};

namespace log {

// Sets the level for all subsystems ("trace", "debug", "info", "warn", "error", "off").
void init(std::string_view level);
spdlog::logger& get(Sub sub);
// The current thread's context rendered as " call_id=.. line=..", or "".
std::string context_suffix();

template <class... Args>
void write(Sub sub, spdlog::level::level_enum lvl, fmt::format_string<Args...> f, Args&&... args) {
  auto& logger = get(sub);
  if (!logger.should_log(lvl)) return;
  logger.log(lvl, "{}{}", fmt::format(f, std::forward<Args>(args)...), context_suffix());
}
template <class... Args>
void debug(Sub s, fmt::format_string<Args...> f, Args&&... a) { write(s, spdlog::level::debug, f, std::forward<Args>(a)...); }
template <class... Args>
void info(Sub s, fmt::format_string<Args...> f, Args&&... a) { write(s, spdlog::level::info, f, std::forward<Args>(a)...); }
template <class... Args>
void warn(Sub s, fmt::format_string<Args...> f, Args&&... a) { write(s, spdlog::level::warn, f, std::forward<Args>(a)...); }
template <class... Args>
void error(Sub s, fmt::format_string<Args...> f, Args&&... a) { write(s, spdlog::level::err, f, std::forward<Args>(a)...); }

}  // namespace log
}  // namespace sipline::base
