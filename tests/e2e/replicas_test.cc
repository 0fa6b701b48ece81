// Three gateway replicas in front of one portal (a time-scaled standard-plan
// emulator), pushed hard by 24 clients through all three at once.
//
// With a real redis-server shared by the three: the portal never refuses a
// request (0 QUERY_LIMIT_EXCEEDED, 0 OPERATION_TIME_LIMIT) and no caller sees
// an error while, in the same run, Redis is killed and restarted (every
// replica falls back to its 1/3 share and then shares again: the fallback
// gauge goes 1 then 0) and then one replica is killed with SIGKILL (the other
// two take the whole budget). Without Redis the same three replicas trip the
// portal's limit: the reason the shared store exists.
//
// Rates are measured in tests/bench/replicas_bench; the one figure checked
// here is behaviour: after a replica dies, the two left send more than their
// two thirds.
#include <chrono>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/replica_load.h"
#include "tests/support/redis_server.h"

namespace b24gate::e2e {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

// Whether every gateway in `which` reports the fallback gauge at `value`.
bool AllFallback(Replicas& r, const std::vector<size_t>& which, double value) {
  for (size_t i : which) {
    pb::PortalState state;
    if (!r.State(i, &state) || state.status().shared_budget_fallback() != value) return false;
  }
  return true;
}

TEST(Replicas, SharingThroughRedisKeepsThemWithinTheLimitThroughFaults) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  ReplicaSetup setup;
  setup.redis_url = (*redis)->url();
  auto r = StartReplicas(setup);
  ASSERT_TRUE(r);
  const double drain = setup.drain_per_second / setup.time_scale;  // real requests per second
  const std::vector<size_t> all = {0, 1, 2};
  ASSERT_TRUE(AllFallback(*r, all, 0));

  ReplicaLoad load(r->addresses, /*clients_per_gateway=*/8, setup.leads);
  std::this_thread::sleep_for(std::chrono::seconds(3));

  // Redis goes away: every replica falls back to its share, callers see nothing.
  (*redis)->Kill();
  auto killed = SteadyClock::now();
  EXPECT_TRUE(WaitFor([&] { return AllFallback(*r, all, 1); }, 10));
  std::cout << "[ replicas ] all three fell back " << SecondsSince(killed)
            << " s after Redis was killed\n";
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // Redis is back (empty: no persistence): sharing resumes.
  ASSERT_TRUE((*redis)->Restart().ok());
  auto restarted = SteadyClock::now();
  EXPECT_TRUE(WaitFor([&] { return AllFallback(*r, all, 0); }, 10));
  std::cout << "[ replicas ] all three shared again " << SecondsSince(restarted)
            << " s after Redis restarted\n";
  for (size_t i : all) {
    pb::PortalState state;
    ASSERT_TRUE(r->State(i, &state));
    EXPECT_GT(state.status().redis_errors(), 0) << "gateway " << i;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));

  // A replica dies mid-run: the other two take the whole budget.
  load.Abandon(2);
  r->gateway(2).StopWith(SIGKILL);
  // Its operating-time reservations expire within 3 s; the request slots it
  // took drain within a burst's worth of time.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int64_t before = Requests(*r->stack);
  auto from = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  int64_t after = Requests(*r->stack);
  double share = (after - before) / (SecondsSince(from) * drain);
  std::cout << "[ replicas ] two replicas after the third died: " << share
            << " of the portal's drain rate\n";
  EXPECT_GT(share, 0.75) << "the two left did not take the dead replica's third";

  load.Stop();
  json stats = r->stack->EmulatorStats();
  std::cout << load.Summary() << "[ replicas ] emulator: requests=" << StatInt(stats, "requests")
            << " errors=" << stats["errors"].dump() << "\n";
  EXPECT_EQ(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 0) << stats["errors"];
  EXPECT_EQ(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 0) << stats["errors"];
  EXPECT_GT(load.Rpcs(), 100);
  EXPECT_EQ(load.Failures(), 0);
  // Every add a caller saw succeed made one lead; the dead replica's callers
  // may have had at most one add each in flight that ran unseen.
  int64_t created = StatIn(stats, "created", "crm.lead");
  EXPECT_GE(created, load.AddsOk());
  EXPECT_LE(created, load.AddsOk() + 8);
}

TEST(Replicas, WithoutRedisThreeReplicasTripThePortalsLimit) {
  ReplicaSetup setup;  // no Redis: each replica thinks it owns the budget
  auto r = StartReplicas(setup);
  ASSERT_TRUE(r);
  ReplicaLoad load(r->addresses, /*clients_per_gateway=*/8, setup.leads);
  EXPECT_TRUE(WaitFor(
      [&] { return StatIn(r->stack->EmulatorStats(), "errors", "QUERY_LIMIT_EXCEEDED") > 0; }, 10));
  load.Stop();
  json stats = r->stack->EmulatorStats();
  std::cout << "[ replicas ] without Redis: emulator errors=" << stats["errors"].dump() << "\n";
}

}  // namespace
}  // namespace b24gate::e2e
