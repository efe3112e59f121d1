#include "harness/sipp.hpp"

#include <filesystem>

#include "harness/ports.hpp"

namespace sipline::test {

Sipp::Sipp(std::string dir) : dir_(std::move(dir)) {}

bool Sipp::start(const SippOptions& o) {
  sip_port_ = pick_free_port();
  media_port_ = pick_free_udp_range(6);
  control_port_ = pick_free_port();
  ProcessOptions po;
  po.argv = {"sipp"};
  if (!o.remote.empty()) po.argv.push_back(o.remote);
  if (!o.scenario_file.empty()) {
    po.argv.insert(po.argv.end(), {"-sf", o.scenario_file});
  } else {
    po.argv.insert(po.argv.end(), {"-sn", o.builtin});
  }
  if (!o.service.empty()) po.argv.insert(po.argv.end(), {"-s", o.service});
  po.argv.insert(po.argv.end(),
                 {"-i", "127.0.0.1", "-p", std::to_string(sip_port_), "-mi", "127.0.0.1", "-mp",
                  std::to_string(media_port_), "-cp", std::to_string(control_port_), "-m", std::to_string(o.calls),
                  "-timeout", std::to_string(o.timeout_s) + "s", "-timeout_error", "-nostdin", "-trace_err",
                  "-trace_msg", "-message_file", dir_ + "/sipp_messages.log", "-error_file", dir_ + "/sipp_errors.log"});
  po.argv.insert(po.argv.end(), o.extra.begin(), o.extra.end());
  po.log_path = dir_ + "/sipp.out";
  po.cwd = dir_;
  return process_.start(po);
}

bool Sipp::wait(std::chrono::milliseconds timeout) {
  if (process_.wait_exit(timeout)) return true;
  process_.terminate(std::chrono::seconds(2));
  return false;
}

std::string Sipp::diagnostics() const {
  std::string out = "sipp " + process_.describe_exit() + "\n";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("sipp", 0) != 0 && entry.path().extension() != ".log") continue;
    std::string text = read_file(entry.path().string());
    if (text.size() > 6000) text = "[...]" + text.substr(text.size() - 6000);
    out += "---- " + name + " ----\n" + text + "\n";
  }
  return out;
}

}  // namespace sipline::test
