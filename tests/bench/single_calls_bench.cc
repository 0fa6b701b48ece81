// Many callers each sending one call at a time: how well the gateway packs
// single `Call`s into batches when the portal's request budget is the limit.
// Real b24-emulator and b24gate processes in real time (no time scaling: the
// latencies are the point). Each client thread sends `crm.lead.get` calls one
// after another; the table gives the HTTP requests the emulator received per
// 1,000 calls, commands per request, wall time and the latency each call saw.
// Prints figures only; never asserts timing.
//
// The emulator's `small` profile charges ~10 ms of server time per
// `crm.lead.get`, served one command after another inside a batch, so a full
// batch of 50 takes ~0.5 s; `--profile zero` removes that cost to show the
// packing and the request budget alone.
//
//   single_calls_bench [--calls N] [--clients N] [--plan standard|enterprise]
//                      [--profile small|huge|zero] [--max-concurrency N]
//                      [--linger-ms MS] [--leads N]
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/rpc_helpers.h"
#include "tests/support/percentile.h"

namespace b24gate::e2e {
namespace {

struct Config {
  int calls = 1000;
  int clients = 50;
  std::string plan = "standard";
  std::string profile = "small";
  int max_concurrency = 8;
  double linger_ms = -1;  // < 0: the gateway's default
  int leads = 1000;
};

int Usage() {
  std::cerr << "usage: single_calls_bench [--calls N] [--clients N] [--plan standard|enterprise]\n"
               "  [--profile small|huge|zero] [--max-concurrency N] [--linger-ms MS] [--leads N]\n";
  return 2;
}

using ::b24gate::testing::Percentile;

int Main(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << ": missing value\n";
        std::exit(Usage());
      }
      return argv[++i];
    };
    if (a == "--calls") {
      c.calls = std::atoi(next().c_str());
    } else if (a == "--clients") {
      c.clients = std::atoi(next().c_str());
    } else if (a == "--plan") {
      c.plan = next();
      if (c.plan != "standard" && c.plan != "enterprise") return Usage();
    } else if (a == "--profile") {
      c.profile = next();
      if (c.profile != "small" && c.profile != "huge" && c.profile != "zero") return Usage();
    } else if (a == "--max-concurrency") {
      c.max_concurrency = std::atoi(next().c_str());
    } else if (a == "--linger-ms") {
      c.linger_ms = std::atof(next().c_str());
    } else if (a == "--leads") {
      c.leads = std::atoi(next().c_str());
    } else {
      return Usage();
    }
  }
  if (c.calls <= 0 || c.clients <= 0 || c.leads <= 0 || c.max_concurrency <= 0) return Usage();

  EmulatorSpec emulator;
  emulator.seed = absl::StrCat("crm.lead=", c.leads);
  emulator.extra_args = {"--plan", c.plan};
  if (c.profile == "zero") {
    emulator.extra_args.push_back("--cost-zero");
  } else {
    emulator.extra_args.insert(emulator.extra_args.end(), {"--profile", c.profile});
  }
  GatewaySpec gateway;
  gateway.portal = {{"plan", c.plan}, {"max_concurrency", c.max_concurrency}};
  if (c.linger_ms >= 0) gateway.portal["linger_ms"] = c.linger_ms;
  auto stack = Stack::Start(emulator, gateway);
  if (!stack.ok()) {
    std::cerr << "cannot start: " << stack.status() << "\n";
    return 1;
  }
  Stack& s = **stack;

  // Ids to read: one keyset page straight from the emulator, cycled.
  std::vector<int64_t> ids;
  json page = s.Rest("crm.lead.list", {{"select", {"ID"}}, {"order", {{"ID", "ASC"}}}, {"start", -1}});
  if (page.is_object() && page["result"].is_array()) {
    for (const auto& item : page["result"]) ids.push_back(IdOf(item));
  }
  if (ids.empty()) {
    std::cerr << "the emulator listed no leads\n";
    return 1;
  }
  // The setup read went around the gateway: empty the emulator's bucket and
  // counters so the run starts from an idle portal on both sides.
  s.ResetEmulator();
  const json before = s.EmulatorStats();

  using SteadyClock = std::chrono::steady_clock;
  std::atomic<int> next_call{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::map<std::string, int> codes;
  // Every client is started before any sends, so the calls begin together
  // rather than as fast as threads happen to start on a loaded machine.
  std::condition_variable started;
  bool go = false;
  std::vector<std::thread> clients;
  for (int t = 0; t < c.clients; ++t) {
    clients.emplace_back([&] {
      {
        std::unique_lock<std::mutex> lock(mu);
        started.wait(lock, [&] { return go; });
      }
      std::vector<double> mine;
      std::map<std::string, int> my_codes;
      for (int i = next_call++; i < c.calls; i = next_call++) {
        pb::CallRequest request;
        request.set_method("crm.lead.get");
        *request.mutable_params() = V({{"id", ids[i % ids.size()]}});
        const auto t0 = SteadyClock::now();
        CallOut out = DoCall(s, request, 120);
        mine.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
        my_codes[out.status.ok() ? "OK" : ReasonOf(out.status)]++;
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      for (const auto& [code, n] : my_codes) codes[code] += n;
    });
  }
  const auto start = SteadyClock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  started.notify_all();
  for (auto& t : clients) t.join();
  const double wall = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const json after = s.EmulatorStats();

  const double requests =
      static_cast<double>(StatInt(after, "requests") - StatInt(before, "requests"));
  const double commands =
      static_cast<double>(StatInt(after, "commands") - StatInt(before, "commands"));
  std::printf("%d single Call(crm.lead.get) from %d concurrent clients; plan %s, profile %s, "
              "gateway max_concurrency %d, linger %s\n",
              c.calls, c.clients, c.plan.c_str(), c.profile.c_str(), c.max_concurrency,
              c.linger_ms >= 0 ? absl::StrCat(c.linger_ms, " ms").c_str() : "default");
  std::printf("| %-34s | %12s |\n", "measure", "value");
  std::printf("|%s|%s|\n", std::string(36, '-').c_str(), std::string(14, '-').c_str());
  std::printf("| %-34s | %12.0f |\n", "HTTP requests", requests);
  std::printf("| %-34s | %12.1f |\n", "HTTP requests per 1,000 calls", 1000 * requests / c.calls);
  std::printf("| %-34s | %12.1f |\n", "commands per request", requests > 0 ? commands / requests : 0);
  std::printf("| %-34s | %12.2f |\n", "wall time (s)", wall);
  std::printf("| %-34s | %12.1f |\n", "calls per second", c.calls / wall);
  std::printf("| %-34s | %12.1f |\n", "latency p50 (ms)", Percentile(latencies_ms, 0.50));
  std::printf("| %-34s | %12.1f |\n", "latency p99 (ms)", Percentile(latencies_ms, 0.99));
  std::printf("| %-34s | %12.1f |\n", "latency max (ms)", Percentile(latencies_ms, 1.0));
  std::printf("| %-34s | %12lld |\n", "emulator QUERY_LIMIT_EXCEEDED",
              static_cast<long long>(StatIn(after, "errors", "QUERY_LIMIT_EXCEEDED")));
  for (const auto& [code, n] : codes) {
    std::printf("| %-34s | %12d |\n", absl::StrCat("calls ", code).c_str(), n);
  }
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
