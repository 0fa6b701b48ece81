// OfflineSource on real threads: the read's answer and the timers arrive on
// one thread every portal shares (as the HTTP completions and the poll
// timer do), and the store's calls run on a BlockingPool. While portal p's
// StoreOnce is stuck (a slow disk sync, a Redis script that does not
// answer), the shared thread still runs portal q's timer and read answer,
// and q's rows are stored and cleared; p's are cleared only once stored.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "engine/common/blocking_pool.h"
#include "engine/events/offline_source.h"
#include "tests/engine/events/offline_only_store.h"
#include "tests/support/wait_for.h"

namespace b24gate::offline_source_threads_test {
namespace {

using OJson = nlohmann::ordered_json;
using ::b24gate::testing::WaitFor;

// StoreOnce for portal "p" waits until released; "q" stores at once.
class GateStore : public OfflineOnlyStore {
 public:
  absl::StatusOr<int> StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) override {
    if (portal == "p") {
      p_entered.Notify();
      release.WaitForNotification();
    }
    absl::MutexLock lock(&mu);
    stored[portal] += static_cast<int>(events.size());
    return static_cast<int>(events.size());
  }
  absl::StatusOr<bool> HasGroups(const std::string&) override { return true; }

  int Stored(const std::string& portal) {
    absl::MutexLock lock(&mu);
    return stored[portal];
  }

  absl::Notification p_entered;
  absl::Notification release;
  absl::Mutex mu;
  std::map<std::string, int> stored ABSL_GUARDED_BY(mu);
};

// One thread running posted jobs in order: the completion/timer thread
// that every portal shares.
class SharedThread {
 public:
  SharedThread() : thread_([this] { Loop(); }) {}
  ~SharedThread() {
    Post(nullptr);
    thread_.join();
  }
  void Post(std::function<void()> job) {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(std::move(job));
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !jobs_.empty(); };
        mu_.Await(absl::Condition(&ready));
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      if (!job) return;
      job();
    }
  }
  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// The calls a portal's source made, by method, in order.
struct Calls {
  absl::Mutex mu;
  std::map<std::string, std::vector<CallCallback>> done ABSL_GUARDED_BY(mu);
  std::map<std::string, std::vector<OJson>> params ABSL_GUARDED_BY(mu);
  size_t Count(const std::string& method) {
    absl::MutexLock lock(&mu);
    return done[method].size();
  }
  CallCallback Take(const std::string& method, OJson* params_out = nullptr) {
    absl::MutexLock lock(&mu);
    if (params_out != nullptr) *params_out = params[method].back();
    return done[method].back();
  }
};

CallReply Rows(int first, int count) {
  CallReply reply;
  OJson rows = OJson::array();
  for (int id = first; id < first + count; ++id) {
    rows.push_back({{"ID", std::to_string(id)},
                    {"EVENT_NAME", "ONCRMDEALUPDATE"},
                    {"EVENT_DATA", {{"FIELDS", {{"ID", id}}}}}});
  }
  reply.result = {{"events", rows}};
  return reply;
}

std::shared_ptr<OfflineSource> MakeSource(const std::string& portal, GateStore* store, Calls* calls,
                                          BlockingPool* pool) {
  OfflineSource::Options options;
  options.portal = portal;
  options.batch_size = 10;
  return std::make_shared<OfflineSource>(
      options, store,
      [calls](const std::string& method, OJson params, CallCallback done) {
        absl::MutexLock lock(&calls->mu);
        calls->done[method].push_back(std::move(done));
        calls->params[method].push_back(std::move(params));
      },
      // Timers are not fired here: each pass is started by PollNow.
      [](absl::Duration, std::function<void()>) {},
      [pool](std::function<void()> job) { return pool->Submit(std::move(job)); }, OfflineSource::Listener{});
}

TEST(OfflineSourceThreadsTest, AStuckStoreOfOnePortalHoldsUpNoOtherPortalOnTheSharedThread) {
  GateStore store;
  Calls p_calls, q_calls;
  SharedThread shared;
  BlockingPool::Options pool_options;
  pool_options.threads = 2;
  BlockingPool pool(pool_options);  // goes first, its jobs done
  std::shared_ptr<OfflineSource> p = MakeSource("p", &store, &p_calls, &pool);
  std::shared_ptr<OfflineSource> q = MakeSource("q", &store, &q_calls, &pool);

  shared.Post([p] { p->PollNow(); });
  ASSERT_TRUE(WaitFor([&] { return p_calls.Count("event.offline.get") == 1; }));
  CallCallback p_read = p_calls.Take("event.offline.get");
  shared.Post([p_read] { p_read(Rows(1, 3)); });
  ASSERT_TRUE(store.p_entered.WaitForNotificationWithTimeout(absl::Seconds(30)));

  // p's StoreOnce is stuck. q's timer and q's read answer come on the same
  // shared thread: they run, and q's rows are stored and cleared.
  shared.Post([q] { q->PollNow(); });
  const bool q_read = WaitFor([&] { return q_calls.Count("event.offline.get") == 1; });
  EXPECT_TRUE(q_read) << "the shared thread is stuck in p's StoreOnce";
  if (q_read) {
    CallCallback read = q_calls.Take("event.offline.get");
    shared.Post([read] { read(Rows(100, 2)); });
    EXPECT_TRUE(WaitFor([&] { return q_calls.Count("event.offline.clear") == 1; }));
    EXPECT_EQ(store.Stored("q"), 2);
  }
  EXPECT_EQ(p_calls.Count("event.offline.clear"), 0u) << "p's rows are not durable yet";
  EXPECT_EQ(store.Stored("p"), 0);

  store.release.Notify();
  ASSERT_TRUE(WaitFor([&] { return p_calls.Count("event.offline.clear") == 1; }));
  OJson cleared;
  p_calls.Take("event.offline.clear", &cleared);
  EXPECT_EQ(cleared["id"], OJson::array({"1", "2", "3"}));
  EXPECT_EQ(store.Stored("p"), 3);
  p->Stop();
  q->Stop();
}

}  // namespace
}  // namespace b24gate::offline_source_threads_test
