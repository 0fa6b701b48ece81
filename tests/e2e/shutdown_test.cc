// SIGTERM (README, "Shutdown"): health turns NOT_SERVING at once; the
// listener keeps accepting for the pre-drain delay; then new calls are
// refused, queued commands are answered NOT_EXECUTED, requests on the wire
// get their result (or, when the grace runs out, OUTCOME_UNKNOWN), every
// accepted RPC gets its complete per-item answer, and the process exits 0.
// The counting test checks that nothing is lost or hidden at several moments
// of a shutdown: created on the portal == acknowledged + OUTCOME_UNKNOWN.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <gtest/gtest.h>

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::shutdown_test {
namespace {

namespace hv1 = grpc::health::v1;

// gRPC ships the health service without a generated C++ stub; these call it
// the way generated code does.
grpc::Status HealthCheck(grpc::Channel* channel, hv1::HealthCheckResponse* response) {
  grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                   grpc::internal::RpcMethod::NORMAL_RPC);
  auto ctx = Ctx(10);
  hv1::HealthCheckRequest request;
  return grpc::internal::BlockingUnaryCall<hv1::HealthCheckRequest, hv1::HealthCheckResponse,
                                           grpc::protobuf::MessageLite,
                                           grpc::protobuf::MessageLite>(
      channel, method, ctx.get(), request, response);
}

std::unique_ptr<grpc::ClientReader<hv1::HealthCheckResponse>> HealthWatch(
    grpc::Channel* channel, grpc::ClientContext* ctx) {
  static const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Watch",
                                                grpc::internal::RpcMethod::SERVER_STREAMING);
  hv1::HealthCheckRequest request;
  return std::unique_ptr<grpc::ClientReader<hv1::HealthCheckResponse>>(
      grpc::internal::ClientReaderFactory<hv1::HealthCheckResponse>::Create(channel, method, ctx,
                                                                            request));
}

std::unique_ptr<Stack> Up(const std::string& fault_delay, double grace_seconds = 5) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--fault-delay", fault_delay};
  GatewaySpec gateway;
  gateway.shutdown_grace_seconds = grace_seconds;
  return e2e::Up(std::move(emulator), std::move(gateway));
}

// Calls of every shape, started at once; each records its one outcome.
struct InFlight {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::pair<std::string, grpc::Status>> outcomes;
  int64_t commands = 0;  // commands the emulator executes for them

  void Start(Stack& stack, const std::vector<json>& ids) {
    auto record = [this](std::string what, grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      outcomes.emplace_back(std::move(what), std::move(s));
    };
    threads.emplace_back([&stack, ids, record] {
      record("Call get", Call1(stack, "crm.lead.get", {{"id", ids[0]}}).status);
    });
    threads.emplace_back([&stack, record] {
      CallOut out = Call1(stack, "crm.lead.add", {{"fields", {{"TITLE", "shutdown"}}}});
      record("Call add", out.status);
    });
    threads.emplace_back([&stack, ids, record] {
      GetByIdOut out = GetById(stack, "crm.lead.get", std::vector<json>(ids.begin() + 1, ids.begin() + 6));
      grpc::Status s = out.status;
      if (s.ok() && out.results.size() != 5) s = grpc::Status(grpc::StatusCode::INTERNAL, "lost ids");
      for (const auto& r : out.results) {
        if (s.ok() && r.has_error()) s = grpc::Status(grpc::StatusCode::INTERNAL, r.error().code());
      }
      record("GetById", s);
    });
    threads.emplace_back([&stack, ids, record] {
      BatchOut out = CallBatch(stack, {{"a", "crm.lead.get", {{"id", ids[7]}}},
                                       {"b", "crm.lead.add", {{"fields", {{"TITLE", "shutdown-b"}}}}}});
      grpc::Status s = out.status;
      // Per-key errors, like GetById's per-id ones, as INTERNAL with the code.
      for (const auto& r : out.response.results()) {
        if (s.ok() && r.result().has_error()) {
          s = grpc::Status(grpc::StatusCode::INTERNAL, r.result().error().code());
        }
      }
      record("CallBatch", s);
    });
    commands = 1 + 1 + 5 + 2;
  }
  void Join() {
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  ~InFlight() { Join(); }
};

// Opens the gateway's connection to the portal with a quick call: the first
// request to a plain-HTTP host holds back the others until it is answered.
void WarmUp(Stack& stack, const json& id) {
  CallOut out = Call1(stack, "crm.lead.get", {{"id", id}});
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();
}

TEST(Shutdown, SigtermDrainsInFlightCallsAndExitsZero) {
  // Every REST answer is held 8 s: the calls are still in flight at SIGTERM
  // even when a loaded machine is seconds late sending it, and the 30 s
  // grace period is wide enough that it cannot push them past it.
  auto stack = Up("8", 30);
  ASSERT_TRUE(stack);
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_GE(ids.size(), 10u);

  hv1::HealthCheckResponse health;
  ASSERT_TRUE(HealthCheck(stack->channel().get(), &health).ok());
  EXPECT_EQ(health.status(), hv1::HealthCheckResponse::SERVING);
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto watch = HealthWatch(stack->channel().get(), &watch_ctx);
  ASSERT_TRUE(watch->Read(&health));
  EXPECT_EQ(health.status(), hv1::HealthCheckResponse::SERVING);

  WarmUp(*stack, ids[0]);
  stack->ResetEmulator();
  stack->SetFaults("delay=1");
  InFlight calls;
  calls.Start(*stack, ids);
  // Every command has run in the emulator, whose answers are now held.
  ASSERT_TRUE(WaitFor([&] { return StatInt(stack->EmulatorStats(), "commands") >= calls.commands; }))
      << stack->EmulatorStats().dump();

  ASSERT_EQ(kill(stack->gateway().pid(), SIGTERM), 0);
  // The answers are still held: the calls are in flight while the gateway drains.
  EXPECT_GE(StatInt(stack->EmulatorStats(), "in_flight"), 1);

  // Health watchers hear NOT_SERVING.
  bool not_serving = false;
  while (watch->Read(&health)) {
    if (health.status() == hv1::HealthCheckResponse::NOT_SERVING) {
      not_serving = true;
      break;
    }
  }
  EXPECT_TRUE(not_serving) << "the health watch never reported NOT_SERVING";
  watch_ctx.TryCancel();
  watch->Finish();

  // New calls are refused (on a new connection as well as the old one).
  for (auto channel : {stack->channel(), grpc::CreateChannel(stack->gateway().address(),
                                                             grpc::InsecureChannelCredentials())}) {
    auto stub = pb::GatewayService::NewStub(channel);
    pb::CallRequest request;
    request.set_method("crm.lead.get");
    *request.mutable_params() = V({{"id", ids[9]}});
    pb::CallResponse response;
    grpc::Status s = stub->Call(Ctx(20).get(), request, &response);
    // Refused at once: UNAVAILABLE (connection gone / GOAWAY) or CANCELLED
    // (gRPC's "server shutting down" for a stream that raced the GOAWAY);
    // either way the portal never sees it (checked below).
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                s.error_code() == grpc::StatusCode::CANCELLED)
        << s.error_code() << " " << s.error_message();
    hv1::HealthCheckResponse h;
    grpc::Status hs = HealthCheck(channel.get(), &h);
    EXPECT_TRUE(!hs.ok() || h.status() != hv1::HealthCheckResponse::SERVING);
  }

  calls.Join();
  ASSERT_EQ(calls.outcomes.size(), 4u);
  for (const auto& [what, status] : calls.outcomes) {
    EXPECT_TRUE(status.ok()) << what << ": " << status.error_code() << " " << status.error_message();
  }
  EXPECT_EQ(stack->gateway().StopWith(0, 30), 0) << "the gateway must exit 0 after draining";
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "created", "crm.lead"), 2);
  EXPECT_EQ(StatInt(stats, "commands"), calls.commands) << "a call made after SIGTERM ran";
}

// Every command of a call outliving the grace is answered OUTCOME_UNKNOWN
// (it ran: the emulator executes, then holds the answer), per item with its
// reason, before the gateway exits 0 without waiting for the portal.
TEST(Shutdown, CallsOutlivingTheGraceAreAnsweredOutcomeUnknownAndTheProcessExitsZero) {
  // Answers held for a minute: far beyond the 5 s grace period.
  auto stack = Up("60");
  ASSERT_TRUE(stack);
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_GE(ids.size(), 10u);
  WarmUp(*stack, ids[0]);
  stack->ResetEmulator();
  stack->SetFaults("delay=1");
  InFlight calls;
  calls.Start(*stack, ids);
  ASSERT_TRUE(WaitFor([&] { return StatInt(stack->EmulatorStats(), "commands") >= calls.commands; }))
      << stack->EmulatorStats().dump();
  ASSERT_EQ(kill(stack->gateway().pid(), SIGTERM), 0);
  // Bounded well below the held answers: the gateway must not wait for them.
  EXPECT_EQ(stack->gateway().StopWith(0, 30), 0)
      << "the gateway must exit 0 once the grace period is over";
  calls.Join();
  ASSERT_EQ(calls.outcomes.size(), 4u);
  for (const auto& [what, status] : calls.outcomes) {
    EXPECT_FALSE(status.ok()) << what << " cannot have succeeded: its answer is still held";
    // The RPC's own status (Call) or the first item's code (GetById, CallBatch).
    EXPECT_TRUE(ReasonOf(status) == "OUTCOME_UNKNOWN" || status.error_message() == "OUTCOME_UNKNOWN")
        << what << ": " << status.error_code() << " " << status.error_message();
  }
}

// After SIGTERM the health check says NOT_SERVING at once, but calls are still
// accepted and answered until the pre-drain delay is over; then refused. The
// delay is long enough for a loaded machine to check health within it.
TEST(Shutdown, PredrainKeepsAcceptingWhileHealthSaysNotServing) {
  constexpr double kPredrain = 5;
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits"};
  GatewaySpec gateway;
  gateway.predrain_delay_seconds = kPredrain;
  auto started = Stack::Start(std::move(emulator), std::move(gateway));
  ASSERT_TRUE(started.ok()) << started.status();
  Stack& stack = **started;
  std::vector<json> ids = IdsOf(RestAll(stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_FALSE(ids.empty());
  WarmUp(stack, ids[0]);
  auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(stack.gateway().pid(), SIGTERM), 0);
  hv1::HealthCheckResponse health;
  ASSERT_TRUE(WaitFor([&] {
    return HealthCheck(stack.channel().get(), &health).ok() &&
           health.status() == hv1::HealthCheckResponse::NOT_SERVING;
  }, kPredrain - 0.5)) << "health did not turn NOT_SERVING";
  // Still inside the pre-drain: a new call (new connection too) is served.
  auto fresh = pb::GatewayService::NewStub(
      grpc::CreateChannel(stack.gateway().address(), grpc::InsecureChannelCredentials()));
  pb::CallRequest request;
  request.set_method("crm.lead.get");
  *request.mutable_params() = V({{"id", ids[0]}});
  pb::CallResponse response;
  grpc::Status s = fresh->Call(Ctx(10).get(), request, &response);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  if (elapsed < kPredrain - 0.2) {
    EXPECT_TRUE(s.ok()) << "refused during the pre-drain delay (" << elapsed << " s): "
                        << s.error_message();
  }
  EXPECT_EQ(stack.gateway().StopWith(0, 30), 0);
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  EXPECT_GE(total, kPredrain) << "the gateway stopped before the pre-drain delay was over";
}

// What each item of the bulk calls got.
struct Tally {
  int64_t ok = 0, unknown = 0, not_executed = 0, other = 0, lost = 0;
  std::vector<std::string> others;
  void Add(const CallOut& out, size_t items) {
    if (!out.status.ok()) {
      // A whole RPC failed: no per-item answer at all.
      lost += static_cast<int64_t>(items);
      others.push_back(std::to_string(out.status.error_code()) + " " + out.status.error_message());
      return;
    }
    if (static_cast<size_t>(out.response.results_size()) != items) lost += items;
    for (const auto& r : out.response.results()) {
      if (!r.has_error()) {
        ++ok;
      } else if (r.error().code() == "OUTCOME_UNKNOWN") {
        ++unknown;
      } else if (r.error().code() == "NOT_EXECUTED") {
        ++not_executed;
      } else {
        ++other;
        others.push_back(r.error().code() + " " + r.error().description());
      }
    }
  }
};

struct Moment {
  const char* name;
  const char* fault_delay;  // seconds each REST answer is held
  int64_t sigterm_after;    // SIGTERM once the emulator has run this many commands
  double grace;             // --shutdown-grace
};

class ShutdownCounts : public ::testing::TestWithParam<Moment> {};

// Bulk writes and reads, paced by a small batch size and two requests in
// flight, are cut by SIGTERM at a given moment. Every item is answered
// (success, NOT_EXECUTED or OUTCOME_UNKNOWN), and the portal's own counts
// match: leads created == writes acknowledged + writes OUTCOME_UNKNOWN, and
// commands executed == all acknowledged + all OUTCOME_UNKNOWN.
TEST_P(ShutdownCounts, CreatedEqualsAcknowledgedPlusOutcomeUnknown) {
  const Moment m = GetParam();
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--fault-delay", m.fault_delay};
  GatewaySpec gateway;
  gateway.shutdown_grace_seconds = m.grace;
  gateway.portal = {{"batch_size", 10}, {"max_concurrency", 2}};
  auto started = Stack::Start(std::move(emulator), std::move(gateway));
  ASSERT_TRUE(started.ok()) << started.status();
  Stack& stack = **started;
  std::vector<json> ids = IdsOf(RestAll(stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_GE(ids.size(), 40u);
  WarmUp(stack, ids[0]);
  stack.ResetEmulator();
  stack.SetFaults("delay=1");

  constexpr int kWriters = 3, kReaders = 2, kItems = 40;
  std::mutex mu;
  Tally writes, reads;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::vector<json> params;
      for (int i = 0; i < kItems; ++i) {
        params.push_back({{"fields", {{"TITLE", "shutdown " + std::to_string(w) + "/" + std::to_string(i)}}}});
      }
      CallOut out = CallBulk(stack, "crm.lead.add", params);
      std::lock_guard<std::mutex> lock(mu);
      writes.Add(out, params.size());
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      std::vector<json> params;
      for (int i = 0; i < kItems; ++i) params.push_back({{"id", ids[i]}});
      CallOut out = CallBulk(stack, "crm.lead.get", params);
      std::lock_guard<std::mutex> lock(mu);
      reads.Add(out, params.size());
    });
  }
  // Every RPC is accepted first (its items queued or sent, per the portal's
  // own counts): a call refused at the door after SIGTERM has no per-item
  // answer to give, which is not what this test is about.
  EXPECT_TRUE(WaitFor([&] {
    pb::PortalState portal;
    if (!OnlyPortalState(stack, &portal)) return false;
    const pb::PortalStatus& st = portal.status();
    return st.commands_sent() + st.queued() >= (kWriters + kReaders) * kItems;
  }, 60)) << "not every call reached the gateway's queue";
  // The moment is defined by progress, not by a clock, so a slow machine
  // shifts it in time but not in what has happened.
  EXPECT_TRUE(WaitFor([&] { return StatInt(stack.EmulatorStats(), "commands") >= m.sigterm_after; }, 60))
      << stack.EmulatorStats().dump();
  ASSERT_EQ(kill(stack.gateway().pid(), SIGTERM), 0);
  int exit_code = stack.gateway().StopWith(0, 60);
  for (auto& t : threads) t.join();
  EXPECT_EQ(exit_code, 0);

  // Held answers are still counted by the emulator when they were executed;
  // wait for nothing: `delay` executes first, then holds.
  json stats = stack.EmulatorStats();
  int64_t created = StatIn(stats, "created", "crm.lead");
  int64_t executed = StatInt(stats, "commands");
  SCOPED_TRACE(std::string(m.name) + ": writes ok=" + std::to_string(writes.ok) +
               " unknown=" + std::to_string(writes.unknown) +
               " not_executed=" + std::to_string(writes.not_executed) +
               "; reads ok=" + std::to_string(reads.ok) + " unknown=" + std::to_string(reads.unknown) +
               " not_executed=" + std::to_string(reads.not_executed) +
               "; created=" + std::to_string(created) + " executed=" + std::to_string(executed));
  for (const Tally* t : {&writes, &reads}) {
    EXPECT_EQ(t->lost, 0) << "items without their own answer: "
                          << (t->others.empty() ? "" : t->others.front());
    EXPECT_EQ(t->other, 0) << "unexpected item errors, e.g. " << (t->others.empty() ? "" : t->others.front());
  }
  EXPECT_EQ(writes.ok + writes.unknown + writes.not_executed, kWriters * kItems);
  EXPECT_EQ(reads.ok + reads.unknown + reads.not_executed, kReaders * kItems);
  EXPECT_EQ(created, writes.ok + writes.unknown) << "a write ran without being reported";
  EXPECT_EQ(executed, writes.ok + writes.unknown + reads.ok + reads.unknown);
  // The moment is where we meant it to be: something ran, something did not.
  EXPECT_GT(writes.ok + reads.ok + writes.unknown + reads.unknown, 0);
  EXPECT_GT(writes.not_executed + reads.not_executed, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Moments, ShutdownCounts,
    ::testing::Values(
        // The first request has run (its answer held 0.5 s): most commands
        // are still queued.
        Moment{"early", "0.5", 1, 5},
        // Half of the 200 commands have run: some answered, two requests on
        // the wire (they finish inside the grace and bring their results).
        Moment{"midway", "0.5", 100, 5},
        // Requests on the wire outlive the grace: OUTCOME_UNKNOWN.
        Moment{"held_past_grace", "60", 1, 2}),
    [](const ::testing::TestParamInfo<Moment>& info) { return info.param.name; });

}  // namespace
}  // namespace b24gate::e2e::shutdown_test
