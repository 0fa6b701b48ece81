// Paging boundaries, order, select, and the list shapes of
// docs/bitrix24-protocol.md, "List methods".
#include <algorithm>

#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::list_test {
namespace {

TEST(ListPagingTest, ExactlyFiftyRowsIsOnePageWithoutNext) {
  auto p = Portal("crm.lead=50");
  MethodResult r = Call(*p, "crm.lead.list");
  EXPECT_EQ(r.result.size(), 50u);
  EXPECT_EQ(r.total, 50);
  EXPECT_FALSE(r.next.has_value());
}

TEST(ListPagingTest, FiftyOneRowsHaveANextPage) {
  auto p = Portal("crm.lead=51");
  MethodResult first = Call(*p, "crm.lead.list");
  EXPECT_EQ(first.result.size(), 50u);
  EXPECT_EQ(first.total, 51);
  EXPECT_EQ(first.next, 50);
  MethodResult last = Call(*p, "crm.lead.list", {{"start", "50"}});
  EXPECT_EQ(last.result.size(), 1u);
  EXPECT_EQ(last.total, 51);
  EXPECT_FALSE(last.next.has_value());
  EXPECT_GT(Ids(last.result)[0], Ids(first.result)[49]);
}

TEST(ListPagingTest, StartBeyondTheEndIsEmpty) {
  auto p = Portal("crm.lead=10");
  MethodResult r = Call(*p, "crm.lead.list", {{"start", 50}});
  EXPECT_TRUE(r.result.empty());
  EXPECT_EQ(r.total, 10);
  EXPECT_FALSE(r.next.has_value());
}

TEST(ListPagingTest, StartMinusOneSkipsCountingAndNext) {
  auto p = Portal("crm.lead=120");
  MethodResult r = Call(*p, "crm.lead.list", {{"start", -1}});
  EXPECT_EQ(r.result.size(), 50u);
  EXPECT_EQ(r.total, 0);
  EXPECT_FALSE(r.next.has_value());
  EXPECT_EQ(r.work.rows_counted, 0);
  EXPECT_EQ(r.work.rows_returned, 50);
}

TEST(ListPagingTest, WorkReportsCountedAndSkippedRows) {
  auto p = Portal("crm.lead=120");
  MethodResult r = Call(*p, "crm.lead.list", {{"start", 100}});
  EXPECT_EQ(r.work.rows_returned, 20);
  EXPECT_EQ(r.work.rows_counted, 120);
  EXPECT_EQ(r.work.rows_skipped, 100);
  MethodResult f = Call(*p, "crm.lead.list", {{"filter", {{"STATUS_ID", "NEW"}}}});
  EXPECT_EQ(f.work.rows_counted, *f.total);
}

TEST(ListPagingTest, KeysetReadReturnsEveryRowOnce) {
  auto p = Portal("crm.lead=173");
  std::vector<int64_t> all;
  int64_t last = 0;
  for (;;) {
    MethodResult r = Call(*p, "crm.lead.list",
                          {{"filter", {{">ID", last}}}, {"order", {{"ID", "ASC"}}}, {"start", -1}, {"select", {"ID"}}});
    std::vector<int64_t> ids = Ids(r.result);
    all.insert(all.end(), ids.begin(), ids.end());
    if (ids.size() < 50) break;
    last = ids.back();
  }
  EXPECT_EQ(all.size(), 173u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(ListPagingTest, OffsetPagesCoverTheFilteredSet) {
  auto p = Portal("crm.lead=300");
  MethodResult first = Call(*p, "crm.lead.list", {{"filter", {{"STATUS_ID", "NEW"}}}});
  std::vector<int64_t> all = Ids(first.result);
  for (int64_t start = 50; start < *first.total; start += 50) {
    MethodResult r = Call(*p, "crm.lead.list", {{"filter", {{"STATUS_ID", "NEW"}}}, {"start", start}});
    std::vector<int64_t> ids = Ids(r.result);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(static_cast<int64_t>(all.size()), *first.total);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
}

TEST(ListOrderTest, DescendingId) {
  auto p = Portal("crm.lead=60");
  std::vector<int64_t> ids = Ids(Call(*p, "crm.lead.list", {{"order", {{"ID", "DESC"}}}}).result);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
}

// nlohmann::json objects iterate keys alphabetically, so the ordered array
// form carries the priority here (see order_select.h).
TEST(ListOrderTest, MultiFieldOrderWithStableTieBreak) {
  auto p = Portal("crm.lead=200");
  json order = json::array({{{"STATUS_ID", "ASC"}}, {{"ID", "DESC"}}});
  std::vector<std::pair<std::string, int64_t>> rows;
  for (int start = 0; start < 200; start += 50) {
    MethodResult r = Call(*p, "crm.lead.list", {{"order", order}, {"start", start}, {"select", {"ID", "STATUS_ID"}}});
    for (const json& row : r.result) rows.emplace_back(row["STATUS_ID"], std::stoll(row["ID"].get<std::string>()));
  }
  ASSERT_EQ(rows.size(), 200u);
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_LE(rows[i - 1].first, rows[i].first);
    if (rows[i - 1].first == rows[i].first) ASSERT_GT(rows[i - 1].second, rows[i].second);
  }
}

TEST(ListOrderTest, MultiFieldOrderMap) {
  auto p = Portal("crm.lead=200");
  MethodResult r = Call(*p, "crm.lead.list",
                        {{"order", {{"SOURCE_ID", "DESC"}, {"STATUS_ID", "ASC"}}}, {"select", {"SOURCE_ID", "STATUS_ID"}}});
  for (size_t i = 1; i < r.result.size(); ++i) {
    const json& a = r.result[i - 1];
    const json& b = r.result[i];
    ASSERT_GE(a["SOURCE_ID"], b["SOURCE_ID"]);
    if (a["SOURCE_ID"] != b["SOURCE_ID"]) continue;
    ASSERT_LE(a["STATUS_ID"], b["STATUS_ID"]);
    if (a["STATUS_ID"] == b["STATUS_ID"]) {
      ASSERT_LT(std::stoll(a["ID"].get<std::string>()), std::stoll(b["ID"].get<std::string>()));
    }
  }
}

TEST(ListOrderTest, NonIdOrderWithoutIdTiesByAscendingId) {
  auto p = Portal("crm.lead=100");
  MethodResult r = Call(*p, "crm.lead.list", {{"order", {{"STATUS_ID", "DESC"}}}, {"select", {"STATUS_ID"}}});
  for (size_t i = 1; i < r.result.size(); ++i) {
    if (r.result[i]["STATUS_ID"] == r.result[i - 1]["STATUS_ID"]) {
      EXPECT_LT(std::stoll(r.result[i - 1]["ID"].get<std::string>()), std::stoll(r.result[i]["ID"].get<std::string>()));
    }
  }
}

TEST(ListOrderTest, NumericOrderIsNumeric) {
  auto p = Portal("crm.lead=100");
  MethodResult r = Call(*p, "crm.lead.list", {{"order", {{"OPPORTUNITY", "ASC"}}}, {"start", -1}});
  for (size_t i = 1; i < r.result.size(); ++i) {
    EXPECT_LE(std::stod(r.result[i - 1]["OPPORTUNITY"].get<std::string>()),
              std::stod(r.result[i]["OPPORTUNITY"].get<std::string>()));
  }
}

class SelectTest : public ::testing::Test {
 protected:
  json FirstRow(json select) {
    json params = {{"filter", {{"HAS_PHONE", "Y"}}}};
    if (!select.is_null()) params["select"] = std::move(select);
    MethodResult r = Call(*portal_, "crm.lead.list", params);
    EXPECT_FALSE(r.result.empty());
    return r.result.empty() ? json::object() : r.result[0];
  }
  std::unique_ptr<MethodTable> portal_ = Portal("crm.lead=20");
};

TEST_F(SelectTest, DefaultIsStandardFieldsOnly) {
  json row = FirstRow(nullptr);
  EXPECT_TRUE(row.contains("TITLE"));
  EXPECT_TRUE(row.contains("STATUS_ID"));
  EXPECT_FALSE(row.contains("PHONE"));
  EXPECT_FALSE(row.contains("UF_CRM_1700000001"));
}

TEST_F(SelectTest, StarIsStandardFieldsOnly) {
  EXPECT_EQ(FirstRow({"*"}), FirstRow(nullptr));
}

TEST_F(SelectTest, UfStarAddsCustomFields) {
  json row = FirstRow({"*", "UF_*"});
  EXPECT_TRUE(row.contains("TITLE"));
  EXPECT_TRUE(row.contains("UF_CRM_1700000002"));
  json only_uf = FirstRow({"UF_*"});
  EXPECT_TRUE(only_uf.contains("ID"));
  EXPECT_TRUE(only_uf.contains("UF_CRM_1700000002"));
  EXPECT_FALSE(only_uf.contains("TITLE"));
}

TEST_F(SelectTest, NamesSelectThemselvesAndIdAlways) {
  json row = FirstRow({"TITLE", "PHONE"});
  EXPECT_EQ(row.size(), 3u) << row.dump();
  EXPECT_TRUE(row.contains("ID"));
  ASSERT_TRUE(row["PHONE"].is_array());
  EXPECT_EQ(row["PHONE"][0]["TYPE_ID"], "PHONE");
  EXPECT_TRUE(row["PHONE"][0]["ID"].is_string());
}

TEST_F(SelectTest, StarDoesNotIncludeMultiFields) {
  json row = FirstRow({"*"});
  EXPECT_FALSE(row.contains("PHONE"));
  EXPECT_FALSE(row.contains("EMAIL"));
  EXPECT_EQ(row["HAS_PHONE"], "Y");
}

TEST(ListShapeTest, TimelineCommentsHaveNoTotalButNext) {
  auto p = Portal("crm.deal=200");
  MethodResult r = Call(*p, "crm.timeline.comment.list", {{"filter", {{"ENTITY_TYPE", "deal"}}}});
  ASSERT_FALSE(r.is_error) << r.error_description;
  EXPECT_TRUE(r.result.is_array());
  EXPECT_EQ(r.result.size(), 50u);
  EXPECT_FALSE(r.total.has_value());
  EXPECT_EQ(r.next, 50);
  EXPECT_EQ(r.work.rows_counted, 0);
}

TEST(ListShapeTest, TimelineCommentsLastPageHasNoNext) {
  auto p = Portal("crm.deal=200");
  int64_t start = 0;
  size_t rows = 0;
  for (int guard = 0; guard < 100; ++guard) {
    MethodResult r = Call(*p, "crm.timeline.comment.list", {{"start", start}});
    rows += r.result.size();
    if (!r.next) break;
    start = *r.next;
  }
  MethodResult all = Call(*p, "crm.timeline.comment.list", {{"start", start}});
  EXPECT_FALSE(all.next.has_value());
  EXPECT_GT(rows, 100u);
}

TEST(ListShapeTest, TimelineCommentsRefuseOrder) {
  auto p = Portal("crm.deal=5");
  MethodResult r = Call(*p, "crm.timeline.comment.list", {{"order", {{"ID", "ASC"}}}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.error, "INVALID_ARG_VALUE");
}

TEST(ListShapeTest, TimelineCommentsFilterByDeal) {
  auto p = Portal("crm.deal=50");
  MethodResult r = Call(*p, "crm.timeline.comment.list", {{"start", -1}});
  ASSERT_FALSE(r.result.empty());
  std::string deal = r.result[0]["ENTITY_ID"];
  MethodResult f = Call(*p, "crm.timeline.comment.list", {{"filter", {{"ENTITY_TYPE", "deal"}, {"ENTITY_ID", deal}}}});
  ASSERT_FALSE(f.result.empty());
  for (const json& c : f.result) EXPECT_EQ(c["ENTITY_ID"], deal);
}

}  // namespace
}  // namespace b24emu::data::testing::list_test
