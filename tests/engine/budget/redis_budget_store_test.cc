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
    // A reservation outlives a sync thread starved this long (a slow
    // machine) and expires this long after its replica died.
    o.reservation_ttl = absl::Seconds(2);
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

// Sends as fast as the replicas' leases allow, round robin, until `until`
// and at least `at_least` requests went (giving up 20 s on).
int SendUntil(const std::vector<Replica*>& replicas, absl::Time until, int at_least = 0) {
  int sent = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  for (size_t i = 0; (absl::Now() < until || sent < at_least) && absl::Now() < give_up; ++i) {
    if (replicas[i % replicas.size()]->Send()) {
      sent++;
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  return sent;
}

// The portal drains 2 requests a second: what `d` adds to a burst.
double DrainedIn(absl::Duration d) { return 2 * absl::ToDoubleSeconds(d); }

TEST_F(RedisBudgetStoreTest, ReplicasTogetherGetOneBurst) {
  auto a = StartReplica();
  auto b = StartReplica();
  auto c = StartReplica();
  // Burst 50, headroom 1, and the lease margin (2 per second for the 1 s a
  // slot is good): 47 at once for all three together, not 47 each; one more
  // drains back each half second they keep sending (a slow machine makes
  // that longer, never the 141 of three separate bursts).
  const absl::Time start = absl::Now();
  const int sent = SendUntil({a.get(), b.get(), c.get()}, start + absl::Milliseconds(500), 40);
  const absl::Time end = absl::Now();
  EXPECT_GE(sent, 40);
  EXPECT_LE(sent, 47 + DrainedIn(end - start));
  // The shared counter is full: every replica's mirror knows it (less what
  // drained since).
  auto knows = [&](Replica& r) {
    const absl::Time now = absl::Now();
    return r.store->requests().Level(now) > sent - 3 - DrainedIn(now - end);
  };
  EXPECT_TRUE(WaitFor([&] { return knows(*a); }));
  EXPECT_TRUE(knows(*b));
}

TEST_F(RedisBudgetStoreTest, AFullBucketSeenByOneHoldsBackAll) {
  auto a = StartReplica();
  auto b = StartReplica();
  const absl::Time full = absl::Now();
  a->store->requests().MarkFull(full);
  // Published with the next round; B's mirror reads it at its next.
  ASSERT_TRUE(WaitFor([&] { return b->store->requests().Level(absl::Now()) > 48; }));
  // Full at 50: nothing for B until it drains to 46, 2 s on. Each Send asks
  // at its own time, so a slow machine only sends fewer asks.
  EXPECT_EQ(SendUntil({b.get()}, full + absl::Milliseconds(1500)), 0);
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
  EXPECT_TRUE(WaitFor([&] { return b->store->operating().Reserved(m) == absl::ZeroDuration(); }));
}

TEST_F(RedisBudgetStoreTest, FallsBackToALocalShareAndResumesWhenRedisReturns) {
  auto a = StartReplica(/*replicas=*/3);
  ASSERT_TRUE(WaitFor([&] { return a->Send(); }));
  EXPECT_FALSE(a->store->Status().fallback);

  const absl::Time killed = absl::Now();
  server_->Kill();
  // No error for the caller: the next round fails and the store falls back.
  ASSERT_TRUE(WaitFor([&] { return a->store->Status().fallback; }));
  const absl::Time seen = absl::Now();
  EXPECT_GE(a->store->Status().redis_errors, 1);
  EXPECT_EQ(a->fallbacks, 1);
  // Once the slots it held have expired (leased before the kill, good for
  // 1 s), it sends on its share, which started full when it fell back
  // (after the kill): 1/3 of 50, drained at 2/3 per second. What drained
  // since (more on a slow machine) is taken first; a share that started
  // empty would give 16 at once.
  const absl::Time now = std::max(killed + absl::Milliseconds(1100), seen);
  std::this_thread::sleep_until(absl::ToChronoTime(now));
  RequestBudget& requests = a->store->requests();
  int drained = 0;
  while (drained < 100 && requests.Reserve(now) == now) ++drained;
  EXPECT_LE(drained, 1 + static_cast<int>(absl::ToDoubleSeconds(now - killed) * 2 / 3)) << "started full";
  // Full now: the next slot drains in 1.5 s.
  const absl::Time next = requests.Reserve(now) + absl::Milliseconds(1);
  ASSERT_GT(next, now);
  EXPECT_EQ(requests.Reserve(next), next);
  const absl::Time after = requests.Reserve(next);
  EXPECT_NEAR(absl::ToDoubleSeconds(after - next), 1.5, 0.01);
  // Falling back is said once, however many rounds fail.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(a->fallbacks, 1);

  const absl::Time restarted = absl::Now();
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return !a->store->Status().fallback; }));
  EXPECT_EQ(a->resumes, 1);
  // The restarted (empty) counter was told of the requests sent apart, less
  // what drained since (all of it on a machine slow enough).
  const absl::Time later = absl::Now();
  EXPECT_GT(a->store->requests().Level(later), drained + 1 - 0.5 - DrainedIn(later - restarted));
}

TEST_F(RedisBudgetStoreTest, AStalledRoundHoldsUpNoDispatcherCall) {
  // A long timeout: the round below stays stalled while the calls run.
  auto a = StartReplica(/*replicas=*/3, /*timeout=*/absl::Seconds(10));
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
