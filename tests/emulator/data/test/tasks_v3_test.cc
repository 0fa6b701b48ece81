// REST 3.0 tasks ("v3/tasks.task.*") over the classic task table: typed
// camelCase items, filter conditions, order, page/limit/offset with the
// silent 1000 cap, and v3 errors with `validation`.
#include <algorithm>

#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::tasks_v3_test {
namespace {

constexpr char kValidation[] = "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION";

class TasksV3Test : public ::testing::Test {
 protected:
  // Every task id in order (seeded ids have gaps), read in two pages.
  std::vector<int64_t> AllIds() {
    std::vector<int64_t> all;
    for (int offset : {0, 1000}) {
      MethodResult r = Call(*p_, "v3/tasks.task.list",
                            {{"pagination", {{"offset", offset}, {"limit", 1000}}}});
      for (int64_t id : Ids(r.result["items"])) all.push_back(id);
    }
    return all;
  }
  std::unique_ptr<MethodTable> p_ = Portal("tasks.task=1200,user=4");
};

TEST_F(TasksV3Test, ListDefaultsToFiftyIdsInIdOrder) {
  MethodResult r = Call(*p_, "v3/tasks.task.list");
  ASSERT_FALSE(r.is_error) << r.error_description;
  const json& items = r.result["items"];
  ASSERT_EQ(items.size(), 50u);
  const std::vector<int64_t> all = AllIds();
  ASSERT_EQ(all.size(), 1200u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(items[0], json({{"id", all[0]}}));
  EXPECT_EQ(Ids(items), std::vector<int64_t>(all.begin(), all.begin() + 50));
  EXPECT_FALSE(r.total.has_value());
}

TEST_F(TasksV3Test, PaginationPagesOffsetsAndCapsAtAThousand) {
  MethodResult page3 = Call(*p_, "v3/tasks.task.list", {{"pagination", {{"page", 3}, {"limit", 10}}}});
  const std::vector<int64_t> all = AllIds();
  EXPECT_EQ(Ids(page3.result["items"]), std::vector<int64_t>(all.begin() + 20, all.begin() + 30));
  MethodResult offset = Call(*p_, "v3/tasks.task.list", {{"pagination", {{"offset", 5}, {"limit", 2}}}});
  EXPECT_EQ(Ids(offset.result["items"]), (std::vector<int64_t>{all[5], all[6]}));
  MethodResult big = Call(*p_, "v3/tasks.task.list", {{"pagination", {{"limit", 5000}}}});
  EXPECT_EQ(big.result["items"].size(), 1000u);
  MethodResult zero = Call(*p_, "v3/tasks.task.list", {{"pagination", {{"limit", 0}}}});
  EXPECT_EQ(zero.error, "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION");
}

// The official JS SDK's callList/fetchList send `"page": 0` on every request
// (they move an id filter instead of the page): page 0 is the first page.
TEST_F(TasksV3Test, PageZeroIsTheFirstPage) {
  const std::vector<int64_t> all = AllIds();
  MethodResult r = Call(*p_, "v3/tasks.task.list",
                        {{"filter", json::array({json::array({"id", ">", all[4]})})},
                         {"order", {{"id", "ASC"}}},
                         {"pagination", {{"page", 0}, {"limit", 3}}}});
  ASSERT_FALSE(r.is_error) << r.error_description;
  EXPECT_EQ(Ids(r.result["items"]), (std::vector<int64_t>{all[5], all[6], all[7]}));
}

TEST_F(TasksV3Test, FilterConditionsOrGroupsAndOrder) {
  const std::vector<int64_t> all = AllIds();
  // id > all[10] AND (id in (all[11], all[12], all[0]) OR all[20] <= id <= all[21]).
  json filter = json::array(
      {json::array({"id", ">", all[10]}),
       {{"logic", "or"},
        {"conditions", json::array({json::array({"id", json::array({all[11], all[12], all[0]})}),
                                    json::array({"id", "between", json::array({all[20], all[21]})})})}}});
  MethodResult r = Call(*p_, "v3/tasks.task.list",
                        {{"filter", filter}, {"order", {{"id", "DESC"}}}, {"select", {"id", "title"}}});
  ASSERT_FALSE(r.is_error) << r.error_description;
  EXPECT_EQ(Ids(r.result["items"]), (std::vector<int64_t>{all[21], all[20], all[12], all[11]}));
  EXPECT_TRUE(r.result["items"][0]["title"].is_string());
  MethodResult bad_op = Call(*p_, "v3/tasks.task.list", {{"filter", json::array({json::array({"id", "~", 1})})}});
  EXPECT_EQ(bad_op.error, "BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION");
  MethodResult bad_field = Call(*p_, "v3/tasks.task.list", {{"filter", json::array({json::array({"title", "x"})})}});
  EXPECT_EQ(bad_field.error, kValidation);
  EXPECT_EQ(bad_field.validation[0]["field"], "title");
}

TEST_F(TasksV3Test, AddGetUpdateDeleteShareTheClassicTable) {
  MethodResult missing = Call(*p_, "v3/tasks.task.add", {{"fields", {{"title", "T"}}}});
  EXPECT_EQ(missing.error, kValidation);
  EXPECT_EQ(missing.validation.size(), 2u);  // creatorId, responsibleId
  MethodResult add = Call(*p_, "v3/tasks.task.add",
                          {{"fields", {{"title", "Report"}, {"creatorId", 1}, {"responsibleId", 2}}}});
  ASSERT_FALSE(add.is_error) << add.error_description;
  const int64_t id = add.result["item"]["id"].get<int64_t>();
  EXPECT_EQ(add.result["item"]["status"], "pending");
  EXPECT_EQ(add.created_entity, "tasks.task");
  EXPECT_TRUE(p_->IsWrite("v3/tasks.task.add"));
  EXPECT_FALSE(p_->IsWrite("v3/tasks.task.get"));

  MethodResult classic = Call(*p_, "tasks.task.get", {{"taskId", id}});
  EXPECT_EQ(classic.result["task"]["title"], "Report");
  EXPECT_EQ(classic.result["task"]["responsibleId"], "2");

  MethodResult update = Call(*p_, "v3/tasks.task.update", {{"id", id}, {"fields", {{"title", "Final"}}}});
  EXPECT_EQ(update.result, json({{"result", true}}));
  MethodResult typed = Call(*p_, "v3/tasks.task.update", {{"id", id}, {"fields", {{"responsibleId", "x"}}}});
  EXPECT_EQ(typed.error, kValidation);
  EXPECT_EQ(Call(*p_, "v3/tasks.task.get", {{"id", id}}).result["item"]["title"], "Final");

  EXPECT_EQ(Call(*p_, "v3/tasks.task.delete", {{"id", id}}).result, json({{"result", true}}));
  MethodResult gone = Call(*p_, "v3/tasks.task.get", {{"id", id}});
  EXPECT_EQ(gone.error, "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION");
  EXPECT_EQ(gone.http_status, 400);
}

}  // namespace
}  // namespace b24emu::data::testing::tasks_v3_test
