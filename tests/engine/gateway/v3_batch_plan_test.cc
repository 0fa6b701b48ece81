// PlanV3Batch: REST 3.0 references ({"$ref"} / {"$refArray"} naming an
// earlier key) decide where a CallBatch over 50 may be split; keys, methods
// and parameters are checked before anything is sent.
#include "engine/gateway/v3_batch_plan.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace b24gate::v3_batch_plan_test {
namespace {

using Json = nlohmann::ordered_json;

std::vector<BatchCommandSpec> Gets(int n) {
  std::vector<BatchCommandSpec> c;
  for (int i = 0; i < n; ++i) {
    c.push_back({absl::StrCat("g", i), "Tasks.Task.Get", {{"id", i + 1}}});
  }
  return c;
}

Json Ref(const std::string& path) { return {{"$ref", path}}; }

TEST(V3BatchPlan, SplitsIndependentCommandsAtFifty) {
  auto plan = PlanV3Batch(Gets(51));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[1][0].key, "g50");
  EXPECT_EQ((*plan)[0][0].method, "tasks.task.get");
}

TEST(V3BatchPlan, ReferencesInsideOneRequestAreFineAtAnyDepth) {
  auto c = Gets(60);
  c[55].params = {{"filter", Json::array({Json::array({"id", "in", {{"$refArray", "g51.id"}}})})}};
  c[3].params = {{"id", Ref("g0.item.id")}};
  EXPECT_TRUE(PlanV3Batch(c).ok());
}

TEST(V3BatchPlan, AReferenceAcrossTheSplitNamesTheCommand) {
  auto c = Gets(60);
  c[50].params = {{"id", Ref("g49.id")}};
  auto plan = PlanV3Batch(c);
  ASSERT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("commands[50] (\"g50\")"), std::string::npos)
      << plan.status();
  EXPECT_NE(plan.status().message().find("g49.id"), std::string::npos);
}

TEST(V3BatchPlan, AReferenceMustNameAnEarlierKey) {
  for (const Json& ref : {Ref("g5.id"), Ref("g1.id"), Ref("0.id"), Ref("nope.id"), Ref("g0"),
                          Json{{"$ref", 7}}}) {
    auto c = Gets(3);
    c[1].params = {{"id", ref}};
    EXPECT_EQ(PlanV3Batch(c).status().code(), absl::StatusCode::kInvalidArgument) << ref.dump();
  }
}

TEST(V3BatchPlan, RefusesQueryStringsDotsInKeysNestedBatchesAndNonObjects) {
  std::vector<BatchCommandSpec> query = {{"a", "tasks.task.get?id=1", Json::object()}};
  EXPECT_NE(PlanV3Batch(query).status().message().find("query string"), std::string::npos);
  std::vector<BatchCommandSpec> dotted = {{"a.b", "tasks.task.get", Json::object()}};
  EXPECT_NE(PlanV3Batch(dotted).status().message().find("'.'"), std::string::npos);
  std::vector<BatchCommandSpec> nested = {{"a", "batch", Json::object()}};
  EXPECT_EQ(PlanV3Batch(nested).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<BatchCommandSpec> list = {{"a", "tasks.task.get", Json::array({1})}};
  EXPECT_EQ(PlanV3Batch(list).status().code(), absl::StatusCode::kInvalidArgument);
  // null travels in JSON (unlike a classic batch's query strings).
  std::vector<BatchCommandSpec> with_null = {{"a", "tasks.task.update",
                                              {{"id", 1}, {"fields", {{"deadline", nullptr}}}}}};
  EXPECT_TRUE(PlanV3Batch(with_null).ok());
}

}  // namespace
}  // namespace b24gate::v3_batch_plan_test
