// Many callers each sending one call at a time: how well the gateway packs
// single `Call`s into batches when the portal's request budget is the limit.
// Real b24-emulator and b24gate processes in real time (no time scaling: the
// latencies are the point). Each client thread sends `crm.lead.get` calls one
// after another; the table gives the HTTP requests the emulator received per
// 1,000 calls, commands per request, wall time and the latency each call saw.
// Prints figures only; never asserts timing.
//
// Each figure sits next to its yardstick and the project's goal:
//   one client: the same calls sent straight to the emulator over one
//     kept-alive connection (run first, the emulator then reset), and the
//     latency the gateway adds to them (goal: at most 1 ms at p50);
//   several clients: the fewest requests that carry the calls (full batches
//     of 50; goal: at most one more), and the server time (the emulator's
//     operating time of the calls, which it serves one command after
//     another inside a batch): with every client in every batch the batches
//     run one after another, so no run can be shorter; the bucket's bound
//     (requests past the burst at the drain rate) where it is longer.
//
// The emulator's `small` profile charges ~10 ms of server time per
// `crm.lead.get`, served one command after another inside a batch, so a full
// batch of 50 takes ~0.5 s; `--profile zero` removes that cost to show the
// packing and the request budget alone.
//
// `--pause-ms MS` makes each client wait MS after each answer before its
// next call (the direct calls too), as a client that calls now and then:
// with one client each call finds the gateway idle. An idle second used to
// cost such a call up to 100 ms in gRPC's callback threads
// (service/callback_queue_waker.h): with `--pause-ms 1050` every call came
// about 50 ms into their nap (p50 52.7 ms against 2.2 ms once fixed).
//
//   single_calls_bench [--calls N] [--clients N] [--plan standard|enterprise]
//                      [--profile small|huge|zero] [--max-concurrency N]
//                      [--linger-ms MS] [--leads N] [--pause-ms MS]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/str_format.h"

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
  int pause_ms = 0;  // after each answer, before the client's next call
};

int Usage() {
  std::cerr << "usage: single_calls_bench [--calls N] [--clients N] [--plan standard|enterprise]\n"
               "  [--profile small|huge|zero] [--max-concurrency N] [--linger-ms MS] [--leads N]\n"
               "  [--pause-ms MS]\n";
  return 2;
}

using ::b24gate::testing::Percentile;

// The calls' latencies (ms) sent straight to the emulator, one after another
// over one kept-alive connection, as the gateway sends them (JSON POST).
std::vector<double> DirectLatencies(Stack& s, const std::vector<int64_t>& ids, int calls,
                                    int pause_ms) {
  httplib::Client client(absl::StrCat("http://", s.emulator().address()));
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as libcurl, the gateway's client, does
  const std::string path =
      s.webhook_url().substr(s.webhook_url().find("/rest/")) + "crm.lead.get";
  std::vector<double> ms;
  for (int i = 0; i < calls; ++i) {
    const std::string body = json{{"id", ids[i % ids.size()]}}.dump();
    const auto t0 = std::chrono::steady_clock::now();
    auto res = client.Post(path, body, "application/json");
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!res || res->status != 200) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  return ms;
}

// The CPU seconds a process has used, all its threads (0 if it cannot be read).
double CpuSeconds(pid_t pid) {
  clockid_t clock;
  timespec t{};
  if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &t) != 0) return 0;
  return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9;
}

// One table row: measure, value, yardstick, value / yardstick, goal.
void Row(const std::string& measure, const std::string& value, const std::string& yardstick = "",
         const std::string& ratio = "", const std::string& goal = "") {
  std::printf("| %s | %s | %s | %s | %s |\n", measure.c_str(), value.c_str(), yardstick.c_str(),
              ratio.c_str(), goal.c_str());
}

std::string Fixed(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

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
    } else if (a == "--pause-ms") {
      c.pause_ms = std::atoi(next().c_str());
    } else {
      return Usage();
    }
  }
  if (c.calls <= 0 || c.clients <= 0 || c.leads <= 0 || c.max_concurrency <= 0 || c.pause_ms < 0) {
    return Usage();
  }

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
  // One client: the same calls straight to the emulator first.
  std::vector<double> direct_ms;
  if (c.clients == 1) direct_ms = DirectLatencies(s, ids, c.calls, c.pause_ms);
  // The setup read and the direct calls went around the gateway: empty the
  // emulator's bucket and counters so the run starts from an idle portal on
  // both sides.
  s.ResetEmulator();
  const json before = s.EmulatorStats();
  const double gateway_cpu_before = CpuSeconds(s.gateway().pid());

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
        std::this_thread::sleep_for(std::chrono::milliseconds(c.pause_ms));
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
  const double gateway_cpu = CpuSeconds(s.gateway().pid()) - gateway_cpu_before;
  const json after = s.EmulatorStats();

  const double requests =
      static_cast<double>(StatInt(after, "requests") - StatInt(before, "requests"));
  const double commands =
      static_cast<double>(StatInt(after, "commands") - StatInt(before, "commands"));
  std::printf("%d single Call(crm.lead.get) from %d concurrent clients; plan %s, profile %s, "
              "gateway max_concurrency %d, linger %s%s\n",
              c.calls, c.clients, c.plan.c_str(), c.profile.c_str(), c.max_concurrency,
              c.linger_ms >= 0 ? absl::StrCat(c.linger_ms, " ms").c_str() : "default",
              c.pause_ms > 0 ? absl::StrCat(", ", c.pause_ms, " ms pause after each answer").c_str()
                             : "");
  std::printf("| measure | value | yardstick | value / yardstick | goal |\n|---|---|---|---|---|\n");
  const double p50 = Percentile(latencies_ms, 0.50), p99 = Percentile(latencies_ms, 0.99);
  if (!direct_ms.empty()) {
    const double d50 = Percentile(direct_ms, 0.50), d99 = Percentile(direct_ms, 0.99);
    Row("latency p50 (ms)", Fixed(p50, 2), absl::StrCat(Fixed(d50, 2), " straight to the emulator"),
        Fixed(p50 / d50, 1));
    Row("latency p99 (ms)", Fixed(p99, 2), absl::StrCat(Fixed(d99, 2), " straight to the emulator"),
        Fixed(p99 / d99, 1));
    Row("added by the gateway p50 (ms)", Fixed(p50 - d50, 2), "", "", "<= 1 ms");
    Row("added by the gateway p99 (ms)", Fixed(p99 - d99, 2));
  } else if (c.clients == 1) {
    Row("straight to the emulator", "failed");
  }
  // The fewest requests: every batch as full as the clients can make it.
  const int per_batch = std::min(50, c.clients);
  const double fewest = std::ceil(static_cast<double>(c.calls) / per_batch);
  Row("HTTP requests", Fixed(requests, 0),
      absl::StrCat(Fixed(fewest, 0), per_batch == 1 ? " (one per call)" : " (full batches)"),
      Fixed(requests / fewest, 2), c.clients > 1 ? absl::StrCat("<= ", fewest + 1) : "");
  Row("commands per request", Fixed(requests > 0 ? commands / requests : 0, 1));
  const json operating = after.value("operating", json::object());
  const double server_s = operating.value("crm.lead.get", 0.0) -
                          before.value("operating", json::object()).value("crm.lead.get", 0.0);
  const bool enterprise = c.plan == "enterprise";
  const double bucket_s = std::max(0.0, fewest - (enterprise ? 250 : 50)) / (enterprise ? 5 : 2);
  const double bound_s = std::max(server_s, bucket_s);
  Row("wall time (s)", Fixed(wall, 2),
      absl::StrCat(Fixed(bound_s, 2), bucket_s > server_s ? " bucket" : " server time"),
      bound_s > 0 ? Fixed(wall / bound_s, 2) : "", c.clients > 1 ? "server time only" : "");
  Row("calls per second", Fixed(c.calls / wall, 1));
  if (direct_ms.empty()) {
    Row("latency p50 (ms)", Fixed(p50, 1));
    Row("latency p99 (ms)", Fixed(p99, 1));
  }
  // What the gateway itself spends: a latency well above it on a loaded
  // machine is time spent waiting for a core.
  Row("gateway CPU per call (ms)", Fixed(1000 * gateway_cpu / c.calls, 3));
  Row("latency max (ms)", Fixed(Percentile(latencies_ms, 1.0), 1));
  Row("emulator QUERY_LIMIT_EXCEEDED",
      std::to_string(StatIn(after, "errors", "QUERY_LIMIT_EXCEEDED")), "", "", "0");
  for (const auto& [code, n] : codes) Row(absl::StrCat("calls ", code), std::to_string(n));
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
