// Fair share between API clients, with real processes: a "bulk" client
// saturates the portal (a CallMany of lead adds and GetAlls of deals, all at
// once) while an "interactive" client makes single calls one after another.
// Both authenticate with bearer tokens, which the gateway turns into client
// names; the config gives both weight 1.
//
// Printed: the interactive client's latency idle and under load (p50/p99), with
// fair share on and switched off ("fair_share": false). Asserted: behaviour
// only. Every call and every bulk write is answered; with fair share on, the
// interactive calls are served while the bulk work is still running, not
// after it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/percentile.h"

namespace b24gate::e2e::client_fair_share_test {
namespace {

// Tokens and their SHA-256 (`printf %s TOKEN | sha256sum`), as the config
// stores them.
constexpr char kBulkToken[] = "fair-bulk-token-7f3a";
constexpr char kBulkHash[] = "c426bc45254ea7566356d0bba75f655cf7a0aefd299ebc46e474075a9eae53cc";
constexpr char kInteractiveToken[] = "fair-interactive-token-c91e";
constexpr char kInteractiveHash[] =
    "c393a880a134fdd73cf520dac530eb6c05d4dee7360993baf0b5217f66d1879f";

constexpr int kBulkAdds = 4000;
// The interactive client's pause between calls (a service handling its own
// requests), and the most calls it makes per phase.
constexpr auto kThinkTime = std::chrono::milliseconds(50);
constexpr int kIdleCalls = 30;
constexpr int kMaxLoadedCalls = 100;

using Clock = std::chrono::steady_clock;

std::unique_ptr<grpc::ClientContext> As(const char* token, double seconds = 120) {
  auto ctx = Ctx(seconds);
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return ctx;
}

// The portal is paced by the gateway's model (20 requests/s, so at most 1000
// commands/s): the emulator itself refuses and charges nothing.
std::unique_ptr<Stack> UpWithClients(bool fair_share) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  emulator.seed = "crm.lead=20,crm.deal=3000";
  GatewaySpec gateway;
  gateway.portal = {{"burst", 10}, {"drain_per_second", 20}};
  gateway.settings = {
      {"fair_share", fair_share},
      {"clients", json::array({{{"name", "bulk"}, {"token_sha256", kBulkHash}, {"weight", 1}},
                               {{"name", "interactive"},
                                {"token_sha256", kInteractiveHash},
                                {"weight", 1}}})}};
  return Up(std::move(emulator), std::move(gateway));
}

struct Sample {
  std::vector<double> ms;
  int failed = 0;
  // Calls answered while the bulk work was still running.
  int during_bulk = 0;
};

using ::b24gate::testing::Percentile;

// Single calls, one at a time, until `max_calls` or `stop` is set.
Sample Interactive(Stack& stack, int64_t lead_id, int max_calls,
                   const std::atomic<bool>* bulk_done) {
  Sample s;
  pb::CallRequest request;
  request.set_method("crm.lead.get");
  *request.mutable_params() = V({{"id", lead_id}});
  for (int i = 0; i < max_calls; ++i) {
    if (bulk_done && bulk_done->load()) break;
    pb::CallResponse response;
    auto start = Clock::now();
    grpc::Status status = stack.stub().Call(As(kInteractiveToken).get(), request, &response);
    s.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!status.ok() || J(response.result())["ID"] != std::to_string(lead_id)) ++s.failed;
    if (bulk_done && !bulk_done->load()) ++s.during_bulk;
    std::this_thread::sleep_for(kThinkTime);
  }
  return s;
}

// One GetAll of every deal as the bulk client; the number of deals read.
size_t BulkGetAll(Stack& stack) {
  pb::GetAllRequest request;
  request.set_method("crm.deal.list");
  auto ctx = As(kBulkToken, 300);
  auto reader = stack.stub().GetAll(ctx.get(), request);
  pb::GetAllResponse message;
  size_t items = 0;
  while (reader->Read(&message)) items += message.items_size();
  return reader->Finish().ok() ? items : 0;
}

struct Phase {
  Sample idle;
  Sample loaded;
  int bulk_written = 0;
  int bulk_failed = 0;
  bool getall_ok = true;
  double bulk_seconds = 0;
};

Phase RunPhase(bool fair_share) {
  Phase phase;
  auto stack = UpWithClients(fair_share);
  EXPECT_TRUE(stack);
  if (!stack) return phase;
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  EXPECT_FALSE(ids.empty());
  if (ids.empty()) return phase;
  const int64_t lead_id = ids.front().get<int64_t>();

  phase.idle = Interactive(*stack, lead_id, kIdleCalls, nullptr);

  // The bulk client: a CallMany of adds and two GetAll readers looping
  // until the adds are done.
  std::atomic<bool> bulk_done{false};
  auto bulk_start = Clock::now();
  std::thread writer([&] {
    pb::CallManyRequest request;
    request.set_method("crm.lead.add");
    for (int i = 0; i < kBulkAdds; ++i) {
      *request.add_params() = V({{"fields", {{"TITLE", absl::StrCat("bulk-", i)}}}});
    }
    auto ctx = As(kBulkToken, 300);
    auto reader = stack->stub().CallMany(ctx.get(), request);
    pb::CallManyResponse message;
    while (reader->Read(&message)) {
      for (const auto& r : message.results()) (r.has_error() ? phase.bulk_failed : phase.bulk_written)++;
    }
    if (!reader->Finish().ok()) phase.bulk_failed++;
    phase.bulk_seconds = std::chrono::duration<double>(Clock::now() - bulk_start).count();
    bulk_done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<bool> getall_ok{true};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!bulk_done) {
        if (BulkGetAll(*stack) != 3000) getall_ok = false;
      }
    });
  }
  // Saturated once the adds are flowing.
  EXPECT_TRUE(WaitFor([&] { return StatIn(stack->EmulatorStats(), "created", "crm.lead") >= 100; }));
  phase.loaded = Interactive(*stack, lead_id, kMaxLoadedCalls, &bulk_done);
  writer.join();
  for (auto& t : readers) t.join();
  phase.getall_ok = getall_ok;
  return phase;
}

void Print(const char* mode, const Phase& p) {
  std::printf(
      "fair share %s: interactive idle p50 %.1f ms p99 %.1f ms (%zu calls); under load p50 %.1f "
      "ms p99 %.1f ms (%zu calls, %d answered while the bulk work ran); bulk: %d adds in %.1f s\n",
      mode, Percentile(p.idle.ms, 0.5), Percentile(p.idle.ms, 0.99), p.idle.ms.size(),
      Percentile(p.loaded.ms, 0.5), Percentile(p.loaded.ms, 0.99), p.loaded.ms.size(),
      p.loaded.during_bulk, p.bulk_written, p.bulk_seconds);
  std::fflush(stdout);
}

TEST(FairShare, InteractiveCallsAreServedWhileABulkClientSaturatesThePortal) {
  Phase fair = RunPhase(/*fair_share=*/true);
  Print("on", fair);
  Phase fifo = RunPhase(/*fair_share=*/false);
  Print("off", fifo);

  for (const Phase* p : {&fair, &fifo}) {
    EXPECT_EQ(p->idle.failed, 0);
    EXPECT_EQ(p->loaded.failed, 0);
    EXPECT_EQ(p->bulk_written, kBulkAdds) << "every bulk write answered";
    EXPECT_EQ(p->bulk_failed, 0);
    EXPECT_TRUE(p->getall_ok);
  }
  // Fair share on: the interactive client's calls interleave with the bulk
  // work instead of waiting behind the writes queued before each of them.
  // (Switched off, each waits behind up to 1000 queued adds: 20 requests.)
  EXPECT_GE(fair.loaded.during_bulk, 10);
}

}  // namespace
}  // namespace b24gate::e2e::client_fair_share_test
