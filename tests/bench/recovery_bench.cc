// How fast the gateway regains full speed after a few server errors.
//
// The autothrottle slows a portal down on 5xx answers (rate and concurrency)
// and must recover as soon as answers are healthy again. Real b24-emulator
// and b24gate processes in real time: a few sequential `crm.lead.get` calls,
// then `--errors` HTTP 500 answers injected, then sequential calls again
// while AdminService's ListPortals is polled. The table gives the lowest
// rate factor seen, the time from the last error until the rate factor and
// the concurrency ceiling are back to full, and the time of `--calls`
// sequential calls before the errors and right after them.
// Prints figures only; never asserts timing.
//
//   recovery_bench [--errors N] [--calls N] [--plan standard|enterprise]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

int Usage() {
  std::cerr << "usage: recovery_bench [--errors N] [--calls N] [--plan standard|enterprise]\n";
  return 2;
}

// `n` sequential reads; seconds taken, or a negative number on a failure.
double SequentialCalls(Stack& s, int n) {
  const auto start = SteadyClock::now();
  for (int i = 0; i < n; ++i) {
    CallOut out = Call1(s, "crm.lead.get", {{"id", 1}});
    if (!out.status.ok()) {
      std::cerr << "call failed: " << out.status.error_message() << "\n";
      return -1;
    }
  }
  return SecondsSince(start);
}

int Main(int argc, char** argv) {
  int errors = 3;
  int calls = 20;
  std::string plan = "standard";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--errors") {
      errors = std::atoi(v.c_str());
    } else if (a == "--calls") {
      calls = std::atoi(v.c_str());
    } else if (a == "--plan") {
      plan = v;
    } else {
      return Usage();
    }
  }
  if (errors <= 0 || calls <= 0 || (plan != "standard" && plan != "enterprise")) return Usage();

  EmulatorSpec emulator;
  emulator.seed = "crm.lead=100";
  emulator.extra_args = {"--plan", plan, "--cost-zero"};
  GatewaySpec gateway;
  gateway.portal = {{"plan", plan}};
  auto stack = Stack::Start(emulator, gateway);
  if (!stack.ok()) {
    std::cerr << "cannot start: " << stack.status() << "\n";
    return 1;
  }
  Stack& s = **stack;

  const double healthy_seconds = SequentialCalls(s, calls);

  // The errors: reads, so the gateway repeats each one and every call succeeds.
  s.SetFaults(absl::StrCat("500=@", errors, ",method=crm.lead.get"));
  while (StatInt(s.EmulatorStats()["faults_injected"], "500") < errors) {
    CallOut out = Call1(s, "crm.lead.get", {{"id", 1}});
    if (!out.status.ok()) {
      std::cerr << "call failed during the errors: " << out.status.error_message() << "\n";
      return 1;
    }
  }
  const auto last_error = SteadyClock::now();
  pb::PortalState state;
  if (!OnlyPortalState(s, &state)) return 1;
  double lowest_rate = state.status().rate_factor();
  const int full_concurrency = state.tuning().max_concurrency();

  const double after_seconds = SequentialCalls(s, calls);

  // Keep calling until the autothrottle is back to full speed (or 120 s).
  double recovered_after = -1;
  while (SecondsSince(last_error) < 120) {
    if (!OnlyPortalState(s, &state)) return 1;
    lowest_rate = std::min(lowest_rate, state.status().rate_factor());
    if (state.status().rate_factor() >= 1 && state.status().concurrency_limit() >= full_concurrency) {
      recovered_after = SecondsSince(last_error);
      break;
    }
    if (SequentialCalls(s, 1) < 0) return 1;
  }

  std::printf("Autothrottle recovery: %d HTTP 500 answers to crm.lead.get, plan %s, emulator --cost-zero\n",
              errors, plan.c_str());
  std::printf("| lowest rate factor | back to full speed after | %d sequential calls before | right after |\n",
              calls);
  std::printf("|---|---|---|---|\n");
  std::printf("| %.2f | %s | %.2f s | %.2f s |\n", lowest_rate,
              recovered_after < 0 ? "not within 120 s"
                                  : absl::StrCat(absl::SixDigits(recovered_after), " s").c_str(),
              healthy_seconds, after_seconds);
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
