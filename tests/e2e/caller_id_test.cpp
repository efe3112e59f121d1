// Caller ID on FXS ports, for every country profile: sipp calls a simulated
// phone as a named caller; the phone decodes the caller ID from the audio it
// receives on hook (FSK or DTMF, after the first ring or before it, per the
// profile's alerting: Bell first ring, BT/ETSI line reversal + DT-AS, ETSI
// RP-AS, NTT CAR with the phone's primary response) and the test compares
// every field: number, name, date and time, and the "private" indicator when
// the caller sends Privacy: id. The ring cadence is measured by the simulated
// phone itself (20 ms ticks) and must match the profile's after the caller ID.
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/gateway_under_test.hpp"
#include "harness/sipp.hpp"
#include "harness/tools.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::test {
namespace {

const std::string kFixtures = SIPLINE_SOURCE_DIR "/tests/fixtures/sipp";
constexpr int kPhone1 = 1;
constexpr int kCadenceToleranceMs = 80;  // 20 ms ticks on both sides and timer latency

struct Expected {
  const char* country;
  const char* format;  // as the phone's decoder reports it
  bool name;           // the format carries a name
  bool time;           // ... and the date and time
};

struct Heard {
  Json caller_id;
  std::vector<int> segments;
  std::tm at{};  // local time when the call was placed
};

// One call from sipp as "Alice Smith" <sip:2025550150@...>, cancelled after
// `ring_ms`; returns what phone 1 decoded and its ring segments.
Heard call_phone(GatewayUnderTest& gw, const std::string& privacy, int ring_ms) {
  Heard h;
  Sipp sipp(gw.peer_dir("sipp-" + privacy));
  SippOptions so;
  so.scenario_file = kFixtures + "/uac_caller_id.xml";
  so.remote = "127.0.0.1:" + std::to_string(gw.sip_port());
  so.service = "201";
  so.timeout_s = 30;
  so.extra = {"-d", std::to_string(ring_ms), "-key", "cid_name", "Alice Smith", "-key", "cid_number", "2025550150",
              "-key", "cid_privacy", privacy};
  const std::time_t now = std::time(nullptr);
  localtime_r(&now, &h.at);
  const int before = gw.line(kPhone1)["phone"]["caller_id"].value("count", -1);
  EXPECT_TRUE(sipp.start(so)) << sipp.process().error();
  std::vector<int> segments;
  poll_until(
      [&] {
        const Json l = gw.line(kPhone1);
        if (l.is_object() && l.contains("phone")) {
          const auto s = l["phone"].value("ring_segments_ms", std::vector<int>{});
          if (s.size() >= segments.size()) segments = s;  // the last reading before the call ends
        }
        return !sipp.process().running();
      },
      std::chrono::milliseconds(ring_ms + 10000), 50ms);
  EXPECT_TRUE(sipp.wait(5s)) << sipp.diagnostics();
  EXPECT_EQ(sipp.process().exit_code(), 0) << sipp.diagnostics();
  EXPECT_TRUE(gw.wait_line_state(kPhone1, "idle", 3s)) << gw.describe();
  h.caller_id = gw.line(kPhone1)["phone"]["caller_id"];
  EXPECT_EQ(h.caller_id.value("count", -1), before + 1) << "one message per call: " << h.caller_id.dump();
  h.segments = segments;
  return h;
}

std::string trace(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += std::to_string(x) + " ";
  return s;
}

// Somewhere after the caller ID sequence, one whole cycle of the profile's
// cadence (starting with a ring) must appear in the measured segments.
void expect_cadence(const std::vector<int>& measured, const std::vector<int>& profile) {
  ASSERT_FALSE(profile.empty());
  bool found = false;
  for (std::size_t start = 0; start + profile.size() <= measured.size() && !found; start += 2) {
    bool match = true;
    for (std::size_t i = 0; i < profile.size() && match; ++i) {
      match = std::abs(measured[start + i] - profile[i]) <= kCadenceToleranceMs;
    }
    found = match;
  }
  EXPECT_TRUE(found) << "profile cadence " << trace(profile) << "not in the measured segments " << trace(measured);
}

void expect_time(const Json& cid, const std::tm& at) {
  // The call may cross a minute boundary between the test's clock and the gateway's.
  char now[48], next[48];
  std::snprintf(now, sizeof now, "%02d-%02d %02d:%02d", at.tm_mon + 1, at.tm_mday, at.tm_hour, at.tm_min);
  std::tm later = at;
  later.tm_min += 1;
  std::mktime(&later);
  std::snprintf(next, sizeof next, "%02d-%02d %02d:%02d", later.tm_mon + 1, later.tm_mday, later.tm_hour, later.tm_min);
  const std::string got = cid.value("time", "");
  EXPECT_TRUE(got == now || got == next) << "time " << got << ", expected " << now << ": " << cid.dump();
}

class CallerIdTest : public GatewayTest {
 protected:
  void run_country(const Expected& e, int ring_ms);
};

void CallerIdTest::run_country(const Expected& e, int ring_ms) {
  if (!require_tool("sipp")) return;
  GatewayOptions options;
  options.country = e.country;
  ASSERT_TRUE(start_gateway(options));
  const dsp::ToneProfile* profile = dsp::find_tone_profile(e.country);
  ASSERT_NE(profile, nullptr);

  const Heard shown = call_phone(gw, "none", ring_ms);
  const Json& c = shown.caller_id;
  EXPECT_EQ(c.value("format", ""), e.format) << c.dump();
  EXPECT_EQ(c.value("number", ""), "2025550150") << c.dump();
  EXPECT_EQ(c.value("number_absence", "?"), "") << c.dump();
  if (e.name) {
    EXPECT_EQ(c.value("name", ""), "Alice Smith") << c.dump();
  }
  if (e.time) {
    expect_time(c, shown.at);
  } else {
    EXPECT_FALSE(c.contains("time")) << c.dump();
  }
  expect_cadence(shown.segments, profile->ring_cadence_ms);

  const Heard hidden = call_phone(gw, "id", 4000);
  const Json& p = hidden.caller_id;
  EXPECT_EQ(p.value("number", "?"), "") << p.dump();
  EXPECT_EQ(p.value("number_absence", ""), "private") << p.dump();
  if (e.name) {
    EXPECT_EQ(p.value("name", "?"), "") << p.dump();
    EXPECT_EQ(p.value("name_absence", ""), "private") << p.dump();
  }
  EXPECT_TRUE(gw.wait_call_count(0, 5s)) << gw.calls().dump();
}

TEST_F(CallerIdTest, UsPhoneDecodesBell202CallerIdAfterTheFirstRing) {
  run_country({"US", "bell202_mdmf", true, true}, 9000);
}

TEST_F(CallerIdTest, UkPhoneDecodesBtCallerIdAfterLineReversalAndToneAlert) {
  run_country({"UK", "etsi", true, true}, 8000);
}

TEST_F(CallerIdTest, GermanPhoneDecodesEtsiCallerIdAfterARingPulse) {
  run_country({"DE", "etsi", true, true}, 9000);
}

TEST_F(CallerIdTest, FrenchPhoneDecodesEtsiCallerIdAfterLineReversalAndDtAs) {
  run_country({"FR", "etsi", true, true}, 9000);
}

TEST_F(CallerIdTest, JapanesePhoneAnswersCarAndDecodesJclip) {
  run_country({"JP", "jclip", false, false}, 8000);
}

}  // namespace
}  // namespace sipline::test
