// Keyset chain reading against a fake portal: id order, each item once, the
// caller's id bounds kept, wrapped shapes, the count off the critical path,
// resume.
#include "engine/lists/keyset_chain_strategy.h"

#include <gtest/gtest.h>

#include "tests/engine/lists/list_test_util.h"

namespace b24gate::keyset_chain_strategy_test {
namespace {

ListRequest ChainRequest(nlohmann::ordered_json params = {{"select", {"ID", "TITLE"}}}) {
  ListRequest r;
  r.method = "crm.lead.list";
  r.params = std::move(params);
  r.strategy = ListStrategyKind::kKeysetChain;
  return r;
}

TEST(KeysetChainStrategy, ReadsEveryItemOnceInIdOrder) {
  FakeListServer server(Ids(5200, 7));
  ReadOutcome out = ReadList(&server, ChainRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(5200, 7));
  EXPECT_EQ(out.summary.strategy, "keyset");
  EXPECT_EQ(out.summary.total, 5200);
  EXPECT_TRUE(out.summary.total_matched);
  // 105 pages: 3 chained batches and one counted page, nothing else.
  EXPECT_EQ(server.counted_pages(), 1);
  EXPECT_LE(server.requests(), 4);
  for (const ListPage& p : out.pages) EXPECT_LE(p.items_so_far, 5200);
}

TEST(KeysetChainStrategy, KeepsTheCallersIdBounds) {
  FakeListServer server(Ids(3000));
  ReadOutcome out = ReadList(
      &server, ChainRequest({{"filter", {{">=ID", 101}, {"<ID", "2900"}}}, {"select", {"ID"}}}));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(2799, 1, 101));
}

TEST(KeysetChainStrategy, SkipTotalAsksForNoCount) {
  FakeListServer server(Ids(700));
  ListRequest r = ChainRequest();
  r.skip_total = true;
  ReadOutcome out = ReadList(&server, r);
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids().size(), 700u);
  EXPECT_EQ(server.counted_pages(), 0);
  EXPECT_FALSE(out.summary.total.has_value());
  EXPECT_TRUE(out.summary.total_matched);
  for (const ListPage& p : out.pages) EXPECT_FALSE(p.total.has_value());
}

TEST(KeysetChainStrategy, ReadsWrappedListsWithLowerCaseIds) {
  FakeListShape shape{"crm.item.list", "items", "id", false};
  FakeListServer server(Ids(260, 3), shape);
  ListRequest r;
  r.method = "crm.item.list";
  r.params = {{"entityTypeId", 1036}, {"select", {"id", "title"}}};
  r.strategy = ListStrategyKind::kKeysetChain;
  ReadOutcome out = ReadList(&server, r);
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids("id"), Ids(260, 3));
}

TEST(KeysetChainStrategy, ResumesAfterTheLastMessageReceived) {
  FakeListServer server(Ids(2600, 5));
  ReadOutcome first = ReadList(&server, ChainRequest(), /*stop_after_pages=*/3);
  ASSERT_EQ(first.pages.size(), 3u);
  ListRequest again = ChainRequest();
  again.resume_cursor = first.pages.back().resume_cursor;
  ReadOutcome rest = ReadList(&server, again);
  ASSERT_TRUE(rest.status.ok()) << rest.status;
  std::vector<int64_t> ids = first.Ids();
  for (int64_t id : rest.Ids()) ids.push_back(id);
  EXPECT_EQ(ids, Ids(2600, 5));
}

TEST(KeysetChainStrategy, RefusesAMethodWithoutIdOrder) {
  FakeListServer server({});
  ListRequest r = ChainRequest();
  r.method = "crm.status.list";
  ReadOutcome out = ReadList(&server, r);
  EXPECT_EQ(out.status.code(), absl::StatusCode::kInvalidArgument);
  r = ChainRequest({{"order", {{"TITLE", "ASC"}}}});
  out = ReadList(&server, r);
  EXPECT_EQ(out.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests(), 0);
}

}  // namespace
}  // namespace b24gate::keyset_chain_strategy_test
