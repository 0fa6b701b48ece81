// Offset reading against a fake portal: every page once and in order, rows
// shifted by an insert delivered once, resume after any message, and the
// bounded memory of the ids it remembers.
#include "engine/lists/offset_strategy.h"

#include <gtest/gtest.h>

#include <set>

#include "engine/lists/recent_ids.h"
#include "tests/engine/lists/list_test_util.h"

namespace b24gate::offset_strategy_test {
namespace {

ListRequest OffsetRequest() {
  ListRequest r;
  r.method = "crm.lead.list";
  r.params = {{"select", {"ID", "TITLE"}}};
  r.strategy = ListStrategyKind::kOffset;
  return r;
}

TEST(OffsetStrategy, ReadsEveryPageOnceInListOrder) {
  FakeListServer server(Ids(3333, 3));
  ReadOutcome out = ReadList(&server, OffsetRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(3333, 3));
  EXPECT_EQ(out.summary.strategy, "offset");
  EXPECT_EQ(out.summary.count, 3333);
  ASSERT_TRUE(out.summary.total.has_value());
  EXPECT_EQ(*out.summary.total, 3333);
  EXPECT_TRUE(out.summary.total_matched);
  // 67 pages: the first alone, the rest in batches of up to 50.
  EXPECT_EQ(server.pages(), 67);
  EXPECT_LE(server.requests(), 3);
}

TEST(OffsetStrategy, ABatchOfDearPagesEndsWellWithinTheRequestTimeout) {
  // Every offset page of a 200,000-row table counts the table: about 4.3 s
  // each on a big portal. Fifty of them in one batch would outlast the
  // request timeout; the answer would be lost while the portal still charged
  // their time, and the read sent again would be charged twice, into
  // OPERATION_TIME_LIMIT.
  FakeListServer server(Ids(3000));
  const double page_seconds = 4.3;
  server.ReportPageProcessing(page_seconds);
  PortalBudget budget = FakeDispatcher::RoomyBudget();
  budget.request_timeout = absl::Seconds(70);
  server.dispatcher()->set_budget(budget);
  ReadOutcome out = ReadList(&server, OffsetRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(3000));
  EXPECT_GT(server.max_batch_pages(), 1);
  EXPECT_LE(server.max_batch_pages() * page_seconds, 0.6 * 70)
      << server.max_batch_pages() << " pages in one batch";
}

TEST(OffsetStrategy, ARowMetTwiceIsDeliveredOnce) {
  FakeListServer server(Ids(500, 10));
  // A row added at the front after the first page pushes every later row
  // one place on: the last row of each page comes again on the next.
  server.InsertBeforeNextPage(5);
  ReadOutcome out = ReadList(&server, OffsetRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  std::vector<int64_t> ids = out.Ids();
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), ids.size()) << "a row came twice";
  EXPECT_EQ(ids.size(), 500u);  // the new row sits before the pages already read
  EXPECT_FALSE(out.summary.warnings.empty());
}

TEST(OffsetStrategy, ResumesAfterTheLastMessageReceived) {
  FakeListServer server(Ids(1234, 2));
  ReadOutcome first = ReadList(&server, OffsetRequest(), /*stop_after_pages=*/7);
  ASSERT_EQ(first.pages.size(), 7u);
  ListRequest again = OffsetRequest();
  again.resume_cursor = first.pages.back().resume_cursor;
  ReadOutcome rest = ReadList(&server, again);
  ASSERT_TRUE(rest.status.ok()) << rest.status;
  std::vector<int64_t> ids = first.Ids();
  for (int64_t id : rest.Ids()) ids.push_back(id);
  EXPECT_EQ(ids, Ids(1234, 2));  // none lost, none repeated
  EXPECT_EQ(rest.summary.count, 1234);
  EXPECT_TRUE(rest.summary.total_matched);
}

TEST(OffsetStrategy, AMethodWithoutIdOrderReadsByOffsetByDefault) {
  FakeListShape shape;
  shape.method = "crm.status.list";
  FakeListServer server(Ids(120), shape);
  ListRequest r;
  r.method = "crm.status.list";
  ReadOutcome out = ReadList(&server, r);
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.summary.strategy, "offset");
  EXPECT_EQ(out.Ids(), Ids(120));
}

TEST(RecentIds, RemembersOnlyTheLastN) {
  RecentIds recent(3);
  EXPECT_TRUE(recent.Insert(1));
  EXPECT_TRUE(recent.Insert(2));
  EXPECT_FALSE(recent.Insert(1));
  EXPECT_TRUE(recent.Insert(3));
  EXPECT_TRUE(recent.Insert(4));  // forgets 1
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_TRUE(recent.Insert(1));
  EXPECT_FALSE(recent.Insert(4));
  EXPECT_NE(RecentIds::Key("abc"), RecentIds::Key("abd"));
  EXPECT_EQ(RecentIds::Key("42"), 42u);
}

}  // namespace
}  // namespace b24gate::offset_strategy_test
