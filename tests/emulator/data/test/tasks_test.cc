// tasks.task.* (wrapped, lower-case keys) and positional task.commentitem.*.
#include <algorithm>

#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::tasks_test {
namespace {

class TasksTest : public ::testing::Test {
 protected:
  std::unique_ptr<MethodTable> p_ = Portal("tasks.task=70,user=4");
};

TEST_F(TasksTest, ListIsWrappedWithLowerCaseId) {
  MethodResult r = Call(*p_, "tasks.task.list");
  ASSERT_TRUE(r.result["tasks"].is_array());
  EXPECT_EQ(r.result["tasks"].size(), 50u);
  EXPECT_EQ(r.total, 70);
  EXPECT_EQ(r.next, 50);
  const json& t = r.result["tasks"][0];
  EXPECT_TRUE(t["id"].is_string());
  EXPECT_TRUE(t.contains("responsibleId"));
  EXPECT_TRUE(t.contains("createdDate"));
  EXPECT_FALSE(t.contains("ID"));
}

TEST_F(TasksTest, FilterAndOrderByUpperCaseId) {
  MethodResult r = Call(*p_, "tasks.task.list",
                        {{"filter", {{">ID", 20}}}, {"order", {{"ID", "desc"}}}, {"select", {"ID", "TITLE"}}});
  std::vector<int64_t> ids = Ids(r.result["tasks"]);
  ASSERT_FALSE(ids.empty());
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_GT(ids.back(), 20);
  EXPECT_EQ(r.result["tasks"][0].size(), 2u);  // id, title
}

TEST_F(TasksTest, AddAndGet) {
  MethodResult add = Call(*p_, "tasks.task.add", {{"fields", {{"TITLE", "Write report"}, {"RESPONSIBLE_ID", 2}}}});
  ASSERT_FALSE(add.is_error) << add.error_description;
  EXPECT_EQ(add.created_entity, "tasks.task");
  const json& task = add.result["task"];
  EXPECT_EQ(task["title"], "Write report");
  EXPECT_EQ(task["responsibleId"], "2");
  EXPECT_EQ(task["status"], "2");
  MethodResult get = Call(*p_, "tasks.task.get", {{"taskId", task["id"]}});
  EXPECT_EQ(get.result["task"]["title"], "Write report");
  EXPECT_TRUE(Call(*p_, "tasks.task.get", {{"taskId", 999999}}).is_error);
  EXPECT_TRUE(Call(*p_, "tasks.task.add", {{"fields", {{"RESPONSIBLE_ID", 1}}}}).is_error);
}

TEST_F(TasksTest, CommentAddPositionalList) {
  int64_t task = Ids(Call(*p_, "tasks.task.list").result["tasks"])[3];
  MethodResult r = Call(*p_, "task.commentitem.add", json::array({task, {{"POST_MESSAGE", "Hello"}}}));
  ASSERT_FALSE(r.is_error) << r.error_description;
  EXPECT_TRUE(r.result.is_number_integer());
  EXPECT_EQ(r.created_entity, "task.commentitem");
  json comments = Call(*p_, "task.commentitem.getlist", json::array({task})).result;
  ASSERT_FALSE(comments.empty());
  EXPECT_EQ(comments.back()["POST_MESSAGE"], "Hello");
  EXPECT_EQ(comments.back()["ID"], std::to_string(r.result.get<int64_t>()));
}

TEST_F(TasksTest, CommentAddPositionalObjectKeys) {
  int64_t task = Ids(Call(*p_, "tasks.task.list").result["tasks"])[0];
  MethodResult r = Call(*p_, "task.commentitem.add", {{"0", std::to_string(task)}, {"1", {{"POST_MESSAGE", "Hi"}}}});
  ASSERT_FALSE(r.is_error) << r.error_description;
}

TEST_F(TasksTest, CommentAddBreaksOnExtraParameters) {
  int64_t task = Ids(Call(*p_, "tasks.task.list").result["tasks"])[0];
  MethodResult r =
      Call(*p_, "task.commentitem.add", {{"0", task}, {"1", {{"POST_MESSAGE", "Hi"}}}, {"__order", "0000000001"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_TRUE(Call(*p_, "task.commentitem.add", json::array({task})).is_error);
  EXPECT_TRUE(Call(*p_, "task.commentitem.add", json::array({999999, {{"POST_MESSAGE", "x"}}})).is_error);
}

}  // namespace
}  // namespace b24emu::data::testing::tasks_test
