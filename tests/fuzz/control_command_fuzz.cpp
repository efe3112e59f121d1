// libFuzzer target for the control socket's request path
// (gateway/ctl/control_server.hpp answer_requests): the bytes a client writes
// to the Unix socket, split into lines, parsed as JSON and dispatched.
//
// Input: the first line is "outside state", raw bytes a SIP peer could have
// put into the gateway (a REGISTER's User-Agent and Contact, a caller's From),
// which the fake command target below returns in its answers, as the real
// `users` and `calls` commands do. The rest is the byte stream of one client,
// fed the way the server reads it: chunks of at most 4096 bytes, the client
// dropped once 64 KiB wait without a newline.
//
// The fake command target reads the request exactly the way
// gateway/ctl/commands.cpp handle_request() does (cmd, line as number or
// name, action, digits, file, loop, hz, hz2, level_dbfs, ms, address, with
// the same typed defaults and the same checked int_param(), so the same
// exceptions), but answers from fixed data: the real one needs a running
// Switchboard, and the JSON it reads is the part a client controls.
//
// Checks, besides memory safety and no escaping exception (the server calls
// this from a noexcept GLib callback):
//  - one answer per complete request line, each one line of JSON, an object
//    with a boolean "ok" and, when "ok" is false, a string "error";
//  - what stays buffered holds no newline.
// Build (clang): see tests/fuzz/CMakeLists.txt (target fuzz_control_command).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ctl/control_server.hpp"
#include "ctl/request_params.hpp"

namespace {

using nlohmann::json;
using sipline::gateway::ctl::answer_requests;
using sipline::gateway::ctl::int_param;

constexpr std::size_t kReadChunk = 4096;        // ControlServer's read() buffer
constexpr std::size_t kMaxRequest = 64 * 1024;  // ControlServer drops a client past this
constexpr std::size_t kLines = 2;

json fail(const std::string& message) { return {{"ok", false}, {"error", message}}; }

// As commands.cpp line_index(): 1-based number or a port name.
std::optional<std::size_t> line_index(const json& request) {
  if (!request.contains("line")) return std::nullopt;
  const json& l = request["line"];
  if (l.is_number_integer()) {
    const long n = l.get<long>();
    if (n >= 1 && static_cast<std::size_t>(n) <= kLines) return static_cast<std::size_t>(n - 1);
    return std::nullopt;
  }
  if (l.is_string()) {
    const std::string s = l.get<std::string>();
    for (std::size_t i = 0; i < kLines; ++i)
      if (s == "fxs" + std::to_string(i + 1) || s == std::to_string(i + 1)) return i;
  }
  return std::nullopt;
}

json phone_command(const json& request) {
  const auto index = line_index(request);
  if (!index) return fail("unknown line (give its 1-based number or its name)");
  const std::string action = request.value("action", "");
  if (action == "offhook" || action == "onhook" || action == "stop" || action == "stoprecord") return {{"ok", true}};
  if (action == "dial") return {{"ok", true}, {"digits", request.value("digits", "")}};
  if (action == "play") return {{"ok", true}, {"file", request.value("file", "")}, {"loop", request.value("loop", false)}};
  if (action == "tone")
    return {{"ok", true},
            {"hz", int_param(request, "hz", 0)},
            {"hz2", int_param(request, "hz2", 0)},
            {"level_dbfs", request.value("level_dbfs", -10.0)}};
  if (action == "record") return {{"ok", true}, {"file", request.value("file", "")}};
  if (action == "listen") return {{"ok", true}, {"hz", request.value("hz", 0.0)}};
  if (action == "autoanswer") return {{"ok", true}, {"ms", int_param(request, "ms", -1)}};
  if (action == "status") return {{"ok", true}, {"phone", {{"off_hook", false}, {"line", *index + 1}}}};
  return fail("unknown phone action '" + action + "'");
}

json handle(const json& request, const std::string& outside) {
  const std::string cmd = request.value("cmd", "");
  if (cmd == "status") return {{"ok", true}, {"version", "fuzz"}, {"calls", 1}, {"lines", kLines}};
  if (cmd == "lines") {
    json lines = json::array();
    for (std::size_t i = 0; i < kLines; ++i) lines.push_back({{"index", i + 1}, {"name", "fxs" + std::to_string(i + 1)}});
    return {{"ok", true}, {"lines", lines}};
  }
  if (cmd == "calls") return {{"ok", true}, {"calls", json::array({{{"remote", outside}, {"codec", "PCMU"}}})}};
  if (cmd == "users")
    return {{"ok", true}, {"users", json::array({{{"user", "alice"}, {"contact", outside}, {"user_agent", outside}}})}};
  if (cmd == "bans") return {{"ok", true}, {"bans", json::array({{{"address", "192.0.2.1"}, {"remaining_s", 60}}})}};
  if (cmd == "unban") {
    const std::string address = request.value("address", "");
    if (address != "192.0.2.1") return fail("not banned: " + address);
    return {{"ok", true}};
  }
  if (cmd == "phone") return phone_command(request);
  if (cmd == "reload") return fail("reload is not available");
  return fail("unknown command '" + cmd + "' (status, lines, calls, phone, reload)");
}

void check_answers(const std::string& answers, std::size_t expected) {
  std::size_t count = 0;
  std::size_t start = 0;
  std::size_t nl;
  while ((nl = answers.find('\n', start)) != std::string::npos) {
    const json a = json::parse(answers.begin() + static_cast<std::ptrdiff_t>(start),
                               answers.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    if (a.is_discarded() || !a.is_object() || !a.contains("ok") || !a["ok"].is_boolean()) std::abort();
    if (!a["ok"].get<bool>() && !(a.contains("error") && a["error"].is_string())) std::abort();
    ++count;
    start = nl + 1;
  }
  if (start != answers.size() || count != expected) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t first = bytes.find('\n');
  if (first == std::string_view::npos) return 0;
  const std::string outside(bytes.substr(0, first));
  const std::string_view stream = bytes.substr(first + 1);

  const sipline::gateway::ctl::RequestHandler handler = [&outside](const json& request) {
    return handle(request, outside);
  };
  std::string in;
  for (std::size_t pos = 0; pos < stream.size(); pos += kReadChunk) {
    const std::string_view chunk = stream.substr(pos, kReadChunk);
    in.append(chunk);
    const std::size_t requests = static_cast<std::size_t>(std::count(in.begin(), in.end(), '\n'));
    const std::string answers = answer_requests(in, handler);
    check_answers(answers, requests);
    if (in.find('\n') != std::string::npos) std::abort();
    if (in.size() > kMaxRequest) break;  // the server drops this client
  }
  return 0;
}
