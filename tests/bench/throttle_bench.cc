// Throughput of the gateway against a time-scaled emulator under saturated
// load (the load of tests/e2e/throttle_load_test.cc). Prints the request rate
// the emulator saw as a fraction of the policy ceiling (drain rate plus the
// burst amortised over the run), commands/s, items/s and the emulator's
// limit-error counts. Prints figures only; never asserts timing.
//
//   throttle_bench [--plan standard|enterprise] [--time-scale F] [--minutes M]
//                  [--clients N] [--batch-accounting per-method|batch]
//                  [--operating-limit S] [--cost-zero] [--headroom H]
//                  [--max-concurrency N] [--leads N]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/e2e/throttle_load.h"

namespace b24gate::e2e {
namespace {

int Usage() {
  std::cerr << "usage: throttle_bench [--plan standard|enterprise] [--time-scale F] [--minutes M]\n"
               "  [--clients N] [--batch-accounting per-method|batch] [--operating-limit S]\n"
               "  [--cost-zero] [--headroom H] [--max-concurrency N] [--leads N]\n";
  return 2;
}

double ErrorCount(const json& stats, const std::string& code) {
  return static_cast<double>(StatIn(stats, "errors", code));
}

int Main(int argc, char** argv) {
  LoadConfig c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << ": missing value\n";
        std::exit(Usage());
      }
      return argv[++i];
    };
    if (a == "--plan") {
      c.plan = next();
      if (c.plan == "standard") {
        c.burst = 50;
        c.drain_per_second = 2;
      } else if (c.plan == "enterprise") {
        c.burst = 250;
        c.drain_per_second = 5;
      } else {
        return Usage();
      }
    } else if (a == "--time-scale") {
      c.time_scale = std::atof(next().c_str());
    } else if (a == "--minutes") {
      c.simulated_seconds = 60 * std::atof(next().c_str());
    } else if (a == "--clients") {
      c.clients = std::atoi(next().c_str());
    } else if (a == "--batch-accounting") {
      c.batch_accounting = next();
    } else if (a == "--operating-limit") {
      c.operating_limit = std::atof(next().c_str());
    } else if (a == "--cost-zero") {
      c.cost_zero = true;
    } else if (a == "--headroom") {
      c.headroom = std::atof(next().c_str());
    } else if (a == "--max-concurrency") {
      c.max_concurrency = std::atoi(next().c_str());
    } else if (a == "--leads") {
      c.leads = std::atoi(next().c_str());
    } else {
      return Usage();
    }
  }
  if (c.time_scale <= 0 || c.simulated_seconds <= 0 || c.clients <= 0) return Usage();

  GatewaySpec gateway = LoadGatewaySpec(c);
  std::printf("plan %s (burst %g, drain %g/s simulated), time scale %g, %g simulated min, "
              "%d clients, batch accounting %s, profile %s%s, operating limit %g s simulated, "
              "gateway headroom %s, max_concurrency %d\n",
              c.plan.c_str(), c.burst, c.drain_per_second, c.time_scale,
              c.simulated_seconds / 60, c.clients, c.batch_accounting.c_str(), c.profile.c_str(),
              c.cost_zero ? " (cost zero)" : "", c.operating_limit,
              gateway.portal["headroom"].dump().c_str(), c.max_concurrency);
  auto stack = Stack::Start(LoadEmulatorSpec(c), gateway);
  if (!stack.ok()) {
    std::cerr << "cannot start: " << stack.status() << "\n";
    return 1;
  }
  LoadResult r = RunLoad(**stack, c);

  const double t = r.window_seconds;
  const double drain = c.drain_per_second / c.time_scale;
  const double requests =
      static_cast<double>(StatInt(r.stats_window_end, "requests") - StatInt(r.stats_start, "requests"));
  const double commands =
      static_cast<double>(StatInt(r.stats_window_end, "commands") - StatInt(r.stats_start, "commands"));
  const double ceiling = drain + c.burst / t;
  std::printf("window %.2f s real: %.0f requests, %.0f commands, %lld items to clients\n", t,
              requests, commands, static_cast<long long>(r.Items()));
  std::printf("requests/s %.1f vs ceiling %.1f (drain %.1f + burst %g / %.2f s) = %.1f%%\n",
              requests / t, ceiling, drain, c.burst, t, 100 * requests / t / ceiling);
  // Steady state: the rate over the later part of the run, against the drain
  // rate alone (the initial burst is spent by then).
  if (r.request_samples.size() > 4) {
    const auto& a = r.request_samples[r.request_samples.size() / 4];
    const auto* b = &r.request_samples.back();
    for (auto it = r.request_samples.rbegin(); it != r.request_samples.rend(); ++it) {
      if (it->first <= t) {
        b = &*it;
        break;
      }
    }
    if (b->first > a.first) {
      double rate = (b->second - a.second) / (b->first - a.first);
      std::printf("steady state (%.1f..%.1f s): requests/s %.1f vs drain %.1f = %.1f%%\n",
                  a.first, b->first, rate, drain, 100 * rate / drain);
    }
  }
  std::printf("commands/s %.1f, items/s %.1f, commands per request %.2f\n", commands / t,
              r.Items() / t, requests > 0 ? commands / requests : 0.0);
  const json& s = r.stats_end;
  std::printf("emulator: QUERY_LIMIT_EXCEEDED %.0f, OPERATION_TIME_LIMIT %.0f, peak_bucket_level %s, "
              "errors %s\n",
              ErrorCount(s, "QUERY_LIMIT_EXCEEDED"), ErrorCount(s, "OPERATION_TIME_LIMIT"),
              s.is_object() ? s["peak_bucket_level"].dump().c_str() : "?",
              s.is_object() ? s["errors"].dump().c_str() : "?");
  std::printf("peak operating (s, limit %.3f):", c.operating_limit * c.time_scale);
  for (const auto& [method, sec] : r.peak_operating) std::printf(" %s=%.3f", method.c_str(), sec);
  std::printf("\n");
  for (const auto& [kind, k] : r.kinds) {
    std::printf("  %-18s rpcs %6lld  items %8lld ", kind.c_str(), static_cast<long long>(k.rpcs),
                static_cast<long long>(k.items));
    for (const auto& [code, n] : k.by_code) std::printf(" %s=%lld", code.c_str(), static_cast<long long>(n));
    std::printf("\n");
  }
  std::printf("adds ok %lld, emulator created crm.lead %lld\n", static_cast<long long>(r.adds_ok),
              static_cast<long long>(StatIn(s, "created", "crm.lead")));
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
