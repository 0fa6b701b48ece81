// CallBatch over REST 3.0, end to end: a real b24gate in front of a real
// b24-emulator. Commands travel as one REST 3.0 `batch` request (a JSON list,
// `as` = key) whose `$ref` / `$refArray` find earlier answers, with a webhook
// and with an OAuth token (sent in an Authorization header: the list has no
// place for `auth`); the first error answers every command, the commands
// before it having run; over 50 commands are split only where no reference
// crosses; a write inside a REST 3.0 batch struck by a fault is not repeated.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::rest_v3_batch_test {
namespace {

std::unique_ptr<Stack> UpV3() {
  EmulatorSpec emulator;
  emulator.seed = "tasks.task=100,user=3";
  emulator.extra_args = {"--no-limits"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 10000}, {"drain_per_second", 10000}};
  return Up(std::move(emulator), std::move(gateway));
}

constexpr bool kNoHalt = false;

json NewTask(const std::string& title) {
  return {{"fields", {{"title", title}, {"creatorId", 1}, {"responsibleId", 2}}}};
}

// A batch that writes, reads back by $ref and lists by $refArray.
std::vector<Cmd> ChainedCommands() {
  return {{"made", "tasks.task.add", NewTask("made in a batch")},
          {"got", "tasks.task.get", {{"id", {{"$ref", "made.id"}}}, {"select", {"id", "title"}}}},
          {"first", "tasks.task.list",
           {{"select", {"id"}}, {"order", {{"id", "ASC"}}}, {"pagination", {{"limit", 3}}}}},
          {"same", "tasks.task.list",
           {{"select", {"id"}}, {"filter", {{"id", "in", {{"$refArray", "first.id"}}}}}}}};
}

void ExpectChainAnswered(const BatchOut& out) {
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 4);
  std::vector<std::string> keys;
  for (const auto& r : out.response.results()) keys.push_back(r.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"made", "got", "first", "same"}));
  auto by_key = out.by_key();
  for (const auto& [key, r] : by_key) EXPECT_FALSE(r.has_error()) << key;
  const json made = J(by_key["made"].result());
  const json got = J(by_key["got"].result());
  EXPECT_EQ(got["item"]["id"], made["item"]["id"]);
  EXPECT_EQ(got["item"]["title"], "made in a batch");
  EXPECT_FALSE(J(by_key["got"].time()).is_null());
  const json first = J(by_key["first"].result())["items"];
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(J(by_key["same"].result())["items"], first);
}

TEST(RestV3Batch, CommandsTravelInOneRequestAndFindEarlierAnswers) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  ExpectChainAnswered(CallBatch(*stack, ChainedCommands(), kNoHalt, "", pb::API_VERSION_V3));
  const json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "requests"), 1);
  EXPECT_EQ(StatInt(stats, "batches"), 1);
  EXPECT_EQ(StatInt(stats, "commands"), 4);
  EXPECT_EQ(StatIn(stats, "created", "tasks.task"), 1);
}

TEST(RestV3Batch, AnOAuthTokenTravelsInTheAuthorizationHeader) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--oauth", "app.test:app-secret",
                         "--oauth-refresh-token", "refresh-for-v3-batch"};
  GatewaySpec gateway;
  const std::string token_file =
      ::testing::TempDir() + "/b24gate-v3batch-oauth-" + std::to_string(getpid());
  std::remove(token_file.c_str());
  gateway.customize = [token_file](json* portal, const std::string& address) {
    portal->erase("webhook");
    (*portal)["oauth"] = {{"client_id", "app.test"},
                          {"client_secret", "app-secret"},
                          {"refresh_token", "refresh-for-v3-batch"},
                          {"oauth_url", "http://" + address + "/oauth/token/"},
                          {"portal_url", "http://" + address + "/rest/"},
                          {"token_file", token_file}};
  };
  auto stack = Up(std::move(emulator), std::move(gateway));
  ASSERT_TRUE(stack);
  ExpectChainAnswered(CallBatch(*stack, ChainedCommands(), kNoHalt, "", pb::API_VERSION_V3));
}

TEST(RestV3Batch, TheFirstErrorAnswersEveryCommandAndWhatRanBeforeItStays) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  BatchOut out = CallBatch(*stack,
                           {{"made", "tasks.task.add", NewTask("before the error")},
                            {"missing", "tasks.task.get", {{"id", 987654321}}},
                            {"after", "tasks.task.add", NewTask("after the error")}},
                           kNoHalt, "", pb::API_VERSION_V3);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 3);
  for (const auto& r : out.response.results()) {
    ASSERT_TRUE(r.result().has_error()) << r.key();
    EXPECT_EQ(r.result().error().grpc_code(), grpc::StatusCode::NOT_FOUND) << r.key();
    EXPECT_EQ(r.result().error().code(), "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION");
  }
  // The portal ran the batch up to the error: the first write landed.
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "tasks.task"), 1);
}

// The first `n` task ids (the emulator's seeded ids have gaps).
std::vector<json> TaskIds(Stack& stack, int n) {
  pb::CallRequest request;
  request.set_method("tasks.task.list");
  request.set_api_version(pb::API_VERSION_V3);
  *request.mutable_params() =
      V({{"select", {"id"}}, {"order", {{"id", "ASC"}}}, {"pagination", {{"limit", n}}}});
  const json result = DoCall(stack, request).result();
  std::vector<json> ids;
  for (const json& item : result["items"]) ids.push_back(item["id"]);
  return ids;
}

TEST(RestV3Batch, OverFiftyCommandsSplitOnlyWhereNoReferenceCrosses) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  const std::vector<json> ids = TaskIds(*stack, 60);
  ASSERT_EQ(ids.size(), 60u);
  std::vector<Cmd> commands;
  for (int i = 0; i < 60; ++i) {
    commands.push_back({absl::StrCat("g", i), "tasks.task.get", {{"id", ids[i]}}});
  }
  stack->ResetEmulator();
  BatchOut out = CallBatch(*stack, commands, kNoHalt, "", pb::API_VERSION_V3);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 60);
  for (int i = 0; i < 60; ++i) {
    const auto& r = out.response.results(i);
    EXPECT_EQ(r.key(), absl::StrCat("g", i));
    ASSERT_FALSE(r.result().has_error()) << r.key();
    EXPECT_EQ(J(r.result().result())["item"]["id"], ids[i]);
  }
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "batches"), 2);

  commands[55].params = {{"id", {{"$ref", "g10.id"}}}};
  stack->ResetEmulator();
  out = CallBatch(*stack, commands, kNoHalt, "", pb::API_VERSION_V3);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(out.status.error_message(), "commands[55]"))
      << out.status.error_message();
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "requests"), 0);
}

TEST(RestV3Batch, AWriteInABatchStruckByAFaultIsNotRepeated) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  stack->SetFaults("500=@1,method=batch");
  BatchOut out = CallBatch(*stack, {{"made", "tasks.task.add", NewTask("once")}}, kNoHalt, "",
                           pb::API_VERSION_V3);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 1);
  EXPECT_EQ(out.response.results(0).result().error().grpc_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "tasks.task"), 1);
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "requests"), 1);
}

}  // namespace
}  // namespace b24gate::e2e::rest_v3_batch_test
