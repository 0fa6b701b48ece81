#include "engine/gateway/batch_plan.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace b24gate::batch_plan_test {
namespace {

std::vector<BatchCommandSpec> Independent(int n) {
  std::vector<BatchCommandSpec> c;
  for (int i = 0; i < n; ++i) c.push_back({absl::StrCat("c", i), "crm.lead.get", {{"id", i + 1}}});
  return c;
}

TEST(BatchPlan, FiftyCommandsMakeOneBatch) {
  auto plan = PlanBatch(Independent(50));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->size(), 1u);
}

TEST(BatchPlan, FiftyOneIndependentCommandsSplit) {
  auto plan = PlanBatch(Independent(51));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].size(), 50u);
  EXPECT_EQ((*plan)[1].size(), 1u);
  EXPECT_EQ((*plan)[1][0].key, "c50");
}

TEST(BatchPlan, ReferenceInsideOneBatchIsFine) {
  auto c = Independent(60);
  c[55].params = {{"id", "$result[c51][ID]"}};
  EXPECT_TRUE(PlanBatch(c).ok());
}

TEST(BatchPlan, ReferenceAcrossTheSplitIsRefused) {
  auto c = Independent(60);
  c[50].params = {{"filter", {{">ID", "$result[c49][49][ID]"}}}};
  auto plan = PlanBatch(c);
  ASSERT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("c49"), std::string::npos);
  EXPECT_NE(plan.status().message().find("commands[50]"), std::string::npos);
}

TEST(BatchPlan, ReferenceToALaterOrUnknownCommandIsRefused) {
  auto c = Independent(3);
  c[0].params = {{"id", "$result[c2][ID]"}};
  EXPECT_EQ(PlanBatch(c).status().code(), absl::StatusCode::kInvalidArgument);
  c[0].params = {{"id", "$result[nope][ID]"}};
  EXPECT_EQ(PlanBatch(c).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BatchPlan, BitrixStyleQueryStringIsDecoded) {
  std::vector<BatchCommandSpec> c = {
      {"deals", "crm.deal.list", nlohmann::ordered_json::object()},
      {"activities",
       "crm.activity.list?filter[ENTITY_TYPE]=3&filter[ENTITY_ID]=$result[deals][0][ID]",
       nlohmann::ordered_json::object()}};
  auto plan = PlanBatch(c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const auto& cmd = (*plan)[0][1];
  EXPECT_EQ(cmd.method, "crm.activity.list");
  EXPECT_EQ(cmd.params["filter"]["ENTITY_TYPE"], "3");
  EXPECT_EQ(cmd.params["filter"]["ENTITY_ID"], "$result[deals][0][ID]");
}

TEST(BatchPlan, BadKeysAreRefused) {
  for (std::string key : {"", "1", "a b", "x[y]"}) {
    std::vector<BatchCommandSpec> c = {{key, "crm.lead.get", {{"id", 1}}}};
    EXPECT_EQ(PlanBatch(c).status().code(), absl::StatusCode::kInvalidArgument) << key;
  }
  std::vector<BatchCommandSpec> dup = {{"a", "crm.lead.get", {{"id", 1}}},
                                       {"a", "crm.lead.get", {{"id", 2}}}};
  EXPECT_EQ(PlanBatch(dup).status().code(), absl::StatusCode::kInvalidArgument);
}

// Keys are quoted in every error naming a command: a long one is refused,
// quoted cut.
TEST(BatchPlan, KeysAreAtMost128Bytes) {
  std::vector<BatchCommandSpec> c = {{std::string(128, 'k'), "crm.lead.get", {{"id", 1}}}};
  EXPECT_TRUE(PlanBatch(c).ok());
  c[0].key = std::string(20000, 'k') + " ";
  absl::Status s = PlanBatch(c).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("k...(20001 bytes)\" has 20001 bytes, above the limit of 128"),
            absl::string_view::npos)
      << s.message().substr(0, 400);
  EXPECT_LT(s.message().size(), 400u);
}

TEST(BatchPlan, NullAndNestedBatchAreRefused) {
  std::vector<BatchCommandSpec> null_param = {
      {"u", "crm.lead.update", {{"id", 1}, {"fields", {{"DESCRIPTION", nullptr}}}}}};
  EXPECT_EQ(PlanBatch(null_param).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<BatchCommandSpec> nested = {{"b", "batch", nlohmann::ordered_json::object()}};
  EXPECT_EQ(PlanBatch(nested).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace b24gate::batch_plan_test
