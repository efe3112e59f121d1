// Fork (the outgoing INVITEs of a call: a group of targets at once, the
// groups in order, RFC 3261 §16.6-16.7) driven through stand-in dialogs, and
// the SIP bridge's pure helpers: the status a caller gets, the user part
// passed on in From.
#include "call/fork.hpp"

#include <gtest/gtest.h>

#include "call/sip_bridge.hpp"

namespace sipline::gateway::call {
namespace {

using namespace std::chrono_literals;

// A dialog that sends nothing: the test plays the far end through its handler.
class FakeSession final : public sip::SipSession {
 public:
  FakeSession(std::string target, int n) : SipSession(nullptr, Role::outgoing, "call-" + std::to_string(n)),
                                           target(std::move(target)) {}
  void hangup(const char* reason) override {
    hung_up = true;
    reason_header = reason ? reason : "";
  }
  std::string target;
  bool hung_up = false;
  std::string reason_header;
};

// What the owner of the Fork heard, in order.
class Owner final : public sip::SessionHandler {
 public:
  void on_progress(int status, const std::string& sdp) override { events.push_back("progress " + std::to_string(status) + " " + sdp); }
  void on_answered(const std::string& sdp) override { events.push_back("answered " + sdp); }
  void on_failed(int status, const std::string&) override { events.push_back("failed " + std::to_string(status)); }
  void on_ack(const std::string&) override { events.push_back("ack"); }
  void on_remote_hangup() override { events.push_back("hangup"); }
  void on_reinvite(const std::string& sdp) override { events.push_back("reinvite " + sdp); }
  std::vector<std::string> events;
};

struct Harness {
  base::ManualClock clock;
  Owner owner;
  std::vector<std::shared_ptr<FakeSession>> sent;  // every INVITE, in order
  std::vector<std::string> refuse;                 // targets whose INVITE cannot be sent
  int prepared = 0;                                // groups prepared
  Fork fork{clock, 1000ms,
            [this](const sip::OutgoingInvite& invite) -> base::Result<std::shared_ptr<sip::SipSession>> {
              if (std::find(refuse.begin(), refuse.end(), invite.to) != refuse.end())
                return base::fail(sip::SipError::bad_uri, "bad uri");
              auto s = std::make_shared<FakeSession>(invite.to, static_cast<int>(sent.size()));
              s->set_handler(invite.handler);
              sent.push_back(s);
              return std::shared_ptr<sip::SipSession>(s);
            },
            owner};

  bool start(Fork::Groups groups) {
    return fork.start(std::move(groups), [this] {
      ++prepared;
      return sip::OutgoingInvite{.to = {}, .from_user = "201", .display = {}, .sdp = "offer"};
    });
  }
  // The branch sent to `target` (the latest), or null.
  FakeSession* branch(const std::string& target) {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if ((*it)->target == target) return it->get();
    return nullptr;
  }
  // The far end of `target` does something, if the Fork still listens to it.
  sip::SessionHandler* far(const std::string& target) {
    FakeSession* b = branch(target);
    return b ? b->handler() : nullptr;
  }
};

TEST(Fork, RingsAGroupAtOnceAndCancelsTheOthersWhenOneAnswers) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h", "sip:c@h"}, {"sip:later@h"}}));
  ASSERT_EQ(h.sent.size(), 3u);  // the whole first group at once, one offer
  EXPECT_EQ(h.prepared, 1);
  EXPECT_EQ(h.fork.live_branches(), 3u);
  h.far("sip:a@h")->on_progress(180, "");
  h.far("sip:b@h")->on_progress(180, "");  // the owner knows already
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"progress 180 "}));
  h.far("sip:b@h")->on_answered("answer-b");
  EXPECT_EQ(h.owner.events.back(), "answered answer-b");
  EXPECT_EQ(h.fork.target(), "sip:b@h");
  EXPECT_EQ(h.fork.winner().get(), h.branch("sip:b@h"));
  EXPECT_EQ(h.fork.call_id(), "call-1");
  for (const char* loser : {"sip:a@h", "sip:c@h"}) {
    EXPECT_TRUE(h.branch(loser)->hung_up) << loser;
    EXPECT_EQ(h.branch(loser)->reason_header, "SIP;cause=200;text=\"Call completed elsewhere\"") << loser;
    EXPECT_EQ(h.far(loser), nullptr) << loser;  // nothing of theirs reaches the owner any more
  }
  EXPECT_FALSE(h.branch("sip:b@h")->hung_up);
  EXPECT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.clock.pending(), 0u);  // no timeout after the answer
  // The winner's dialog goes on through the owner.
  h.far("sip:b@h")->on_reinvite("hold");
  h.far("sip:b@h")->on_remote_hangup();
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"progress 180 ", "answered answer-b", "reinvite hold", "hangup"}));
  h.fork.hangup();
  EXPECT_TRUE(h.branch("sip:b@h")->hung_up);
}

TEST(Fork, ABusyBranchWaitsForTheOthersAndTheBestStatusWins) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h"}, {"sip:later@h"}}));
  h.far("sip:a@h")->on_failed(486, "Busy Here");
  EXPECT_TRUE(h.owner.events.empty());  // b still rings
  EXPECT_EQ(h.fork.live_branches(), 1u);
  h.far("sip:b@h")->on_failed(480, "Temporarily Unavailable");
  // The group's best is busy: not worth the next group.
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"failed 486"}));
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.fork.failed_status(), 486);
}

TEST(Fork, TheNextGroupRingsOnlyWhenEveryBranchOfTheFirstIsUnreachable) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h"}, {"sip:c@h"}, {"sip:d@h"}}));
  h.far("sip:a@h")->on_failed(503, "Service Unavailable");
  EXPECT_EQ(h.sent.size(), 2u);
  h.far("sip:b@h")->on_failed(480, "Temporarily Unavailable");
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.sent[2]->target, "sip:c@h");
  EXPECT_EQ(h.prepared, 2);  // a fresh offer for the new group
  h.far("sip:c@h")->on_failed(404, "Not Found");
  EXPECT_EQ(h.sent.size(), 3u);  // 404 ends it: d is never called
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"failed 404"}));
}

TEST(Fork, ADeclineEverywhereCancelsTheRestAtOnce) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h"}, {"sip:c@h"}}));
  h.far("sip:b@h")->on_progress(180, "");
  h.far("sip:a@h")->on_failed(603, "Decline");
  EXPECT_TRUE(h.branch("sip:b@h")->hung_up);
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"progress 180 ", "failed 603"}));
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.clock.pending(), 0u);
}

TEST(Fork, SilentBranchesTimeOutButRingingOnesKeepRinging) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h"}, {"sip:c@h"}}));
  h.far("sip:a@h")->on_progress(180, "");
  h.clock.advance(999ms);
  EXPECT_FALSE(h.branch("sip:b@h")->hung_up);
  h.clock.advance(1ms);
  EXPECT_TRUE(h.branch("sip:b@h")->hung_up);  // CANCEL, counted as 408
  EXPECT_FALSE(h.branch("sip:a@h")->hung_up);
  EXPECT_EQ(h.sent.size(), 2u);
  h.clock.advance(10000ms);  // a rings as long as it likes
  h.far("sip:a@h")->on_failed(480, "Temporarily Unavailable");
  // 480 and 408: unreachable everywhere, so the next group.
  ASSERT_EQ(h.sent.size(), 3u);
  h.clock.advance(1000ms);  // c says nothing either
  EXPECT_TRUE(h.branch("sip:c@h")->hung_up);
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"progress 180 ", "failed 480"}));
}

TEST(Fork, EarlyMediaComesFromOneBranchAndMovesWhenItFails) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h", "sip:c@h"}}));
  h.far("sip:a@h")->on_progress(183, "sdp-a");
  h.far("sip:b@h")->on_progress(183, "sdp-b");  // not played: a's is
  h.far("sip:a@h")->on_progress(183, "sdp-a2");  // a's update is
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"progress 183 sdp-a", "progress 183 sdp-a2"}));
  h.far("sip:a@h")->on_failed(486, "Busy Here");
  EXPECT_EQ(h.owner.events.back(), "progress 183 sdp-b");  // b takes over
  // c answers without SDP and never sent any: nothing to connect; it is hung
  // up and b still rings.
  h.far("sip:c@h")->on_answered("");
  EXPECT_TRUE(h.branch("sip:c@h")->hung_up);
  EXPECT_EQ(h.fork.live_branches(), 1u);
  // b answers without SDP: its 18x SDP is the answer.
  h.far("sip:b@h")->on_answered("");
  EXPECT_EQ(h.owner.events.back(), "answered sdp-b");
}

TEST(Fork, LosingEarlyMediaBranchLeavesTheOwnerRingingWithout) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h"}}));
  h.far("sip:b@h")->on_progress(180, "");
  h.far("sip:a@h")->on_progress(183, "sdp-a");
  h.far("sip:a@h")->on_failed(480, "Temporarily Unavailable");
  EXPECT_EQ(h.owner.events, (std::vector<std::string>{"progress 180 ", "progress 183 sdp-a", "progress 180 "}));
}

TEST(Fork, TargetsThatCannotBeSentAreSkippedAndNoneAtAllFailsTheStart) {
  Harness h;
  h.refuse = {"sip:bad@h", "sip:worse@h"};
  ASSERT_TRUE(h.start({{"sip:bad@h"}, {"sip:worse@h", "sip:ok@h"}}));
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0]->target, "sip:ok@h");
  Harness none;
  none.refuse = {"sip:bad@h"};
  EXPECT_FALSE(none.start({{"sip:bad@h"}, {}}));
  EXPECT_TRUE(none.owner.events.empty());
  EXPECT_EQ(none.fork.failed_status(), 480);
}

TEST(Fork, AnEarlyDialogThatDiesIsAFailedBranchAndHangupCancelsTheRest) {
  Harness h;
  ASSERT_TRUE(h.start({{"sip:a@h", "sip:b@h"}}));
  h.far("sip:a@h")->on_remote_hangup();
  EXPECT_TRUE(h.owner.events.empty());
  EXPECT_EQ(h.fork.live_branches(), 1u);
  h.fork.hangup();
  EXPECT_TRUE(h.branch("sip:b@h")->hung_up);
  EXPECT_EQ(h.branch("sip:b@h")->reason_header, "");
  EXPECT_EQ(h.fork.live_branches(), 0u);
  EXPECT_EQ(h.clock.pending(), 0u);
}

TEST(Fork, TheOwnerMayDestroyTheForkInItsCallback) {
  base::ManualClock clock;
  struct Destroyer final : sip::SessionHandler {
    std::unique_ptr<Fork> fork;
    void on_progress(int, const std::string&) override {}
    void on_answered(const std::string&) override { fork.reset(); }
    void on_failed(int, const std::string&) override { fork.reset(); }
    void on_ack(const std::string&) override {}
    void on_remote_hangup() override {}
    void on_reinvite(const std::string&) override {}
  } owner;
  std::vector<std::shared_ptr<FakeSession>> sent;
  auto dial = [&](const sip::OutgoingInvite& invite) -> base::Result<std::shared_ptr<sip::SipSession>> {
    auto s = std::make_shared<FakeSession>(invite.to, static_cast<int>(sent.size()));
    s->set_handler(invite.handler);
    sent.push_back(s);
    return std::shared_ptr<sip::SipSession>(s);
  };
  auto prepare = [] { return sip::OutgoingInvite{}; };
  owner.fork = std::make_unique<Fork>(clock, 1000ms, dial, owner);
  ASSERT_TRUE(owner.fork->start({{"sip:a@h", "sip:b@h"}}, prepare));
  sent[0]->handler()->on_answered("sdp");
  EXPECT_EQ(owner.fork, nullptr);
  EXPECT_TRUE(sent[1]->hung_up);
  owner.fork = std::make_unique<Fork>(clock, 1000ms, dial, owner);
  ASSERT_TRUE(owner.fork->start({{"sip:c@h"}}, prepare));
  sent[2]->handler()->on_failed(603, "Decline");
  EXPECT_EQ(owner.fork, nullptr);
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(Fork, OnlyUnreachableOrServerFailuresAreWorthTheNextGroup) {
  for (int status : {0, 408, 480, 500, 503, 504, 599}) EXPECT_TRUE(Fork::worth_next(status)) << status;
  for (int status : {400, 403, 404, 486, 487, 488, 600, 603}) EXPECT_FALSE(Fork::worth_next(status)) << status;
}

TEST(Fork, BestStatusPrefersADeclineThenBusyThenOtherClientErrors) {
  EXPECT_EQ(Fork::best_status(486, 603), 603);
  EXPECT_EQ(Fork::best_status(480, 486), 486);
  EXPECT_EQ(Fork::best_status(404, 480), 404);
  EXPECT_EQ(Fork::best_status(408, 480), 480);
  EXPECT_EQ(Fork::best_status(503, 408), 408);
  EXPECT_EQ(Fork::best_status(407, 408), 407);
  EXPECT_EQ(Fork::best_status(302, 500), 500);
  EXPECT_EQ(Fork::best_status(0, 302), 302);
  EXPECT_EQ(Fork::best_status(404, 403), 404);  // a tie keeps the first
  EXPECT_EQ(Fork::count({{"a", "b"}, {}, {"c"}}), 3u);
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
