// Client permissions end to end: each configured client may use only its
// portals and methods (allow/deny patterns, deny wins, the read-only role,
// the admin role for AdminService). Every command is checked before anything
// is sent: a refused call or batch leaves the portal's request count and its
// data unchanged, and the error (PERMISSION_DENIED) names the client, the
// method and, in a batch, the command.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "tests/e2e/auth_clients.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::client_acl_test {
namespace {

// Read straight from the emulator (it counts as one request there).
bool DealExists(Stack& stack, int id) {
  json got = stack.Rest("crm.deal.get", {{"id", id}});
  return got.is_object() && got.contains("result") && got["result"].is_object();
}

TEST(ClientAcl, DeniedMethodIsRefusedInEveryRpcAndSpelling) {
  auto stack = Up({}, WithClients(kLimitedToken));
  ASSERT_TRUE(stack);
  ASSERT_TRUE(DealExists(*stack, 1));
  const int64_t before = Requests(*stack);
  for (const char* method : {"crm.deal.delete", "CRM.DEAL.DELETE", "Crm.Deal.Delete",
                             "crm.deal.delete.json"}) {
    ExpectDenied(Call1(*stack, method, {{"id", 1}}).status,
                 {"crm.deal.delete", "\"limited\""});
    ExpectDenied(CallBulk(*stack, method, {{{"id", 1}}, {{"id", 2}}}).status, {"crm.deal.delete"});
    ExpectDenied(CallMany(*stack, method, {{{"id", 1}}}).status, {"crm.deal.delete"});
    // GetById and GetAll run only reads: a write is refused as a bad
    // argument before permissions apply, and is not sent either.
    for (const grpc::Status& read : {GetById(*stack, method, {1, 2}).status,
                                     GetAll(*stack, method, json::object()).status}) {
      EXPECT_EQ(read.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << read.error_message();
      EXPECT_TRUE(absl::StrContains(read.error_message(), method)) << read.error_message();
    }
  }
  EXPECT_EQ(Requests(*stack), before) << "a refused call reached the portal";
  EXPECT_TRUE(DealExists(*stack, 1));
  // What is not denied goes through.
  const int64_t after_checks = Requests(*stack);
  CallOut listed = Call1(*stack, "crm.deal.list", {{"select", {"ID"}}});
  EXPECT_TRUE(listed.status.ok()) << listed.status.error_message();
  EXPECT_EQ(Requests(*stack), after_checks + 1);
}

TEST(ClientAcl, ABatchWithOneDeniedCommandIsRefusedWholeBeforeSending) {
  auto stack = Up({}, WithClients(kLimitedToken));
  ASSERT_TRUE(stack);
  const int64_t before = Requests(*stack);
  for (const char* command : {"crm.deal.delete?ID=1", "CRM.DEAL.DELETE?ID=1",
                              "Crm.Deal.Delete.json?ID=1", "crm.deal.DELETE?id=1&x=2"}) {
    BatchOut out = CallBatch(*stack, {{"first", "crm.deal.list?select[]=ID", nullptr},
                                      {"update", "crm.deal.update?id=2&fields[TITLE]=renamed", nullptr},
                                      {"del", command, nullptr}});
    ExpectDenied(out.status, {"commands[2]", "\"del\"", "crm.deal.delete", "\"limited\""});
    EXPECT_EQ(out.response.results_size(), 0);
  }
  // The method-and-params form too, and a denied command in a later chunk
  // of a batch longer than 50 commands.
  ExpectDenied(CallBatch(*stack, {{"del", "crm.deal.delete", {{"id", 1}}}}).status,
               {"\"del\"", "crm.deal.delete"});
  std::vector<Cmd> long_batch;
  for (int i = 0; i < 60; ++i) long_batch.push_back({"g" + std::to_string(i), "crm.deal.get?id=1", nullptr});
  long_batch.push_back({"late", "crm.lead.delete?id=3", nullptr});
  ExpectDenied(CallBatch(*stack, long_batch).status, {"commands[60]", "\"late\"", "crm.lead.delete"});
  EXPECT_EQ(Requests(*stack), before) << "part of a refused batch reached the portal";
  EXPECT_TRUE(DealExists(*stack, 1));
  json deal = stack->Rest("crm.deal.get", {{"id", 2}});
  EXPECT_NE(deal["result"]["TITLE"], "renamed");
  // The same batch without the denied command runs.
  BatchOut ok = CallBatch(*stack, {{"first", "crm.deal.list?select[]=ID", nullptr}});
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
}

TEST(ClientAcl, AllowPatternsLimitWhatMayBeCalled) {
  auto stack = Up({}, WithClients(kNarrowToken));
  ASSERT_TRUE(stack);
  const int64_t before = Requests(*stack);
  ExpectDenied(Call1(*stack, "crm.deal.list", {}).status, {"crm.deal.list", "\"narrow\""});
  ExpectDenied(CallBatch(*stack, {{"l", "crm.lead.list", nullptr}, {"d", "crm.deal.list", nullptr}}).status,
               {"commands[1]", "\"d\"", "crm.deal.list"});
  EXPECT_EQ(Requests(*stack), before);
  EXPECT_TRUE(Call1(*stack, "crm.lead.list", {{"select", {"ID"}}}).status.ok());
  EXPECT_TRUE(GetAll(*stack, "crm.lead.list", {{"select", {"ID"}}}).status.ok());
}

TEST(ClientAcl, PortalNotAllowed) {
  auto stack = Up({}, WithClients(kOutsiderToken));
  ASSERT_TRUE(stack);
  const int64_t before = Requests(*stack);
  // The default portal and the same portal by name.
  ExpectDenied(Call1(*stack, "crm.lead.list", {}).status, {"portal \"main\"", "\"outsider\""});
  ExpectDenied(Call1(*stack, "crm.lead.list", {}, false, "main").status, {"portal \"main\""});
  ExpectDenied(GetAll(*stack, "crm.lead.list", json::object()).status, {"portal \"main\""});
  ExpectDenied(CallBatch(*stack, {{"a", "crm.lead.list", nullptr}}).status, {"portal \"main\""});
  EXPECT_EQ(Requests(*stack), before);
}

TEST(ClientAcl, ReadOnlyRoleReadsButNeverWrites) {
  auto stack = Up({}, WithClients(kReaderToken));
  ASSERT_TRUE(stack);
  int64_t before = Requests(*stack);
  ExpectDenied(Call1(*stack, "crm.deal.add", {{"fields", {{"TITLE", "x"}}}}).status,
               {"crm.deal.add", "read-only", "\"reader\""});
  ExpectDenied(CallBatch(*stack, {{"r", "crm.deal.get?id=1", nullptr},
                                  {"w", "crm.deal.update?id=1&fields[TITLE]=y", nullptr}})
                   .status,
               {"\"w\"", "crm.deal.update"});
  ExpectDenied(CallMany(*stack, "crm.deal.delete", {{{"id", 1}}}).status, {"crm.deal.delete"});
  // Unknown methods count as writes; `idempotent` does not make a read.
  pb::CallRequest custom;
  custom.set_method("some.custom.method");
  custom.set_idempotent(true);
  ExpectDenied(DoCall(*stack, custom).status, {"some.custom.method"});
  EXPECT_EQ(Requests(*stack), before);
  EXPECT_TRUE(DealExists(*stack, 1));

  EXPECT_TRUE(Call1(*stack, "crm.deal.get", {{"id", 1}}).status.ok());
  GetAllOut all = GetAll(*stack, "crm.deal.list", {{"select", {"ID"}}});
  EXPECT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.items.size(), 120u);
  EXPECT_TRUE(GetById(*stack, "crm.deal.get", {1, 2}).status.ok());
  EXPECT_TRUE(CallBatch(*stack, {{"r", "crm.deal.get?id=1", nullptr}}).status.ok());
}

TEST(ClientAcl, AdminServiceNeedsTheAdminRole) {
  auto stack = Up({}, WithClients(kLimitedToken));
  ASSERT_TRUE(stack);
  for (const char* token : {kLimitedToken, kReaderToken, kNarrowToken}) {
    auto admin = pb::AdminService::NewStub(stack->ChannelAs(token));
    pb::ListPortalsResponse portals;
    ExpectDenied(admin->ListPortals(Ctx().get(), {}, &portals), {"AdminService", "admin"});
    pb::UpdatePortalTuningRequest update;
    update.mutable_tuning()->set_batch_size(5);
    pb::UpdatePortalTuningResponse state;
    ExpectDenied(admin->UpdatePortalTuning(Ctx().get(), update, &state), {"admin"});
  }
  auto admin = pb::AdminService::NewStub(stack->ChannelAs(kFullToken));
  pb::ListPortalsResponse portals;
  ASSERT_TRUE(admin->ListPortals(Ctx().get(), {}, &portals).ok());
  // The refused update changed nothing.
  EXPECT_EQ(portals.portals(0).tuning().batch_size(), 50);
}

TEST(ClientAcl, ACachedAnswerIsGuardedLikeAFreshOne) {
  GatewaySpec spec = WithClients(kFullToken);
  spec.settings["cache"] = {{"rules", {{{"methods", "crm.deal.get"}, {"ttl_seconds", 300}}}}};
  auto stack = Up({}, spec);
  ASSERT_TRUE(stack);
  ASSERT_TRUE(Call1(*stack, "crm.deal.get", {{"id", 1}}).status.ok());
  const int64_t before = Requests(*stack);
  EXPECT_TRUE(Call1(*stack, "crm.deal.get", {{"id", 1}}).status.ok());
  EXPECT_EQ(Requests(*stack), before) << "the second read was not answered from the cache";
  // A client not allowed crm.deal.* gets no cached deal either.
  stack->UseToken(kNarrowToken);
  ExpectDenied(Call1(*stack, "crm.deal.get", {{"id", 1}}).status, {"crm.deal.get", "\"narrow\""});
  ExpectDenied(GetById(*stack, "crm.deal.get", {1}).status, {"crm.deal.get"});
}

TEST(ClientAcl, GetAllCannotRunABatch) {
  // A `batch` page would run whatever its cmd parameter names, past the
  // per-command checks; GetAll refuses it (for anonymous callers too).
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t before = Requests(*stack);
  GetAllOut out = GetAll(*stack, "batch", {{"cmd", {{"d", "crm.deal.delete?id=1"}}}});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << out.status.error_message();
  EXPECT_EQ(Requests(*stack), before);
}

}  // namespace
}  // namespace b24gate::e2e::client_acl_test
