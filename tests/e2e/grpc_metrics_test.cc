// The gRPC series on /metrics of a real gateway: calls of paths that are no
// method of the gateway all count under one "unknown" label value (a caller
// inventing paths cannot grow the series), and calls whose deadline passes
// almost at once count as DEADLINE_EXCEEDED or CANCELLED, never as
// UNIMPLEMENTED.
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpc/health/v1/health.pb.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::grpc_metrics_test {
namespace {

namespace hv1 = grpc::health::v1;

// Calls `path` with an empty message; the gateway answers UNIMPLEMENTED.
grpc::Status CallPath(grpc::Channel* channel, const std::string& path) {
  grpc::internal::RpcMethod method(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  auto ctx = Ctx(10);
  hv1::HealthCheckRequest request;
  hv1::HealthCheckResponse response;
  return grpc::internal::BlockingUnaryCall<hv1::HealthCheckRequest, hv1::HealthCheckResponse,
                                           grpc::protobuf::MessageLite,
                                           grpc::protobuf::MessageLite>(channel, method, ctx.get(),
                                                                        request, &response);
}

std::unique_ptr<Stack> WithMetrics() {
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  return Up({}, std::move(gateway));
}

// GET /metrics: the sample lines (no comments).
std::vector<std::string> Scrape(Stack& stack) {
  std::string address;
  for (int i = 0; i < 100 && address.empty(); ++i) {
    for (const auto& line : stack.gateway().lines()) {
      if (absl::StartsWith(line, "metrics on ")) address = line.substr(11);
    }
    if (address.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  httplib::Client client("http://" + address);
  auto scraped = client.Get("/metrics");
  if (!scraped || scraped->status != 200) {
    ADD_FAILURE() << "no /metrics at " << address;
    return {};
  }
  std::vector<std::string> samples;
  for (absl::string_view line : absl::StrSplit(scraped->body, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "#")) samples.emplace_back(line);
  }
  return samples;
}

// Sum of the samples of `name` whose labels contain every one of `labels`.
double Sum(const std::vector<std::string>& samples, const std::string& name,
           const std::vector<std::string>& labels) {
  double sum = 0;
  for (const std::string& s : samples) {
    if (!absl::StartsWith(s, name + "{")) continue;
    bool all = true;
    for (const std::string& l : labels) all = all && absl::StrContains(s, l);
    if (all) sum += std::stod(s.substr(s.rfind(' ') + 1));
  }
  return sum;
}

int GrpcSeries(const std::vector<std::string>& samples) {
  int n = 0;
  for (const std::string& s : samples) n += absl::StartsWith(s, "b24gate_grpc_") ? 1 : 0;
  return n;
}

TEST(GrpcMetrics, UnknownPathsShareOneLabelValue) {
  auto stack = WithMetrics();
  ASSERT_TRUE(stack);
  auto call_paths = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      grpc::Status s = CallPath(stack->channel().get(), absl::StrCat("/x", i, ".S/M", i));
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << i;
    }
  };
  call_paths(0, 10);
  const int series_after_10 = GrpcSeries(Scrape(*stack));
  call_paths(10, 300);
  const std::vector<std::string> samples = Scrape(*stack);
  EXPECT_EQ(GrpcSeries(samples), series_after_10) << "unknown paths added series";
  for (const std::string& s : samples) EXPECT_FALSE(absl::StrContains(s, "x1.S")) << s;
  EXPECT_EQ(Sum(samples, "b24gate_grpc_handled_total",
                {"grpc_service=\"unknown\"", "grpc_method=\"unknown\"", "grpc_code=\"UNIMPLEMENTED\""}),
            300);
  // The gateway's own methods keep their names.
  ASSERT_TRUE(Call1(*stack, "user.current", json::object()).status.ok());
  EXPECT_EQ(Sum(Scrape(*stack), "b24gate_grpc_handled_total",
                {"grpc_service=\"bitrix24.gateway.v1.GatewayService\"", "grpc_method=\"Call\""}),
            1);
}

TEST(GrpcMetrics, CallsWithAlmostNoTimeLeftAreNotCountedUnimplemented) {
  auto stack = WithMetrics();
  ASSERT_TRUE(stack);
  constexpr int kCalls = 200;
  std::map<grpc::StatusCode, int> seen;
  for (int i = 0; i < kCalls; ++i) {
    pb::CallRequest request;
    request.set_method("user.current");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::microseconds(500 + 5 * (i % 100)));
    pb::CallResponse response;
    ++seen[stack->stub().Call(&ctx, request, &response).error_code()];
  }
  for (const auto& [code, n] : seen) std::printf("client saw code %d: %d calls\n", code, n);
  // Some calls never reach the server (their deadline passes first); those
  // that do are each counted once, when gRPC has finished them.
  std::vector<std::string> samples;
  const std::string call = "grpc_method=\"Call\"";
  ASSERT_TRUE(WaitFor([&] {
    samples = Scrape(*stack);
    double started = Sum(samples, "b24gate_grpc_started_total", {});
    return started > 0 && Sum(samples, "b24gate_grpc_handled_total", {}) == started;
  }));
  std::printf("the gateway saw %g of the %d calls\n",
              Sum(samples, "b24gate_grpc_started_total", {call}), kCalls);
  EXPECT_GT(Sum(samples, "b24gate_grpc_started_total", {call}), 0);
  EXPECT_EQ(Sum(samples, "b24gate_grpc_handled_total", {"grpc_code=\"UNIMPLEMENTED\""}), 0);
  EXPECT_EQ(Sum(samples, "b24gate_grpc_started_total", {"grpc_method=\"unknown\""}), 0);
  EXPECT_EQ(Sum(samples, "b24gate_grpc_handled_total", {call, "grpc_code=\"DEADLINE_EXCEEDED\""}) +
                Sum(samples, "b24gate_grpc_handled_total", {call, "grpc_code=\"CANCELLED\""}) +
                Sum(samples, "b24gate_grpc_handled_total", {call, "grpc_code=\"OK\""}),
            Sum(samples, "b24gate_grpc_started_total", {call}));
}

}  // namespace
}  // namespace b24gate::e2e::grpc_metrics_test
