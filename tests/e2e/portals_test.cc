// Portals added, listed, changed and removed at run time through
// AdminService, against a real gateway and emulator: calls reach a portal by
// name, member_id or domain; a removed portal's calls get NOT_FOUND; the
// registry (--portal-store) survives a restart; secrets are never returned.
#include <gtest/gtest.h>

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::portals_test {
namespace {

// A stack whose gateway keeps registered portals in a fresh directory.
std::unique_ptr<Stack> UpWithStore() {
  GatewaySpec gateway;
  gateway.extra_args = {"--portal-store", ::b24gate::testing::TempDir() + "/portals"};
  return Up({}, gateway);
}

// The emulator's webhook, under another path so the gateway cannot tell it
// is the configured portal's.
pb::AddPortalRequest AddAcme(Stack& stack) {
  pb::AddPortalRequest add;
  add.set_name("acme");
  add.set_member_id("member-acme");
  add.set_domain("acme.example");
  add.mutable_credentials()->set_webhook_url(stack.webhook_url());
  add.mutable_tuning()->set_batch_size(7);
  return add;
}

TEST(Portals, AnAddedPortalIsCalledByNameMemberIdOrDomainAndListedWithoutSecrets) {
  auto stack = UpWithStore();
  ASSERT_TRUE(stack);
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::AddPortalResponse added;
  grpc::Status status = admin->AddPortal(Ctx().get(), AddAcme(*stack), &added);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(added.portal().tuning().batch_size(), 7);
  EXPECT_FALSE(added.portal().configured());
  EXPECT_FALSE(added.portal().oauth());
  EXPECT_EQ(added.portal().domain(), "acme.example");
  for (const std::string& key : {"acme", "member-acme", "acme.example"}) {
    CallOut out = Call1(*stack, "user.current", json::object(), false, key);
    EXPECT_TRUE(out.status.ok()) << key << ": " << out.status.error_message();
  }
  pb::GetPortalRequest get;
  get.set_portal("member-acme");
  pb::GetPortalResponse state;
  ASSERT_TRUE(admin->GetPortal(Ctx().get(), get, &state).ok());
  EXPECT_TRUE(state.portal().live());
  EXPECT_EQ(state.portal().status().commands_sent(), 3);

  // Two portals, one a page; then a filter.
  pb::ListPortalsRequest list;
  list.set_page_size(1);
  pb::ListPortalsResponse first;
  ASSERT_TRUE(admin->ListPortals(Ctx().get(), list, &first).ok());
  ASSERT_EQ(first.portals_size(), 1);
  EXPECT_EQ(first.portals(0).name(), "acme");
  ASSERT_FALSE(first.next_page_token().empty());
  list.set_page_token(first.next_page_token());
  pb::ListPortalsResponse second;
  ASSERT_TRUE(admin->ListPortals(Ctx().get(), list, &second).ok());
  ASSERT_EQ(second.portals_size(), 1);
  EXPECT_EQ(second.portals(0).name(), "main");
  EXPECT_TRUE(second.portals(0).configured());
  EXPECT_TRUE(second.next_page_token().empty());
  pb::ListPortalsRequest filtered;
  filtered.set_filter("ACME.EX");
  pb::ListPortalsResponse only;
  ASSERT_TRUE(admin->ListPortals(Ctx().get(), filtered, &only).ok());
  ASSERT_EQ(only.portals_size(), 1);
  EXPECT_EQ(only.portals(0).name(), "acme");
  // The webhook's secret path never comes back.
  const std::string code = stack->webhook_url().substr(stack->webhook_url().find("/rest/") + 6);
  EXPECT_EQ(first.DebugString().find(code), std::string::npos);
  EXPECT_EQ(added.DebugString().find(code), std::string::npos);
}

TEST(Portals, ARemovedPortalIsNotFoundAndAConfiguredOneCannotBeRemoved) {
  auto stack = UpWithStore();
  ASSERT_TRUE(stack);
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::AddPortalResponse added;
  ASSERT_TRUE(admin->AddPortal(Ctx().get(), AddAcme(*stack), &added).ok());
  ASSERT_TRUE(Call1(*stack, "user.current", json::object(), false, "acme").status.ok());
  pb::RemovePortalRequest remove;
  remove.set_portal("acme.example");
  pb::RemovePortalResponse removed;
  ASSERT_TRUE(admin->RemovePortal(Ctx().get(), remove, &removed).ok());
  for (const std::string& key : {"acme", "member-acme", "acme.example"}) {
    EXPECT_EQ(Call1(*stack, "user.current", json::object(), false, key).status.error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(admin->RemovePortal(Ctx().get(), remove, &removed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  remove.set_portal("main");
  EXPECT_EQ(admin->RemovePortal(Ctx().get(), remove, &removed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  pb::AddPortalRequest twice = AddAcme(*stack);
  twice.set_name("main");
  EXPECT_EQ(admin->AddPortal(Ctx().get(), twice, &added).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST(Portals, TheRegistryAndAChangeSurviveARestart) {
  auto stack = UpWithStore();
  ASSERT_TRUE(stack);
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::AddPortalResponse added;
  ASSERT_TRUE(admin->AddPortal(Ctx().get(), AddAcme(*stack), &added).ok());
  pb::UpdatePortalRequest update;
  update.set_portal("acme");
  update.set_plan("enterprise");
  update.mutable_tuning()->set_max_concurrency(3);
  pb::UpdatePortalResponse updated;
  grpc::Status status = admin->UpdatePortal(Ctx().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.portal().tuning().burst(), 250);

  ASSERT_TRUE(stack->RestartGateway().ok());
  admin = pb::AdminService::NewStub(stack->channel());
  pb::GetPortalRequest get;
  get.set_portal("member-acme");
  pb::GetPortalResponse state;
  ASSERT_TRUE(admin->GetPortal(Ctx().get(), get, &state).ok());
  EXPECT_FALSE(state.portal().live());
  EXPECT_EQ(state.portal().plan(), "enterprise");
  EXPECT_EQ(state.portal().tuning().batch_size(), 7);
  EXPECT_EQ(state.portal().tuning().max_concurrency(), 3);
  EXPECT_TRUE(Call1(*stack, "user.current", json::object(), false, "acme").status.ok());
}

}  // namespace
}  // namespace b24gate::e2e::portals_test
