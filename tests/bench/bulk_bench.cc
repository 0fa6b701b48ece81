// Bulk writes at the limit: `--adds` crm.lead.add through one CallMany
// stream, against real b24-emulator and b24gate processes in real time on
// the standard plan. Prints one Markdown row: the emulator's counts (HTTP
// requests, commands, peak bucket, 503 and 429 answers, leads created), the
// results acknowledged, the time, and the share of the policy ceiling
// reached. Prints figures only; never asserts timing.
//
// The ceiling is the shortest time the portal's limits (docs/bitrix24-protocol.md
// "Limits") allow for the adds, sent 50 commands a request, with the
// operating time of one add as the emulator counted it (its `operating` for
// crm.lead.add, and for batch should it charge the whole batch there):
//   bucket:      the burst goes at once, every further request waits a drain
//                interval (2 per second), plus the last batch's own time;
//   operating:   a window of 600 s allows the method 480 s: each full 480 s
//                beyond the first waits out a window, the rest is spread
//                over max_concurrency requests;
//   connections: operating time spread over max_concurrency requests.
// The slowest of the three. The goal: at least 90% of it, no 503 or 429
// answers, created == acknowledged == adds.
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

// One crm.lead.add on the emulator's profile (base cost; an add returns no
// rows): what the ceiling assumes when the emulator reports no operating time.
double ProfileAddCost(const std::string& profile) { return profile == "huge" ? 0.077 : 0.010; }

struct Ceiling {
  double seconds = 0;
  const char* bound = "";  // which limit sets it
};

// `add_cost`: seconds of operating time of one add.
Ceiling CeilingOf(const Args& a, double add_cost) {
  const double burst = 50, drain = 2, operating_limit = 480, window = 600;
  const double requests = std::ceil(a.adds / 50.0);
  const double batch_seconds = std::min(a.adds, 50) * add_cost;
  const double operating = a.adds * add_cost;
  const double t_bucket = std::max(0.0, requests - burst) / drain + batch_seconds;
  const double t_conn = std::max(batch_seconds, operating / a.max_concurrency);
  const double windows = std::max(0.0, std::ceil(operating / operating_limit) - 1);
  const double t_operating =
      windows == 0 ? 0
                   : windows * window + (operating - windows * operating_limit) / a.max_concurrency;
  if (t_operating >= t_bucket && t_operating >= t_conn) return {t_operating, "operating time"};
  if (t_conn >= t_bucket) return {t_conn, "connections"};
  return {t_bucket, "bucket"};
}

int Run(const Args& a) {
  if (a.header) {
    std::printf("| profile | adds | seconds | adds/s | HTTP requests (fewest) | commands per "
                "request | peak bucket | 503 | 429 | created | acknowledged | errors | operating "
                "s (per add) | ceiling s (bound) | of ceiling (goal >= 90%%) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
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
  // The emulator's operating time of the adds: per method, or all of it on
  // `batch` when it charges the whole batch there.
  const json operating = after.value("operating", json::object());
  const double operating_s =
      operating.value("crm.lead.add", 0.0) + operating.value("batch", 0.0);
  // The totals cover the last 600 s only: a longer run falls back on the profile.
  const bool counted = created > 0 && operating_s > 0 && seconds < 600;
  const double add_cost =
      counted ? operating_s / static_cast<double>(created) : ProfileAddCost(a.profile);
  const Ceiling ceiling = CeilingOf(a, add_cost);
  // Exactly once: one result per add, each id once.
  std::string stopped =
      out.status.ok() ? "" : absl::StrCat(" stopped: ", out.status.error_message());
  if (out.results.size() != static_cast<size_t>(a.adds)) {
    absl::StrAppend(&stopped, " results: ", out.results.size());
  }
  const int64_t repeated = static_cast<int64_t>(out.results.size()) - errors -
                           static_cast<int64_t>(ids.size());
  if (repeated != 0) absl::StrAppend(&stopped, " ids acknowledged twice: ", repeated);
  std::printf("| %s | %d | %.2f | %.1f | %.0f (%.0f) | %.1f | %.0f | %lld | %lld | %lld | %zu | "
              "%lld | %.1f (%.1f ms) | %.1f (%s) | %.0f%% |%s\n",
              a.profile.c_str(), a.adds, seconds, a.adds / seconds, requests,
              std::ceil(a.adds / 50.0),
              requests > 0 ? static_cast<double>(delta("commands")) / requests : 0,
              after.value("peak_bucket_level", 0.0),
              static_cast<long long>(StatIn(after, "errors", "QUERY_LIMIT_EXCEEDED")),
              static_cast<long long>(StatIn(after, "errors", "OPERATION_TIME_LIMIT")),
              static_cast<long long>(created), ids.size(), static_cast<long long>(errors),
              operating_s, 1000 * add_cost, ceiling.seconds, ceiling.bound,
              100 * ceiling.seconds / seconds, stopped.c_str());
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
