// TargetList (serial forking with a per-target timeout) and the SIP bridge's
// pure helpers: the status a caller gets, the user part passed on in From.
#include "call/target_list.hpp"

#include <gtest/gtest.h>

#include "call/sip_bridge.hpp"

namespace sipline::gateway::call {
namespace {

using namespace std::chrono_literals;

TEST(TargetList, HandsOutTargetsInOrderAndTimesOutOnlyTheCurrentOne) {
  base::ManualClock clock;
  TargetList list(clock, 1000ms);
  list.assign({"sip:a@127.0.0.1", "sip:b@127.0.0.1"});
  int timeouts = 0;
  ASSERT_TRUE(list.has_next());
  EXPECT_EQ(list.next([&] { ++timeouts; }), "sip:a@127.0.0.1");
  EXPECT_EQ(list.attempt(), 1u);
  clock.advance(999ms);
  EXPECT_EQ(timeouts, 0);
  clock.advance(1ms);
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(list.next([&] { timeouts += 10; }), "sip:b@127.0.0.1");
  list.responded();  // it rang: no timeout any more
  clock.advance(5000ms);
  EXPECT_EQ(timeouts, 1);
  EXPECT_FALSE(list.has_next());
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(TargetList, NextCancelsThePreviousTimerAndDestructionCancelsTheLast) {
  base::ManualClock clock;
  int timeouts = 0;
  {
    TargetList list(clock, 1000ms);
    list.assign({"sip:a@h", "sip:b@h"});
    list.next([&] { ++timeouts; });
    clock.advance(500ms);
    list.next([&] { ++timeouts; });  // the first attempt failed fast: its timer goes
    EXPECT_EQ(clock.pending(), 1u);
  }
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(5000ms);
  EXPECT_EQ(timeouts, 0);
}

TEST(TargetList, OnlyUnreachableOrServerFailuresAreWorthTheNextTarget) {
  for (int status : {0, 408, 480, 500, 503, 504, 599}) EXPECT_TRUE(TargetList::worth_next(status)) << status;
  for (int status : {400, 403, 404, 486, 487, 488, 600, 603}) EXPECT_FALSE(TargetList::worth_next(status)) << status;
}

TEST(SipBridge, CallerStatusHidesWhatTheCallerCannotActOn) {
  EXPECT_EQ(caller_status(0), 408);       // no response at all
  EXPECT_EQ(caller_status(408), 408);
  EXPECT_EQ(caller_status(302), 480);     // the target's redirect is not the caller's to follow
  EXPECT_EQ(caller_status(401), 480);     // nor its challenge
  EXPECT_EQ(caller_status(407), 480);
  EXPECT_EQ(caller_status(503), 500);     // RFC 3261 §16.7 step 6
  EXPECT_EQ(caller_status(486), 486);
  EXPECT_EQ(caller_status(404), 404);
  EXPECT_EQ(caller_status(603), 603);
  EXPECT_EQ(caller_status(701), 500);
}

TEST(SipBridge, CallerUserKeepsNumbersAndTokensAndHidesTheRest) {
  EXPECT_EQ(caller_user("sip:alice@example.test"), "alice");
  EXPECT_EQ(caller_user("sip:+12025550123@gw.test;user=phone"), "+12025550123");
  EXPECT_EQ(caller_user("SIPS:bob.smith@h"), "bob.smith");
  EXPECT_EQ(caller_user("tel:+4930123456;phone-context=x"), "+4930123456");
  EXPECT_EQ(caller_user("sip:h.example"), "anonymous");  // no user part
  EXPECT_EQ(caller_user("sip:a%40b@h"), "anonymous");     // escapes are not passed on
  EXPECT_EQ(caller_user("sip:x\r\nVia: evil@h"), "anonymous");
  EXPECT_EQ(caller_user("sip:@h"), "anonymous");
  EXPECT_EQ(caller_user(""), "anonymous");
  EXPECT_EQ(caller_user("sip:" + std::string(65, '1') + "@h"), "anonymous");
}

}  // namespace
}  // namespace sipline::gateway::call
