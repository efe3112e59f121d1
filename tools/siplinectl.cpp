// siplinectl: the command-line client of sipline's control socket.
//   siplinectl status | lines | calls | users | bans | unban ADDRESS | reload
//   siplinectl phone N offhook|onhook|dial DIGITS [--pulse]|flash [MS]|play FILE [--loop]
//                      |tone HZ [HZ2]|stop|record FILE|stoprecord|listen HZ|autoanswer MS|status
// Prints the daemon's JSON answer (pretty-printed) and exits 0 when it says
// "ok", 1 when it reports an error, 2 when the daemon cannot be reached.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sipline/base/c_ptr.hpp"

namespace {

using nlohmann::json;

int exchange(const std::string& path, const json& request, bool raw) {
  sipline::base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr, "siplinectl: socket path too long\n");
    return 2;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "siplinectl: cannot reach sipline at %s: %s\n", path.c_str(), std::strerror(errno));
    return 2;
  }
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string out = request.dump() + "\n";
  if (::send(fd.get(), out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    std::fprintf(stderr, "siplinectl: send failed: %s\n", std::strerror(errno));
    return 2;
  }
  std::string in;
  char buf[4096];
  while (in.find('\n') == std::string::npos) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) {
      std::fprintf(stderr, "siplinectl: no answer from sipline\n");
      return 2;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  auto response = json::parse(in.substr(0, in.find('\n')), nullptr, false);
  if (response.is_discarded()) {
    std::fprintf(stderr, "siplinectl: unreadable answer\n");
    return 2;
  }
  std::printf("%s\n", response.dump(raw ? -1 : 2).c_str());
  return response.value("ok", false) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"siplinectl: control a running sipline gateway"};
  std::string socket_path = "/tmp/sipline.sock";
  bool raw = false;
  app.add_option("-s,--socket", socket_path, "the daemon's control socket ([control] socket)");
  app.add_flag("--raw", raw, "print the answer on one line");
  app.require_subcommand(1);
  app.fallthrough();

  json request;
  app.add_subcommand("status", "daemon status")->callback([&] { request = {{"cmd", "status"}}; });
  app.add_subcommand("lines", "lines and (sim) phone state")->callback([&] { request = {{"cmd", "lines"}}; });
  app.add_subcommand("calls", "calls in progress")->callback([&] { request = {{"cmd", "calls"}}; });
  app.add_subcommand("users", "registered SIP users and their contacts")->callback([&] { request = {{"cmd", "users"}}; });
  app.add_subcommand("bans", "addresses banned after failed authentication")->callback([&] { request = {{"cmd", "bans"}}; });
  std::string unban_address;
  auto* unban = app.add_subcommand("unban", "lift the ban of an address");
  unban->add_option("address", unban_address, "the banned IP address")->required();
  unban->callback([&] { request = {{"cmd", "unban"}, {"address", unban_address}}; });
  app.add_subcommand("reload", "reload the dial plan")->callback([&] { request = {{"cmd", "reload"}}; });

  auto* phone = app.add_subcommand("phone", "drive a simulated phone (sim driver)");
  std::string line;
  std::vector<std::string> args;
  bool loop = false;
  bool pulse = false;
  phone->add_option("line", line, "line number (1-based) or name")->required();
  phone->add_option("action", args,
                    "offhook | onhook | dial DIGITS [--pulse] | flash [MS] | play FILE [--loop] | tone HZ [HZ2] | "
                    "stop | record FILE | stoprecord | listen HZ | autoanswer MS | status")
      ->required();
  phone->add_flag("--loop", loop, "play: repeat the file");
  phone->add_flag("--pulse", pulse, "dial: rotary dial pulses (0-9, 10 pps) instead of DTMF");
  phone->callback([&] {
    request = {{"cmd", "phone"}, {"action", args[0]}};
    if (!line.empty() && std::all_of(line.begin(), line.end(), ::isdigit))
      request["line"] = std::stoi(line);
    else
      request["line"] = line;
    const std::string& a = args[0];
    const auto arg = [&](std::size_t i) -> std::string {
      if (i >= args.size()) throw CLI::ValidationError("phone " + a, "missing argument");
      return args[i];
    };
    if (a == "dial") {
      request["digits"] = arg(1);
      if (pulse) request["pulse"] = true;
    }
    if (a == "flash" && args.size() > 1) request["ms"] = std::stoi(args[1]);  // default: the country's middle
    if (a == "play" || a == "record") request["file"] = std::filesystem::absolute(arg(1)).string();
    if (a == "play") request["loop"] = loop;
    if (a == "tone") {
      request["hz"] = std::stoi(arg(1));
      if (args.size() > 2) request["hz2"] = std::stoi(args[2]);
    }
    if (a == "listen") request["hz"] = std::stod(arg(1));
    if (a == "autoanswer") request["ms"] = std::stoi(arg(1));
  });

  auto* exch = app.add_subcommand("exchange", "drive the simulated exchange behind an FXO port (sim driver)");
  std::string exch_line, exch_format, exch_name;
  std::vector<std::string> exch_args;
  bool exch_private = false;
  int exch_tone = 0;
  exch->add_option("line", exch_line, "line number (1-based) or name of an FXO port")->required();
  exch->add_option("action", exch_args, "call NUMBER | hangup | listen HZ | dial DIGITS | status")->required();
  exch->add_option("--name", exch_name, "call: the caller's name");
  exch->add_flag("--private", exch_private, "call: the caller withholds the number");
  exch->add_option("--format", exch_format, "call: caller ID format (default: the country's)");
  exch->add_option("--tone", exch_tone, "call: the caller's voice, a tone of this many Hz");
  exch->callback([&] {
    const std::string& a = exch_args[0];
    request = {{"cmd", "exchange"}, {"action", a}};
    if (!exch_line.empty() && std::all_of(exch_line.begin(), exch_line.end(), ::isdigit))
      request["line"] = std::stoi(exch_line);
    else
      request["line"] = exch_line;
    const auto arg = [&](std::size_t i) -> std::string {
      if (i >= exch_args.size()) throw CLI::ValidationError("exchange " + a, "missing argument");
      return exch_args[i];
    };
    if (a == "call") {
      if (!exch_private) request["number"] = arg(1);
      request["name"] = exch_name;
      request["private"] = exch_private;
      if (!exch_format.empty()) request["format"] = exch_format;
      if (exch_tone > 0) request["tone"] = exch_tone;
    }
    if (a == "listen") request["hz"] = std::stod(arg(1));
    if (a == "dial") request["digits"] = arg(1);
  });

  CLI11_PARSE(app, argc, argv);
  return exchange(socket_path, request, raw);
}
