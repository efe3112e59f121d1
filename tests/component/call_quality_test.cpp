// Call quality over SIP loopback: two simulated phones in a call on one
// gateway, so each call leg's RTP/RTCP goes to the other leg on 127.0.0.1.
// The first RTCP report goes out 1.25-3.75 s after a stream connects (RFC
// 3550 §6.2's half interval, randomised), the next ones every 2.5-7.5 s; a
// round-trip time needs our SR and then the far end's report after it, so
// it is known after about 5 s and at worst after about 11.5 s: the test
// waits for it, up to 16 s.
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"

namespace sipline::test {
namespace {

constexpr int kPhone1 = 1;
constexpr int kPhone2 = 2;

std::vector<std::string> log_lines_with(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// The number after `key=` in a key=value log line; -1 when absent or not a number.
double field(const std::string& line, const std::string& key) {
  const std::size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return -1;
  try {
    return std::stod(line.substr(at + key.size() + 2));
  } catch (...) {
    return -1;
  }
}

bool all_rtt_known(const Json& calls) {
  if (!calls.contains("calls") || calls["calls"].empty()) return false;
  for (const auto& c : calls["calls"])
    if (!c.contains("quality") || c["quality"]["rtt_ms"].is_null()) return false;
  return true;
}

TEST_F(GatewayTest, CallsShowRoundTripTimeAndMosAndTheLogSummarisesAtHangUp) {
  GatewayOptions options;
  options.phones[1].auto_answer_ms = 400;
  ASSERT_TRUE(start_gateway(options));

  ASSERT_TRUE(gw.call_phone(kPhone1, "202", kPhone2));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "tone", {{"hz", 697}, {"hz2", 0}, {"level_dbfs", -10}})));

  // Before any report the RTT is unknown (null), never a made-up number.
  const Json early = gw.calls();
  ASSERT_EQ(early["calls"].size(), 2u) << early.dump();
  for (const auto& c : early["calls"]) ASSERT_TRUE(c.contains("quality")) << c.dump();

  Json calls;
  const auto deadline = std::chrono::steady_clock::now() + 16s;
  do {
    std::this_thread::sleep_for(250ms);
    calls = gw.calls();
  } while (!all_rtt_known(calls) && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(all_rtt_known(calls)) << "no round-trip time within 16 s: " << calls.dump();
  ASSERT_EQ(calls["calls"].size(), 2u) << calls.dump();
  RecordProperty("calls", calls.dump());
  for (const auto& c : calls["calls"]) {
    const Json& q = c["quality"];
    EXPECT_GE(q["rtt_ms"].get<double>(), 0.0) << c.dump();
    EXPECT_LT(q["rtt_ms"].get<double>(), 50.0) << "loopback: " << c.dump();
    EXPECT_GT(q.value("mos", 0.0), 4.0) << c.dump();
    EXPECT_GT(q.value("r_factor", 0.0), 80.0) << c.dump();
    EXPECT_LE(q.value("mos", 9.0), 4.5) << c.dump();
    EXPECT_LT(q.value("remote_loss_percent", 100.0), 1.0) << c.dump();
    EXPECT_GE(q.value("remote_jitter_ms", -1.0), 0.0) << c.dump();
    EXPECT_LT(q.value("remote_jitter_ms", 100.0), 20.0) << c.dump();
  }

  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "stop")));
  ASSERT_TRUE(is_ok(gw.phone(kPhone1, "onhook")));
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.describe();

  // One summary per call leg (phone 1's outbound call, phone 2's inbound one).
  std::vector<std::string> summaries;
  for (int i = 0; i < 30 && summaries.size() < 2; ++i) {
    summaries = log_lines_with(gw.log_path(), "event=call_quality");
    if (summaries.size() < 2) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(summaries.size(), 2u) << "call_quality lines in the log";
  RecordProperty("summary", summaries[0]);
  for (const auto& line : summaries) {
    EXPECT_GT(field(line, "sent"), 0) << line;
    EXPECT_GT(field(line, "received"), 0) << line;
    EXPECT_GE(field(line, "lost"), 0) << line;
    EXPECT_GE(field(line, "loss_percent"), 0) << line;
    EXPECT_GE(field(line, "jitter_ms"), 0) << line;
    EXPECT_EQ(line.find("rtt_ms=unknown"), std::string::npos) << line;
    EXPECT_GE(field(line, "rtt_ms"), 0) << line;
    EXPECT_LT(field(line, "rtt_ms"), 50) << line;
    EXPECT_GE(field(line, "remote_loss_percent"), 0) << line;
    EXPECT_GT(field(line, "r_factor"), 80) << line;
    EXPECT_GT(field(line, "mos"), 4.0) << line;
    EXPECT_NE(line.find("call_id="), std::string::npos) << "the call's log context: " << line;
  }

  ASSERT_TRUE(is_ok(gw.phone(kPhone2, "onhook")));
  EXPECT_TRUE(gw.wait_line_state(kPhone2, "idle", 5s)) << gw.describe();
}

}  // namespace
}  // namespace sipline::test
