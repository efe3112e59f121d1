#include "sipline/base/clock.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace sipline::base {
namespace {

TEST(ManualClock, FiresTimersInTimeOrderAndAdvancesNow) {
  ManualClock clock;
  std::vector<int> fired;
  const auto start = clock.now();
  clock.start(Millis(30), [&] { fired.push_back(30); });
  clock.start(Millis(10), [&] { fired.push_back(10); });
  const auto cancelled = clock.start(Millis(20), [&] { fired.push_back(20); });
  clock.cancel(cancelled);
  clock.advance(Millis(25));
  EXPECT_EQ(fired, (std::vector<int>{10}));
  EXPECT_EQ(clock.now() - start, Millis(25));
  clock.advance(Millis(5));
  EXPECT_EQ(fired, (std::vector<int>{10, 30}));
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(ManualClock, TimerStartedFromACallbackFiresInTheSameAdvance) {
  ManualClock clock;
  int fired = 0;
  clock.start(Millis(10), [&] { clock.start(Millis(10), [&] { ++fired; }); });
  clock.advance(Millis(20));
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace sipline::base
