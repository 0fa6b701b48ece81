// Parallel keyset reading against a fake portal: several chains at once,
// every item exactly once in id order (or unordered), dense, sparse and
// clustered ids, the caller's id bounds intersected, the count never waited
// for, resume from any message.
#include "engine/lists/parallel_keyset_strategy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>

#include "tests/engine/lists/list_test_util.h"

namespace b24gate::parallel_keyset_strategy_test {
namespace {

ListRequest ParallelRequest(nlohmann::ordered_json params = {{"select", {"ID", "TITLE"}}}) {
  ListRequest r;
  r.method = "crm.lead.list";
  r.params = std::move(params);
  return r;  // the default for an id-ordered method
}

std::vector<int64_t> RandomIds(int n, unsigned seed) { return IdsWithGaps(n, seed, 4); }

TEST(ParallelKeysetStrategy, IsTheDefaultAndReadsEveryItemOnceInIdOrder) {
  std::vector<int64_t> ids = RandomIds(20000, 1);
  FakeListServer server(ids);
  ReadOutcome out = ReadList(&server, ParallelRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.summary.strategy, "parallel_keyset");
  EXPECT_EQ(out.Ids(), ids);
  EXPECT_EQ(out.summary.total, 20000);
  EXPECT_TRUE(out.summary.total_matched);
  EXPECT_EQ(server.counted_pages(), 1);
  // 400 pages in chained batches: a handful more requests than 400/50.
  EXPECT_LE(server.requests(), 20);
}

// A short list left with a single range after its first page (the head,
// whose batch does not take the count while another range could) still
// carries the count: every size past the first page reports its total.
TEST(ParallelKeysetStrategy, AShortListOfAnySizeCarriesItsTotal) {
  for (int n : {51, 120, 300, 400, 1000, 2500}) {
    std::vector<int64_t> ids = RandomIds(n, 7);
    FakeListServer server(ids);
    ReadOutcome out = ReadList(&server, ParallelRequest());
    ASSERT_TRUE(out.status.ok()) << n << ": " << out.status;
    EXPECT_EQ(out.Ids(), ids) << n;
    EXPECT_EQ(out.summary.total, n) << n;
    EXPECT_TRUE(out.summary.total_matched) << n;
    // Under two pages, the bounds' two pages hold it whole: nothing counted.
    EXPECT_EQ(server.counted_pages(), n <= 2 * kPageSize ? 0 : 1) << n;
  }
}

// A list the first page holds whole (none, a short page, or exactly 50
// ending at the highest id) is read by the bounds query alone, which counts
// nothing: the page's length is the total, with no request and no counted
// page more.
TEST(ParallelKeysetStrategy, AListTheFirstPageHoldsReportsItsLengthAsTotal) {
  for (int n : {0, 1, 30, 49, 50}) {
    std::vector<int64_t> ids = RandomIds(n, 3);
    FakeListServer server(ids);
    ReadOutcome out = ReadList(&server, ParallelRequest());
    ASSERT_TRUE(out.status.ok()) << n << ": " << out.status;
    EXPECT_EQ(out.Ids(), ids) << n;
    EXPECT_EQ(out.summary.total, n) << n;
    EXPECT_TRUE(out.summary.total_matched) << n;
    EXPECT_EQ(server.requests(), 1) << n;
    EXPECT_EQ(server.counted_pages(), 0) << n;
  }
  // Id bounds that hold no id: empty, known without a request.
  FakeListServer server(RandomIds(100, 3));
  ReadOutcome out = ReadList(&server, ParallelRequest({{"filter", {{">ID", 5}, {"<ID", 6}}}}));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.summary.total, 0);
  EXPECT_EQ(server.requests(), 0);
}

// Once the bounds query is queued, the read asks the portal to open every
// connection (max_in_flight: 8) while it is answered: the batches its answer
// starts all go at once.
// The bounds query's descending page is asked as the caller asked (the id
// added to a select that lacks it): its items are the list's top, delivered
// as its end, and no range reads them again. Every item is served once (a list of
// under two pages is the two pages, which meet: served once each, one
// request), delivered once, in order when asked, with its total.
TEST(ParallelKeysetStrategy, TheTopPageIsDeliveredAndNotReadAgain) {
  for (bool unordered : {false, true}) {
    for (int n : {60, 99, 100, 101, 150, 2000, 20000}) {
      // Dense: ids with gaps may have a range asked a page past its end,
      // which re-reads it (short_list_schedule_test reads the emulator's).
      std::vector<int64_t> ids = Ids(n);
      FakeListServer server(ids);
      ListRequest r = ParallelRequest({{"select", {"TITLE"}}});
      r.unordered = unordered;
      ReadOutcome out = ReadList(&server, r);
      ASSERT_TRUE(out.status.ok()) << n << ": " << out.status;
      std::vector<int64_t> got = out.Ids();
      if (unordered) std::sort(got.begin(), got.end());
      EXPECT_EQ(got, ids) << n << (unordered ? " unordered" : " ordered");
      EXPECT_EQ(out.summary.total, n) << n;
      // The count's page (50 rows) aside.
      EXPECT_EQ(server.items_served() - kPageSize * server.counted_pages(),
                std::max(n, 2 * kPageSize))
          << n;
      if (n <= 2 * kPageSize) {
        EXPECT_EQ(server.requests(), 1) << n;
        EXPECT_EQ(server.counted_pages(), 0) << n;
      }
      for (const auto& item : out.items) ASSERT_TRUE(item.contains("TITLE")) << n;
    }
  }
}

TEST(ParallelKeysetStrategy, WarmsEveryConnectionWhileTheBoundsAreAsked) {
  FakeListServer server(Ids(20000));
  ReadOutcome out = ReadList(&server, ParallelRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  std::vector<std::pair<int, int>> warms = server.dispatcher()->warms();
  ASSERT_EQ(warms.size(), 1u);
  EXPECT_EQ(warms[0].first, 1) << "requests handed over before the hint";
  EXPECT_EQ(warms[0].second, 8);
}

TEST(ParallelKeysetStrategy, RunsSeveralChainsAtOnce) {
  FakeListServer server(Ids(20000));
  // Answers come only once nothing more is sent: the dispatcher's
  // connection limit (8) is what bounds the chains.
  ReadOutcome out = ReadList(&server, ParallelRequest());
  EXPECT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(20000));
  EXPECT_EQ(server.max_waiting(), 8);
}

TEST(ParallelKeysetStrategy, AShortListIsReadInOneWaveAfterTheFirstPage) {
  // 20,000 dense ids, 8 connections: the bounds query brings the first page
  // as the caller asked for it (delivered, not read again) and the highest
  // ids; the other 399 pages and the count (5 pages' worth of the portal's
  // time) are more than 8 batches of 50 hold: one batch per connection, all
  // sent at once, each range a little over it, then the short rests side
  // by side: 16 requests in all. The last range stops below the top page
  // (the descending page's items, delivered as the list's end): a page
  // shorter, it ends in its batch (it left a rest of a page before, 17
  // requests).
  FakeListServer server(Ids(20000));
  ReadOutcome out = ReadList(&server, ParallelRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(20000));
  EXPECT_EQ(out.summary.total, 20000);
  EXPECT_EQ(server.requests(), 16);
  EXPECT_EQ(server.max_waiting(), 8);
  EXPECT_EQ(server.counted_pages(), 1);
  EXPECT_EQ(server.plain_counts(), 0);
  // Every item once (the descending page's are the list's top, delivered:
  // the last range stops below them), besides the count's page.
  EXPECT_EQ(server.items_served(), 20000 + 50);
}

TEST(ParallelKeysetStrategy, AShortListsRangesEachHaveABatchOfTheirOwn) {
  // 10,000 dense ids: eight ranges of about 25 pages. Two in one batch
  // would be read one after the other; with connections free each goes in
  // a batch of its own, all at once.
  FakeListServer server(Ids(10000));
  ReadOutcome out = ReadList(&server, ParallelRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(10000));
  EXPECT_EQ(server.max_waiting(), 8);
  EXPECT_LT(server.max_batch_pages(), 30);
}

TEST(ParallelKeysetStrategy, ClusteredIdsAreStolenIntoFreeChains) {
  // 50 ids at the bottom, 6,000 dense ids in one narrow cluster far above:
  // the first split gives most ranges nothing; the busy one must be split.
  std::vector<int64_t> ids = Ids(50, 1000);
  for (int64_t id : Ids(6000, 1, 10000000)) ids.push_back(id);
  for (int64_t id : Ids(50, 1, 20000000)) ids.push_back(id);
  FakeListServer server(ids);
  ReadOutcome out = ReadList(&server, ParallelRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), ids);
}

TEST(ParallelKeysetStrategy, UnorderedDeliversEveryItemExactlyOnce) {
  std::vector<int64_t> ids = RandomIds(12000, 2);
  FakeListServer server(ids);
  ListRequest r = ParallelRequest();
  r.unordered = true;
  ReadOutcome out = ReadList(&server, r);
  ASSERT_TRUE(out.status.ok()) << out.status;
  std::vector<int64_t> got = out.Ids();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, ids);
}

TEST(ParallelKeysetStrategy, IntersectsTheCallersIdConditions) {
  FakeListServer server(Ids(9000));
  ReadOutcome out = ReadList(
      &server, ParallelRequest({{"filter", {{">id", "499"}, {"<=ID", 7000}}}, {"select", {"ID"}}}));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(6501, 1, 500));
  EXPECT_EQ(out.summary.total, 6501);
}

TEST(ParallelKeysetStrategy, AnEmptyListEndsAtOnce) {
  FakeListServer server({});
  ReadOutcome out = ReadList(&server, ParallelRequest());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(out.summary.count, 0);
}

TEST(ParallelKeysetStrategy, StreamsWithoutWaitingForTheCount) {
  FakeListServer server(Ids(6000));
  server.HoldCounts();
  // The count rides in one of the chains' batches (no request of its own):
  // every page but those of that batch (at most 49) is read while the count
  // is still unanswered, the first range's among them.
  const int others = 6000 / 50 - 49;
  int stalls = 0;
  ReadOutcome out = ReadList(&server, ParallelRequest(), -1, {}, [&] {
    if (stalls++ > 0) return false;
    EXPECT_GE(server.pages(), others);
    server.ReleaseCounts();
    return true;
  });
  EXPECT_EQ(stalls, 1);
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids(), Ids(6000));
  EXPECT_EQ(server.plain_counts(), 0);
  EXPECT_EQ(server.counted_pages(), 1);
  ASSERT_FALSE(out.pages.empty());
  EXPECT_FALSE(out.pages.front().total.has_value());
  // The total comes once it is known, and the summary checks the count.
  EXPECT_TRUE(out.pages.back().total.has_value());
  EXPECT_EQ(out.summary.total, 6000);
  EXPECT_TRUE(out.summary.total_matched);
}

TEST(ParallelKeysetStrategy, ReadsAheadOfASlowConsumerNoFurtherThanItsBudgetInBytes) {
  // Rows of about 2 KB, a consumer that takes a page only when nothing else
  // can move, a budget of 4 MiB: about 2,000 such rows.
  FakeListShape shape;
  shape.padding = 2000;
  FakeListServer server(Ids(20000), shape);
  PortalBudget budget = FakeDispatcher::RoomyBudget();
  budget.max_in_flight = 2;
  server.dispatcher()->set_budget(budget);
  ListReaderOptions options;
  options.max_unacked_pages = 4;
  options.read_ahead_bytes = int64_t{4} << 20;
  Consumer consumer;
  auto reader = ListReader::Create(server.dispatcher(), server.clock(), ParallelRequest(), &consumer,
                                   options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  (*reader)->Run();
  int64_t consumed = 0, most_ahead = 0;
  for (int steps = 0; steps < 1000000; ++steps) {
    if (server.AnswerWaiting() > 0) {
      most_ahead = std::max(most_ahead, server.items_served() - consumed);
      continue;
    }
    std::optional<ListPage> page = consumer.Pop();
    if (!page) break;
    consumed += static_cast<int64_t>(page->items.size());
    (*reader)->Ack();
  }
  ASSERT_TRUE(consumer.done());
  EXPECT_TRUE(consumer.status().ok()) << consumer.status();
  EXPECT_EQ(consumed, 20000);
  // The budget, plus what may come before the rows' width is known (the
  // first wave: one batch per connection) and the first range's batch,
  // which is never held back: 4 MiB of rows plus 3 x 2,500 rows. Reckoned
  // in rows, not bytes, it would be 50,000 rows: the whole list.
  // A row is over 2,000 bytes as MessagePack.
  EXPECT_LE(most_ahead, (int64_t{4} << 20) / 2000 + 3 * 2500) << "rows read ahead";
}

class ParallelResume : public ::testing::TestWithParam<std::tuple<bool, int>> {};

TEST_P(ParallelResume, ContinuesAfterTheLastMessageWithNoneLostOrRepeated) {
  auto [unordered, stop_after] = GetParam();
  std::vector<int64_t> ids = RandomIds(9000, 3);
  FakeListServer server(ids);
  ListRequest r = ParallelRequest();
  r.unordered = unordered;
  ReadOutcome first = ReadList(&server, r, stop_after);
  ASSERT_EQ(first.pages.size(), static_cast<size_t>(stop_after));
  r.resume_cursor = first.pages.back().resume_cursor;
  ReadOutcome rest = ReadList(&server, r);
  ASSERT_TRUE(rest.status.ok()) << rest.status;
  std::vector<int64_t> got = first.Ids();
  for (int64_t id : rest.Ids()) got.push_back(id);
  if (unordered) std::sort(got.begin(), got.end());
  EXPECT_EQ(got, ids);
  EXPECT_EQ(rest.summary.count, 9000);
  EXPECT_TRUE(rest.summary.total_matched);
}

INSTANTIATE_TEST_SUITE_P(OrderedAndUnordered, ParallelResume,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(1, 9, 60)));

TEST(ParallelKeysetStrategy, ReadsTasksWrappedWithLowerCaseIds) {
  FakeListShape shape{"tasks.task.list", "tasks", "id", true};
  FakeListServer server(Ids(3100, 2), shape);
  ListRequest r;
  r.method = "tasks.task.list";
  r.params = {{"select", {"ID", "TITLE"}}};
  ReadOutcome out = ReadList(&server, r);
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.summary.strategy, "parallel_keyset");
  EXPECT_EQ(out.Ids("id"), Ids(3100, 2));
}

}  // namespace
}  // namespace b24gate::parallel_keyset_strategy_test
