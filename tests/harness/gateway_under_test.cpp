#include "harness/gateway_under_test.hpp"

#include <filesystem>

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/ports.hpp"

namespace sipline::test {
namespace {

constexpr int kRtpPorts = 40;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string quoted(const std::string& s) { return Json(s).dump(); }

// ["a", "b"] as a TOML array of basic strings.
std::string quoted_array(const std::vector<std::string>& items, std::uint16_t sip_port) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ", ";
    out += quoted(replace_all(item, "{sip_port}", std::to_string(sip_port)));
  }
  return out + "]";
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

GatewayUnderTest::GatewayUnderTest() {
  dir_ = make_temp_dir("sipline-test");
  sip_port_ = pick_free_port();
  rtp_min_ = pick_free_udp_range(kRtpPorts);
  control_ = std::make_unique<ControlClient>(socket_path());
}

GatewayUnderTest::~GatewayUnderTest() {
  control_->close();
  process_.terminate(std::chrono::seconds(5));
  if (!keep_dir_) remove_tree(dir_);
}

std::uint16_t GatewayUnderTest::rtp_port_max() const { return static_cast<std::uint16_t>(rtp_min_ + kRtpPorts - 1); }

std::string GatewayUnderTest::render_config(const GatewayOptions& options) const {
  std::ostringstream c;
  c << "# written by the test harness\n"
    << "[sip]\naddress = \"127.0.0.1\"\nport = " << sip_port_ << "\n"
    // A test that lists its own transports (e.g. with "tls") replaces the default.
    << (options.sip_extra_toml.find("transports") == std::string::npos ? "transports = [\"udp\", \"tcp\"]\n" : "")
    << options.sip_extra_toml << (options.sip_extra_toml.empty() || options.sip_extra_toml.back() == '\n' ? "" : "\n")
    << "\n"
    << "[media]\nrtp_port_min = " << rtp_min_ << "\nrtp_port_max = " << rtp_min_ + kRtpPorts - 1 << "\n"
    << options.media_extra_toml << (options.media_extra_toml.empty() || options.media_extra_toml.back() == '\n' ? "" : "\n")
    << "\n"
    << "[control]\nsocket = " << quoted(socket_path()) << "\n\n"
    << "[log]\nlevel = " << quoted(options.log_level) << "\n\n"
    << "[lines]\n"
    << (options.lines_extra_toml.find("driver") == std::string::npos ? "driver = \"sim\"\n" : "")
    << options.lines_extra_toml
    << (options.lines_extra_toml.empty() || options.lines_extra_toml.back() == '\n' ? "" : "\n")
    << "country = " << quoted(options.country)
    << "\ninterdigit_timeout_ms = " << options.interdigit_timeout_ms << "\n\n";
  for (const auto& p : options.phones) {
    const bool fxo = p.kind == "fxo";
    c << "[[lines.port]]\nname = " << quoted(p.name) << "\nkind = " << (fxo ? "\"fxo\"" : "\"fxs\"")
      << "\nnumber = " << quoted(p.number) << "\n";
    if (fxo) {
      if (!p.forward_to.empty()) {
        c << "forward_to = " << quoted(replace_all(p.forward_to, "{sip_port}", std::to_string(sip_port_))) << "\n";
      }
    } else if (p.dahdi_channel == 0) {
      c << "auto_answer_ms = " << p.auto_answer_ms << "\n";
    }
    if (!p.did.empty()) c << "did = " << quoted_array(p.did, sip_port_) << "\n";
    if (!p.caller_id.empty()) c << "caller_id = " << quoted(p.caller_id) << "\n";
    if (p.dahdi_channel > 0) c << "dahdi_channel = " << p.dahdi_channel << "\n";
    if (!p.extra_toml.empty()) {
      c << replace_all(p.extra_toml, "{sip_port}", std::to_string(sip_port_)) << (p.extra_toml.back() == '\n' ? "" : "\n");
    }
    c << "\n";
  }
  for (const auto& r : options.dial_plan) {
    c << "[[dialplan]]\npattern = " << quoted(r.pattern) << "\n";
    if (!r.target.empty())
      c << "target = " << quoted(replace_all(r.target, "{sip_port}", std::to_string(sip_port_))) << "\n";
    if (!r.steps.empty()) c << "steps = " << quoted_array(r.steps, sip_port_) << "\n";
    if (!r.allow.empty()) c << "allow = " << quoted_array(r.allow, sip_port_) << "\n";
    c << "\n";
  }
  c << options.extra_toml;
  return c.str();
}

bool GatewayUnderTest::start(const GatewayOptions& options, std::chrono::milliseconds timeout) {
  if (dir_.empty()) {
    error_ = "cannot create a temp dir";
    return false;
  }
  {
    std::ofstream out(config_path());
    out << render_config(options);
    if (!out) {
      error_ = "cannot write " + config_path();
      return false;
    }
  }
  ProcessOptions po;
  if (const char* wrapper = std::getenv("SIPLINE_TEST_WRAPPER"); wrapper != nullptr && *wrapper != '\0') {
    po.argv = split_words(wrapper);
  }
  po.argv.push_back(SIPLINE_BINARY_DIR "/gateway/sipline");
  po.argv.push_back("--config");
  po.argv.push_back(config_path());
  po.log_path = log_path();
  po.cwd = dir_;
  if (!process_.start(po)) {
    error_ = process_.error();
    return false;
  }
  const bool up = poll_until(
      [&] {
        if (!process_.running()) return true;
        auto r = control_->request({{"cmd", "status"}}, std::chrono::milliseconds(500));
        return r.has_value() && r->value("ok", false);
      },
      timeout, std::chrono::milliseconds(100));
  if (!process_.running()) {
    error_ = "sipline exited during start-up (" + process_.describe_exit() + "); log:\n" + process_.log_tail();
    return false;
  }
  if (!up) {
    error_ = "sipline's control socket " + socket_path() + " did not answer status within " +
             std::to_string(timeout.count()) + " ms (" + control_->last_error() + "); log:\n" + process_.log_tail();
    return false;
  }
  return true;
}

Process& GatewayUnderTest::stop(std::chrono::milliseconds grace) {
  control_->close();
  process_.terminate(grace);
  return process_;
}

Json GatewayUnderTest::request(const Json& req) {
  auto r = control_->request(req);
  if (!r) return Json{{"ok", false}, {"error", "transport: " + control_->last_error()}};
  return *r;
}

Json GatewayUnderTest::phone(int line_index, const std::string& action, const Json& extra) {
  Json req = {{"cmd", "phone"}, {"line", line_index}, {"action", action}};
  for (auto it = extra.begin(); it != extra.end(); ++it) req[it.key()] = it.value();
  return request(req);
}

Json GatewayUnderTest::exchange(int line_index, const std::string& action, const Json& extra) {
  Json req = {{"cmd", "exchange"}, {"line", line_index}, {"action", action}};
  for (auto it = extra.begin(); it != extra.end(); ++it) req[it.key()] = it.value();
  return request(req);
}

Json GatewayUnderTest::line(int index) {
  const Json all = lines();
  if (!all.value("ok", false) || !all.contains("lines")) return nullptr;
  for (const auto& l : all["lines"]) {
    if (l.value("index", 0) == index) return l;
  }
  return nullptr;
}

std::string GatewayUnderTest::peer_dir(const std::string& name) {
  const std::string path = dir() + "/" + name;
  std::filesystem::create_directories(path);
  return path;
}

std::string GatewayUnderTest::describe() {
  std::string out;
  const Json lines = request({{"cmd", "lines"}});
  if (lines.contains("lines"))
    for (const auto& l : lines["lines"])
      out += "line " + std::to_string(l.value("index", 0)) + ": " + l.value("state", std::string("?")) + ", ";
  return out + "calls: " + calls().dump();
}

std::string GatewayUnderTest::line_state(int index) {
  const Json l = line(index);
  return l.is_object() ? l.value("state", std::string("?")) : std::string("<no line>");
}

std::size_t GatewayUnderTest::call_count() {
  const Json c = calls();
  if (!c.value("ok", false) || !c.contains("calls") || !c["calls"].is_array()) return static_cast<std::size_t>(-1);
  return c["calls"].size();
}

bool GatewayUnderTest::wait_line_state(int index, const std::string& state, std::chrono::milliseconds timeout) {
  return poll_until([&] { return line_state(index) == state; }, timeout);
}

::testing::AssertionResult GatewayUnderTest::call_phone(int caller, const std::string& digits, int callee) {
  auto failed = [&](const std::string& step) { return ::testing::AssertionFailure() << step << "\n" << describe(); };
  if (!phone(caller, "offhook").value("ok", false)) return failed("offhook refused");
  if (!wait_line_state(caller, "dialtone", 3s)) return failed("no dial tone");
  if (!phone(caller, "dial", {{"digits", digits}}).value("ok", false)) return failed("dial refused");
  if (!wait_line_state(callee, "connected", 15s)) return failed("the callee did not answer");
  if (!wait_line_state(caller, "connected", 5s)) return failed("the caller is not connected");
  return ::testing::AssertionSuccess();
}

bool GatewayUnderTest::wait_call_count(std::size_t count, std::chrono::milliseconds timeout) {
  return poll_until([&] { return call_count() == count; }, timeout);
}

GatewayUnderTest::ListenResult GatewayUnderTest::wait_listen_ratio(int index, double min_ratio,
                                                                  std::chrono::milliseconds timeout, int samples) {
  ListenResult result;
  int in_a_row = 0;
  result.sustained = poll_until(
      [&] {
        const Json l = line(index);
        double ratio = -1;
        if (l.is_object() && l.contains("phone")) ratio = l["phone"].value("listen_ratio", -1.0);
        result.best = std::max(result.best, ratio);
        if (result.history.size() < 400) result.history += std::to_string(ratio).substr(0, 5) + " ";
        in_a_row = ratio > min_ratio ? in_a_row + 1 : 0;
        return in_a_row >= samples;
      },
      timeout, std::chrono::milliseconds(100));
  return result;
}

bool GatewayTest::start_gateway(const GatewayOptions& options) {
  if (gw.start(options)) return true;
  ADD_FAILURE() << gw.error();
  return false;
}

void GatewayTest::TearDown() {
  const bool was_running = gw.process().running();
  Process& p = gw.stop();
  if (was_running) {
    EXPECT_TRUE(p.exited_normally() && p.exit_code() == 0)
        << "sipline did not exit 0 after SIGTERM: " << p.describe_exit();
  } else if (p.pid() > 0) {
    ADD_FAILURE() << "sipline was no longer running at the end of the test: " << p.describe_exit();
  }
  if (HasFailure()) {
    gw.keep_dir();
    std::cerr << "---- sipline log tail (" << gw.log_path() << ") ----\n" << p.log_tail(60) << "\n----\n";
  }
}

}  // namespace sipline::test
