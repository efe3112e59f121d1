#pragma once
// Fork: the outgoing INVITEs of one call, forked the way RFC 3261 §16.6-16.7
// has a proxy do it, here for a B2BUA leg (each branch is a dialog of its own).
//
//   groups:  [ {contact q=1.0, contact q=1.0}, {contact q=0.5}, {trunk} ]
//              \____ rung at once ________/    then this       then this
//
// The targets come in groups. The branches of a group are called at once
// (parallel forking: a registered user's contacts of equal q, §16.6 and
// RFC 3261 §20.10), the groups one after another (serial: lower q, then the
// dial plan's next steps). A branch that sends no 18x or final response within
// routing.target_timeout_ms is cancelled and counts as 408, so that a dead
// contact does not hold the call for SIP's 32 s timer B.
//
// The owner (a sip::SessionHandler) hears one call, whatever the branches do:
//  - on_progress: the first 18x of any branch, and every 18x with SDP from
//    the one branch whose early media it plays (the first to send SDP; when
//    that branch fails, another that sent SDP takes over);
//  - on_answered: the first 2xx (the other branches get CANCEL with Reason:
//    SIP;cause=200;text="Call completed elsewhere", RFC 3326). Its SDP, or the
//    winner's earlier 18x SDP when the 2xx has none;
//  - on_failed: every branch of every group tried failed, with the best status
//    (best_status); a 6xx ends the call at once (§16.7 step 5), and a group
//    whose best status is not worth_next (486, most 4xx) ends it too;
//  - after the answer, the winner's on_remote_hangup and on_reinvite.
// Any owner callback may destroy the Fork: it is always the last thing done.
// Thread: control.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sip/sip_stack.hpp"
#include "sipline/base/clock.hpp"
#include "sipline/base/result.hpp"

namespace sipline::gateway::call {

class Fork {
 public:
  // Each inner list is rung at once; the lists one after another.
  using Groups = std::vector<std::vector<std::string>>;
  // Sends one INVITE (SipStack::invite in the daemon).
  using Dial = std::function<base::Result<std::shared_ptr<sip::SipSession>>(const sip::OutgoingInvite&)>;
  // The INVITE of the next group (our offer, From, ...): called once per group
  // before its branches are sent; `to` and `handler` are filled in per branch.
  using Prepare = std::function<sip::OutgoingInvite()>;

  Fork(base::Timers& timers, base::Millis timeout, Dial dial, sip::SessionHandler& owner);
  // Detaches from every branch; hang up first (hangup()) if the call is to end.
  ~Fork();
  Fork(const Fork&) = delete;
  Fork& operator=(const Fork&) = delete;

  // Sends the first group that has a branch to send. False when none could be
  // sent (no owner callback then; failed_status() says why).
  bool start(Groups groups, Prepare prepare);
  // BYE to the winner, or CANCEL to every branch still live.
  void hangup();

  // The answered branch's dialog (null before the answer).
  std::shared_ptr<sip::SipSession> winner() const;
  // The winner's target, else the first live branch's, else the last tried.
  const std::string& target() const { return target_; }
  // The winner's Call-ID, else the first live branch's ("" while none).
  std::string call_id() const;
  std::size_t live_branches() const;
  // The best final status seen (0 while none).
  int failed_status() const { return best_; }

  // Whether a group that ended with `status` is worth trying the next one
  // for: unreachable (408, 480), a server problem (5xx) or no response. A busy
  // or declining callee (486, 6xx) or any other 4xx ends the call.
  static bool worth_next(int status);
  // Of two final statuses, the one to report (§16.7 step 6): a 6xx first,
  // then a busy callee, other 4xx, 480, a challenge, 408, 5xx, 3xx.
  static int best_status(int a, int b);
  // How many targets, over all groups.
  static std::size_t count(const Groups& groups);

 private:
  class Branch;
  void send_group();
  void branch_progress(Branch& b, int status, const std::string& sdp);
  void branch_answered(Branch& b, const std::string& sdp);
  void branch_failed(Branch& b, int status, const std::string& phrase);
  void branch_ended(Branch& b);
  void timeout();
  // Drops a branch (after its failure, or to cancel it); it is CANCELled when `cancel`.
  void drop(Branch& b, bool cancel, const char* reason = nullptr);
  // The group has no live branch left: the next group, or the owner's on_failed.
  void group_done();
  // Tells the owner the call failed, with the best status.
  void fail();
  void cancel_timer();

  base::Timers& timers_;
  base::Millis timeout_;
  Dial dial_;
  sip::SessionHandler& owner_;
  Prepare prepare_;
  Groups groups_;
  std::size_t next_group_ = 0;
  std::vector<std::unique_ptr<Branch>> branches_;  // the current group's live branches
  std::unique_ptr<Branch> winner_;
  Branch* early_ = nullptr;      // the branch whose early media the owner plays
  bool progress_told_ = false;   // the owner has heard an 18x
  int best_ = 0;                 // best final status so far (all groups)
  int group_best_ = 0;           // best final status of the current group
  std::string best_phrase_;
  std::string target_;
  base::TimerId timer_ = 0;
};

}  // namespace sipline::gateway::call
