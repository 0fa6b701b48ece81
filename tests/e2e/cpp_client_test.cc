// End-to-end tests of the C++ client header (clients/cpp/b24gate/client.h)
// against a real b24gate and b24-emulator: every RPC, an error with its
// Bitrix24 code, a GetAll of a few thousand items counted against the
// emulator, a stopped stream and a deadline.
#include <chrono>
#include <cmath>
#include <iostream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "clients/cpp/b24gate/client.h"
#include "tests/e2e/auth_clients.h"
#include "tests/e2e/harness.h"

namespace b24gate::e2e::cpp_client_test {
namespace {

using client::Json;
using client::Params;

class CppClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EmulatorSpec emulator;
    emulator.seed = "crm.lead=3100,crm.deal=40";
    emulator.extra_args = {"--no-limits"};
    GatewaySpec gateway;
    // Two attempts per read in the gateway, so the retry test can tell the
    // client's retries (service config) from the gateway's.
    gateway.portal = {{"max_attempts", 2}};
    auto stack = Stack::Start(emulator, gateway);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack).release();
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  client::Gateway gw_{client::MakeChannel(stack_->gateway().address())};  // params as params_json
  static Stack* stack_;
};
Stack* CppClientTest::stack_ = nullptr;

TEST_F(CppClientTest, CallAppliesParams) {
  auto page = gw_.Call("crm.lead.list", Params{{"filter", {{">ID", 0}}}, {"select", {"ID", "TITLE"}}});
  ASSERT_TRUE(page.ok()) << page.error().description;
  ASSERT_EQ(page.value().size(), 50u);
  EXPECT_EQ(page.value()[0].size(), 2u) << page.value()[0];
}

TEST_F(CppClientTest, MultiFieldOrderKeepsItsPriority) {
  auto page = [&](Params order) {
    auto result = gw_.Call("crm.lead.list", Params{{"order", order}, {"select", {"ID", "STATUS_ID"}}});
    EXPECT_TRUE(result.ok()) << result.error().description;
    return result.ok() ? result.value() : Json::array();
  };
  // ordered_json keeps these keys in the order written.
  Json by_status = page(Params{{"STATUS_ID", "ASC"}, {"ID", "DESC"}});
  Json by_id = page(Params{{"ID", "DESC"}, {"STATUS_ID", "ASC"}});
  ASSERT_FALSE(by_status.empty());
  ASSERT_FALSE(by_id.empty());
  auto id = [](const Json& lead) { return std::stoll(lead["ID"].get<std::string>()); };
  for (size_t i = 1; i < by_status.size(); ++i) {
    const Json &a = by_status[i - 1], &b = by_status[i];
    EXPECT_TRUE(a["STATUS_ID"] < b["STATUS_ID"] || (a["STATUS_ID"] == b["STATUS_ID"] && id(a) > id(b)))
        << a << " then " << b;
  }
  for (size_t i = 1; i < by_id.size(); ++i) EXPECT_GT(id(by_id[i - 1]), id(by_id[i]));
  EXPECT_NE(by_status, by_id);
}

TEST_F(CppClientTest, UnknownMethodCarriesTheBitrixCode) {
  auto result = gw_.Call("no.such.method");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "ERROR_METHOD_NOT_FOUND");
  EXPECT_EQ(result.error().grpc_code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(result.error().domain, "bitrix24.com");
}

TEST_F(CppClientTest, GetAllCountsEveryLeadOnceAsTheEmulatorHasThem) {
  int64_t emulator_total = stack_->Rest("crm.lead.list", {{"select", {"ID"}}})["total"].get<int64_t>();
  std::set<std::string> ids;
  int64_t items = 0;
  auto summary = gw_.GetAll("crm.lead.list", Params{{"select", {"ID"}}}, [&](const Json& lead) {
    ids.insert(lead["ID"].get<std::string>());
    ++items;
    return true;
  });
  ASSERT_TRUE(summary.ok()) << summary.error().description;
  EXPECT_EQ(emulator_total, 3100);
  EXPECT_EQ(items, emulator_total);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), emulator_total);
  EXPECT_EQ(summary.value().count, emulator_total);
  EXPECT_TRUE(summary.value().total_matched);
}

TEST_F(CppClientTest, StoppingGetAllCancelsAndTheGatewayKeepsServing) {
  int seen = 0;
  auto summary = gw_.GetAll("crm.lead.list", nullptr, [&](const Json&) { return ++seen < 10; });
  ASSERT_TRUE(summary.ok()) << summary.error().description;
  EXPECT_TRUE(summary.value().stopped);
  EXPECT_EQ(seen, 10);
  EXPECT_TRUE(gw_.Call("crm.lead.list").ok());
}

TEST_F(CppClientTest, DeadlineIsDeadlineExceeded) {
  client::ListOptions options;
  options.timeout = std::chrono::milliseconds(1);
  auto summary = gw_.GetAll("crm.lead.list", nullptr, [](const Json&) { return true; }, options);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().grpc_code, grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(summary.error().code, "DEADLINE_EXCEEDED");
}

TEST_F(CppClientTest, GetByIdCallManyAndBatch) {
  auto page = gw_.Call("crm.deal.list", Params{{"select", {"ID"}}, {"order", {{"ID", "ASC"}}}});
  ASSERT_TRUE(page.ok());
  std::string first = page.value()[0]["ID"], second = page.value()[1]["ID"];

  std::string path;
  auto updated = gw_.CallMany("crm.deal.update",
                              {Params{{"id", first}, {"fields", {{"TITLE", "cpp 1"}}}},
                               Params{{"id", second}, {"fields", {{"TITLE", "cpp 2"}}}},
                               Params{{"id", 987654321}, {"fields", {{"TITLE", "nobody"}}}}},
                              {}, &path);
  std::cout << "CallMany used " << path << "\n";
  EXPECT_EQ(path, "CallMany");
  ASSERT_TRUE(updated.ok()) << updated.error().description;
  ASSERT_EQ(updated.value().size(), 3u);
  EXPECT_EQ(updated.value()[0].value(), true);
  EXPECT_EQ(updated.value()[1].value(), true);
  EXPECT_FALSE(updated.value()[2].ok());

  auto deals = gw_.GetById("crm.deal.get", {first, second, 987654321});
  ASSERT_TRUE(deals.ok());
  ASSERT_EQ(deals.value().size(), 3u);
  EXPECT_EQ(deals.value()[0].value()["TITLE"], "cpp 1");
  EXPECT_EQ(deals.value()[1].value()["TITLE"], "cpp 2");
  ASSERT_FALSE(deals.value()[2].ok());
  EXPECT_EQ(deals.value()[2].error().grpc_code, grpc::StatusCode::NOT_FOUND);

  auto batch = gw_.Batch({{"last", "crm.deal.list", Params{{"select", {"ID"}}, {"order", {{"ID", "DESC"}}}}},
                          {"deal", "crm.deal.get", Params{{"id", "$result[last][0][ID]"}}},
                          {"bad", "no.such.method"}});
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch.value().size(), 3u);
  EXPECT_EQ(batch.value()[1].second.value()["ID"], batch.value()[0].second.value()[0]["ID"]);
  ASSERT_FALSE(batch.value()[2].second.ok());
  EXPECT_EQ(batch.value()[2].second.error().code, "ERROR_METHOD_NOT_FOUND");
}

// The service config retries UNAVAILABLE for reads (GetAll) and never for
// Call, which may write: with every emulator request failing with a 500, a
// GetAll costs 4 client attempts x 2 gateway attempts, a write exactly one.
TEST_F(CppClientTest, ServiceConfigRetriesReadsOnly) {
  stack_->SetFaults("500=1");
  stack_->ResetEmulator();
  auto summary = gw_.GetAll("crm.lead.list", nullptr, [](const Json&) { return true; });
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().grpc_code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(stack_->EmulatorStats()["requests"], 4 * 2);

  stack_->ResetEmulator();
  auto write = gw_.Call("crm.deal.update", Params{{"id", 1}, {"fields", {{"TITLE", "once"}}}});
  ASSERT_FALSE(write.ok());
  EXPECT_TRUE(write.error().outcome_unknown()) << write.error().code;
  EXPECT_EQ(stack_->EmulatorStats()["requests"], 1);
  stack_->SetFaults("none");
}

// Options::token reaches a gateway configured with API clients.
// Items are converted value by value (not printed as JSON text and parsed
// again): every kind comes back as JSON would give it, and a number JSON
// cannot carry becomes null (protobuf's JSON printer made it the text "NaN").
TEST(CppClientConvert, EveryKindOfValueComesBackAsJson) {
  google::protobuf::Value item;
  auto& fields = *item.mutable_struct_value()->mutable_fields();
  fields["text"].set_string_value("a \"quoted\" line\n\u00e9");
  fields["whole"].set_number_value(12345);
  fields["negative"].set_number_value(-7);
  fields["fraction"].set_number_value(0.25);
  fields["huge"].set_number_value(1e300);
  fields["yes"].set_bool_value(true);
  fields["nothing"].set_null_value(google::protobuf::NULL_VALUE);
  fields["not_a_number"].set_number_value(std::nan(""));
  auto* list = fields["list"].mutable_list_value();
  list->add_values()->set_string_value("x");
  list->add_values()->mutable_struct_value();
  const Json expected = Json::parse(R"({"text": "a \"quoted\" line\n\u00e9", "whole": 12345,
      "negative": -7, "fraction": 0.25, "huge": 1e300, "yes": true, "nothing": null,
      "not_a_number": null, "list": ["x", {}]})");
  const Json got = client::internal::ToJson(item);
  EXPECT_EQ(got, expected) << got.dump();
  EXPECT_TRUE(got["whole"].is_number_integer());
  EXPECT_TRUE(got["fraction"].is_number_float());
}

TEST(CppClientToken, SendsTheTokenOnEveryCall) {
  auto stack = Up({}, WithClients(""));
  ASSERT_TRUE(stack);
  client::Options with_token;
  with_token.token = kReaderToken;
  client::Gateway gw(client::MakeChannel(stack->gateway().address()), with_token);
  auto listed = gw.Call("crm.lead.list", Json{{"select", {"ID"}}});
  EXPECT_TRUE(listed.ok()) << listed.error().description;
  auto many = gw.CallMany("crm.lead.get", {Json{{"id", 1}}, Json{{"id", 2}}});
  ASSERT_TRUE(many.ok()) << many.error().description;
  EXPECT_EQ(many.value().size(), 2u);
  // The read-only client's write is refused by name, so the token was the one sent.
  auto write = gw.Call("crm.lead.add", Json{{"fields", {{"TITLE", "x"}}}});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().grpc_code, grpc::StatusCode::PERMISSION_DENIED);

  client::Gateway anonymous(client::MakeChannel(stack->gateway().address()));
  auto refused = anonymous.Call("crm.lead.list", Json{{"select", {"ID"}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().grpc_code, grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace b24gate::e2e::cpp_client_test
