// Several gateway replicas in front of one portal (the load of
// tests/e2e/replicas_test.cc): the aggregate request rate the portal admitted
// as a fraction of its ceiling (the drain rate; measured after a warm-up, so
// the initial burst is not counted), and the portal's limit errors, for one
// gateway alone, three replicas each with its own budget, and three sharing
// it through a real redis-server. Prints figures only; never asserts timing.
//
//   replicas_bench [--seconds S] [--time-scale F] [--clients-per-gateway N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "tests/e2e/replica_load.h"
#include "tests/support/redis_server.h"

namespace b24gate::e2e {
namespace {

struct Row {
  std::string label;
  int replicas;
  bool redis;
};

void Run(const Row& row, double seconds, double time_scale, int clients) {
  std::unique_ptr<testing::RedisServer> redis;
  ReplicaSetup setup;
  setup.replicas = row.replicas;
  setup.time_scale = time_scale;
  if (row.redis) {
    auto started = testing::RedisServer::Start();
    if (!started.ok()) {
      std::printf("| %s | redis failed: %s |\n", row.label.c_str(),
                  std::string(started.status().message()).c_str());
      return;
    }
    redis = std::move(*started);
    setup.redis_url = redis->url();
  }
  auto r = StartReplicas(setup);
  if (!r) {
    std::printf("| %s | failed to start |\n", row.label.c_str());
    return;
  }
  const double drain = setup.drain_per_second / time_scale;
  ReplicaLoad load(r->addresses, clients, setup.leads);
  // Warm-up: the first burst is free and would flatter the rate.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  json start = r->stack->EmulatorStats();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
  json end = r->stack->EmulatorStats();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  load.Stop();
  json total = r->stack->EmulatorStats();
  int64_t refused_window = StatIn(end, "errors", "QUERY_LIMIT_EXCEEDED") -
                           StatIn(start, "errors", "QUERY_LIMIT_EXCEEDED");
  int64_t requests = StatInt(end, "requests") - StatInt(start, "requests");
  double admitted_per_second = (requests - refused_window) / elapsed;
  double commands_per_second = (StatInt(end, "commands") - StatInt(start, "commands")) / elapsed;
  std::printf("| %s | %.2f | %.2f | %.0f%% | %.0f | %lld | %lld | %lld |\n", row.label.c_str(),
              admitted_per_second, drain, 100 * admitted_per_second / drain, commands_per_second,
              static_cast<long long>(StatIn(total, "errors", "QUERY_LIMIT_EXCEEDED")),
              static_cast<long long>(StatIn(total, "errors", "OPERATION_TIME_LIMIT")),
              static_cast<long long>(load.Failures()));
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  double seconds = 20;
  double time_scale = 0.2;
  int clients = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "usage: replicas_bench [--seconds S] [--time-scale F] [--clients-per-gateway N]\n";
      return 2;
    }
    if (a == "--seconds") {
      seconds = std::atof(argv[++i]);
    } else if (a == "--time-scale") {
      time_scale = std::atof(argv[++i]);
    } else if (a == "--clients-per-gateway") {
      clients = std::atoi(argv[++i]);
    } else {
      std::cerr << "unknown flag " << a << "\n";
      return 2;
    }
  }
  std::printf("Standard plan (burst 50, 2 requests per simulated second) time-scaled by %g: the portal "
              "drains %g requests per real second. %d clients per gateway, %g s measured after a 3 s "
              "warm-up. 503 / 429: the emulator's QUERY_LIMIT_EXCEEDED / OPERATION_TIME_LIMIT over the "
              "whole run; caller errors: RPCs that did not succeed.\n\n",
              time_scale, 2 / time_scale, clients, seconds);
  std::printf("| gateways | admitted requests/s | ceiling requests/s | of ceiling | commands/s | 503 "
              "| 429 | caller errors |\n|---|---|---|---|---|---|---|---|\n");
  for (const Row& row : {Row{"1 gateway (reference)", 1, false},
                         Row{"3 replicas, each its own budget (no Redis)", 3, false},
                         Row{"3 replicas sharing through Redis", 3, true}}) {
    Run(row, seconds, time_scale, clients);
  }
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
