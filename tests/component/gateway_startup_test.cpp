// The daemon's start-up contract: config file, control socket, ready log line,
// config checking, siplinectl, SIGTERM -> exit 0 (checked by every fixture's TearDown).
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/process.hpp"

namespace sipline::test {
namespace {

TEST_F(GatewayTest, AnswersStatusWithItsSipAddressAndLines) {
  ASSERT_TRUE(start_gateway());
  const Json s = gw.status();
  ASSERT_TRUE(is_ok(s));
  EXPECT_EQ(s.value("version", ""), "0.1.0");
  ASSERT_TRUE(s.contains("sip")) << s.dump();
  EXPECT_EQ(s["sip"].value("address", ""), "127.0.0.1");
  EXPECT_EQ(s["sip"].value("port", 0), gw.sip_port());
  EXPECT_EQ(s.value("calls", -1), 0);
  EXPECT_EQ(s.value("lines", -1), 2);
}

TEST_F(GatewayTest, ControlSocketIsForItsOwnerOnly) {
  ASSERT_TRUE(start_gateway());
  struct stat st {};
  ASSERT_EQ(::stat(gw.socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(GatewayTest, LogsReadyOnceStarted) {
  ASSERT_TRUE(start_gateway());
  EXPECT_TRUE(gw.process().wait_for_log(R"(\binfo\b.*event=ready)", 5s)) << gw.process().log_tail();
}

TEST_F(GatewayTest, ListsConfiguredPhonesIdleAndOnHook) {
  ASSERT_TRUE(start_gateway());
  const Json l = gw.lines();
  ASSERT_TRUE(is_ok(l));
  ASSERT_EQ(l["lines"].size(), 2u) << l.dump();
  const Json& first = l["lines"][0];
  EXPECT_EQ(first.value("index", 0), 1);
  EXPECT_EQ(first.value("name", ""), "fxs1");
  EXPECT_EQ(first.value("kind", ""), "fxs");
  EXPECT_EQ(first.value("number", ""), "201");
  EXPECT_EQ(first.value("state", ""), "idle");
  ASSERT_TRUE(first.contains("phone")) << first.dump();
  EXPECT_FALSE(first["phone"].value("off_hook", true));
  EXPECT_FALSE(first["phone"].value("ringing", true));
  EXPECT_EQ(l["lines"][1].value("number", ""), "202");
  const Json c = gw.calls();
  ASSERT_TRUE(is_ok(c));
  EXPECT_TRUE(c["calls"].is_array() && c["calls"].empty()) << c.dump();
}

TEST_F(GatewayTest, AnswersUnknownCommandsWithAnError) {
  ASSERT_TRUE(start_gateway());
  const Json r = gw.request({{"cmd", "no-such-command"}});
  EXPECT_FALSE(r.value("ok", true)) << r.dump();
  EXPECT_FALSE(r.value("error", "").empty()) << r.dump();
  EXPECT_TRUE(r.value("error", "").rfind("transport:", 0) != 0) << r.dump();
  // A bad line number is refused too, and the daemon carries on.
  const Json bad_line = gw.phone(99, "offhook");
  EXPECT_FALSE(bad_line.value("ok", true)) << bad_line.dump();
  EXPECT_TRUE(is_ok(gw.status()));
}

TEST_F(GatewayTest, SiplinectlPrintsStatusAsJson) {
  ASSERT_TRUE(start_gateway());
  Process ctl;
  const std::string out = gw.dir() + "/siplinectl.out";
  ASSERT_TRUE(ctl.start(command({SIPLINE_BINARY_DIR "/tools/siplinectl", "--socket", gw.socket_path(), "status"}, out)));
  ASSERT_TRUE(ctl.wait_exit(5s));
  EXPECT_EQ(ctl.exit_code(), 0) << ctl.log_text();
  const auto j = Json::parse(ctl.log_text(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << ctl.log_text();
  EXPECT_TRUE(j.value("ok", false)) << j.dump();
  EXPECT_EQ(j["sip"].value("port", 0), gw.sip_port()) << j.dump();
}

TEST_F(GatewayTest, SiplinectlDrivesAPhone) {
  ASSERT_TRUE(start_gateway());
  Process ctl;
  ASSERT_TRUE(ctl.start(command({SIPLINE_BINARY_DIR "/tools/siplinectl", "--socket", gw.socket_path(), "phone", "1",
                                 "offhook"},
                                gw.dir() + "/siplinectl.out")));
  ASSERT_TRUE(ctl.wait_exit(5s));
  EXPECT_EQ(ctl.exit_code(), 0) << ctl.log_text();
  EXPECT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.line(1).dump();
}

// The dahdi driver on a machine without a card (the device path does not
// exist): every channel is reported by number and reason at start, the
// daemon runs on, and the lines are there (in alarm, silent).
TEST_F(GatewayTest, DahdiWithoutACardStartsAndNamesEachFailedChannel) {
  GatewayOptions options;
  options.lines_extra_toml = "driver = \"dahdi\"\ndahdi_device = \"/nonexistent/dahdi/channel\"\n";
  options.phones = {{"fxs1", "201", -1}, {"fxs2", "202", -1}};
  options.phones[0].dahdi_channel = 1;
  options.phones[1].dahdi_channel = 2;
  ASSERT_TRUE(start_gateway(options));
  EXPECT_TRUE(is_ok(gw.status()));
  const Json lines = gw.lines();
  ASSERT_TRUE(is_ok(lines));
  EXPECT_EQ(lines["lines"].size(), 2u);
  EXPECT_FALSE(lines["lines"][0].contains("phone")) << "no simulated phone with the dahdi driver: " << lines.dump();
  std::ifstream in(gw.log_path());
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("dahdi channel 1 (fxs1): cannot open /nonexistent/dahdi/channel"), std::string::npos) << log;
  EXPECT_NE(log.find("dahdi channel 2 (fxs2): cannot open"), std::string::npos) << log;
  EXPECT_NE(log.find("event=dahdi_ready ports=2 working=0"), std::string::npos) << log;
}

class CheckConfig : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("sipline-check"); }
  void TearDown() override { remove_tree(dir_); }
  Process run_check(const std::string& toml) {
    const std::string path = dir_ + "/c.toml";
    std::ofstream(path) << toml;
    Process p;
    EXPECT_TRUE(p.start(command({SIPLINE_BINARY_DIR "/gateway/sipline", "--check-config", path}, dir_ + "/out.log")));
    EXPECT_TRUE(p.wait_exit(10s)) << "sipline --check-config did not finish";
    return p;
  }
  std::string dir_;
};

TEST_F(CheckConfig, AcceptsTheHarnessConfig) {
  GatewayUnderTest gw;
  Process p = run_check(gw.render_config({}));
  EXPECT_EQ(p.exit_code(), 0) << p.describe_exit() << "\n" << p.log_text();
}

TEST_F(CheckConfig, RejectsAnUnknownKeyWithFileLineAndColumn) {
  Process p = run_check("[sip]\nport = 5070\nprot = 5080\n");
  EXPECT_EQ(p.exit_code(), 1) << p.describe_exit() << "\n" << p.log_text();
  // "file:line:col: message", the unknown key being on line 3.
  EXPECT_TRUE(std::regex_search(p.log_text(), std::regex(R"(c\.toml:3:\d+: )"))) << p.log_text();
}

TEST_F(CheckConfig, RejectsASyntaxError) {
  Process p = run_check("[sip\nport = 5070\n");
  EXPECT_EQ(p.exit_code(), 1) << p.describe_exit() << "\n" << p.log_text();
  EXPECT_TRUE(std::regex_search(p.log_text(), std::regex(R"(c\.toml:1:\d+: )"))) << p.log_text();
}

}  // namespace
}  // namespace sipline::test
