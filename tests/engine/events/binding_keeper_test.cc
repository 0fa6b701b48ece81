// BindingKeeper against a fake portal and a fake timer on a FakeClock: a
// portal given a list gets one pass, from the timer; a failed pass is made
// again after a back-off that doubles up to its bound; a forgotten portal,
// a changed list and a shutdown cancel or replace what was planned; the
// status says pending / ok / failed with the attempts and the last error.
#include "engine/events/binding_keeper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace b24gate::binding_keeper_test {
namespace {

using OJson = nlohmann::ordered_json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using State = BindingKeeper::State;

// Timer entries, run when the test moves the clock past them.
class FakeTimer {
 public:
  explicit FakeTimer(FakeClock* clock) : clock_(clock) {}
  BindingKeeper::After after() {
    return [this](absl::Duration delay, std::function<void()> fire) {
      due_.emplace(clock_->Now() + delay, std::move(fire));
    };
  }
  // Moves the clock to the next entry and runs the entries due; the delay.
  absl::Duration FireNext() {
    if (due_.empty()) return absl::InfiniteDuration();
    const absl::Duration waited = due_.begin()->first - clock_->Now();
    clock_->Set(due_.begin()->first);
    while (!due_.empty() && due_.begin()->first <= clock_->Now()) {
      std::function<void()> fire = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      fire();
    }
    return waited;
  }
  size_t pending() const { return due_.size(); }

 private:
  FakeClock* const clock_;
  std::multimap<absl::Time, std::function<void()>> due_;
};

// A portal with no bindings that answers as told: at once (OK, or the error
// set), or, held, when the test releases the call.
class FakePortal {
 public:
  BindingSync::Caller caller() {
    return [this](const std::string& method, OJson params, CallCallback done) {
      calls_.push_back(absl::StrCat(method, " ", params.value("event", "")));
      if (hold_) return held_.push_back(std::move(done));
      if (!error_.ok()) return done(error_);
      CallReply reply;
      if (method == "event.get") reply.result = OJson::array();
      else reply.result = true;
      done(std::move(reply));
    };
  }
  void FailWith(absl::Status s) { error_ = std::move(s); }
  void Hold(bool hold) { hold_ = hold; }
  // Answers the oldest held call as told.
  void ReleaseOne() {
    CallCallback done = std::move(held_.front());
    held_.pop_front();
    CallReply reply;
    reply.result = OJson::array();
    if (error_.ok()) done(std::move(reply));
    else done(error_);
  }
  std::vector<std::string> TakeCalls() { return std::exchange(calls_, {}); }

 private:
  std::vector<std::string> calls_;
  absl::Status error_;
  bool hold_ = false;
  std::deque<CallCallback> held_;
};

EventBindingsSpec Offline(std::vector<std::string> names) {
  EventBindingsSpec spec;
  spec.offline = std::move(names);
  return spec;
}

class BindingKeeperTest : public ::testing::Test {
 protected:
  BindingKeeperTest()
      : timer_(&clock_),
        keeper_(
            [this](const std::string& portal) -> absl::StatusOr<BindingSync::Caller> {
              if (portal == "gone") return absl::NotFoundError("portal: \"gone\" is not a portal of this gateway");
              return portal_.caller();
            },
            timer_.after(),
            [this](const std::string& portal, const BindingKeeper::Status& s) {
              reported_.push_back(absl::StrCat(portal, " #", s.attempts, s.state == State::kOk ? " ok" : " failed"));
            },
            &clock_, Options()) {}

  static BindingKeeper::Options Options() {
    BindingKeeper::Options o;
    o.first_retry = absl::Seconds(1);
    o.max_retry = absl::Seconds(5);
    return o;
  }

  BindingKeeper::Status StatusOf(const std::string& portal) {
    std::map<std::string, BindingKeeper::Status> all = keeper_.Statuses();
    EXPECT_EQ(all.count(portal), 1u) << portal;
    return all[portal];
  }

  FakeClock clock_;
  FakeTimer timer_;
  FakePortal portal_;
  std::vector<std::string> reported_;
  BindingKeeper keeper_;
};

TEST_F(BindingKeeperTest, APortalGivenAListGetsOnePassFromTheTimer) {
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  EXPECT_THAT(portal_.TakeCalls(), IsEmpty()) << "Set only plans the pass";
  EXPECT_EQ(StatusOf("main").state, State::kPending);
  EXPECT_EQ(timer_.FireNext(), absl::ZeroDuration());
  EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get ", "event.bind ONCRMDEALADD"));
  const BindingKeeper::Status s = StatusOf("main");
  EXPECT_EQ(s.state, State::kOk);
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(s.report.bound.size(), 1u);
  EXPECT_EQ(timer_.pending(), 0u) << "nothing planned after a pass that succeeded";

  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  EXPECT_EQ(timer_.pending(), 0u) << "the same list again: no pass";
  EXPECT_THAT(reported_, ElementsAre("main #1 ok"));
}

TEST_F(BindingKeeperTest, AFailedPassIsMadeAgainAfterABackOffThatDoublesUpToItsBound) {
  portal_.FailWith(absl::UnavailableError("HTTP 503"));
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 6; ++i) {
    waits.push_back(timer_.FireNext());
    EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get ")) << "a failed read ends the pass";
  }
  EXPECT_THAT(waits, ElementsAre(absl::ZeroDuration(), absl::Seconds(1), absl::Seconds(2), absl::Seconds(4),
                                 absl::Seconds(5), absl::Seconds(5)));
  BindingKeeper::Status s = StatusOf("main");
  EXPECT_EQ(s.state, State::kFailed);
  EXPECT_EQ(s.attempts, 6);
  EXPECT_EQ(s.last_error, "event.get: UNAVAILABLE: HTTP 503");
  EXPECT_EQ(s.next_attempt, clock_.Now() + absl::Seconds(5));
  EXPECT_EQ(timer_.pending(), 1u) << "one entry per portal, not one per attempt";

  portal_.FailWith(absl::OkStatus());
  EXPECT_EQ(timer_.FireNext(), absl::Seconds(5));
  EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get ", "event.bind ONCRMDEALADD"));
  s = StatusOf("main");
  EXPECT_EQ(s.state, State::kOk);
  EXPECT_EQ(s.attempts, 7);
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(timer_.pending(), 0u);
}

TEST_F(BindingKeeperTest, AFailedPortalGivenItsListAgainIsTriedAtOnce) {
  portal_.FailWith(absl::UnauthenticatedError("the refresh token was refused"));
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  timer_.FireNext();
  EXPECT_EQ(StatusOf("main").state, State::kFailed);
  // New credentials: the directory tells of a change; the list is the same.
  portal_.FailWith(absl::OkStatus());
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  EXPECT_EQ(timer_.FireNext(), absl::ZeroDuration()) << "not after the back-off";
  EXPECT_EQ(StatusOf("main").state, State::kOk);
  timer_.FireNext();  // the back-off's entry, cancelled: no pass
  EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get ", "event.get ", "event.bind ONCRMDEALADD"));
}

TEST_F(BindingKeeperTest, AForgottenPortalMakesNoFurtherPass) {
  portal_.FailWith(absl::UnavailableError("unreachable"));
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  timer_.FireNext();
  keeper_.Forget("main");
  timer_.FireNext();
  EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get ")) << "the retry was cancelled";
  EXPECT_THAT(keeper_.Statuses(), IsEmpty());

  // Forgotten while its pass runs: the outcome is dropped, nothing planned.
  portal_.Hold(true);
  keeper_.Set("other", Offline({"ONCRMDEALADD"}), "");
  timer_.FireNext();
  keeper_.Forget("other");
  portal_.ReleaseOne();
  EXPECT_THAT(keeper_.Statuses(), IsEmpty());
  EXPECT_EQ(timer_.pending(), 0u);
}

TEST_F(BindingKeeperTest, APortalThatCannotBeFoundFailsItsPassWithoutACall) {
  keeper_.Set("gone", Offline({"ONCRMDEALADD"}), "");
  timer_.FireNext();
  const BindingKeeper::Status s = StatusOf("gone");
  EXPECT_EQ(s.state, State::kFailed);
  EXPECT_THAT(s.last_error, ::testing::HasSubstr("NOT_FOUND"));
  EXPECT_THAT(portal_.TakeCalls(), IsEmpty());
}

TEST_F(BindingKeeperTest, AListChangedWhileAPassRunsGetsItsOwnPassAfterIt) {
  portal_.Hold(true);
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  timer_.FireNext();
  keeper_.Set("main", Offline({"ONCRMDEALUPDATE"}), "");
  EXPECT_EQ(timer_.pending(), 0u) << "never two passes of a portal at once";
  portal_.Hold(false);
  portal_.ReleaseOne();  // the old list's event.get: it binds ONCRMDEALADD
  EXPECT_EQ(StatusOf("main").state, State::kPending) << "the old list's pass is not the new list's";
  timer_.FireNext();
  EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get ", "event.bind ONCRMDEALADD", "event.get ",
                                               "event.bind ONCRMDEALUPDATE"));
  const BindingKeeper::Status s = StatusOf("main");
  EXPECT_EQ(s.state, State::kOk);
  EXPECT_EQ(s.attempts, 1);
}

TEST_F(BindingKeeperTest, AfterShutdownNoPassStarts) {
  portal_.FailWith(absl::UnavailableError("unreachable"));
  keeper_.Set("main", Offline({"ONCRMDEALADD"}), "");
  timer_.FireNext();
  keeper_.Shutdown();
  timer_.FireNext();
  keeper_.Set("new", Offline({"ONCRMDEALADD"}), "");
  EXPECT_EQ(timer_.pending(), 0u) << "no timer entry added after Shutdown";
  EXPECT_THAT(portal_.TakeCalls(), ElementsAre("event.get "));
}

}  // namespace
}  // namespace b24gate::binding_keeper_test
