// Client authentication end to end: a gateway configured with API clients
// refuses every RPC of GatewayService and AdminService without a known
// bearer token (UNAUTHENTICATED, nothing sent to the portal), accepts the
// configured ones, leaves health checks open, counts refusals by reason,
// names the client in the access log, and never prints a presented token.
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "tests/e2e/auth_clients.h"
#include "tests/e2e/output_capture.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::client_auth_test {
namespace {

// Every RPC of both services once, with harmless reads; the name and status
// of each.
std::vector<std::pair<std::string, grpc::Status>> EveryRpc(Stack& stack) {
  std::vector<std::pair<std::string, grpc::Status>> out;
  out.emplace_back("Call", Call1(stack, "crm.lead.list", {{"select", {"ID"}}}).status);
  out.emplace_back("Call(bulk)",
                   CallBulk(stack, "crm.lead.get", {{{"id", 1}}, {{"id", 2}}}).status);
  out.emplace_back("CallBatch", CallBatch(stack, {{"a", "crm.lead.get?id=1", nullptr}}).status);
  out.emplace_back("CallMany", CallMany(stack, "crm.lead.get", {{{"id", 1}}, {{"id", 2}}}).status);
  out.emplace_back("GetAll", GetAll(stack, "crm.company.list", {{"select", {"ID"}}}).status);
  out.emplace_back("GetById", GetById(stack, "crm.lead.get", {1, 2}).status);
  auto admin = pb::AdminService::NewStub(stack.channel());
  pb::ListPortalsResponse portals;
  out.emplace_back("ListPortals", admin->ListPortals(Ctx().get(), {}, &portals));
  pb::UpdatePortalTuningResponse tuned;
  out.emplace_back("UpdatePortalTuning",
                   admin->UpdatePortalTuning(Ctx().get(), pb::UpdatePortalTuningRequest(), &tuned));
  return out;
}

grpc::Status HealthCheck(grpc::Channel* channel) {
  grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                   grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return grpc::internal::BlockingUnaryCall<grpc::health::v1::HealthCheckRequest,
                                           grpc::health::v1::HealthCheckResponse,
                                           grpc::protobuf::MessageLite,
                                           grpc::protobuf::MessageLite>(
      channel, method, Ctx(10).get(), request, &response);
}

TEST(ClientAuth, EveryRpcRefusesMissingOrUnknownTokensAndSendsNothing) {
  auto stack = Up({}, WithClients(""));
  ASSERT_TRUE(stack);
  const int64_t before = Requests(*stack);
  ASSERT_GE(before, 0);
  for (const auto& [token, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "missing credentials"}, {kWrongToken, "unknown token"}}) {
    stack->UseToken(token);
    for (const auto& [rpc, status] : EveryRpc(*stack)) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << rpc << " with token \"" << token << "\": " << status.error_message();
      EXPECT_TRUE(absl::StrContains(status.error_message(), why)) << rpc << ": " << status.error_message();
    }
  }
  EXPECT_EQ(Requests(*stack), before) << "a refused call reached the portal";

  // Health stays open to probes without credentials.
  stack->UseToken("");
  EXPECT_TRUE(HealthCheck(stack->channel().get()).ok());

  stack->UseToken(kFullToken);
  for (const auto& [rpc, status] : EveryRpc(*stack)) {
    EXPECT_TRUE(status.ok()) << rpc << ": " << status.error_message();
  }
  EXPECT_GT(Requests(*stack), before);
}

TEST(ClientAuth, MalformedAuthorizationIsRefused) {
  auto stack = Up({}, WithClients(""));
  ASSERT_TRUE(stack);
  const int64_t before = Requests(*stack);
  for (std::string value : {std::string("Basic ") + kFullToken, std::string(kFullToken),
                            std::string("Bearer ")}) {
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", value);
    pb::CallRequest request;
    request.set_method("crm.lead.list");
    pb::CallResponse response;
    grpc::Status status = stack->stub().Call(ctx.get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << value;
    EXPECT_FALSE(absl::StrContains(status.error_message(), kFullToken)) << status.error_message();
  }
  // The scheme is case-insensitive.
  auto ctx = Ctx();
  ctx->AddMetadata("authorization", std::string("bearer ") + kFullToken);
  pb::CallRequest request;
  request.set_method("crm.lead.list");
  pb::CallResponse response;
  EXPECT_TRUE(stack->stub().Call(ctx.get(), request, &response).ok());
  EXPECT_EQ(Requests(*stack), before + 1);
}

TEST(ClientAuth, AnonymousWithoutClientsConfigured) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  for (const auto& [rpc, status] : EveryRpc(*stack)) {
    EXPECT_TRUE(status.ok()) << rpc << ": " << status.error_message();
  }
}

TEST(ClientAuth, RefusalsAreCountedAndLoggedWithoutTheToken) {
  GatewaySpec spec = WithClients(kWrongToken);
  spec.extra_args = {"--metrics-listen", "127.0.0.1:0", "--log-level", "debug"};
  OutputCapture capture;
  std::string metrics;
  std::vector<std::string> errors;
  {
    auto stack = Up({}, spec);
    if (stack) {
      for (const auto& [rpc, status] : EveryRpc(*stack)) errors.push_back(status.error_message());
      stack->UseToken(kLimitedToken);
      errors.push_back(Call1(*stack, "crm.deal.delete", {{"id", 1}}).status.error_message());
      errors.push_back(Call1(*stack, "crm.deal.list", {{"select", {"ID"}}}).status.error_message());
      stack->UseToken("");
      errors.push_back(Call1(*stack, "crm.deal.list", {}).status.error_message());
      metrics = ScrapeMetrics(stack->gateway());
    }
  }
  std::string output = capture.Stop();
  ASSERT_FALSE(metrics.empty()) << output.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(metrics, "b24gate_auth_failures_total{reason=\"unknown_token\"} 8"))
      << metrics;
  EXPECT_TRUE(
      absl::StrContains(metrics, "b24gate_auth_failures_total{reason=\"missing_credentials\"} 1"));
  EXPECT_TRUE(absl::StrContains(metrics, "b24gate_permission_denied_total{client=\"limited\"} 1"));
  // The access log names the client of an accepted call, and the peer and
  // reason of a refused one.
  EXPECT_TRUE(absl::StrContains(output, "\"client\":\"limited\"")) << output.substr(0, 3000);
  EXPECT_TRUE(absl::StrContains(output, "\"peer\":\"ipv4:127.0.0.1:")) << output.substr(0, 3000);
  EXPECT_TRUE(absl::StrContains(output, "unknown token"));
  // No presented token anywhere: not in errors, logs or metrics.
  for (const char* token : {kWrongToken, kLimitedToken}) {
    EXPECT_FALSE(absl::StrContains(output, token)) << token;
    EXPECT_FALSE(absl::StrContains(metrics, token)) << token;
    for (const auto& e : errors) EXPECT_FALSE(absl::StrContains(e, token)) << e;
  }
}

}  // namespace
}  // namespace b24gate::e2e::client_auth_test
