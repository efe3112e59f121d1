// Reloading the dial plan: by the control command and by SIGHUP. A rule that
// is added to the config file while the daemon runs routes calls once reloaded.
#include <signal.h>

#include <fstream>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"

namespace sipline::test {
namespace {

class DialPlanReload : public GatewayTest {
 protected:
  // Dials 5000# on phone 1 and returns the state phone 1's line settles in.
  std::string dial_5000() {
    EXPECT_TRUE(is_ok(gw.phone(1, "offhook")));
    EXPECT_TRUE(gw.wait_line_state(1, "dialtone", 3s)) << gw.lines().dump();
    EXPECT_TRUE(is_ok(gw.phone(1, "dial", {{"digits", "5000#"}})));
    std::string state;
    poll_until(
        [&] {
          state = gw.line_state(1);
          return state == "connected" || state == "disconnected";
        },
        10s);
    return state;
  }
  void hang_up_both() {
    EXPECT_TRUE(is_ok(gw.phone(1, "onhook")));
    EXPECT_TRUE(is_ok(gw.phone(2, "onhook")));
    EXPECT_TRUE(gw.wait_line_state(1, "idle", 5s)) << gw.lines().dump();
    EXPECT_TRUE(gw.wait_line_state(2, "idle", 5s)) << gw.lines().dump();
    EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
  }
  void run(const std::function<void()>& reload) {
    GatewayOptions options;
    options.phones[1].auto_answer_ms = 200;
    ASSERT_TRUE(start_gateway(options));
    // No rule for 5XXX yet: the call fails (reorder) and phone 2 never rings.
    EXPECT_EQ(dial_5000(), "disconnected");
    EXPECT_EQ(gw.line_state(2), "idle");
    hang_up_both();

    options.dial_plan.push_back({"5XXX", "sip:202@127.0.0.1:{sip_port}"});
    std::ofstream(gw.config_path()) << gw.render_config(options);
    reload();
    EXPECT_EQ(dial_5000(), "connected") << gw.lines().dump();
    EXPECT_TRUE(gw.wait_line_state(2, "connected", 5s)) << gw.lines().dump();
    hang_up_both();
  }
};

TEST_F(DialPlanReload, ReloadCommandAddsARule) {
  run([&] { EXPECT_TRUE(is_ok(gw.request({{"cmd", "reload"}}))); });
}

TEST_F(DialPlanReload, SighupAddsARule) {
  run([&] {
    gw.process().send_signal(SIGHUP);
    // The reload happens on the control loop; give it a moment, the daemon must stay up.
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(gw.process().running()) << gw.process().describe_exit();
  });
}

}  // namespace
}  // namespace sipline::test
