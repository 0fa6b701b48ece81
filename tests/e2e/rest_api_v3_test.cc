// REST 3.0 end to end: a real b24gate in front of a real b24-emulator. A v3
// read; v3 writes under every fault that strikes after the emulator ran them
// (and one that strikes before): the caller gets OK and the emulator counts
// exactly one task created, the retry answered from its idempotency store;
// a caller's key reused with another body; validation errors as
// google.rpc.BadRequest; the metrics of v3 calls and idempotent retries;
// "auto" routing by the portal's OpenAPI document.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::rest_api_v3_test {
namespace {

// The `delay` fault holds the answer past the gateway's request timeout.
constexpr double kRequestTimeout = 2;

std::unique_ptr<Stack> UpV3() {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--fault-delay", "5"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 10000}, {"drain_per_second", 10000},
                    {"request_timeout_seconds", kRequestTimeout}};
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  return Up(std::move(emulator), std::move(gateway));
}

pb::CallRequest V3Request(const std::string& method, const json& params,
                          const std::string& key = "") {
  pb::CallRequest request;
  request.set_method(method);
  *request.mutable_params() = V(params);
  request.set_api_version(pb::API_VERSION_V3);
  request.set_idempotency_key(key);
  return request;
}

json NewTask(const std::string& title) {
  return {{"fields", {{"title", title}, {"creatorId", 1}, {"responsibleId", 2}}}};
}

// The sum of a metric's samples whose labels contain `labels` ("" = all).
double Metric(const std::string& page, const std::string& name, const std::string& labels = "") {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::StartsWith(line, name + "{") || !absl::StrContains(line, labels)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

TEST(RestV3, AReadReturnsTypedItems) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  CallOut list = DoCall(*stack, V3Request("tasks.task.list",
                                          {{"select", {"id", "title"}},
                                           {"order", {{"id", "DESC"}}},
                                           {"pagination", {{"limit", 5}}}}));
  ASSERT_TRUE(list.status.ok()) << list.status.error_message();
  const json items = list.result()["items"];
  ASSERT_EQ(items.size(), 5u);
  EXPECT_TRUE(items[0]["title"].is_string());
  const double first = items[0]["id"].get<double>();
  EXPECT_GT(first, items[1]["id"].get<double>());
  CallOut get = DoCall(*stack, V3Request("tasks.task.get", {{"id", first}}));
  ASSERT_TRUE(get.status.ok()) << get.status.error_message();
  EXPECT_EQ(get.result()["item"]["id"].get<double>(), first);
  EXPECT_EQ(get.result()["item"]["status"].is_string(), true);
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "idempotent_replays"), 0);
}

TEST(RestV3, AWriteStruckByAFaultLandsExactlyOnce) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  struct Case {
    const char* fault;
    bool executes;  // the emulator ran the write before failing the request
  };
  for (const Case& c : {Case{"500", true}, Case{"504", true}, Case{"reset", true},
                        Case{"delay", true}, Case{"502", false}}) {
    SCOPED_TRACE(c.fault);
    stack->ResetEmulator();
    stack->SetFaults(absl::StrCat(c.fault, "=@1,method=tasks.task.add"));
    CallOut out = DoCall(*stack, V3Request("tasks.task.add", NewTask(c.fault)), 60);
    ASSERT_TRUE(out.status.ok()) << out.status.error_code() << " " << ReasonOf(out.status) << " "
                                 << out.status.error_message();
    EXPECT_GT(out.result()["item"]["id"].get<double>(), 0);
    const json stats = stack->EmulatorStats();
    EXPECT_EQ(StatIn(stats, "created", "tasks.task"), 1);
    EXPECT_EQ(StatIn(stats, "faults_injected", c.fault), 1);
    EXPECT_EQ(StatInt(stats, "idempotent_replays"), c.executes ? 1 : 0);
    // The gateway never had two requests with one key at the portal at once.
    EXPECT_EQ(StatInt(stats, "idempotency_overlaps"), 0);
  }
  const std::string metrics = ScrapeMetrics(stack->gateway());
  EXPECT_GE(Metric(metrics, "b24gate_rest_v3_requests_total"), 10);
  EXPECT_EQ(Metric(metrics, "b24gate_retries_total", "reason=\"idempotent_write\""), 5);
  EXPECT_EQ(Metric(metrics, "b24gate_idempotent_replays_total"), 4);
  EXPECT_EQ(Metric(metrics, "b24gate_outcome_unknown_total"), 0);
}

TEST(RestV3, AClassicWriteUnderTheSameFaultIsStillNotRepeated) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  stack->SetFaults("500=@1,method=tasks.task.add");
  CallOut out = Call1(*stack, "tasks.task.add", {{"fields", {{"TITLE", "classic"}}}});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(out.status), "OUTCOME_UNKNOWN");
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "tasks.task"), 1);
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "requests"), 1);
}

TEST(RestV3, ACallersKeyReplaysOnceAndRefusesAnotherBody) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  CallOut first = DoCall(*stack, V3Request("tasks.task.add", NewTask("a"), "order-7"));
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  CallOut again = DoCall(*stack, V3Request("tasks.task.add", NewTask("a"), "order-7"));
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.result(), first.result());
  CallOut other = DoCall(*stack, V3Request("tasks.task.add", NewTask("b"), "order-7"));
  EXPECT_EQ(other.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(other.status), "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION");
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "tasks.task"), 1);
}

TEST(RestV3, ValidationErrorsNameTheFields) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  CallOut out = DoCall(*stack, V3Request("tasks.task.add", {{"fields", {{"title", "t"}}}}));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(out.status), "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.status.error_details()));
  google::rpc::BadRequest bad_request;
  bool found = false;
  for (const auto& d : details.details()) found = found || d.UnpackTo(&bad_request);
  ASSERT_TRUE(found) << "no google.rpc.BadRequest";
  std::vector<std::string> fields;
  for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields, (std::vector<std::string>{"creatorId", "responsibleId"}));
}

TEST(RestV3, RequestsTheGatewayCannotHonourAreRefusedUnsent) {
  auto stack = UpV3();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  pb::CallRequest classic_key = V3Request("tasks.task.add", NewTask("x"), "k");
  classic_key.set_api_version(pb::API_VERSION_CLASSIC);
  pb::CallRequest bad_key = V3Request("tasks.task.add", NewTask("x"), "tab\there");
  pb::CallRequest bulk = V3Request("tasks.task.add", json::object());
  bulk.clear_params();
  *bulk.add_bulk_params() = V(NewTask("x"));
  for (const auto& [request, field] :
       {std::pair{classic_key, "idempotency_key"}, std::pair{bad_key, "idempotency_key"},
        std::pair{bulk, "bulk_params"}}) {
    CallOut out = DoCall(*stack, request);
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_TRUE(absl::StrContains(out.status.error_message(), field)) << out.status.error_message();
  }
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "requests"), 0);
}

// A portal whose "api_version" is "auto": the gateway reads the emulator's
// OpenAPI document once, for all the calls that arrive together, and sends
// each method the document lists to REST 3.0, the others to classic REST.
TEST(RestV3, AutoRoutesEachMethodByThePortalsOpenApiDocument) {
  auto stack = UpWithApiVersion("auto");
  ASSERT_TRUE(stack);
  constexpr int kCallers = 8;
  // Task ids from the emulator itself (its seeded ids have gaps).
  const json tasks = stack->Rest("tasks.task.list", {{"select", {"ID"}}})["result"]["tasks"];
  ASSERT_GE(tasks.size(), static_cast<size_t>(kCallers));
  stack->ResetEmulator();
  std::vector<CallOut> gets(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&stack, &gets, &tasks, i] {
      gets[i] = Call1(*stack, "tasks.task.get",
                      {{"id", IdOf(tasks[i], "id")}, {"select", {"id", "title"}}});
    });
  }
  for (std::thread& t : callers) t.join();
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(gets[i].status.ok()) << gets[i].status.error_message();
    ASSERT_TRUE(gets[i].result().contains("item")) << gets[i].result();
    EXPECT_EQ(IdOf(gets[i].result()["item"], "id"), IdOf(tasks[i], "id"));
  }
  // One request for the document, one per call (REST 3.0 calls travel alone).
  EXPECT_EQ(Requests(*stack), kCallers + 1);
  // crm.lead.list is not in the document: classic REST, its classic answer.
  CallOut leads = Call1(*stack, "crm.lead.list", {{"select", {"ID"}}});
  ASSERT_TRUE(leads.status.ok()) << leads.status.error_message();
  EXPECT_TRUE(leads.result().is_array()) << leads.result();
  EXPECT_EQ(Requests(*stack), kCallers + 2);
  // An explicit version still wins over the portal's "auto".
  ExpectClassicTaskGet(*stack, IdOf(tasks[0], "id"));
}

}  // namespace
}  // namespace b24gate::e2e::rest_api_v3_test
