// Error handling end to end: invalid requests are refused before anything is
// sent, Bitrix24 errors map to chosen gRPC statuses with ErrorInfo, and errors
// of sub-commands are reported per item.
#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::errors_test {
namespace {

void ExpectInvalid(const grpc::Status& status, const std::string& what) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << what << ": " << status.error_code() << " " << status.error_message();
  EXPECT_FALSE(status.error_message().empty()) << what;
}

TEST(Errors, InvalidRequestsNeverReachThePortal) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  ASSERT_EQ(Requests(*stack), 0);

  ExpectInvalid(Call1(*stack, "", json::object()).status, "empty method");
  ExpectInvalid(Call1(*stack, "crm lead list", json::object()).status, "method with spaces");
  ExpectInvalid(Call1(*stack, "crm.lead.list", "filter[ID]=1").status, "params a string");
  ExpectInvalid(Call1(*stack, "batch", json::object()).status, "batch through Call");
  {
    pb::CallRequest both;
    both.set_method("crm.lead.get");
    *both.mutable_params() = V({{"id", 1}});
    *both.add_bulk_params() = V({{"id", 2}});
    ExpectInvalid(DoCall(*stack, both).status, "params and bulk_params");
  }
  ExpectInvalid(CallBulk(*stack, "crm.lead.get", {{{"id", 1}}, json(42)}).status, "bulk item a number");

  ExpectInvalid(CallBatch(*stack, {{"a", "crm.lead.get", {{"id", 1}}}, {"a", "crm.lead.get", {{"id", 2}}}}).status,
                "duplicate keys");
  ExpectInvalid(CallBatch(*stack, {{"0", "crm.lead.get", {{"id", 1}}}, {"1", "crm.lead.get", {{"id", 2}}}}).status,
                "numeric keys");
  ExpectInvalid(CallBatch(*stack, {{"a", "crm.company.get", {{"id", "$result[b][COMPANY_ID]"}}},
                                   {"b", "crm.lead.get", {{"id", 1}}}})
                    .status,
                "reference to a later key");
  ExpectInvalid(CallBatch(*stack, {{"a", "crm.company.get", {{"id", "$result[nope][COMPANY_ID]"}}}}).status,
                "reference to an unknown key");
  ExpectInvalid(CallBatch(*stack, {}).status, "no commands");
  ExpectInvalid(CallBatch(*stack, {{"a", "batch", json::object()}}).status, "nested batch");
  ExpectInvalid(CallBatch(*stack, {{"a", "crm.lead.update", {{"id", 1}, {"fields", {{"COMMENTS", nullptr}}}}}}).status,
                "null in a batch command");
  {
    std::vector<Cmd> commands;
    for (int i = 0; i < 60; ++i) commands.push_back({"c" + std::to_string(i), "crm.lead.get", {{"id", 1}}});
    commands[55].params = {{"id", "$result[c10][ID]"}};  // crosses the 50-command boundary
    BatchOut out = CallBatch(*stack, commands);
    ExpectInvalid(out.status, "reference across the 50 boundary");
    EXPECT_NE(out.status.error_message().find("c10"), std::string::npos) << out.status.error_message();
  }

  ExpectInvalid(GetAll(*stack, "crm.lead.list", {{"start", 50}}).status, "GetAll with start");
  ExpectInvalid(GetAll(*stack, "", json::object()).status, "GetAll without method");
  ExpectInvalid(GetById(*stack, "crm.lead.get", {}).status, "GetById without ids");
  ExpectInvalid(GetById(*stack, "crm.lead.get", {json(1), json(true)}).status, "GetById with a bool id");
  ExpectInvalid(GetById(*stack, "crm.lead.get", {json("")}).status, "GetById with an empty id");
  ExpectInvalid(GetById(*stack, "crm.lead.get", {json(1)}, "ID", {{"ID", 5}}).status,
                "GetById with the id in params");

  EXPECT_EQ(Requests(*stack), 0) << stack->EmulatorStats().dump();
}

TEST(Errors, SixtyIndependentBatchCommandsAreSplit) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_GE(ids.size(), 60u);
  stack->ResetEmulator();
  std::vector<Cmd> commands;
  for (int i = 0; i < 60; ++i) commands.push_back({"lead" + std::to_string(i), "crm.lead.get", {{"id", ids[i]}}});
  // References inside one 50-command chunk are fine.
  commands[52] = {"company52", "crm.lead.get", {{"id", "$result[lead51][ID]"}}};
  BatchOut out = CallBatch(*stack, commands);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 60);
  for (int i = 0; i < 60; ++i) {
    const pb::BatchResult& r = out.response.results(i);
    EXPECT_EQ(r.key(), commands[i].key);
    ASSERT_FALSE(r.result().has_error()) << r.key() << ": " << r.result().error().description();
    EXPECT_EQ(IdOf(J(r.result().result())), ids[i == 52 ? 51 : i].get<int64_t>()) << r.key();
  }
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "batches"), 2);
  EXPECT_EQ(StatInt(stats, "requests"), 2);
}

TEST(Errors, UnknownPortalIsNotFound) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  CallOut call = Call1(*stack, "crm.lead.list", json::object(), false, "nosuchportal");
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(call.status), "UNKNOWN_PORTAL");
  EXPECT_EQ(CallBatch(*stack, {{"a", "crm.lead.get", {{"id", 1}}}}, false, "nosuchportal").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetAll(*stack, "crm.lead.list", json::object(), "", "nosuchportal").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetById(*stack, "crm.lead.get", {json(1)}, "", nullptr, "nosuchportal").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The configured name works.
  EXPECT_TRUE(Call1(*stack, "crm.lead.list", json::object(), false, "main").status.ok());
  EXPECT_EQ(Requests(*stack), 1);
}

TEST(Errors, UnknownMethodIsNotFound) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.nosuch.method", json::object());
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(out.status), "ERROR_METHOD_NOT_FOUND");
  google::rpc::ErrorInfo info = InfoOf(out.status);
  EXPECT_EQ(info.metadata().at("description"), "Method not found!");
  EXPECT_EQ(info.metadata().at("http_status"), "404");
  EXPECT_EQ(Requests(*stack), 1);  // not retried
}

TEST(Errors, OldCrmEmptyErrorCodeIsNotFound) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.lead.get", {{"id", 999999}});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(out.status), "CRM_ERROR");
  google::rpc::ErrorInfo info = InfoOf(out.status);
  EXPECT_EQ(info.metadata().at("description"), "Not found");
  EXPECT_EQ(info.metadata().at("bitrix_error"), "");
  EXPECT_EQ(out.status.error_message(), "Not found");
  EXPECT_EQ(Requests(*stack), 1);

  // Another old-CRM answer with an empty code: a bad id is a bad argument.
  CallOut bad = Call1(*stack, "crm.lead.get", {{"id", "abc"}});
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.status.error_message();
  EXPECT_EQ(ReasonOf(bad.status), "CRM_ERROR");
}

TEST(Errors, SubCommandErrorsArePerItem) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  BatchOut out = CallBatch(*stack, {{"good", "crm.lead.get", {{"id", 1}}},
                                    {"missing", "crm.lead.get", {{"id", 999999}}},
                                    {"nomethod", "crm.nosuch.method", json::object()},
                                    {"also_good", "crm.lead.list", {{"select", {"ID"}}}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  auto r = out.by_key();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_FALSE(r["good"].has_error());
  EXPECT_EQ(IdOf(J(r["good"].result())), 1);
  ASSERT_TRUE(r["missing"].has_error());
  EXPECT_EQ(r["missing"].error().code(), "");
  EXPECT_EQ(r["missing"].error().description(), "Not found");
  EXPECT_EQ(r["missing"].error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  ASSERT_TRUE(r["nomethod"].has_error());
  EXPECT_EQ(r["nomethod"].error().code(), "ERROR_METHOD_NOT_FOUND");
  EXPECT_EQ(r["nomethod"].error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_FALSE(r["also_good"].has_error());
  EXPECT_EQ(r["also_good"].total(), 300);
}

// A `$result[...]` naming a missing field resolves to an empty parameter on
// the portal; the command's error gets the code the same parameter gets in a
// lone Call, though a batch entry carries no HTTP status of its own.
TEST(Errors, AMissingResultFieldMapsAsInASingleCall) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  BatchOut batch = CallBatch(*stack, {{"first", "crm.lead.list", {{"select", {"ID"}}}},
                                      {"lead", "crm.lead.get", {{"id", "$result[first][0][NO_SUCH_FIELD]"}}}});
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  auto r = batch.by_key();
  ASSERT_TRUE(r["lead"].has_error());
  EXPECT_EQ(r["lead"].error().grpc_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT))
      << r["lead"].error().code() << " " << r["lead"].error().description();

  CallOut single = Call1(*stack, "crm.lead.get", {{"id", ""}});
  EXPECT_EQ(single.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r["lead"].error().grpc_code(), static_cast<int>(single.status.error_code()));
  EXPECT_EQ(r["lead"].error().description(), single.status.error_message());
}

TEST(Errors, HaltStopsAtTheFirstError) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<Cmd> commands = {{"first", "crm.lead.get", {{"id", 1}}},
                               {"broken", "crm.lead.get", {{"id", 999999}}},
                               {"later", "crm.lead.add", {{"fields", {{"TITLE", "must not exist"}}}}},
                               {"last", "crm.lead.list", json::object()}};
  BatchOut out = CallBatch(*stack, commands, /*halt=*/true);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 4);
  EXPECT_EQ(out.response.results(0).key(), "first");
  EXPECT_FALSE(out.response.results(0).result().has_error());
  EXPECT_EQ(out.response.results(1).result().error().description(), "Not found");
  for (int i : {2, 3}) {
    const pb::CallResult& r = out.response.results(i).result();
    EXPECT_EQ(out.response.results(i).key(), commands[i].key);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error().code(), "NOT_EXECUTED");
    EXPECT_NE(r.error().description().find("broken"), std::string::npos) << r.error().description();
  }
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 0);

  // Without halt every command runs.
  BatchOut all = CallBatch(*stack, commands, /*halt=*/false);
  ASSERT_TRUE(all.status.ok());
  EXPECT_FALSE(all.response.results(2).result().has_error());
  EXPECT_FALSE(all.response.results(3).result().has_error());
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 1);
}

TEST(Errors, HaltAcrossSplitBatchesStopsLaterChunks) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<Cmd> commands;
  for (int i = 0; i < 55; ++i) commands.push_back({"c" + std::to_string(i), "crm.lead.get", {{"id", 1}}});
  commands[10].params = {{"id", 999999}};
  BatchOut out = CallBatch(*stack, commands, /*halt=*/true);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 55);
  for (int i = 0; i < 55; ++i) {
    const pb::CallResult& r = out.response.results(i).result();
    if (i < 10) {
      EXPECT_FALSE(r.has_error()) << i;
    } else if (i == 10) {
      EXPECT_EQ(r.error().description(), "Not found");
    } else {
      EXPECT_EQ(r.error().code(), "NOT_EXECUTED") << i;
    }
  }
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "requests"), 1);  // the second chunk was never sent
}

}  // namespace
}  // namespace b24gate::e2e::errors_test
