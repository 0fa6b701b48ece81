// user.*, crm.status.list and crm.activity.list.
#include <algorithm>

#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::misc_test {
namespace {

TEST(UserTest, GetIsAFlatListWithStringIds) {
  auto p = Portal("user=20");
  MethodResult r = Call(*p, "user.get");
  ASSERT_TRUE(r.result.is_array());
  EXPECT_EQ(r.total, 20);
  EXPECT_TRUE(r.result[0]["ID"].is_string());
  EXPECT_EQ(r.result[0]["ID"], "1");
  EXPECT_TRUE(r.result[0]["ACTIVE"].is_boolean());
  EXPECT_TRUE(r.result[0]["UF_DEPARTMENT"].is_array());
}

TEST(UserTest, FilterActive) {
  auto p = Portal("user=40");
  MethodResult all = Call(*p, "user.get");
  MethodResult active = Call(*p, "user.get", {{"FILTER", {{"ACTIVE", true}}}});
  MethodResult legacy = Call(*p, "user.get", {{"ACTIVE", "Y"}});
  EXPECT_LT(*active.total, *all.total);
  EXPECT_EQ(active.total, legacy.total);
  for (const json& u : active.result) EXPECT_EQ(u["ACTIVE"], true);
}

TEST(UserTest, SortAndOrderParametersButNoOrderMap) {
  auto p = Portal("user=10");
  std::vector<int64_t> desc = Ids(Call(*p, "user.get", {{"SORT", "ID"}, {"ORDER", "DESC"}}).result);
  EXPECT_TRUE(std::is_sorted(desc.rbegin(), desc.rend()));
  std::vector<int64_t> ignored = Ids(Call(*p, "user.get", {{"order", {{"ID", "DESC"}}}}).result);
  EXPECT_TRUE(std::is_sorted(ignored.begin(), ignored.end()));
}

TEST(UserTest, Current) {
  auto p = Portal("user=5");
  MethodResult r = Call(*p, "user.current", json::object(), 1);
  EXPECT_EQ(r.result["ID"], "1");
  EXPECT_TRUE(r.result.contains("NAME"));
}

TEST(StatusTest, FilterByEntityAndSeededValuesResolve) {
  auto p = Portal("crm.deal=100,crm.lead=100");
  MethodResult stages = Call(*p, "crm.status.list", {{"filter", {{"ENTITY_ID", "DEAL_STAGE"}}}});
  std::set<std::string> ids;
  for (const json& s : stages.result) {
    EXPECT_EQ(s["ENTITY_ID"], "DEAL_STAGE");
    ids.insert(s["STATUS_ID"]);
  }
  EXPECT_TRUE(ids.count("WON"));
  for (const json& d : Call(*p, "crm.deal.list", {{"select", {"STAGE_ID"}}}).result) {
    EXPECT_TRUE(ids.count(d["STAGE_ID"])) << d["STAGE_ID"];
  }
  std::set<std::string> sources;
  for (const json& s : Call(*p, "crm.status.list", {{"filter", {{"ENTITY_ID", "SOURCE"}}}}).result) sources.insert(s["STATUS_ID"]);
  for (const json& l : Call(*p, "crm.lead.list", {{"select", {"SOURCE_ID"}}}).result) EXPECT_TRUE(sources.count(l["SOURCE_ID"]));
}

TEST(ActivityTest, FilterByOwnerAsInTheFastBitrixReadme) {
  auto p = Portal("crm.contact=40,crm.deal=10");
  MethodResult any = Call(*p, "crm.activity.list", {{"filter", {{"OWNER_TYPE_ID", 3}}}});
  ASSERT_FALSE(any.result.empty());
  std::string owner = any.result[0]["OWNER_ID"];
  MethodResult r = Call(*p, "crm.activity.list", {{"filter", {{"ENTITY_TYPE", "3"}, {"ENTITY_ID", owner}}}});
  ASSERT_FALSE(r.result.empty());
  for (const json& a : r.result) {
    EXPECT_EQ(a["OWNER_ID"], owner);
    EXPECT_EQ(a["OWNER_TYPE_ID"], "3");
  }
  EXPECT_TRUE(r.total.has_value());
}

TEST(TimelineTest, AddThenListByDeal) {
  auto p = Portal("crm.deal=3");
  MethodResult add = Call(*p, "crm.timeline.comment.add",
                          {{"fields", {{"ENTITY_ID", 1}, {"ENTITY_TYPE", "DEAL"}, {"COMMENT", "Called"}}}});
  ASSERT_FALSE(add.is_error) << add.error_description;
  EXPECT_EQ(add.created_entity, "crm.timeline.comment");
  MethodResult r = Call(*p, "crm.timeline.comment.list", {{"filter", {{"ENTITY_TYPE", "deal"}, {"ENTITY_ID", 1}}}});
  ASSERT_FALSE(r.result.empty());
  EXPECT_EQ(r.result.back()["COMMENT"], "Called");
  EXPECT_EQ(r.result.back()["ENTITY_TYPE"], "deal");
}

}  // namespace
}  // namespace b24emu::data::testing::misc_test
