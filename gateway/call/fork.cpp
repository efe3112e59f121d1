#include "call/fork.hpp"

#include <algorithm>
#include <utility>

#include "sipline/base/log.hpp"

namespace sipline::gateway::call {

using base::Sub;
namespace log = base::log;

namespace {

// RFC 3326: the branches that lose to another's 2xx. Phones that show missed
// calls leave this one out.
constexpr const char* kAnsweredElsewhere = "SIP;cause=200;text=\"Call completed elsewhere\"";

// A local failure to send an INVITE (bad URI, no transport): the target is
// as good as unreachable.
constexpr int kNotSent = 480;

int rank(int status) {
  if (status >= 600) return 9;
  if (status == 486) return 8;
  if (status >= 400 && status < 500 && status != 401 && status != 407 && status != 408 && status != 480) return 7;
  if (status == 480) return 6;
  if (status == 401 || status == 407) return 5;
  if (status == 408) return 4;
  if (status >= 500) return 3;
  if (status >= 300) return 2;
  return status > 0 ? 1 : 0;
}

}  // namespace

// One branch: a dialog of ours with one target. Forwards its events to the Fork.
class Fork::Branch final : public sip::SessionHandler {
 public:
  Branch(Fork& fork, std::string target) : fork_(fork), target(std::move(target)) {}
  ~Branch() override {
    if (session) session->set_handler(nullptr);
  }
  void on_progress(int status, const std::string& sdp) override { fork_.branch_progress(*this, status, sdp); }
  void on_answered(const std::string& sdp) override { fork_.branch_answered(*this, sdp); }
  void on_failed(int status, const std::string& phrase) override { fork_.branch_failed(*this, status, phrase); }
  void on_ack(const std::string&) override {}  // outgoing only
  void on_remote_hangup() override { fork_.branch_ended(*this); }
  void on_reinvite(const std::string& sdp) override {
    if (fork_.winner_.get() == this) {
      fork_.owner_.on_reinvite(sdp);
    } else {
      session->reject_reinvite(491);  // no confirmed dialog of ours to change
    }
  }

  Fork& fork_;
  std::string target;
  std::shared_ptr<sip::SipSession> session;
  bool heard = false;   // an 18x or a final response arrived
  std::string sdp;      // its last 18x SDP
};

Fork::Fork(base::Timers& timers, base::Millis timeout, Dial dial, sip::SessionHandler& owner)
    : timers_(timers), timeout_(timeout), dial_(std::move(dial)), owner_(owner) {}

Fork::~Fork() { cancel_timer(); }

bool Fork::worth_next(int status) {
  return status == 408 || status == 480 || (status >= 500 && status < 600) || status < 100;
}

int Fork::best_status(int a, int b) { return rank(b) > rank(a) ? b : a; }

std::size_t Fork::count(const Groups& groups) {
  std::size_t n = 0;
  for (const auto& g : groups) n += g.size();
  return n;
}

std::shared_ptr<sip::SipSession> Fork::winner() const { return winner_ ? winner_->session : nullptr; }

std::string Fork::call_id() const {
  if (winner_) return winner_->session->call_id();
  return branches_.empty() ? std::string() : branches_.front()->session->call_id();
}

std::size_t Fork::live_branches() const { return winner_ ? 1 : branches_.size(); }

bool Fork::start(Groups groups, Prepare prepare) {
  groups_ = std::move(groups);
  prepare_ = std::move(prepare);
  next_group_ = 0;
  send_group();
  return !branches_.empty();
}

void Fork::send_group() {
  while (branches_.empty() && next_group_ < groups_.size()) {
    const std::size_t group = ++next_group_;
    const auto& targets = groups_[group - 1];
    group_best_ = 0;
    early_ = nullptr;
    progress_told_ = false;
    if (targets.empty()) continue;
    sip::OutgoingInvite invite = prepare_();
    for (const auto& target : targets) {
      target_ = target;
      auto branch = std::make_unique<Branch>(*this, target);
      invite.to = target;
      invite.handler = branch.get();
      auto session = dial_(invite);
      if (!session) {
        log::warn(Sub::call, "event=invite_failed target={} error=\"{}\"", target, session.error().message());
        best_ = best_status(best_, kNotSent);
        group_best_ = best_status(group_best_, kNotSent);
        continue;
      }
      branch->session = *session;
      log::info(Sub::call, "event=invite_sent target={} group={}", target, group);
      branches_.push_back(std::move(branch));
    }
    if (!branches_.empty()) {
      target_ = branches_.front()->target;
      log::info(Sub::call, "event=fork_group group={} branches={}", group, branches_.size());
      timer_ = timers_.start(timeout_, [this] {
        timer_ = 0;
        timeout();
      });
      return;
    }
    if (!worth_next(group_best_)) return;
  }
}

void Fork::branch_progress(Branch& b, int status, const std::string& sdp) {
  b.heard = true;
  if (!sdp.empty()) b.sdp = sdp;
  std::string early;
  // Early media comes from one branch only: the first one to send SDP.
  if (!sdp.empty() && (early_ == nullptr || early_ == &b)) {
    early_ = &b;
    early = sdp;
  } else if (progress_told_) {
    return;  // the owner knows the call rings; this branch adds nothing
  }
  progress_told_ = true;
  owner_.on_progress(status, early);
}

void Fork::branch_answered(Branch& b, const std::string& sdp) {
  b.heard = true;
  // An unreliable 18x's SDP is only a preview of the answer: the 2xx repeats
  // it (RFC 3261 §13.2.1). Without it, use the branch's own 18x SDP.
  const std::string answer = sdp.empty() ? b.sdp : sdp;
  if (answer.empty()) {
    log::warn(Sub::call, "event=answer_without_sdp target={}", b.target);
    b.session->hangup();  // BYE: there is no media to connect it to
    branch_failed(b, 502, "answer without SDP");
    return;
  }
  cancel_timer();
  auto it = std::find_if(branches_.begin(), branches_.end(), [&](const auto& p) { return p.get() == &b; });
  winner_ = std::move(*it);
  branches_.erase(it);
  target_ = winner_->target;
  early_ = nullptr;
  const std::size_t others = branches_.size();
  for (auto& other : branches_) {
    other->session->set_handler(nullptr);
    other->session->hangup(kAnsweredElsewhere);
  }
  branches_.clear();
  if (others > 0) log::info(Sub::call, "event=answered_elsewhere target={} cancelled={}", target_, others);
  owner_.on_answered(answer);
}

void Fork::branch_failed(Branch& b, int status, const std::string& phrase) {
  log::info(Sub::call, "event=branch_failed target={} status={} phrase=\"{}\"", b.target, status, phrase);
  if (best_status(best_, status) != best_ || best_ == 0) best_phrase_ = phrase;
  best_ = best_status(best_, status);
  group_best_ = best_status(group_best_, status);
  const bool was_early = early_ == &b;
  drop(b, false);
  if (status >= 600) {
    // §16.7 step 5: a global failure: nobody else is to ring.
    cancel_timer();
    for (auto& other : branches_) {
      other->session->set_handler(nullptr);
      other->session->hangup();
    }
    branches_.clear();
    fail();
    return;
  }
  if (branches_.empty()) {
    group_done();
    return;
  }
  if (was_early) {
    // Another ringing branch that sent SDP takes over the early media; else
    // the owner rings without it.
    auto other = std::find_if(branches_.begin(), branches_.end(), [](const auto& p) { return !p->sdp.empty(); });
    early_ = other == branches_.end() ? nullptr : other->get();
    const std::string sdp = early_ ? early_->sdp : std::string();
    owner_.on_progress(early_ ? 183 : 180, sdp);
  }
}

void Fork::branch_ended(Branch& b) {
  if (winner_.get() == &b) {
    owner_.on_remote_hangup();
    return;
  }
  // Its early dialog died before any final response: a failure like another.
  branch_failed(b, 480, "ended before answer");
}

void Fork::timeout() {
  std::vector<Branch*> silent;
  for (auto& b : branches_) {
    if (!b->heard) silent.push_back(b.get());
  }
  for (Branch* b : silent) {
    log::info(Sub::call, "event=target_timeout target={}", b->target);
    best_ = best_status(best_, 408);
    group_best_ = best_status(group_best_, 408);
    if (best_ == 408) best_phrase_ = "no response";
    if (early_ == b) early_ = nullptr;
    drop(*b, true);  // CANCEL: Sofia sends it once the target answers anything
  }
  if (branches_.empty()) group_done();
}

void Fork::drop(Branch& b, bool cancel, const char* reason) {
  auto it = std::find_if(branches_.begin(), branches_.end(), [&](const auto& p) { return p.get() == &b; });
  if (it == branches_.end()) return;
  std::unique_ptr<Branch> gone = std::move(*it);
  branches_.erase(it);
  gone->session->set_handler(nullptr);
  if (cancel) gone->session->hangup(reason);
}

void Fork::group_done() {
  cancel_timer();
  early_ = nullptr;
  if (worth_next(group_best_)) send_group();
  if (branches_.empty()) fail();
}

void Fork::fail() {
  // Copies: the owner may destroy this Fork while it reads them.
  const int status = best_ ? best_ : kNotSent;
  const std::string phrase = best_phrase_;
  log::info(Sub::call, "event=fork_failed status={} groups={}", status, next_group_);
  owner_.on_failed(status, phrase);
}

void Fork::hangup() {
  cancel_timer();
  if (winner_) {
    winner_->session->hangup();
    return;
  }
  for (auto& b : branches_) {
    b->session->set_handler(nullptr);
    b->session->hangup();
  }
  branches_.clear();
  early_ = nullptr;
}

void Fork::cancel_timer() {
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
}

}  // namespace sipline::gateway::call
