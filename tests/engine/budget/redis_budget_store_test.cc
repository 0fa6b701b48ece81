// RedisBudgetStore: replicas (here: several stores, each with its own
// connection and replica id, as separate processes would have) sharing one
// portal's budget through a real redis-server, and falling back to a local
// share when it goes away. Real time: the sync thread runs every 50 ms.
#include "engine/budget/redis_budget_store.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "engine/budget/local_budget_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace b24gate {
namespace {

using testing::RedisServer;
using testing::WaitFor;

// One replica: its own sharing (connection, replica id) and its store.
struct Replica {
  std::unique_ptr<RedisBudgetSharing> sharing;
  std::unique_ptr<BudgetStore> store;
  std::atomic<int> fallbacks{0};
  std::atomic<int> resumes{0};
};

class RedisBudgetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<Replica> StartReplica(int replicas = 3) {
    auto r = std::make_unique<Replica>();
    SharedBudgetOptions o;
    o.redis.address = *ParseRedisUrl(server_->url());
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

// Counts how many Reserve()s are admitted at once across `replicas`.
int AdmittedNow(const std::vector<Replica*>& replicas, int tries) {
  int admitted = 0;
  for (int i = 0; i < tries; ++i) {
    Replica* r = replicas[i % replicas.size()];
    absl::Time now = absl::Now();
    if (r->store->requests().Reserve(now) == now) admitted++;
  }
  return admitted;
}

TEST_F(RedisBudgetStoreTest, ReplicasTogetherGetOneBurst) {
  auto a = StartReplica();
  auto b = StartReplica();
  auto c = StartReplica();
  // Burst 50, headroom 1: 49 at once for all three together, not 49 each.
  int admitted = AdmittedNow({a.get(), b.get(), c.get()}, 90);
  EXPECT_GE(admitted, 49);
  EXPECT_LE(admitted, 50);  // a slot may drain back during the loop
  absl::Time now = absl::Now();
  absl::Time next = b->store->requests().Reserve(now);
  EXPECT_GT(next, now + absl::Milliseconds(100));  // about one drain interval (0.5 s)
  EXPECT_LE(next, now + absl::Milliseconds(600));
  // Every replica's mirror now knows the bucket is full.
  EXPECT_GT(a->store->requests().Level(absl::Now()), 47);
}

TEST_F(RedisBudgetStoreTest, AFullBucketSeenByOneHoldsBackAll) {
  auto a = StartReplica();
  auto b = StartReplica();
  a->store->requests().MarkFull(absl::Now());
  absl::Time now = absl::Now();
  EXPECT_GT(b->store->requests().Reserve(now), now);
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
  absl::Time now = absl::Now();
  ASSERT_EQ(a->store->requests().Reserve(now), now);
  EXPECT_FALSE(a->store->Status().fallback);

  server_->Kill();
  // No error for the caller: the next Reserve answers from the local share,
  // which starts full (1/3 of 50, drained at 2/3 per second).
  now = absl::Now();
  absl::Time next = a->store->requests().Reserve(now);
  EXPECT_GT(next, now);
  EXPECT_TRUE(a->store->Status().fallback);
  EXPECT_GE(a->store->Status().redis_errors, 1);
  EXPECT_EQ(a->fallbacks, 1);
  // Sent at the share's pace: about 2/3 request per second.
  now = next + absl::Milliseconds(1);
  EXPECT_EQ(a->store->requests().Reserve(now), now);
  absl::Time after = a->store->requests().Reserve(now);
  EXPECT_NEAR(absl::ToDoubleSeconds(after - now), 1.5, 0.01);
  // Falling back is said once, however many calls fail.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(a->fallbacks, 1);

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return !a->store->Status().fallback; }, 3));
  EXPECT_EQ(a->resumes, 1);
  // The shared counter restarts full: the replicas' sends while apart are
  // not in it.
  now = absl::Now();
  EXPECT_GT(a->store->requests().Reserve(now), now);
}

TEST_F(RedisBudgetStoreTest, ASilentRedisCostsOneTimeoutThenTheShare) {
  auto a = StartReplica();
  server_->Pause();
  auto start = std::chrono::steady_clock::now();
  absl::Time now = absl::Now();
  a->store->requests().Reserve(now);
  a->store->requests().Reserve(absl::Now());
  a->store->requests().Reserve(absl::Now());
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  server_->Resume();
  EXPECT_TRUE(a->store->Status().fallback);
  // Behaviour, not speed: at most the first call waited for Redis (100 ms
  // timeout); the others answered from the share. Generous bound.
  EXPECT_LT(ms, 1000);
  EXPECT_TRUE(WaitFor([&] { return !a->store->Status().fallback; }, 3));
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
}  // namespace b24gate
