#include "sipline/base/spsc_queue.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace sipline::base {
namespace {

TEST(SpscQueue, PopsInPushOrderAndReportsFull) {
  SpscQueue<int, 4> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.push(i));
  EXPECT_FALSE(q.push(99));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.pop(), i);
  EXPECT_FALSE(q.pop().has_value());
}

TEST(SpscQueue, DeliversEveryItemAcrossThreads) {
  SpscQueue<int, 64> q;
  constexpr int kCount = 200000;
  std::thread producer([&] {
    for (int i = 0; i < kCount; ++i)
      while (!q.push(i)) std::this_thread::yield();
  });
  long long sum = 0;
  int expected = 0;
  while (expected < kCount) {
    if (auto v = q.pop()) {
      ASSERT_EQ(*v, expected);
      sum += *v;
      ++expected;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_EQ(sum, static_cast<long long>(kCount) * (kCount - 1) / 2);
}

}  // namespace
}  // namespace sipline::base
