// The parallel keyset reader's arithmetic on id ranges, as tables of
// numbers: how a list is cut, how many pages a batch asks of a range, when
// the end is near, where a range in flight is split, and how the density
// learned from what was read changes what is expected.
#include "engine/lists/range_plan.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "engine/lists/keyset_pages.h"

namespace b24gate::range_plan_test {
namespace {

// Ids first, first + step, … (n of them), and the same from the top down.
std::vector<int64_t> Up(int64_t first, int64_t step, int n = kPageSize) {
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(first + i * step);
  return ids;
}
std::vector<int64_t> Down(int64_t last, int64_t step, int n = kPageSize) {
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(last - i * step);
  return ids;
}

struct Cut {
  int64_t lo, hi, step;  // the list's ids: lo, lo + step, …, hi
  int chains;
  int count_with;  // the range whose batch carries the count, or -1
  size_t pieces;
  int64_t first_before;   // where the first piece ends (exclusive)
  int64_t second_before;  // where the second ends
};

class RangePlanSplit : public ::testing::TestWithParam<Cut> {};

TEST_P(RangePlanSplit, CutsWhatFollowsTheFirstPage) {
  const Cut& c = GetParam();
  RangePlan plan({IdRange{0, std::nullopt}});
  plan.Split(Up(c.lo, c.step), Down(c.hi, c.step), c.chains, c.count_with);
  ASSERT_EQ(plan.size(), c.pieces);
  EXPECT_EQ(plan.at(0).start, c.lo - 1);
  // The first page is read: the first piece goes on after it.
  EXPECT_EQ(plan.at(0).left.after, c.lo + (kPageSize - 1) * c.step);
  EXPECT_EQ(plan.at(0).left.before, c.first_before);
  EXPECT_EQ(plan.at(1).left.before, c.second_before);
  // Adjacent pieces.
  for (size_t i = 1; i < plan.size(); ++i) {
    EXPECT_EQ(plan.at(i).left.after + 1, *plan.at(i - 1).left.before) << i;
    EXPECT_EQ(plan.at(i).start, plan.at(i).left.after) << i;
  }
  // A one wave's last piece ends below the top page (the descending page,
  // delivered as the list's end); a longer read's stays open.
  const int64_t top_lo = c.hi - (kPageSize - 1) * c.step;
  if (plan.one_wave()) {
    EXPECT_EQ(plan.at(plan.size() - 1).left.before, top_lo);
    EXPECT_EQ(plan.top_after(), top_lo - 1);
  } else {
    EXPECT_FALSE(plan.at(plan.size() - 1).left.before.has_value());
    EXPECT_FALSE(plan.top_after().has_value());
  }
}

// In a short list's one wave, a full descending page is the list's top,
// already read: what is left ends below its lowest id (the last piece
// bounded there, not open; the others cut as before). Two pages that meet, or touch, are the whole
// list; a short descending page (a list of under 50) takes no top.
TEST(RangePlan, TheTopPageIsNotLeftToRead) {
  for (int64_t n : {101, 150, 2000, 20000}) {
    RangePlan plan({IdRange{0, std::nullopt}});
    plan.Split(Up(1, 1), Down(n, 1), 8, 1);
    ASSERT_TRUE(plan.top_after().has_value()) << n;
    EXPECT_EQ(*plan.top_after(), n - kPageSize) << n;
    EXPECT_FALSE(plan.whole_on_first_page()) << n;
    EXPECT_EQ(plan.at(plan.size() - 1).left.before, n - kPageSize + 1) << n;
    double items = 0;
    for (size_t i = 0; i < plan.size(); ++i) items += plan.ExpectedItems(plan.at(i));
    EXPECT_NEAR(items, static_cast<double>(n - 2 * kPageSize), 1) << n;
  }
  for (int64_t n : {60, 99, 100}) {
    RangePlan plan({IdRange{0, std::nullopt}});
    plan.Split(Up(1, 1), Down(n, 1), 8, 1);
    EXPECT_TRUE(plan.whole_on_first_page()) << n;
    EXPECT_TRUE(plan.at(0).done) << n;
    EXPECT_EQ(plan.top_after(), kPageSize) << n;  // the top: what follows the first page
  }
  // A longer read (several waves) takes no top: its last range stays open.
  RangePlan waves({IdRange{0, std::nullopt}});
  waves.Split(Up(1, 1), Down(200000, 1), 8, 1);
  EXPECT_FALSE(waves.top_after().has_value());
  EXPECT_FALSE(waves.at(waves.size() - 1).left.before.has_value());
  RangePlan short_top({IdRange{0, std::nullopt}});
  short_top.Split(Up(1, 1), Down(60, 1, 10), 8, 1);
  EXPECT_FALSE(short_top.top_after().has_value());
  EXPECT_FALSE(short_top.at(short_top.size() - 1).left.before.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangePlanSplit,
    ::testing::Values(
        // 20,000 dense ids, 8 chains: the 19,950 after the first page are
        // 399 pages, with the count (5 pages' worth: counting 19,950 rows)
        // 404: one wave of 8 batches. The first range's batch carries the
        // count (the ranges leave rests: RangePlan::count_range): 45 pages
        // of room to the others' 50, so the ranges hold 2,272 ids and
        // 2,526, each a little over its batch.
        Cut{1, 20000, 1, 8, 1, 8, 51 + 2272, 51 + 2272 + 2526},
        // No count: eight equal shares of 19,950 (2,493.75 ids).
        Cut{1, 20000, 1, 8, -1, 8, 51 + 2493, 51 + 4987},
        // 50 more ids: 405 pages' worth, one wave still (the density is a
        // guess, within a tenth): each range is a little over its batch.
        Cut{1, 20050, 1, 8, 1, 8, 51 + 2278, 51 + 4810},
        // 22,100 ids: 441 pages and the count's 6 are past a tenth over
        // one wave (440). About three pieces per chain of 1,000 items at
        // least: 23 pieces rounded up to 3 waves of 8 (918 ids each).
        Cut{1, 22100, 1, 8, 1, 24, 51 + 918, 51 + 1837},
        // 3,000 dense ids: 59 pages after the first and the count's 2, far
        // under one wave: a range per chain (at least 3 pages each), each
        // its chain's share, 8 pages of room, the count's 6 (2,950 ids
        // shared 8 : 6 : 8 : … of 62). Three ranges of 1,000 items used to
        // be cut again in flight to fill the idle chains: 18 to 21 requests.
        Cut{1, 3000, 1, 8, 1, 8, 51 + 380, 51 + 666},
        // One chain: 5,000 items a piece (the most), 4 pieces.
        Cut{1, 20000, 1, 1, 1, 4, 51 + 4987, 51 + 9975},
        // 200,000 dense ids, 8 chains: 8,331 a piece is over the most, so
        // 40 pieces of 5,000, already 5 full waves.
        Cut{1, 200000, 1, 8, 1, 40, 51 + 4998, 51 + 9997},
        // One id in ten (density 100 / 982 from the two pages): about
        // 10,132 items after the first page, 203 pages and the count's 3:
        // one wave of 8, each range its chain's share (26 pages of room,
        // the count's 23 of 205).
        Cut{1, 99991, 10, 8, 1, 8, 492 + 12619, 492 + 23782}));

TEST(RangePlan, TheCountWeighsItsRowsInAShortListsOneWave) {
  // A counted page is a page plus 1/4,600 of one per row counted.
  EXPECT_EQ(CountPages(0), 1);
  EXPECT_EQ(CountPages(2000), 1);
  EXPECT_EQ(CountPages(20000), 5);
  EXPECT_EQ(CountPages(1e9), kMaxPages / 2);
  // In a short list's one wave the count's batch holds that many pages
  // less; a long list's batches all carry 50 commands (requests are what
  // binds it), the count one of them.
  RangePlan one_wave({IdRange{0, std::nullopt}});
  one_wave.Split(Up(1, 1), Down(20000, 1), 8, 1);
  EXPECT_EQ(one_wave.count_pages(), 5);
  RangePlan waves({IdRange{0, std::nullopt}});
  waves.Split(Up(1, 1), Down(200000, 1), 8, 1);
  EXPECT_EQ(waves.count_pages(), 1);
  RangePlan no_count({IdRange{0, std::nullopt}});
  no_count.Split(Up(1, 1), Down(20000, 1), 8, -1);
  EXPECT_EQ(no_count.count_pages(), 1);
}

TEST(RangePlan, ABucketPacedListIsCutIntoTwoRangesPerChain) {
  // 200,000 dense ids on 8 chains: 16 ranges when the bucket paces the read
  // (each range's part-empty last page is a command lost), 40 of at most
  // 5,000 items when the connections do. The callback is asked about the
  // commands left after the first page: the pages and the count.
  double asked = 0;
  RangePlan bucket({IdRange{0, std::nullopt}});
  bucket.Split(Up(1, 1), Down(200000, 1), 8, 1, [&](double pages) {
    asked = pages;
    return true;
  });
  EXPECT_TRUE(bucket.bucket_bound());
  EXPECT_EQ(bucket.size(), 16u);
  EXPECT_EQ(asked, 4000);  // 3,999 pages and the count
  RangePlan connections({IdRange{0, std::nullopt}});
  connections.Split(Up(1, 1), Down(200000, 1), 8, 1, [](double) { return false; });
  EXPECT_FALSE(connections.bucket_bound());
  EXPECT_EQ(connections.size(), 40u);
  // A short list's one wave never asks.
  RangePlan one_wave({IdRange{0, std::nullopt}});
  one_wave.Split(Up(1, 1), Down(20000, 1), 8, 1, [](double) { return true; });
  EXPECT_FALSE(one_wave.bucket_bound());
  EXPECT_EQ(one_wave.size(), 8u);
}

TEST(RangePlan, CutAfterLeavesThePagesGivenWhatTheyReach) {
  // A range of 5,000 dense ids not yet read: 30 pages asked to its end
  // (PagesToEnd's margin) reach 1,425 ids; the rest is a new idle range
  // right after it, with the rest of the bound.
  RangePlan plan({IdRange{100, 5101}});
  PlannedRange* rest = plan.CutAfter(&plan.at(0), 30);
  ASSERT_NE(rest, nullptr);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan.at(0).left.before, 1526);
  EXPECT_EQ(plan.PagesToEnd(plan.at(0)), 30);
  EXPECT_EQ(rest, &plan.at(1));
  EXPECT_EQ(rest->left.after, 1525);
  EXPECT_EQ(rest->left.before, 5101);
  EXPECT_FALSE(rest->in_flight);
  // Nothing to cut when the pages reach the end anyway, or the range is in
  // flight.
  EXPECT_EQ(plan.CutAfter(&plan.at(0), 30), nullptr);
  plan.at(1).in_flight = true;
  EXPECT_EQ(plan.CutAfter(&plan.at(1), 10), nullptr);
  EXPECT_EQ(plan.size(), 2u);
}

TEST(RangePlan, AListOfOnePageIsReadByTheFirstPage) {
  // A short first page is the whole list.
  RangePlan plan({IdRange{0, std::nullopt}});
  plan.Split(Up(7, 1, 30), Down(36, 1, 30), 8, 1);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan.at(0).start, 6);
  EXPECT_EQ(plan.at(0).left.after, 36);
  EXPECT_TRUE(plan.at(0).done);
  // So is a full one that ends at the highest id.
  RangePlan full({IdRange{0, std::nullopt}});
  full.Split(Up(1, 1), Down(50, 1), 8, 1);
  ASSERT_EQ(full.size(), 1u);
  EXPECT_TRUE(full.at(0).done);
  RangePlan empty({IdRange{0, std::nullopt}});
  empty.Split({}, {}, 8, 1);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(empty.at(0).done);
}

TEST(RangePlan, AOneWavesRestIsAskedToJustPastItsEnd) {
  // 20,000 dense ids, one wave whose ranges leave rests: a range whose
  // batch read all but its last 147 ids (2.94 pages, at the density it
  // learned) is asked 3 pages. 5% over, as before, asked 4: the last a page
  // past its end, which re-reads the range.
  RangePlan plan({IdRange{0, std::nullopt}});
  plan.Split(Up(1, 1), Down(20000, 1), 8, 1);
  ASSERT_TRUE(plan.one_wave());
  ASSERT_FALSE(plan.short_wave());
  plan.UpdateNearEnd(0, 8);
  PlannedRange& r = plan.at(3);
  const int64_t read_to = *r.left.before - 148;
  plan.Learn(&r, static_cast<double>(read_to - r.left.after), read_to);
  r.left.after = read_to;
  r.started = true;
  EXPECT_DOUBLE_EQ(plan.ExpectedItems(r), 147);
  EXPECT_EQ(plan.PagesToEnd(r), 3);
  EXPECT_EQ(plan.PagesFor(r), 3);
  // A range not started is asked as before (its density is the list's guess).
  EXPECT_EQ(plan.PagesToEnd(plan.at(4)), 50);
}

TEST(RangePlan, OneWaveIsAskedToItsEndsInOneRound) {
  // 20,000 dense ids, 8 chains, the count with the first range (the
  // ranges leave rests: count_range()): every range is asked to its end, 50
  // pages at most (the count's range, 2,272 ids, for 48: its batch has room
  // for 45 besides the count's 5 pages' worth), and only short rests are
  // left for a second round.
  RangePlan plan({IdRange{0, std::nullopt}});
  plan.Split(Up(1, 1), Down(20000, 1), 8, 1);
  plan.UpdateNearEnd(0, 8);
  ASSERT_TRUE(plan.near_end());
  std::vector<int> asked;
  for (size_t i = 0; i < plan.size(); ++i) asked.push_back(plan.PagesFor(plan.at(i)));
  EXPECT_EQ(asked, (std::vector<int>{48, 50, 50, 50, 50, 50, 50, 50}));
  EXPECT_DOUBLE_EQ(plan.ExpectedItems(plan.at(0)), 2272);
  EXPECT_EQ(plan.count_range(), &plan.at(0));
  EXPECT_EQ(plan.count_pages(), 5);
  // The last range read up to below the top page asks one page to see its
  // end (a page past a range's end re-reads it: 49 more would re-read it
  // 49 times).
  plan.at(7).left.after = 19950;
  plan.at(7).started = true;
  EXPECT_EQ(plan.PagesFor(plan.at(7)), 1);
  // With four chains the same list is three waves away from its end.
  RangePlan four({IdRange{0, std::nullopt}});
  four.Split(Up(1, 1), Down(20000, 1), 4, 1);
  four.UpdateNearEnd(0, 4);
  EXPECT_FALSE(four.near_end());
}

struct Ask {
  int64_t after, before;
  bool started;
  int pages, pages_to_end;
};

class RangePlanPages : public ::testing::TestWithParam<Ask> {};

TEST_P(RangePlanPages, AsksALittleUnderAndShortRestsALittleOver) {
  const Ask& a = GetParam();
  // A far range keeps the end away, so nothing is near the end.
  RangePlan plan({IdRange{a.after, a.before}, IdRange{a.before - 1, a.before + 100000}});
  plan.UpdateNearEnd(0, 1);
  ASSERT_FALSE(plan.near_end());
  plan.at(0).started = a.started;
  EXPECT_EQ(plan.PagesFor(plan.at(0)), a.pages);
  EXPECT_EQ(plan.PagesToEnd(plan.at(0)), a.pages_to_end);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangePlanPages,
    ::testing::Values(
        // 1,000 ids: 95% of 20 pages = 19; to the end 1000 / 0.95 = 22 pages.
        Ask{0, 1001, false, 19, 22}, Ask{0, 1001, true, 19, 22},
        // 400 ids: 7 pages; a started range's short rest 400 x 1.05 = 9.
        Ask{0, 401, false, 7, 9}, Ask{0, 401, true, 9, 9},
        // 19 ids: at least one page; 100,000 ids: at most 50.
        Ask{0, 20, false, 1, 1}, Ask{0, 100001, false, 50, 50}));

TEST(RangePlan, NearTheEndEveryRangeIsAskedToItsEnd) {
  // 5,000 ids are 100 pages: two batches, the end is near (one chain: at
  // least two batches count as near).
  RangePlan near({IdRange{0, 5001}});
  near.UpdateNearEnd(0, 1);
  EXPECT_TRUE(near.near_end());
  EXPECT_EQ(near.PagesFor(near.at(0)), near.PagesToEnd(near.at(0)));
  RangePlan far({IdRange{0, 5101}});
  far.UpdateNearEnd(0, 1);
  EXPECT_FALSE(far.near_end());
  // What a batch in flight will read does not count as left.
  far.at(0).in_flight = true;
  far.at(0).pages = 10;
  far.UpdateNearEnd(0, 1);
  EXPECT_TRUE(far.near_end());
  // Eight chains: what eight batches hold, give or take a tenth (the
  // density's guess), is near: 20,000 ids, 22,000 too, not 22,100.
  for (int64_t ids : {20000, 22000}) {
    RangePlan wave({IdRange{0, ids + 1}});
    wave.UpdateNearEnd(0, 8);
    EXPECT_TRUE(wave.near_end()) << ids;
  }
  RangePlan beyond({IdRange{0, 22101}});
  beyond.UpdateNearEnd(0, 8);
  EXPECT_FALSE(beyond.near_end());
}

TEST(RangePlan, AResumedOpenRangeIsReadFiftyPagesAtATime) {
  RangePlan plan({IdRange{500, std::nullopt}});
  EXPECT_EQ(plan.PagesFor(plan.at(0)), kMaxPages);
}

struct Theft {
  int64_t before;  // the range in flight is (0, before), its batch 50 pages
  std::optional<int64_t> split;  // where the stolen piece starts, if any
};

class RangePlanSteal : public ::testing::TestWithParam<Theft> {};

TEST_P(RangePlanSteal, SplitsHalfOfWhatTheBatchWillNotReach) {
  const Theft& t = GetParam();
  RangePlan plan({IdRange{0, t.before}});
  plan.at(0).in_flight = true;
  plan.at(0).pages = 50;
  // What a short list's rest is asked to its end by (RestPages): a batch
  // whose remainder Steal would not take.
  EXPECT_EQ(plan.Stealable(plan.at(0), 50), t.split.has_value());
  PlannedRange* piece = plan.Steal(0);
  if (!t.split) {
    EXPECT_EQ(piece, nullptr);
    EXPECT_EQ(plan.size(), 1u);
    return;
  }
  ASSERT_NE(piece, nullptr);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(&plan.at(1), piece);
  EXPECT_EQ(plan.at(0).left.before, *t.split);
  EXPECT_EQ(piece->start, *t.split - 1);
  EXPECT_EQ(piece->left.after, *t.split - 1);
  EXPECT_EQ(piece->left.before, t.before);
  EXPECT_FALSE(piece->in_flight);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangePlanSteal,
    ::testing::Values(
        // The batch reaches id 2,500; 7,501 ids are left: split half-way.
        Theft{10001, 6250},
        // 101 left, over the two pages it takes to be worth a chain.
        Theft{2601, 2550},
        // 51 left: not worth a request of its own.
        Theft{2551, std::nullopt}));

TEST(RangePlan, ARangesOwnDensityGuessesItsRest) {
  RangePlan plan({IdRange{0, 10001}});
  EXPECT_DOUBLE_EQ(plan.ExpectedItems(plan.at(0)), 10000);
  // 100 items over the first 1,000 ids: one in ten.
  plan.Learn(&plan.at(0), 100, 1000);
  plan.at(0).left.after = 1000;
  EXPECT_DOUBLE_EQ(plan.density(), 0.1);
  EXPECT_DOUBLE_EQ(plan.ExpectedItems(plan.at(0)), 900);
  // Nothing passed: nothing learned.
  plan.Learn(&plan.at(0), 0, 1000);
  EXPECT_DOUBLE_EQ(plan.density(), 0.1);
}

}  // namespace
}  // namespace b24gate::range_plan_test
