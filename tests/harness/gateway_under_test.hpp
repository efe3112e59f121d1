#pragma once
// The real sipline daemon under test. It writes a TOML config (the format of
// gateway/config/default_config.toml) into a fresh temp dir with its own SIP
// port, RTP port range and control socket, starts
// SIPLINE_BINARY_DIR/gateway/sipline --config <file>, and waits until the
// control socket answers {"cmd":"status"}. stop() sends SIGTERM and reports how
// the daemon exited (the contract: exit 0 after ending all calls).
// SIPLINE_TEST_WRAPPER (e.g. "valgrind --error-exitcode=99") prefixes the command.
// GatewayTest is the GoogleTest fixture: it stops the daemon in TearDown,
// expects exit 0, and on failure prints the daemon log's tail and keeps the
// temp dir for inspection.
// Thread: the test's thread only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/control_client.hpp"
#include "harness/process.hpp"

namespace sipline::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;

struct PhoneSpec {
  std::string name;
  std::string number;
  int auto_answer_ms = -1;
  std::vector<std::string> did = {};  // E.164 numbers that ring the port; `did = [...]` when non-empty
  std::string caller_id = {};         // `caller_id = "..."` (the port's caller ID format) when non-empty
  std::string kind = {};              // `kind = "fxo"` when "fxo" (an exchange line); else an FXS phone
  std::string forward_to = {};        // FXO: `forward_to = "..."` when non-empty ({sip_port} is replaced)
  int dahdi_channel = 0;              // `dahdi_channel = N` when > 0 (lines_extra_toml: driver = "dahdi")
  std::string extra_toml = {};        // more "key = value" lines in this [[lines.port]] ({sip_port} is replaced)
};

// One [[dialplan]] table. `target` (when non-empty) is the old single-target
// form; `steps` and `allow` are written as TOML arrays when non-empty. In all
// three, "{sip_port}" is replaced by the gateway's own SIP port.
struct DialRule {
  std::string pattern;
  std::string target;                    // "" = no `target` key
  std::vector<std::string> steps = {};   // "enum", "trunk:<name>", "sip:...", "reject <code>"
  std::vector<std::string> allow = {};   // "lines", a port name, "sip", CIDRs
};

struct GatewayOptions {
  std::vector<PhoneSpec> phones = {{"fxs1", "201", -1}, {"fxs2", "202", -1}};
  std::vector<DialRule> dial_plan = {{"2XX", "sip:$digits@127.0.0.1:{sip_port}"}};
  std::string country = "US";
  int interdigit_timeout_ms = 1500;
  std::string log_level = "debug";
  std::string sip_extra_toml;  // more "key = value" lines inside [sip] (e.g. no_answer_timeout_s = 2);
                               // one with `transports = [...]` replaces the default ["udp", "tcp"]
  std::string lines_extra_toml;  // more "key = value" lines inside [lines] (e.g. driver = "dahdi")
  std::string media_extra_toml;  // more "key = value" lines inside [media] (e.g. srtp = "mandatory")
  std::string extra_toml;      // appended verbatim (more tables)
};

class GatewayUnderTest {
 public:
  // Creates the temp dir and picks the ports (so render_config works before start).
  GatewayUnderTest();
  ~GatewayUnderTest();
  GatewayUnderTest(const GatewayUnderTest&) = delete;
  GatewayUnderTest& operator=(const GatewayUnderTest&) = delete;

  // Writes the config and starts the daemon; false with error() when it did not
  // come up within `timeout` (the log tail is in the message).
  bool start(const GatewayOptions& options, std::chrono::milliseconds timeout = 15s);
  // SIGTERM, wait up to `grace` (then SIGKILL). Returns the daemon's Process for inspection.
  Process& stop(std::chrono::milliseconds grace = 10s);

  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/sipline.toml"; }
  std::string socket_path() const { return dir_ + "/ctl.sock"; }
  std::string log_path() const { return dir_ + "/sipline.log"; }
  std::uint16_t sip_port() const { return sip_port_; }
  std::uint16_t rtp_port_min() const { return rtp_min_; }
  std::uint16_t rtp_port_max() const;
  Process& process() { return process_; }
  ControlClient& control() { return *control_; }
  void keep_dir() { keep_dir_ = true; }

  // The config text that start() writes (for tests that edit and reload it).
  std::string render_config(const GatewayOptions& options) const;

  // Control requests. On a transport failure these return
  // {"ok":false,"error":"transport: ..."}.
  Json request(const Json& req);
  Json status() { return request({{"cmd", "status"}}); }
  Json lines() { return request({{"cmd", "lines"}}); }
  Json calls() { return request({{"cmd", "calls"}}); }
  // {"cmd":"phone","line":line,"action":action} merged with `extra`.
  Json phone(int line, const std::string& action, const Json& extra = Json::object());
  // {"cmd":"exchange","line":line,"action":action} merged with `extra`.
  Json exchange(int line, const std::string& action, const Json& extra = Json::object());

  // One line's object from "lines" (null if absent), and its "state".
  Json line(int index);
  std::string line_state(int index);
  // "line 1: idle, line 2: connected, calls: [...]": for assertion messages.
  std::string describe();
  // A fresh folder <dir()>/<name> for a peer's files (sipp logs, baresip config).
  std::string peer_dir(const std::string& name);
  std::size_t call_count();

  // Polls (every 50 ms) until the line is in `state`; false on timeout.
  bool wait_line_state(int index, const std::string& state, std::chrono::milliseconds timeout = 5s);
  // Sim phone `caller` goes off hook, gets dial tone and dials `digits`;
  // success once phone `callee` (which must answer by itself) and the caller
  // are both connected, else the step that failed and describe().
  ::testing::AssertionResult call_phone(int caller, const std::string& digits, int callee);
  bool wait_call_count(std::size_t count, std::chrono::milliseconds timeout = 5s);
  // Polls phone.listen_ratio until it exceeds `min_ratio` in `samples` consecutive
  // readings (100 ms apart) or `timeout`.
  struct ListenResult {
    bool sustained = false;  // min_ratio exceeded `samples` times in a row
    double best = 0;         // highest ratio seen
    std::string history;     // the readings, for failure messages
  };
  ListenResult wait_listen_ratio(int index, double min_ratio, std::chrono::milliseconds timeout = 4s,
                                 int samples = 3);

 private:
  Process process_;
  std::unique_ptr<ControlClient> control_;
  std::string dir_;
  std::string error_;
  std::uint16_t sip_port_ = 0;
  std::uint16_t rtp_min_ = 0;
  bool keep_dir_ = false;
};

// For EXPECT_TRUE(is_ok(gw.phone(...))): success when the response has "ok": true,
// otherwise a failure showing the whole response.
inline ::testing::AssertionResult is_ok(const Json& response) {
  if (response.is_object() && response.value("ok", false)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "control response: " << response.dump();
}

// Fixture: `gw` is started by the test with the options it needs (start_gateway);
// TearDown stops it and expects a clean exit 0.
class GatewayTest : public ::testing::Test {
 protected:
  // Starts `gw`; on failure records why (with the log tail) and returns false:
  //   ASSERT_TRUE(start_gateway(options));
  bool start_gateway(const GatewayOptions& options = {});
  void TearDown() override;

  GatewayUnderTest gw;
};

}  // namespace sipline::test
