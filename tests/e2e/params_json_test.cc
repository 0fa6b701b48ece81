// params_json: parameters as JSON text keep their key order all the way to
// the portal, so a multi-field `order` keeps its priority. The expected
// orders are computed here from the deals read straight from the emulator,
// sorted as the emulator sorts (numbers as numbers, text case-insensitively,
// nulls first when ascending, ties by ID ascending).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::params_json_test {
namespace {

struct OrderKey {
  std::string field;
  bool numeric;
  bool desc;
};

// -1, 0, 1 as the emulator compares two values of one field.
int CompareField(const json& a, const json& b, bool numeric) {
  bool a_null = a.is_null(), b_null = b.is_null();
  if (a_null || b_null) return a_null == b_null ? 0 : (a_null ? -1 : 1);
  if (numeric) {
    auto number = [](const json& v) {
      if (v.is_number()) return v.get<double>();
      const std::string& s = v.get_ref<const std::string&>();
      return s.empty() ? 0.0 : std::stod(s);
    };
    double x = number(a), y = number(b);
    return x == y ? 0 : (x < y ? -1 : 1);
  }
  int c = absl::AsciiStrToLower(a.get<std::string>()).compare(absl::AsciiStrToLower(b.get<std::string>()));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::vector<json> ExpectedIds(std::vector<json> deals, const std::vector<OrderKey>& order) {
  std::sort(deals.begin(), deals.end(), [&](const json& a, const json& b) {
    for (const OrderKey& k : order) {
      int c = CompareField(a[k.field], b[k.field], k.numeric);
      if (k.desc) c = -c;
      if (c != 0) return c < 0;
    }
    return IdOf(a) < IdOf(b);
  });
  return IdsOf(deals);
}

const OrderKey kStageAsc{"STAGE_ID", false, false};
const OrderKey kOpportunityDesc{"OPPORTUNITY", true, true};

constexpr char kStageFirst[] =
    R"({"order":{"STAGE_ID":"ASC","OPPORTUNITY":"DESC"},"select":["ID","STAGE_ID","OPPORTUNITY"]})";
constexpr char kOpportunityFirst[] =
    R"({"order":{"OPPORTUNITY":"DESC","STAGE_ID":"ASC"},"select":["ID","STAGE_ID","OPPORTUNITY"]})";

class ParamsJson : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Up();
    ASSERT_TRUE(stack_);
    std::vector<json> deals =
        RestAll(*stack_, "crm.deal.list", {{"select", {"ID", "STAGE_ID", "OPPORTUNITY"}}});
    ASSERT_GT(deals.size(), 50u);
    stage_first_ = ExpectedIds(deals, {kStageAsc, kOpportunityDesc});
    opportunity_first_ = ExpectedIds(deals, {kOpportunityDesc, kStageAsc});
    // The test means something only if the priorities give different lists.
    ASSERT_NE(FirstPage(stage_first_), FirstPage(opportunity_first_));
  }

  static std::vector<json> FirstPage(const std::vector<json>& ids) {
    return std::vector<json>(ids.begin(), ids.begin() + std::min<size_t>(50, ids.size()));
  }

  CallOut CallText(const std::string& method, const std::string& params_json) {
    pb::CallRequest request;
    request.set_method(method);
    request.set_params_json(params_json);
    return DoCall(*stack_, request);
  }

  std::unique_ptr<Stack> stack_;
  std::vector<json> stage_first_;
  std::vector<json> opportunity_first_;
};

TEST_F(ParamsJson, CallKeepsTheCallersOrderPriority) {
  CallOut stage = CallText("crm.deal.list", kStageFirst);
  ASSERT_TRUE(stage.status.ok()) << stage.status.error_message();
  EXPECT_EQ(IdsOf(stage.result()), FirstPage(stage_first_));
  CallOut opportunity = CallText("crm.deal.list", kOpportunityFirst);
  ASSERT_TRUE(opportunity.status.ok()) << opportunity.status.error_message();
  EXPECT_EQ(IdsOf(opportunity.result()), FirstPage(opportunity_first_));
}

TEST_F(ParamsJson, GetAllReadsTheWholeListInTheCallersOrder) {
  pb::GetAllRequest request;
  request.set_method("crm.deal.list");
  request.set_params_json(kOpportunityFirst);
  auto ctx = Ctx(120);
  auto reader = stack_->stub().GetAll(ctx.get(), request);
  std::vector<json> items;
  pb::GetAllResponse message;
  while (reader->Read(&message)) {
    for (const auto& item : message.items()) items.push_back(J(item));
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(IdsOf(items), opportunity_first_);
}

TEST_F(ParamsJson, CallBatchAndCallManyKeepTheOrderToo) {
  pb::CallBatchRequest batch;
  pb::BatchCommand* stage = batch.add_commands();
  stage->set_key("stage");
  stage->set_method("crm.deal.list");
  stage->set_params_json(kStageFirst);
  pb::BatchCommand* opportunity = batch.add_commands();
  opportunity->set_key("opportunity");
  opportunity->set_method("crm.deal.list");
  opportunity->set_params_json(kOpportunityFirst);
  pb::CallBatchResponse answer;
  grpc::Status status = stack_->stub().CallBatch(Ctx().get(), batch, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answer.results_size(), 2);
  EXPECT_EQ(IdsOf(J(answer.results(0).result().result())), FirstPage(stage_first_));
  EXPECT_EQ(IdsOf(J(answer.results(1).result().result())), FirstPage(opportunity_first_));

  CallManyOut many = CallManyText(*stack_, "crm.deal.list", {kOpportunityFirst, kStageFirst});
  ASSERT_TRUE(many.status.ok()) << many.status.error_message();
  ASSERT_EQ(many.results.size(), 2u);
  EXPECT_EQ(IdsOf(J(many.results[0].result())), FirstPage(opportunity_first_));
  EXPECT_EQ(IdsOf(J(many.results[1].result())), FirstPage(stage_first_));
}

TEST_F(ParamsJson, GetByIdTakesItsSharedParamsAsText) {
  pb::GetByIdRequest request;
  request.set_method("crm.deal.get");
  *request.add_ids() = V(stage_first_[0]);
  request.set_params_json(R"({"select":["ID","TITLE"]})");
  auto ctx = Ctx();
  auto reader = stack_->stub().GetById(ctx.get(), request);
  std::vector<pb::IdResult> results;
  pb::GetByIdResponse message;
  while (reader->Read(&message)) {
    for (const auto& r : message.results()) results.push_back(r);
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(IdOf(J(results[0].result())), stage_first_[0].get<int64_t>());
}

TEST_F(ParamsJson, BothFormsOrMalformedTextAreRefusedNamingTheField) {
  const int64_t requests = Requests(*stack_);
  pb::CallRequest both;
  both.set_method("crm.deal.list");
  *both.mutable_params() = V({{"select", {"ID"}}});
  both.set_params_json(R"({"select":["ID"]})");
  CallOut refused = DoCall(*stack_, both);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.status.error_message().find("params_json"), std::string::npos)
      << refused.status.error_message();

  CallOut malformed = CallText("crm.deal.list", R"({"order":{"ID":"ASC",}})");
  EXPECT_EQ(malformed.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(malformed.status.error_message().find("params_json"), std::string::npos);
  EXPECT_NE(malformed.status.error_message().find("column"), std::string::npos)
      << malformed.status.error_message();

  pb::GetAllRequest get_all;
  get_all.set_method("crm.deal.list");
  get_all.set_params_json(R"(["ID"])");
  auto ctx = Ctx();
  auto reader = stack_->stub().GetAll(ctx.get(), get_all);
  pb::GetAllResponse message;
  while (reader->Read(&message)) {
  }
  grpc::Status not_object = reader->Finish();
  EXPECT_EQ(not_object.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(not_object.error_message().find("params_json"), std::string::npos)
      << not_object.error_message();

  EXPECT_EQ(Requests(*stack_), requests) << "nothing reached the portal";
}

}  // namespace
}  // namespace b24gate::e2e::params_json_test
