// CallMany and the unary bulk cap: no command is sent whose result cannot
// reach the caller. Many writes stream back one result each, in request
// order; a unary bulk call too large for one answer is refused before
// anything reaches the portal; a unary answer that still outgrows the
// message limit leaves out read bodies, never write results.
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::call_many_test {
namespace {

// Limits are not under test: the emulator charges nothing and refuses
// nothing, and the gateway's model does not pace (as in the fault matrix).
std::unique_ptr<Stack> UpUnlimited(nlohmann::json settings = json::object()) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 100000}, {"drain_per_second", 100000}};
  gateway.settings = std::move(settings);
  return Up(std::move(emulator), std::move(gateway));
}

std::vector<json> Adds(int n, const std::string& prefix) {
  std::vector<json> sets;
  for (int i = 0; i < n; ++i) sets.push_back({{"fields", {{"TITLE", absl::StrCat(prefix, i)}}}});
  return sets;
}

TEST(CallMany, TwentyThousandAddsAreAllAcknowledgedInOrder) {
  auto stack = UpUnlimited();
  ASSERT_TRUE(stack);
  constexpr int kAdds = 20000;
  const int64_t created_before = StatIn(stack->EmulatorStats(), "created", "crm.lead");
  auto start = std::chrono::steady_clock::now();
  CallManyOut out = CallMany(*stack, "crm.lead.add", Adds(kAdds, "many-"));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("CallMany: %d crm.lead.add in %.2f s (%.0f/s), %d messages\n", kAdds, seconds,
              kAdds / seconds, out.messages);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.results.size(), static_cast<size_t>(kAdds));
  EXPECT_TRUE(out.indexes_consecutive);

  std::set<int64_t> ids;
  int acknowledged = 0;
  for (const auto& r : out.results) {
    ASSERT_FALSE(r.has_error()) << r.error().code() << " " << r.error().description();
    ids.insert(static_cast<int64_t>(r.result().number_value()));
    ++acknowledged;
  }
  const int64_t created = StatIn(stack->EmulatorStats(), "created", "crm.lead") - created_before;
  EXPECT_EQ(created, acknowledged);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kAdds)) << "every id returned once";

  // In request order: the result at index i is the lead titled "many-i".
  for (int i : {0, 1, 4999, 12345, kAdds - 1}) {
    json lead = stack->Rest("crm.lead.get", {{"id", out.results[i].result().number_value()}});
    EXPECT_EQ(lead["result"]["TITLE"], absl::StrCat("many-", i)) << "index " << i;
  }
}

TEST(CallMany, ParameterSetsAsJsonTextAndPerItemErrors) {
  auto stack = UpUnlimited();
  ASSERT_TRUE(stack);
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_GE(ids.size(), 2u);
  std::vector<json> sets = {{{"id", ids[0]}}, {{"id", 999999}}, {{"id", ids[1]}}};
  std::vector<std::string> texts;
  for (const auto& set : sets) texts.push_back(set.dump());
  CallManyOut out = CallManyText(*stack, "crm.lead.get", texts);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.results.size(), 3u);
  EXPECT_EQ(J(out.results[0].result())["ID"], std::to_string(ids[0].get<int64_t>()));
  EXPECT_EQ(out.results[1].error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(J(out.results[2].result())["ID"], std::to_string(ids[1].get<int64_t>()));
}

TEST(CallMany, BadInputIsRefusedBeforeAnythingIsSent) {
  auto stack = UpUnlimited();
  ASSERT_TRUE(stack);
  const int64_t requests = Requests(*stack);
  CallManyOut none = CallMany(*stack, "crm.lead.add", {});
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  std::vector<json> sets = Adds(5, "bad-");
  sets[3] = "not an object";
  CallManyOut bad = CallMany(*stack, "crm.lead.add", sets);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.status.error_message().find("params[3]"), std::string::npos)
      << bad.status.error_message();

  grpc::Status malformed =
      CallManyText(*stack, "crm.lead.add", {R"({"fields":{"TITLE":"x"}})", R"({"fields":{"TITLE":)"})
          .status;
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(malformed.error_message().find("params_json[1]"), std::string::npos)
      << malformed.error_message();
  EXPECT_NE(malformed.error_message().find("column"), std::string::npos)
      << malformed.error_message();

  EXPECT_EQ(Requests(*stack), requests);
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 0);
}

// Flow control: a consumer that stops reading stops the calls. Results are
// ~1 KiB each here, far more than the transport's buffers hold, so the
// gateway's own window (unacknowledged results) is what holds back.
TEST(CallMany, AConsumerThatStopsReadingStopsTheCalls) {
  auto stack = UpUnlimited();
  ASSERT_TRUE(stack);
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_FALSE(ids.empty());
  constexpr size_t kGets = 20000;
  pb::CallManyRequest request;
  request.set_method("crm.lead.get");
  for (size_t i = 0; i < kGets; ++i) *request.add_params() = V({{"id", ids[i % ids.size()]}});
  const int64_t commands_before = StatInt(stack->EmulatorStats(), "commands");
  auto ctx = Ctx(300);
  auto reader = stack->stub().CallMany(ctx.get(), request);
  pb::CallManyResponse message;
  ASSERT_TRUE(reader->Read(&message));
  size_t received = message.results_size();

  // Wait until the portal sees no more commands (bounded: 30 s).
  int64_t executed = -1;
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int64_t now = StatInt(stack->EmulatorStats(), "commands") - commands_before;
    if (now == executed) break;
    executed = now;
  }
  std::printf("consumer paused after 1 message: %lld of %zu calls executed\n",
              static_cast<long long>(executed), kGets);
  EXPECT_LT(executed, static_cast<int64_t>(kGets) / 2);

  // Reading on delivers everything, in order.
  while (reader->Read(&message)) {
    EXPECT_EQ(message.first_index(), static_cast<int64_t>(received));
    for (const auto& r : message.results()) {
      ASSERT_FALSE(r.has_error()) << r.error().description();
      EXPECT_EQ(IdOf(J(r.result())), ids[received % ids.size()].get<int64_t>());
      ++received;
    }
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(received, kGets);
}

TEST(BulkCall, AboveTheCapIsRefusedNamingCallManyAndNothingIsSent) {
  auto stack = UpUnlimited({{"max_bulk_items", 100}});
  ASSERT_TRUE(stack);
  const int64_t requests = Requests(*stack);
  CallOut over = CallBulk(*stack, "crm.lead.add", Adds(101, "over-"));
  EXPECT_EQ(over.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(over.status.error_message().find("CallMany"), std::string::npos)
      << over.status.error_message();
  EXPECT_EQ(Requests(*stack), requests) << "nothing reached the portal";
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 0);

  CallOut at = CallBulk(*stack, "crm.lead.add", Adds(100, "at-"));
  ASSERT_TRUE(at.status.ok()) << at.status.error_message();
  EXPECT_EQ(at.response.results_size(), 100);
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 100);
}

TEST(BulkCall, DefaultCapIsAThousand) {
  auto stack = UpUnlimited();
  ASSERT_TRUE(stack);
  const int64_t requests = Requests(*stack);
  CallOut over = CallBulk(*stack, "crm.lead.add", Adds(1001, "over-"));
  EXPECT_EQ(over.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(over.status.error_message().find("1000"), std::string::npos)
      << over.status.error_message();
  EXPECT_EQ(Requests(*stack), requests);
}

// Reads are the only results left out of a unary answer that outgrows the
// message limit, each with a per-item RESOURCE_EXHAUSTED; the others arrive
// with a client's default 4 MiB limit.
TEST(BulkCall, AnAnswerTooLargeLeavesOutReadBodiesOnly) {
  auto stack = UpUnlimited({{"max_bulk_items", 5000}});
  ASSERT_TRUE(stack);
  std::vector<json> ids = IdsOf(RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}}));
  ASSERT_FALSE(ids.empty());
  std::vector<json> sets;
  for (size_t i = 0; i < 4000; ++i) sets.push_back({{"id", ids[i % ids.size()]}});
  CallOut out = CallBulk(*stack, "crm.lead.get", sets);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 4000);
  int kept = 0, left_out = 0;
  for (const auto& r : out.response.results()) {
    if (r.has_error()) {
      EXPECT_EQ(r.error().code(), "RESULT_TOO_LARGE");
      EXPECT_EQ(r.error().grpc_code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
      ++left_out;
    } else {
      ++kept;
    }
  }
  std::printf("4000 crm.lead.get in one Call: %d kept, %d left out, %zu bytes\n", kept, left_out,
              out.response.ByteSizeLong());
  EXPECT_GT(left_out, 0);
  EXPECT_GT(kept, 0);
}

}  // namespace
}  // namespace b24gate::e2e::call_many_test
