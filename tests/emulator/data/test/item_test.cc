// crm.item.*: wrapped shapes, camelCase keys with real JSON types, error codes.
#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::item_test {
namespace {

class ItemTest : public ::testing::Test {
 protected:
  std::unique_ptr<MethodTable> p_ = Portal("crm.item=120,crm.deal=10,crm.contact=5,crm.company=5,user=3");
};

TEST_F(ItemTest, ListIsWrappedWithTopLevelTotalAndNext) {
  MethodResult r = Call(*p_, "crm.item.list", {{"entityTypeId", 128}});
  ASSERT_FALSE(r.is_error) << r.error_description;
  ASSERT_TRUE(r.result["items"].is_array());
  EXPECT_EQ(r.result["items"].size(), 50u);
  EXPECT_EQ(r.total, 120);
  EXPECT_EQ(r.next, 50);
  const json& item = r.result["items"][0];
  EXPECT_TRUE(item["id"].is_number_integer());
  EXPECT_TRUE(item["assignedById"].is_number_integer());
  EXPECT_TRUE(item["opportunity"].is_number());
  EXPECT_EQ(item["entityTypeId"], 128);
  EXPECT_EQ(item["categoryId"], 9);
  EXPECT_EQ(item["stageId"].get<std::string>().rfind("DT128_9:", 0), 0u);
  EXPECT_TRUE(item.contains("ufCrm5_1700000401"));
}

TEST_F(ItemTest, FilterOrderSelectUseCamelNames) {
  MethodResult r = Call(*p_, "crm.item.list",
                        {{"entityTypeId", "128"}, {"filter", {{">id", 10}}}, {"order", {{"id", "DESC"}}},
                         {"select", {"id", "title"}}, {"start", -1}});
  const json& items = r.result["items"];
  ASSERT_FALSE(items.empty());
  EXPECT_GT(items[0]["id"].get<int64_t>(), items[1]["id"].get<int64_t>());
  EXPECT_GT(items.back()["id"].get<int64_t>(), 10);
  EXPECT_TRUE(items[0].contains("title"));
  EXPECT_FALSE(items[0].contains("stageId"));
  EXPECT_EQ(r.total, 0);
}

TEST_F(ItemTest, Crud) {
  MethodResult add = Call(*p_, "crm.item.add",
                          {{"entityTypeId", 128}, {"fields", {{"title", "Smart"}, {"opportunity", 250}, {"ufCrm5_1700000401", "X"}}}});
  ASSERT_FALSE(add.is_error) << add.error_description;
  EXPECT_EQ(add.created_entity, "crm.item");
  int64_t id = add.result["item"]["id"];
  EXPECT_EQ(add.result["item"]["title"], "Smart");
  EXPECT_EQ(add.result["item"]["opportunity"], 250.0);
  EXPECT_EQ(add.result["item"]["stageId"], "DT128_9:NEW");

  MethodResult upd = Call(*p_, "crm.item.update", {{"entityTypeId", 128}, {"id", id}, {"fields", {{"title", "Renamed"}}}});
  EXPECT_EQ(upd.result["item"]["title"], "Renamed");
  EXPECT_EQ(upd.result["item"]["ufCrm5_1700000401"], "X");

  MethodResult get = Call(*p_, "crm.item.get", {{"entityTypeId", 128}, {"id", id}});
  EXPECT_EQ(get.result["item"]["title"], "Renamed");

  MethodResult del = Call(*p_, "crm.item.delete", {{"entityTypeId", 128}, {"id", id}});
  EXPECT_EQ(del.result, json::array());
  MethodResult gone = Call(*p_, "crm.item.get", {{"entityTypeId", 128}, {"id", id}});
  EXPECT_TRUE(gone.is_error);
  EXPECT_EQ(gone.http_status, 400);
  EXPECT_EQ(gone.error, "NOT_FOUND");
}

TEST_F(ItemTest, DealsThroughEntityTypeTwo) {
  MethodResult r = Call(*p_, "crm.item.list", {{"entityTypeId", 2}});
  ASSERT_FALSE(r.is_error);
  const json& item = r.result["items"][0];
  EXPECT_TRUE(item["id"].is_number_integer());
  EXPECT_TRUE(item.contains("stageId"));
  EXPECT_TRUE(item.contains("createdTime"));
  EXPECT_TRUE(item["contactIds"].is_array());
  EXPECT_EQ(item["entityTypeId"], 2);
  int64_t id = item["id"];
  json classic = Call(*p_, "crm.deal.get", {{"id", id}}).result;
  EXPECT_EQ(classic["STAGE_ID"], item["stageId"]);
  EXPECT_EQ(classic["TITLE"], item["title"]);
}

TEST_F(ItemTest, UnknownTypesAreErrors) {
  EXPECT_EQ(Call(*p_, "crm.item.list", {{"entityTypeId", 130}}).error, "NOT_FOUND");
  EXPECT_EQ(Call(*p_, "crm.item.list", {{"entityTypeId", 31}}).error, "ENTITY_TYPE_NOT_SUPPORTED");
  EXPECT_TRUE(Call(*p_, "crm.item.list").is_error);
}

TEST_F(ItemTest, FieldsAreWrapped) {
  json f = Call(*p_, "crm.item.fields", {{"entityTypeId", 128}}).result;
  EXPECT_EQ(f["fields"]["id"]["type"], "integer");
  EXPECT_EQ(f["fields"]["stageId"]["upperName"], "STAGE_ID");
  EXPECT_EQ(f["fields"]["ufCrm5_1700000401"]["isDynamic"], true);
}

}  // namespace
}  // namespace b24emu::data::testing::item_test
