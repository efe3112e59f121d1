#include "call/call_limits.hpp"

#include <optional>

#include <gtest/gtest.h>

namespace sipline::gateway::call {
namespace {

using namespace std::chrono_literals;

TEST(CallLimits, ConcurrentSlotsComeBackWhenTicketsGo) {
  base::ManualClock clock;
  CallLimits limits({.max_concurrent = 2, .max_per_minute = 0, .max_tracked = 100}, clock);
  auto a = limits.admit("user:alice");
  auto b = limits.admit("user:alice");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(limits.active("user:alice"), 2);
  auto c = limits.admit("user:alice");
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().is(CallLimitError::concurrent));
  EXPECT_TRUE(limits.admit("user:bob"));  // another key is not affected
  {
    CallLimits::Ticket moved = std::move(*a);  // moving keeps the one slot
    EXPECT_EQ(limits.active("user:alice"), 2);
  }
  EXPECT_EQ(limits.active("user:alice"), 1);
  EXPECT_TRUE(limits.admit("user:alice"));
}

TEST(CallLimits, RateCountsCallStartsInTheLastMinute) {
  base::ManualClock clock;
  CallLimits limits({.max_concurrent = 0, .max_per_minute = 3, .max_tracked = 100}, clock);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limits.admit("user:alice")) << i;  // tickets dropped at once: only the rate counts
    clock.advance(10s);
  }
  auto refused = limits.admit("user:alice");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(CallLimitError::rate));
  clock.advance(31s);  // the first start (at 0 s) is now more than a minute old
  EXPECT_TRUE(limits.admit("user:alice"));
}

TEST(CallLimits, ZeroMeansNoLimitAndADefaultTicketHoldsNothing) {
  base::ManualClock clock;
  CallLimits limits({.max_concurrent = 0, .max_per_minute = 0, .max_tracked = 100}, clock);
  std::vector<CallLimits::Ticket> held;
  for (int i = 0; i < 100; ++i) {
    auto t = limits.admit("user:alice");
    ASSERT_TRUE(t);
    held.push_back(std::move(*t));
  }
  EXPECT_EQ(limits.active("user:alice"), 100);
  CallLimits::Ticket none;  // destroying it releases nothing
}

TEST(CallLimits, TableStaysBoundedButKeepsKeysWithCalls) {
  base::ManualClock clock;
  CallLimits limits({.max_concurrent = 1, .max_per_minute = 0, .max_tracked = 4}, clock);
  auto busy = limits.admit("user:busy");
  ASSERT_TRUE(busy);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(limits.admit("user:" + std::to_string(i)));
  EXPECT_EQ(limits.active("user:busy"), 1);
  EXPECT_FALSE(limits.admit("user:busy"));  // still limited: its entry was kept
}

}  // namespace
}  // namespace sipline::gateway::call

namespace sipline::gateway::call {
namespace {

TEST(CallLimitsTicket, CarriesASecondSlotAndReleasesBoth) {
  base::ManualClock clock;
  CallLimits users({.max_concurrent = 1, .max_per_minute = 0, .max_tracked = 100}, clock);
  CallLimits sources({.max_concurrent = 1, .max_per_minute = 0, .max_tracked = 100}, clock);
  {
    auto user = users.admit("user:alice");
    auto source = sources.admit("source:192.0.2.7");
    ASSERT_TRUE(user && source);
    CallLimits::Ticket ticket = std::move(*user);
    ticket.also(std::move(*source));
    CallLimits::Ticket moved = std::move(ticket);  // travels with the call
    EXPECT_EQ(users.active("user:alice"), 1);
    EXPECT_EQ(sources.active("source:192.0.2.7"), 1);
    EXPECT_FALSE(sources.admit("source:192.0.2.7")) << "the source's one slot is taken";
  }
  EXPECT_EQ(users.active("user:alice"), 0);
  EXPECT_EQ(sources.active("source:192.0.2.7"), 0);
  EXPECT_TRUE(sources.admit("source:192.0.2.7"));
}

}  // namespace
}  // namespace sipline::gateway::call
