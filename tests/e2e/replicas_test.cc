// Three gateway replicas in front of one portal (a time-scaled standard-plan
// emulator), pushed hard by 24 clients through all three at once.
//
// With a real redis-server shared by the three: the portal never refuses a
// request (0 QUERY_LIMIT_EXCEEDED, 0 OPERATION_TIME_LIMIT) and no caller sees
// an error while, in the same run, Redis is killed and restarted (every
// replica falls back to its 1/3 share and then shares again: the fallback
// gauge goes 1 then 0) and then one replica is killed with SIGKILL (the other
// two take the whole budget). A Redis that stalls for a second (DEBUG SLEEP)
// holds up no caller of steady single calls and trips no limit (the longest
// call during the stall is printed). Without Redis the same three replicas
// trip the portal's limit: the reason the shared store exists.
//
// Rates are measured in tests/bench/replicas_bench; the one figure checked
// here is behaviour: after a replica dies, the two left send more than their
// two thirds.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/replica_load.h"
#include "tests/support/redis_server.h"

namespace b24gate::e2e::replicas_test {
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

// One caller per gateway, each sending one single call every `every`, and
// what each call took.
class SteadyCalls {
 public:
  struct Done {
    SteadyClock::time_point start, end;
    grpc::StatusCode code;
  };
  SteadyCalls(const std::vector<std::string>& addresses, std::chrono::milliseconds every) {
    for (const std::string& address : addresses) {
      threads_.emplace_back([this, address, every] {
        auto stub = pb::GatewayService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
        for (int n = 1; !stop_; ++n) {
          auto next = SteadyClock::now() + every;
          pb::CallRequest request;
          request.set_method("crm.lead.list");
          *request.mutable_params() =
              V({{"select", {"ID"}}, {"filter", {{"=ID", n % 100 + 1}}}, {"start", -1}});
          pb::CallResponse response;
          Done d;
          d.start = SteadyClock::now();
          d.code = stub->Call(Ctx(30).get(), request, &response).error_code();
          d.end = SteadyClock::now();
          {
            std::lock_guard<std::mutex> lock(mu_);
            done_.push_back(d);
          }
          std::this_thread::sleep_until(next);
        }
      });
    }
  }
  ~SteadyCalls() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<Done> done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::vector<Done> done_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// The longest call among those that overlapped [from, to], in ms, and how many.
std::pair<double, int> LongestDuring(const std::vector<SteadyCalls::Done>& done,
                                     SteadyClock::time_point from, SteadyClock::time_point to) {
  double longest = 0;
  int n = 0;
  for (const auto& d : done) {
    if (d.end < from || d.start > to) continue;
    longest = std::max(longest, std::chrono::duration<double, std::milli>(d.end - d.start).count());
    n++;
  }
  return {longest, n};
}

// A Redis that stops answering for a second (DEBUG SLEEP: a long command, a
// slow fork) holds up nobody: the replicas spend the slots they hold, then
// their 1/3 shares, and the portal still refuses nothing. How long the calls
// during the stall took is printed (the lease makes it the same as before).
TEST(Replicas, ARedisStallHoldsUpNoCall) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  ReplicaSetup setup;
  setup.redis_url = (*redis)->url();
  auto r = StartReplicas(setup);
  ASSERT_TRUE(r);
  // 2.5 calls per second per gateway: 7.5 of the portal's 10, each gateway
  // within the 3.3 of its share.
  SteadyCalls calls(r->addresses, std::chrono::milliseconds(400));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const auto before = SteadyClock::now() - std::chrono::seconds(2);
  const auto stall = SteadyClock::now();
  ASSERT_TRUE((*redis)->Stall(absl::Seconds(1)).ok());
  const auto stalled = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  calls.Stop();

  const std::vector<SteadyCalls::Done> done = calls.done();
  auto [longest_before, n_before] = LongestDuring(done, before, stall);
  auto [longest, n] = LongestDuring(done, stall, stalled);
  std::cout << "[ replicas ] steady single calls: longest " << longest_before << " ms of "
            << n_before << " in the 2 s before the stall, " << longest << " ms of " << n
            << " during the " << std::chrono::duration<double>(stalled - stall).count()
            << " s stall\n";
  int failed = 0;
  for (const auto& d : done) failed += d.code == grpc::StatusCode::OK ? 0 : 1;
  EXPECT_EQ(failed, 0);
  EXPECT_GE(n, 3);  // the calls went on during the stall
  // The replicas did see Redis stall (a round timed out).
  int64_t errors = 0;
  for (size_t i = 0; i < r->addresses.size(); ++i) {
    pb::PortalState state;
    ASSERT_TRUE(r->State(i, &state));
    errors += state.status().redis_errors();
  }
  EXPECT_GT(errors, 0);
  json stats = r->stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 0) << stats["errors"];
  EXPECT_EQ(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 0) << stats["errors"];
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
}  // namespace b24gate::e2e::replicas_test
