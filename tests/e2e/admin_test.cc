// AdminService end to end: live state and run-time speed changes.
#include <gtest/gtest.h>

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::admin_test {
namespace {

TEST(Admin, ListPortalsShowsTheConfiguredTuning) {
  GatewaySpec gateway;
  gateway.portal = {{"burst", 40}, {"drain_per_second", 3}, {"batch_size", 25}};
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::ListPortalsResponse response;
  ASSERT_TRUE(admin->ListPortals(Ctx().get(), {}, &response).ok());
  ASSERT_EQ(response.portals_size(), 1);
  const pb::PortalState& p = response.portals(0);
  EXPECT_EQ(p.name(), "main");
  EXPECT_EQ(p.tuning().burst(), 40);
  EXPECT_EQ(p.tuning().drain_per_second(), 3);
  EXPECT_EQ(p.tuning().batch_size(), 25);
  EXPECT_EQ(p.status().rate_factor(), 1.0);
}

TEST(Admin, SlowingDownTakesEffectWithoutARestart) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::UpdatePortalTuningRequest update;
  update.mutable_tuning()->set_batch_size(5);
  update.mutable_tuning()->set_linger_ms(200);
  pb::UpdatePortalTuningResponse state;
  grpc::Status status = admin->UpdatePortalTuning(Ctx().get(), update, &state);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(state.portal().tuning().batch_size(), 5);

  pb::CallRequest bulk;
  bulk.set_method("crm.lead.list");
  for (int i = 0; i < 20; ++i) *bulk.add_bulk_params() = V({{"select", {"ID"}}, {"start", 50 * i}});
  pb::CallResponse response;
  ASSERT_TRUE(stack->stub().Call(Ctx().get(), bulk, &response).ok());
  ASSERT_EQ(response.results_size(), 20);
  auto stats = stack->EmulatorStats();
  // 20 calls in batches of at most 5: at least 4 HTTP requests.
  EXPECT_GE(stats["requests"].get<int>(), 4);
  EXPECT_EQ(stats["commands"].get<int>(), 20);

  pb::UpdatePortalTuningRequest reset;
  reset.set_reset(true);
  ASSERT_TRUE(admin->UpdatePortalTuning(Ctx().get(), reset, &state).ok());
  EXPECT_EQ(state.portal().tuning().batch_size(), 50);
}

TEST(Admin, OutOfRangeTuningIsRefusedAndChangesNothing) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::UpdatePortalTuningRequest update;
  update.mutable_tuning()->set_batch_size(51);
  update.mutable_tuning()->set_drain_per_second(1);
  pb::UpdatePortalTuningResponse state;
  grpc::Status status = admin->UpdatePortalTuning(Ctx().get(), update, &state);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("batch_size"), std::string::npos);
  pb::ListPortalsResponse list;
  ASSERT_TRUE(admin->ListPortals(Ctx().get(), {}, &list).ok());
  EXPECT_EQ(list.portals(0).tuning().drain_per_second(), 2);
  update.set_portal("nope");
  EXPECT_EQ(admin->UpdatePortalTuning(Ctx().get(), update, &state).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace b24gate::e2e::admin_test
