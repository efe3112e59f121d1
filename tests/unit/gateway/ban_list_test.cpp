#include "auth/ban_list.hpp"

#include <gtest/gtest.h>

namespace sipline::gateway::auth {
namespace {

using namespace std::chrono_literals;

BanPolicy policy(int failures = 3, std::size_t tracked = 100) {
  return {.failures = failures, .window = 60s, .duration = 600s, .max_tracked = tracked};
}

TEST(BanList, BansAfterEnoughFailuresWithinTheWindowAndForTheDuration) {
  base::ManualClock clock;
  BanList bans(policy(), clock);
  EXPECT_FALSE(bans.record_failure("192.0.2.1"));
  EXPECT_FALSE(bans.record_failure("192.0.2.1"));
  EXPECT_FALSE(bans.banned("192.0.2.1"));
  EXPECT_TRUE(bans.record_failure("192.0.2.1"));
  EXPECT_TRUE(bans.banned("192.0.2.1"));
  EXPECT_FALSE(bans.banned("192.0.2.2"));
  ASSERT_EQ(bans.bans().size(), 1u);
  EXPECT_EQ(bans.bans()[0].address, "192.0.2.1");
  EXPECT_EQ(bans.bans()[0].remaining, 600s);
  clock.advance(599s);
  EXPECT_TRUE(bans.banned("192.0.2.1"));
  clock.advance(1s);
  EXPECT_FALSE(bans.banned("192.0.2.1"));
  EXPECT_TRUE(bans.bans().empty());
}

TEST(BanList, FailuresOlderThanTheWindowDoNotCount) {
  base::ManualClock clock;
  BanList bans(policy(), clock);
  bans.record_failure("192.0.2.1");
  bans.record_failure("192.0.2.1");
  clock.advance(61s);
  EXPECT_FALSE(bans.record_failure("192.0.2.1"));  // the first two have left the window
  EXPECT_FALSE(bans.banned("192.0.2.1"));
}

TEST(BanList, SuccessClearsFailuresButNotABanAndLiftEndsIt) {
  base::ManualClock clock;
  BanList bans(policy(), clock);
  bans.record_failure("192.0.2.1");
  bans.record_failure("192.0.2.1");
  bans.record_success("192.0.2.1");
  EXPECT_FALSE(bans.record_failure("192.0.2.1"));
  EXPECT_FALSE(bans.record_failure("192.0.2.1"));
  EXPECT_TRUE(bans.record_failure("192.0.2.1"));
  bans.record_success("192.0.2.1");  // a right password does not lift a ban
  EXPECT_TRUE(bans.banned("192.0.2.1"));
  EXPECT_TRUE(bans.lift("192.0.2.1"));
  EXPECT_FALSE(bans.banned("192.0.2.1"));
  EXPECT_FALSE(bans.lift("192.0.2.1"));
}

TEST(BanList, ZeroFailuresNeverBans) {
  base::ManualClock clock;
  BanList bans(policy(0), clock);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(bans.record_failure("192.0.2.1"));
  EXPECT_FALSE(bans.banned("192.0.2.1"));
}

TEST(BanList, TableStaysBoundedAndKeepsBansOverFreshFailures) {
  base::ManualClock clock;
  BanList bans(policy(2, 10), clock);
  bans.record_failure("198.51.100.1");
  EXPECT_TRUE(bans.record_failure("198.51.100.1"));
  for (int i = 0; i < 1000; ++i) {
    clock.advance(1ms);
    bans.record_failure("203.0.113." + std::to_string(i % 250) + "x" + std::to_string(i));
  }
  // The table holds at most 10 addresses, whatever the flood of sources.
  EXPECT_EQ(bans.tracked(), 10u);
  EXPECT_LE(bans.bans().size(), 1u);
}

}  // namespace
}  // namespace sipline::gateway::auth
