// Bulk writes at the limit: `--adds` crm.lead.add through one CallMany
// stream, against real b24-emulator and b24gate processes in real time on
// the standard plan. Prints one Markdown row: the emulator's counts (HTTP
// requests, commands, peak bucket, 503 and 429 answers, leads created), the
// results acknowledged, the time, and the share of the policy ceiling
// reached. Prints figures only; never asserts timing.
//
// The ceiling is the shortest time the portal's policy allows for the adds,
// sent 50 commands a request:
//   bucket:     the burst goes at once, every further request waits a drain
//               interval (2 per second), plus the last batch's own time;
//   operating:  adds x the profile's cost of one add; each window of 600 s
//               allows the method 480 s;
//   connections: operating time spread over max_concurrency requests.
// The slowest of the three.
//
//   bulk_bench [--header] [--adds N] [--profile small|huge] [--max-concurrency N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e {
namespace {

struct Args {
  bool header = false;
  int adds = 20000;
  std::string profile = "small";
  int max_concurrency = 8;
};

int Usage() {
  std::cerr << "usage: bulk_bench [--header] [--adds N] [--profile small|huge] "
               "[--max-concurrency N]\n";
  return 2;
}

// One crm.lead.add on the emulator's profile (base cost; an add returns no rows).
double AddCost(const std::string& profile) { return profile == "huge" ? 0.077 : 0.010; }

double CeilingSeconds(const Args& a) {
  const double burst = 50, drain = 2, operating_limit = 480, window = 600;
  const double requests = std::ceil(a.adds / 50.0);
  const double batch_seconds = std::min(a.adds, 50) * AddCost(a.profile);
  const double operating = a.adds * AddCost(a.profile);
  const double t_bucket = std::max(0.0, requests - burst) / drain + batch_seconds;
  const double t_conn = std::max(batch_seconds, operating / a.max_concurrency);
  const double t_operating = operating <= operating_limit
                                 ? 0
                                 : (std::ceil(operating / operating_limit) - 1) * window;
  return std::max({t_bucket, t_conn, t_operating});
}

int Run(const Args& a) {
  if (a.header) {
    std::printf("| profile | adds | seconds | adds/s | HTTP requests | commands per request | "
                "peak bucket | 503 | 429 | created | acknowledged | errors | ceiling s | "
                "of ceiling |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    return 0;
  }
  EmulatorSpec emulator;
  emulator.extra_args = {"--plan", "standard", "--profile", a.profile};
  GatewaySpec gateway;
  gateway.portal = {{"plan", "standard"}, {"max_concurrency", a.max_concurrency}};
  auto stack = Stack::Start(emulator, gateway);
  if (!stack.ok()) {
    std::cerr << "start: " << stack.status() << "\n";
    return 1;
  }
  Stack& s = **stack;
  s.ResetEmulator();
  const json before = s.EmulatorStats();

  pb::CallManyRequest request;
  request.set_method("crm.lead.add");
  for (int i = 0; i < a.adds; ++i) {
    *request.add_params() = V({{"fields", {{"TITLE", absl::StrCat("bulk-", i)}}}});
  }
  const auto start = std::chrono::steady_clock::now();
  CallManyOut out = DoCallMany(s, request, 3600);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const json after = s.EmulatorStats();

  // Acknowledged: a result carrying a lead id, each id once.
  std::set<int64_t> ids;
  int64_t errors = 0;
  for (const auto& r : out.results) {
    if (r.has_error()) {
      ++errors;
      continue;
    }
    ids.insert(static_cast<int64_t>(r.result().number_value()));
  }
  const auto delta = [&](const char* key) { return StatInt(after, key) - StatInt(before, key); };
  const double requests = static_cast<double>(delta("requests"));
  const int64_t created =
      StatIn(after, "created", "crm.lead") - StatIn(before, "created", "crm.lead");
  const double ceiling = CeilingSeconds(a);
  const std::string stopped =
      out.status.ok() ? "" : absl::StrCat(" stopped: ", out.status.error_message());
  std::printf("| %s | %d | %.2f | %.1f | %.0f | %.1f | %.0f | %lld | %lld | %lld | %zu | %lld | "
              "%.1f | %.0f%% |%s\n",
              a.profile.c_str(), a.adds, seconds, a.adds / seconds, requests,
              requests > 0 ? static_cast<double>(delta("commands")) / requests : 0,
              after.value("peak_bucket_level", 0.0),
              static_cast<long long>(StatIn(after, "errors", "QUERY_LIMIT_EXCEEDED")),
              static_cast<long long>(StatIn(after, "errors", "OPERATION_TIME_LIMIT")),
              static_cast<long long>(created), ids.size(), static_cast<long long>(errors),
              ceiling, 100 * ceiling / seconds,
              stopped.c_str());
  return 0;
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(Usage());
      return argv[++i];
    };
    if (arg == "--header") {
      a.header = true;
    } else if (arg == "--adds") {
      a.adds = std::atoi(next().c_str());
    } else if (arg == "--profile") {
      a.profile = next();
      if (a.profile != "small" && a.profile != "huge") return Usage();
    } else if (arg == "--max-concurrency") {
      a.max_concurrency = std::atoi(next().c_str());
    } else {
      return Usage();
    }
  }
  if (a.adds <= 0 || a.max_concurrency <= 0) return Usage();
  return Run(a);
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
