// The throttle's acceptance run: many concurrent clients push list reads and writes as
// fast as they can for 20 simulated minutes against a time-scaled standard
// plan; the emulator must report no QUERY_LIMIT_EXCEEDED and no
// OPERATION_TIME_LIMIT, every RPC must end exactly once, and every
// successful add must have created exactly one lead. Offset pages counting a
// 400,000-row table make crm.deal.list reach its operating limit, so the
// gateway's pacing is exercised, once with each batch accounting.
//
// Nothing here measures speed: the load runs for a fixed time and the checks
// are about limits and outcomes (tests/bench/throttle_bench prints rates).
#include <gtest/gtest.h>

#include "tests/e2e/throttle_load.h"

namespace b24gate::e2e::throttle_load_test {
namespace {

void RunAndCheck(const LoadConfig& config) {
  auto stack = Up(LoadEmulatorSpec(config), LoadGatewaySpec(config));
  ASSERT_TRUE(stack);
  LoadResult r = RunLoad(*stack, config);
  const json& stats = r.stats_end;
  ASSERT_TRUE(stats.is_object());

  for (const auto& [kind, k] : r.kinds) {
    std::string codes;
    for (const auto& [code, n] : k.by_code) codes += absl::StrCat(" ", code, "=", n);
    std::cout << "[ load ] " << kind << ": rpcs=" << k.rpcs << " items=" << k.items << codes
              << "\n";
  }
  std::cout << "[ load ] emulator: requests=" << StatInt(stats, "requests")
            << " commands=" << StatInt(stats, "commands") << " errors=" << stats["errors"].dump()
            << " peak_bucket_level=" << stats["peak_bucket_level"] << "\n";
  std::cout << "[ load ] peak operating (s):";
  for (const auto& [method, s] : r.peak_operating) std::cout << " " << method << "=" << s;
  std::cout << "\n";

  // The portal's limits were never tripped.
  EXPECT_EQ(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 0) << stats["errors"];
  EXPECT_EQ(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 0) << stats["errors"];
  ASSERT_TRUE(stats["peak_bucket_level"].is_number());
  EXPECT_LE(stats["peak_bucket_level"].get<double>(), config.burst);

  // Every RPC ended with exactly one outcome, and that outcome was success:
  // pacing delays calls, it never fails them.
  EXPECT_GT(r.Rpcs(), 0);
  EXPECT_EQ(r.Outcomes(), r.Rpcs());
  EXPECT_EQ(r.NotOk(), 0);
  for (const auto& [kind, k] : r.kinds) {
    EXPECT_EQ(k.outcomes, k.rpcs) << kind;
    EXPECT_GT(k.by_code.count("OK") ? k.by_code.at("OK") : 0, 0) << kind << " never succeeded";
  }

  // No add lost or duplicated.
  EXPECT_GT(r.adds_ok, 0);
  EXPECT_EQ(StatIn(stats, "created", "crm.lead"), r.adds_ok) << stats["created"];

  // The operating limit actually bound: crm.deal.list (or `batch`, when the
  // batch is charged) came within the gateway's margin of the limit.
  const double limit = config.operating_limit * config.time_scale;
  const double margin = 60 * config.time_scale;
  double peak = 0;
  for (const char* method : {"crm.deal.list", "batch"}) {
    auto it = r.peak_operating.find(method);
    if (it != r.peak_operating.end()) peak = std::max(peak, it->second);
  }
  EXPECT_GE(peak, limit - 2 * margin) << "the operating limit never came close; pacing untested";
  EXPECT_LT(peak, limit + margin);
}

TEST(ThrottleLoad, StandardPlanPerMethodAccounting) {
  LoadConfig config;
  config.batch_accounting = "per-method";
  RunAndCheck(config);
}

TEST(ThrottleLoad, StandardPlanBatchAccounting) {
  LoadConfig config;
  config.batch_accounting = "batch";
  RunAndCheck(config);
}

}  // namespace
}  // namespace b24gate::e2e::throttle_load_test
