// RedisBudgetStore: replicas (here: several stores, each with its own
// connection and replica id, as separate processes would have) sharing one
// portal's budget through a real redis-server, spending it from their
// leases, and falling back to a local share when it goes away. Real time:
// the sync thread runs at least every 50 ms.
#include "engine/budget/redis_budget_store.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "engine/budget/local_budget_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/threads.h"
#include "tests/support/wait_for.h"

namespace b24gate::redis_budget_store_test {
namespace {

using testing::RedisServer;
using testing::ThreadsOfThisProcess;
using testing::WaitFor;

// One replica: its own sharing (connection, replica id) and its store.
struct Replica {
  std::unique_ptr<RedisBudgetSharing> sharing;
  std::unique_ptr<BudgetStore> store;
  std::atomic<int> fallbacks{0};
  std::atomic<int> resumes{0};

  // As the dispatcher: one request if a slot is at hand now.
  bool Send() {
    absl::Time now = absl::Now();
    return store->requests().Reserve(now) == now;
  }
};

class RedisBudgetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<Replica> StartReplica(int replicas = 3,
                                        absl::Duration timeout = absl::Milliseconds(100)) {
    auto r = std::make_unique<Replica>();
    SharedBudgetOptions o;
    o.redis.address = *ParseRedisUrl(server_->url());
    o.redis.command_timeout = timeout;
    o.redis.min_backoff = absl::Milliseconds(50);
    o.redis.max_backoff = absl::Milliseconds(200);
    o.replicas = replicas;
    o.sync_interval = absl::Milliseconds(50);
    o.reservation_ttl = absl::Milliseconds(500);
    Replica* raw = r.get();
    o.on_switch = [raw](const std::string& portal, bool fallback, const std::string&) {
      EXPECT_EQ(portal, "main");
      (fallback ? raw->fallbacks : raw->resumes)++;
    };
    r->sharing = std::make_unique<RedisBudgetSharing>(o, Clock::Real());
    r->store = r->sharing->StoreFor("main", BucketPolicy{}, OperatingPolicy{}, Clock::Real());
    return r;
  }

  std::unique_ptr<RedisServer> server_;
};

// Sends as fast as the replicas' leases allow for `seconds`, round robin.
int SendFor(const std::vector<Replica*>& replicas, double seconds) {
  int sent = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
  for (size_t i = 0; std::chrono::steady_clock::now() < end; ++i) {
    if (replicas[i % replicas.size()]->Send()) {
      sent++;
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  return sent;
}

TEST_F(RedisBudgetStoreTest, ReplicasTogetherGetOneBurst) {
  auto a = StartReplica();
  auto b = StartReplica();
  auto c = StartReplica();
  // Burst 50, headroom 1, and the lease margin (2 per second for the 1 s a
  // slot is good): 47 at once for all three together, not 47 each; one more
  // drains back in the half second.
  int sent = SendFor({a.get(), b.get(), c.get()}, 0.5);
  EXPECT_GE(sent, 40);
  EXPECT_LE(sent, 48);
  // The shared counter is full: every replica's mirror knows it.
  EXPECT_TRUE(WaitFor([&] { return a->store->requests().Level(absl::Now()) > 44; }));
  EXPECT_GT(b->store->requests().Level(absl::Now()), 44);
}

TEST_F(RedisBudgetStoreTest, AFullBucketSeenByOneHoldsBackAll) {
  auto a = StartReplica();
  auto b = StartReplica();
  a->store->requests().MarkFull(absl::Now());
  // Published with the next round; B's mirror reads it at its next.
  ASSERT_TRUE(WaitFor([&] { return b->store->requests().Level(absl::Now()) > 48; }));
  // Full at 50: nothing for B until it drains to 46, 2 s on.
  EXPECT_EQ(SendFor({b.get()}, 0.5), 0);
}

TEST_F(RedisBudgetStoreTest, OneReplicasReportPausesTheMethodForAll) {
  auto a = StartReplica();
  auto b = StartReplica();
  absl::Time now = absl::Now();
  double reset = absl::ToDoubleSeconds(now - absl::UnixEpoch()) + 30;
  // 430 s of 480 used: within the 60 s margin, so paused until the reset.
  a->store->operating().Observe("crm.deal.list",
                                {{"operating", 430}, {"operating_reset_at", reset}}, now);
  ASSERT_TRUE(WaitFor([&] { return b->store->operating().Operating("crm.deal.list") == 430; }));
  EXPECT_GT(b->store->operating().ReadyAt("crm.deal.list"), absl::Now() + absl::Seconds(20));
  // A 429 seen by one parks the method for the others too.
  a->store->operating().Blocked("tasks.task.list", {{"operating_reset_at", reset}}, now);
  ASSERT_TRUE(WaitFor(
      [&] { return b->store->operating().ReadyAt("tasks.task.list") > absl::Now(); }));
  // A later report from the other replica replaces the figure.
  b->store->operating().Observe("crm.deal.list", {{"operating", 12}, {"operating_reset_at", reset}},
                                absl::Now());
  ASSERT_TRUE(WaitFor([&] { return a->store->operating().Operating("crm.deal.list") == 12; }));
}

TEST_F(RedisBudgetStoreTest, ReservationsCountForOthersAndExpireWithTheirReplica) {
  auto a = StartReplica();
  auto b = StartReplica();
  const std::string m = "crm.lead.list";
  a->store->operating().Reserve(m, absl::Seconds(400));
  ASSERT_TRUE(WaitFor([&] { return b->store->operating().Reserved(m) == absl::Seconds(400); }));
  // 400 s booked elsewhere: 30 more does not fit B's 420, and A's answer is awaited.
  EXPECT_EQ(b->store->operating().FitsAt(m, absl::Seconds(30), absl::Now()),
            absl::InfiniteFuture());
  // Released: gone for B too.
  a->store->operating().Release(m, absl::Seconds(400));
  ASSERT_TRUE(WaitFor([&] { return b->store->operating().Reserved(m) == absl::ZeroDuration(); }));
  // A replica that dies holding a reservation: it expires with the TTL.
  a->store->operating().Reserve(m, absl::Seconds(400));
  ASSERT_TRUE(WaitFor([&] { return b->store->operating().Reserved(m) == absl::Seconds(400); }));
  a.reset();  // stops publishing, releases nothing
  EXPECT_TRUE(WaitFor([&] { return b->store->operating().Reserved(m) == absl::ZeroDuration(); }, 3));
}

TEST_F(RedisBudgetStoreTest, FallsBackToALocalShareAndResumesWhenRedisReturns) {
  auto a = StartReplica(/*replicas=*/3);
  ASSERT_TRUE(WaitFor([&] { return a->Send(); }));
  EXPECT_FALSE(a->store->Status().fallback);

  server_->Kill();
  // No error for the caller: the next round fails and the store falls back.
  ASSERT_TRUE(WaitFor([&] { return a->store->Status().fallback; }));
  EXPECT_GE(a->store->Status().redis_errors, 1);
  EXPECT_EQ(a->fallbacks, 1);
  // Once the slots it held have expired (1 s), it sends on its share, which
  // started full: 1/3 of 50, drained at 2/3 per second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  absl::Time now = absl::Now();
  absl::Time next = a->store->requests().Reserve(now);
  ASSERT_GT(next, now);
  now = next + absl::Milliseconds(1);
  EXPECT_EQ(a->store->requests().Reserve(now), now);
  absl::Time after = a->store->requests().Reserve(now);
  EXPECT_NEAR(absl::ToDoubleSeconds(after - now), 1.5, 0.01);
  // Falling back is said once, however many rounds fail.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(a->fallbacks, 1);

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return !a->store->Status().fallback; }, 3));
  EXPECT_EQ(a->resumes, 1);
  // The restarted (empty) counter was told of the request sent apart.
  EXPECT_GT(a->store->requests().Level(absl::Now()), 0.5);
}

TEST_F(RedisBudgetStoreTest, AStalledRoundHoldsUpNoDispatcherCall) {
  // A long timeout: the round below stays stalled while the calls run.
  auto a = StartReplica(/*replicas=*/3, /*timeout=*/absl::Seconds(3));
  ASSERT_TRUE(WaitFor([&] { return a->Send(); }));
  server_->Pause();
  // News to publish: a round starts within milliseconds and waits on Redis.
  a->store->operating().Observe("crm.deal.list", {{"operating", 1}}, absl::Now());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Everything the dispatcher calls answers from memory meanwhile.
  RequestBudget& requests = a->store->requests();
  absl::Time now = absl::Now();
  requests.NextFree(now);
  requests.Reserve(now);
  requests.Level(now);
  requests.MarkFull(now);
  a->store->operating().Observe("crm.deal.list", {{"operating", 2}}, now);
  a->store->operating().FitsAt("crm.deal.list", absl::Seconds(1), now);
  // ... before the round ended: it has neither failed nor come back.
  EXPECT_EQ(a->store->Status().redis_errors, 0);
  EXPECT_FALSE(a->store->Status().fallback);
  server_->Resume();
}

TEST_F(RedisBudgetStoreTest, AllPortalsOfAGatewayShareOneSyncThread) {
  auto a = StartReplica(/*replicas=*/1);
  const int before = ThreadsOfThisProcess();
  std::vector<std::unique_ptr<BudgetStore>> stores;
  for (int i = 0; i < 50; ++i) {
    stores.push_back(a->sharing->StoreFor(absl::StrCat("portal", i), BucketPolicy{},
                                          OperatingPolicy{}, Clock::Real()));
  }
  EXPECT_EQ(ThreadsOfThisProcess(), before);
  // Every portal's rounds run: each gets slots from its own bucket.
  for (int i = 0; i < 50; ++i) {
    RequestBudget& requests = stores[i]->requests();
    EXPECT_TRUE(WaitFor([&] {
      absl::Time now = absl::Now();
      return requests.Reserve(now) == now;
    })) << i;
  }
}

TEST(LocalBudgetStoreTest, ReserveTakesOnlyAFreeSlot) {
  std::unique_ptr<BudgetStore> store = MakeLocalBudgetStore(BucketPolicy{}, OperatingPolicy{});
  absl::Time t = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 49; ++i) ASSERT_EQ(store->requests().Reserve(t), t) << i;
  absl::Time next = store->requests().Reserve(t);
  EXPECT_EQ(next, t + absl::Milliseconds(500));
  EXPECT_EQ(store->requests().Reserve(next), next);
  EXPECT_FALSE(store->Status().fallback);
}

}  // namespace
}  // namespace b24gate::redis_budget_store_test
