// Many portals in one gateway: real b24gate processes started on a portal
// store (--portal-store) holding 1, 1,000 and 10,000 registered portals, all
// in front of one b24-emulator (--no-limits: the emulator's one budget is not
// what is measured). For each size it prints the start-up time (process
// start to listening, the store read included), the gateway's threads, its
// RSS, the RSS each stored portal adds while idle, and after one call through
// each of up to 1,000 portals, the RSS each portal in memory adds.
// Then one busy portal next to a quiet one, on the same gateway: the quiet
// portal's call latency (p50, p99 of 200 calls one after another; its own
// bucket wide open) alone, and while 64 callers keep the busy portal's queue
// full at its own limit (burst 50, 2 requests/s, as the standard plan): the
// dispatcher pool takes the portals in turns, so the busy one should not
// slow the quiet one.
// Last, `--limited` portals (default 200) each kept at its own limit at
// once: the emulator serves them all (--portals, each with its own bucket,
// the standard plan's burst 50 and 2 requests/s, --cost-zero), the gateway
// has each as a webhook portal of its store, and two callers a portal keep
// calls waiting for it. Over a window after the bursts are spent, each
// portal's requests the emulator admitted against the most it could admit
// (its drain rate over the window plus the room its bucket had at the
// start; min/median/max share), the limit errors the emulator answered over the
// whole run (503 QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT), and a
// quiet portal's call latency (wide limits of its own) alone and beside
// them.
// Prints figures only; never asserts.
//
//   portals_bench [--sizes 1,1000,10000|none] [--live 1000] [--limited 200|0] [--window 15]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/percentile.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e {
namespace {

// A field of /proc/PID/status ("Threads", "VmRSS"), as a number (kB for sizes).
long StatusField(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// A portal store of `n` webhook portals p0..p{n-1} (the registry's file
// format: one JSON record per file), each with its own member_id and domain.
std::string WriteStore(int n, const std::string& webhook_url) {
  const std::string dir = ::b24gate::testing::TempDir();
  for (int i = 0; i < n; ++i) {
    const std::string name = absl::StrCat("p", i);
    nlohmann::json record = {{"name", name},
                             {"member_id", absl::StrCat("member-", i)},
                             {"domain", absl::StrCat(name, ".example")},
                             {"webhook_url", webhook_url}};
    std::ofstream(absl::StrCat(dir, "/portal-", absl::BytesToHexString(name), ".json"))
        << record.dump();
  }
  return dir;
}

std::string WriteConfig() {
  nlohmann::json config = {{"listen", "127.0.0.1:0"},
                           {"shutdown_grace_seconds", 2},
                           {"predrain_delay_seconds", 0}};
  return ::b24gate::testing::TempFile(config.dump());
}

struct Run {
  double startup_seconds = 0;
  long threads = 0;
  long rss_kb = 0;
  long rss_live_kb = 0;
  int live = 0;
  int failed = 0;
};

Run Measure(int portals, int live, const std::string& webhook_url) {
  Run run;
  const std::string store = WriteStore(portals, webhook_url);
  const auto start = std::chrono::steady_clock::now();
  auto gateway = Process::Start({kGatewayBin, "--config", WriteConfig(), "--portal-store", store});
  if (!gateway.ok()) {
    std::cerr << "gateway did not start: " << gateway.status() << "\n";
    std::exit(1);
  }
  run.startup_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.threads = StatusField((*gateway)->pid(), "Threads");
  run.rss_kb = StatusField((*gateway)->pid(), "VmRSS");
  auto stub = pb::GatewayService::NewStub(
      grpc::CreateChannel((*gateway)->address(), grpc::InsecureChannelCredentials()));
  run.live = std::min(portals, live);
  for (int i = 0; i < run.live; ++i) {
    pb::CallRequest request;
    request.set_portal(absl::StrCat("member-", i));
    request.set_method("user.current");
    pb::CallResponse response;
    if (!stub->Call(Ctx().get(), request, &response).ok()) ++run.failed;
  }
  run.rss_live_kb = StatusField((*gateway)->pid(), "VmRSS");
  (*gateway)->StopWith(SIGTERM);
  return run;
}

// Latencies (ms) of `n` calls through `portal`, one after another.
std::vector<double> Latencies(pb::GatewayService::Stub& stub, const std::string& portal, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    pb::CallRequest request;
    request.set_portal(portal);
    request.set_method("user.current");
    pb::CallResponse response;
    const auto start = std::chrono::steady_clock::now();
    if (stub.Call(Ctx().get(), request, &response).ok()) {
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                       .count());
    }
  }
  return ms;
}

void Fairness(const std::string& webhook_url) {
  // p0 busy, p1 quiet; p1's own bucket is made wide, so that what its calls
  // wait for is the gateway, not its own limit.
  const std::string store = WriteStore(2, webhook_url);
  nlohmann::json quiet = {{"name", "p1"},
                          {"member_id", "member-1"},
                          {"domain", "p1.example"},
                          {"webhook_url", webhook_url},
                          {"tuning", {{"burst", 10000}, {"drain_per_second", 10000}}}};
  std::ofstream(absl::StrCat(store, "/portal-", absl::BytesToHexString("p1"), ".json")) << quiet.dump();
  auto gateway = Process::Start({kGatewayBin, "--config", WriteConfig(), "--portal-store", store});
  if (!gateway.ok()) return;
  auto channel = grpc::CreateChannel((*gateway)->address(), grpc::InsecureChannelCredentials());
  auto stub = pb::GatewayService::NewStub(channel);
  std::vector<double> alone = Latencies(*stub, "p1", 200);
  std::atomic<bool> stop{false};
  std::atomic<int> busy_calls{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 64; ++i) {
    callers.emplace_back([&] {
      auto own = pb::GatewayService::NewStub(channel);
      while (!stop) {
        pb::CallRequest request;
        request.set_portal("p0");
        request.set_method("crm.lead.add");
        *request.mutable_params() = V({{"fields", {{"TITLE", "busy"}}}});
        pb::CallResponse response;
        if (own->Call(Ctx(120).get(), request, &response).ok()) ++busy_calls;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the busy portal's queue fills
  std::vector<double> beside = Latencies(*stub, "p1", 200);
  stop = true;
  (*gateway)->StopWith(SIGTERM);
  for (auto& t : callers) t.join();
  using ::b24gate::testing::Percentile;
  std::printf("\n| quiet portal's calls | p50 | p99 |\n|---|---|---|\n");
  std::printf("| alone | %.2f ms | %.2f ms |\n", Percentile(alone, 0.5), Percentile(alone, 0.99));
  std::printf("| beside a saturated portal (%d of its calls answered meanwhile) | %.2f ms | %.2f ms |\n",
              busy_calls.load(), Percentile(beside, 0.5), Percentile(beside, 0.99));
}

// GET /_emulator/stats of the emulated portal `name`.
nlohmann::json PortalStats(const std::string& emulator, const std::string& name) {
  httplib::Client client("http://" + emulator);
  const size_t colon = emulator.rfind(':');
  httplib::Result res =
      client.Get("/_emulator/stats", {{"Host", name + ".localhost" + emulator.substr(colon)}});
  return res && res->status == 200 ? nlohmann::json::parse(res->body) : nlohmann::json();
}

int64_t ErrorsOf(const nlohmann::json& stats, const char* code) {
  return stats.contains("errors") ? stats["errors"].value(code, int64_t{0}) : 0;
}

// The gateway store's records of the emulated portals listed in `portals`
// (GET /_emulator/portals), by their webhooks; `quiet` gets wide limits.
std::string WriteEmulatedStore(const nlohmann::json& portals, const std::string& quiet) {
  const std::string dir = ::b24gate::testing::TempDir();
  for (const nlohmann::json& p : portals) {
    const std::string name = p["name"];
    nlohmann::json record = {{"name", name},
                             {"member_id", p["member_id"]},
                             {"domain", p["domain"]},
                             {"webhook_url", p["webhook"]}};
    if (name == quiet) record["tuning"] = {{"burst", 10000}, {"drain_per_second", 10000}};
    std::ofstream(absl::StrCat(dir, "/portal-", absl::BytesToHexString(name), ".json"))
        << record.dump();
  }
  return dir;
}

struct Sample {
  int64_t admitted = 0;  // REST requests the portal did not refuse for a limit
  int64_t refused_503 = 0;
  int64_t refused_429 = 0;
  double level = 0;  // its bucket
};

Sample SampleOf(const std::string& emulator, int portal) {
  const nlohmann::json stats = PortalStats(emulator, absl::StrCat("portal-", portal));
  Sample s;
  s.refused_503 = ErrorsOf(stats, "QUERY_LIMIT_EXCEEDED");
  s.refused_429 = ErrorsOf(stats, "OPERATION_TIME_LIMIT");
  s.admitted = stats.value("requests", int64_t{0}) - s.refused_503 - s.refused_429;
  s.level = stats.value("bucket_level", 0.0);
  return s;
}

void Limited(int portals, int window_seconds) {
  EmulatorSpec spec;
  spec.extra_args = {"--cost-zero", "--portals", absl::StrCat(portals), "--threads", "1024"};
  auto stack = Stack::Start(spec);
  if (!stack.ok()) {
    std::cerr << "emulator did not start: " << stack.status() << "\n";
    return;
  }
  const std::string emulator = (*stack)->emulator().address();
  httplib::Client client("http://" + emulator);
  client.Post("/_emulator/portals",
              nlohmann::json{{"name", "quiet"}, {"bucket_burst", 100000}, {"bucket_rate", 100000}}.dump(),
              "application/json");
  httplib::Result list = client.Get("/_emulator/portals");
  if (!list || list->status != 200) {
    std::cerr << "the emulator did not list its portals\n";
    return;
  }
  const nlohmann::json emulated = nlohmann::json::parse(list->body)["portals"];
  auto gateway = Process::Start(
      {kGatewayBin, "--config", WriteConfig(), "--portal-store", WriteEmulatedStore(emulated, "quiet")});
  if (!gateway.ok()) {
    std::cerr << "gateway did not start: " << gateway.status() << "\n";
    return;
  }
  auto channel = grpc::CreateChannel((*gateway)->address(), grpc::InsecureChannelCredentials());
  auto stub = pb::GatewayService::NewStub(channel);
  std::vector<double> alone = Latencies(*stub, "quiet", 200);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> callers;
  for (int p = 1; p <= portals; ++p) {
    for (int c = 0; c < 2; ++c) {
      callers.emplace_back([&, p] {
        auto own = pb::GatewayService::NewStub(channel);
        while (!stop) {
          pb::CallRequest request;
          request.set_portal(absl::StrCat("portal-", p));
          request.set_method("user.current");
          pb::CallResponse response;
          if (!own->Call(Ctx(120).get(), request, &response).ok()) ++failed;
        }
      });
    }
  }
  // The window opens once every portal has spent its burst (50 requests):
  // each emulated bucket is then full, and what is admitted is the drain.
  const auto warm_start = std::chrono::steady_clock::now();
  for (bool full = false; !full && std::chrono::steady_clock::now() - warm_start < std::chrono::seconds(120);) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    full = true;
    for (int p = 1; p <= portals && full; ++p) {
      full = SampleOf(emulator, p).level >= 45;
    }
  }
  const double warm_up =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count();
  const int64_t failed_before = failed;
  std::vector<Sample> before;
  const auto start = std::chrono::steady_clock::now();
  for (int p = 1; p <= portals; ++p) before.push_back(SampleOf(emulator, p));
  std::vector<double> beside = Latencies(*stub, "quiet", 200);
  std::this_thread::sleep_until(start + std::chrono::seconds(window_seconds));
  const double window =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t failed_in_window = failed - failed_before;
  std::vector<double> share;
  int64_t limit_503 = 0;
  int64_t limit_429 = 0;
  for (int p = 1; p <= portals; ++p) {
    const Sample after = SampleOf(emulator, p);
    // The most the portal could admit in the window: what drained, plus the
    // room its bucket had at the start.
    const double ceiling = 2.0 * window + std::max(0.0, 50 - before[p - 1].level);
    share.push_back(static_cast<double>(after.admitted - before[p - 1].admitted) / ceiling);
    limit_503 += after.refused_503;
    limit_429 += after.refused_429;
  }
  stop = true;
  (*gateway)->StopWith(SIGTERM);
  for (auto& t : callers) t.join();
  std::sort(share.begin(), share.end());
  using ::b24gate::testing::Percentile;
  std::printf("\n| portals at their limit | bursts spent after | window | share of own ceiling: min | "
              "median | max | 503 | 429 | failed calls in the window |\n"
              "|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %d (2 requests/s each) | %.1f s | %.1f s | %.1f%% | %.1f%% | %.1f%% | %lld | %lld | "
              "%lld |\n",
              portals, warm_up, window, 100 * share.front(), 100 * Percentile(share, 0.5),
              100 * share.back(), static_cast<long long>(limit_503),
              static_cast<long long>(limit_429), static_cast<long long>(failed_in_window));
  std::printf("\n| quiet portal's calls (200, one after another) | p50 | p99 |\n|---|---|---|\n");
  std::printf("| alone | %.2f ms | %.2f ms |\n", Percentile(alone, 0.5), Percentile(alone, 0.99));
  std::printf("| beside %d portals at their limit | %.2f ms | %.2f ms |\n", portals,
              Percentile(beside, 0.5), Percentile(beside, 0.99));
}

void Stored(const std::vector<int>& sizes, int live) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  auto stack = Stack::Start(emulator);
  if (!stack.ok()) {
    std::cerr << "emulator did not start: " << stack.status() << "\n";
    std::exit(1);
  }
  std::printf("| stored portals | start-up | threads | RSS | RSS per idle stored portal | "
              "portals called | RSS per portal in memory | failed calls |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  Run base;
  for (size_t k = 0; k < sizes.size(); ++k) {
    Run run = Measure(sizes[k], live, (*stack)->webhook_url());
    if (k == 0) base = run;
    std::string per_idle = "";
    if (k > 0 && sizes[k] > sizes[0]) {
      per_idle = absl::StrCat(
          (run.rss_kb - base.rss_kb) * 1024 / (sizes[k] - sizes[0]), " B");
    }
    std::string per_live = run.live == 0 ? "" : absl::StrCat(
        (run.rss_live_kb - run.rss_kb) * 1024 / run.live, " B");
    std::printf("| %d | %.2f s | %ld | %ld KiB | %s | %d | %s | %d |\n", sizes[k],
                run.startup_seconds, run.threads, run.rss_kb, per_idle.c_str(), run.live,
                per_live.c_str(), run.failed);
    std::fflush(stdout);
  }
  Fairness((*stack)->webhook_url());
}

int Main(int argc, char** argv) {
  std::vector<int> sizes = {1, 1000, 10000};
  int live = 1000;
  int limited = 200;
  int window = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--sizes") {
      sizes.clear();
      if (std::string(argv[i + 1]) == "none") continue;
      for (absl::string_view s : absl::StrSplit(argv[i + 1], ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(s, &n) || n < 1) return 2;
        sizes.push_back(n);
      }
    } else if (a == "--live") {
      live = std::atoi(argv[i + 1]);
    } else if (a == "--limited") {
      limited = std::atoi(argv[i + 1]);
    } else if (a == "--window") {
      window = std::atoi(argv[i + 1]);
    } else {
      std::cerr << "usage: portals_bench [--sizes 1,1000,10000|none] [--live 1000] "
                   "[--limited 200|0] [--window 15]\n";
      return 2;
    }
  }
  if (!sizes.empty()) Stored(sizes, live);
  if (limited > 0) Limited(limited, window);
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
