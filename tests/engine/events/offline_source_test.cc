// OfflineSource against a scripted portal, a fake store and a fake timer:
// it reads only while the store has a group of the portal, stores a batch
// before it clears exactly that batch's rows, clears nothing it could not
// store, reads a row again after a failed clear without storing it twice,
// and reads on at once after a full batch or a PollNow during a pass.
#include "engine/events/offline_source.h"
#include "tests/engine/events/offline_only_store.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace b24gate::offline_source_test {
namespace {

using OJson = nlohmann::ordered_json;

// Keeps what StoreOnce takes, skipping repeated source ids as a real store
// does; can be told to have no group or to fail.
class FakeStore : public OfflineOnlyStore {
 public:
  absl::StatusOr<int> StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) override {
    ++store_calls;
    if (!fail.ok()) return fail;
    int fresh = 0;
    for (QueuedEvent& e : events) {
      EXPECT_EQ(portal, "p");
      if (!seen.insert(e.source_id).second) continue;
      ++fresh;
      stored.push_back(std::move(e));
    }
    return fresh;
  }
  absl::StatusOr<bool> HasGroups(const std::string&) override { return groups; }

  bool groups = true;
  absl::Status fail;
  int store_calls = 0;
  std::set<std::string> seen;
  std::vector<QueuedEvent> stored;
};

struct PendingCall {
  std::string method;
  OJson params;
  CallCallback done;
};

OJson Row(int id, int record) {
  return {{"ID", std::to_string(id)},
          {"TIMESTAMP_X", "2026-12-05T02:00:00+03:00"},
          {"EVENT_NAME", "ONCRMDEALUPDATE"},
          {"EVENT_DATA", {{"FIELDS", {{"ID", record}}}}},
          {"MESSAGE_ID", "m" + std::to_string(id)}};
}

CallReply Rows(const std::vector<OJson>& rows) {
  CallReply reply;
  reply.result = {{"process_id", "b24gate"}, {"events", rows}};
  return reply;
}

class OfflineSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OfflineSource::Options options;
    options.portal = "p";
    options.batch_size = 2;
    OfflineSource::Listener listener;
    listener.stored = [this](int fresh) { fresh_ += fresh; };
    listener.failed = [this](const absl::Status&) { ++failures_; };
    source_ = std::make_shared<OfflineSource>(
        options, &store_,
        [this](const std::string& method, OJson params, CallCallback done) {
          calls_.push_back({method, std::move(params), std::move(done)});
        },
        [this](absl::Duration, std::function<void()> fire) { timers_.push_back(std::move(fire)); },
        [this](std::function<void()> job) {
          if (refuse_jobs_) return false;
          jobs_.push_back(std::move(job));
          return true;
        },
        std::move(listener));
  }

  // Runs the jobs handed to the executor (the store's calls), and those
  // they hand on, as the blocking pool would.
  void RunJobs() {
    while (!jobs_.empty()) {
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      job();
    }
  }

  // The oldest unanswered call, which must be `method`.
  PendingCall Next(const std::string& method) {
    RunJobs();
    EXPECT_FALSE(calls_.empty()) << "expected " << method;
    if (calls_.empty()) return {};
    PendingCall call = std::move(calls_.front());
    calls_.pop_front();
    EXPECT_EQ(call.method, method);
    EXPECT_EQ(call.params.value("process_id", ""), "b24gate");
    return call;
  }
  void FireTimers() {
    std::vector<std::function<void()>> due;
    due.swap(timers_);
    for (auto& fire : due) fire();
    RunJobs();
  }

  FakeStore store_;
  std::deque<PendingCall> calls_;
  std::vector<std::function<void()>> timers_;
  std::deque<std::function<void()>> jobs_;
  bool refuse_jobs_ = false;
  std::shared_ptr<OfflineSource> source_;
  int fresh_ = 0;
  int failures_ = 0;
};

TEST_F(OfflineSourceTest, ReadsNothingWhileTheStoreHasNoGroupOfThePortal) {
  store_.groups = false;
  source_->PollNow();
  RunJobs();
  EXPECT_TRUE(calls_.empty()) << "no group: the portal keeps its rows";
  ASSERT_EQ(timers_.size(), 1u);
  store_.groups = true;
  FireTimers();
  PendingCall get = Next("event.offline.get");
  EXPECT_EQ(get.params["clear"], 0);
}

TEST_F(OfflineSourceTest, StoresABatchBeforeItClearsExactlyThoseRows) {
  source_->PollNow();
  Next("event.offline.get").done(Rows({Row(7, 70)}));
  EXPECT_TRUE(store_.stored.empty()) << "not on the thread that completed the read";
  RunJobs();
  ASSERT_EQ(store_.stored.size(), 1u) << "stored when the read returned";
  EXPECT_EQ(store_.stored[0].source_id, "7");
  EXPECT_EQ(store_.stored[0].record_id, "70");
  EXPECT_EQ(store_.stored[0].event, "ONCRMDEALUPDATE");
  PendingCall clear = Next("event.offline.clear");
  EXPECT_EQ(clear.params["id"], OJson::array({"7"}));
  clear.done(CallReply{});
  RunJobs();
  EXPECT_TRUE(calls_.empty()) << "a short batch: the queue is drained, rest";
  EXPECT_EQ(timers_.size(), 1u);
  EXPECT_EQ(fresh_, 1);
}

TEST_F(OfflineSourceTest, ClearsNothingItCouldNotStore) {
  store_.fail = absl::UnavailableError("disk full");
  source_->PollNow();
  Next("event.offline.get").done(Rows({Row(1, 10), Row(2, 20)}));
  RunJobs();
  EXPECT_TRUE(calls_.empty()) << "not stored: the rows stay in the portal";
  EXPECT_EQ(failures_, 1);
  store_.fail = absl::OkStatus();
  FireTimers();
  Next("event.offline.get").done(Rows({Row(1, 10), Row(2, 20)}));
  EXPECT_EQ(Next("event.offline.clear").params["id"], OJson::array({"1", "2"}));
  EXPECT_EQ(store_.stored.size(), 2u);
}

TEST_F(OfflineSourceTest, RowsReadAgainAfterAFailedClearAreNotStoredTwice) {
  source_->PollNow();
  Next("event.offline.get").done(Rows({Row(1, 10)}));
  Next("event.offline.clear").done(absl::UnavailableError("portal down"));
  EXPECT_EQ(failures_, 1);
  FireTimers();
  // The portal gives the rows marked with the process id again.
  Next("event.offline.get").done(Rows({Row(1, 10), Row(3, 30)}));
  EXPECT_EQ(Next("event.offline.clear").params["id"], OJson::array({"1", "3"})) << "cleared at last";
  EXPECT_EQ(store_.store_calls, 2);
  EXPECT_EQ(store_.stored.size(), 2u) << "row 1 once";
  EXPECT_EQ(fresh_, 2);
}

TEST_F(OfflineSourceTest, AFullBatchOrAPollDuringAPassReadsOnAtOnce) {
  source_->PollNow();
  Next("event.offline.get").done(Rows({Row(1, 10), Row(2, 20)}));
  Next("event.offline.clear").done(CallReply{});
  Next("event.offline.get").done(Rows({}));  // a full batch: read on
  RunJobs();
  EXPECT_TRUE(calls_.empty());
  source_->PollNow();  // ONOFFLINEEVENT while resting
  PendingCall get = Next("event.offline.get");
  source_->PollNow();  // and again while a read is under way
  RunJobs();
  EXPECT_TRUE(calls_.empty()) << "one call at a time";
  get.done(Rows({}));
  Next("event.offline.get").done(Rows({}));
  RunJobs();
  EXPECT_TRUE(calls_.empty());
}

TEST_F(OfflineSourceTest, StoppedItStartsNoPass) {
  source_->PollNow();
  Next("event.offline.get").done(Rows({Row(1, 10), Row(2, 20)}));
  PendingCall clear = Next("event.offline.clear");
  source_->Stop();
  clear.done(CallReply{});  // the pass under way ends
  RunJobs();
  EXPECT_TRUE(calls_.empty()) << "a full batch, but stopped";
  source_->PollNow();
  FireTimers();
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(jobs_.empty());
}

TEST_F(OfflineSourceTest, StoppedItHandsTheExecutorNoJobAndLeavesTheRowsMarked) {
  source_->PollNow();
  PendingCall get = Next("event.offline.get");
  source_->Stop();
  get.done(Rows({Row(1, 10)}));
  EXPECT_TRUE(jobs_.empty()) << "the executor may be gone once Stop returned";
  EXPECT_EQ(store_.store_calls, 0);
  EXPECT_TRUE(calls_.empty()) << "no clear: the rows stay marked for the next start";
  EXPECT_EQ(failures_, 0);
}

TEST_F(OfflineSourceTest, AnExecutorThatRefusesFailsThePassAndTheTimerTriesAgain) {
  refuse_jobs_ = true;
  source_->PollNow();
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ(failures_, 1);
  ASSERT_EQ(timers_.size(), 1u);
  refuse_jobs_ = false;
  FireTimers();
  Next("event.offline.get").done(Rows({Row(1, 10)}));
  EXPECT_EQ(Next("event.offline.clear").params["id"], OJson::array({"1"}));
  EXPECT_EQ(store_.stored.size(), 1u);
}

}  // namespace
}  // namespace b24gate::offline_source_test
