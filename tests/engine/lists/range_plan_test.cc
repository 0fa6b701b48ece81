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
  size_t pieces;
  int64_t first_before;  // where the first piece ends (exclusive)
};

class RangePlanSplit : public ::testing::TestWithParam<Cut> {};

TEST_P(RangePlanSplit, CutsIntoFullWavesOfPieces) {
  const Cut& c = GetParam();
  RangePlan plan({IdRange{0, std::nullopt}});
  plan.Split(Up(c.lo, c.step), Down(c.hi, c.step), c.chains);
  ASSERT_EQ(plan.size(), c.pieces);
  EXPECT_EQ(plan.at(0).left.after, c.lo - 1);
  EXPECT_EQ(plan.at(0).start, c.lo - 1);
  EXPECT_EQ(plan.at(0).left.before, c.first_before);
  // Adjacent pieces, the last one open.
  for (size_t i = 1; i < plan.size(); ++i) {
    EXPECT_EQ(plan.at(i).left.after + 1, *plan.at(i - 1).left.before) << i;
  }
  EXPECT_FALSE(plan.at(plan.size() - 1).left.before.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangePlanSplit,
    ::testing::Values(
        // 20,000 dense ids, 8 chains: 1,000 items a piece (the least), 20
        // pieces rounded up to 3 waves of 8.
        Cut{1, 20000, 1, 8, 24, 1 + 20000 / 24},
        // One chain: 5,000 items a piece (the most), 4 pieces.
        Cut{1, 20000, 1, 1, 4, 1 + 20000 / 4},
        // 200,000 dense ids, 8 chains: 8,333 a piece is over the most, so
        // 40 pieces of 5,000, already 5 full waves.
        Cut{1, 200000, 1, 8, 40, 1 + 200000 / 40},
        // One id in ten (density 100 / 982 from the two pages): about
        // 10,182 items over 99,991 ids, 11 pieces rounded up to 16.
        Cut{1, 99991, 10, 8, 16, 1 + 99991 / 16}));

TEST(RangePlan, AListOfOnePageIsOneShortRange) {
  RangePlan plan({IdRange{0, std::nullopt}});
  plan.Split(Up(7, 1, 30), Down(36, 1, 30), 8);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan.at(0).left.after, 6);
  EXPECT_FALSE(plan.at(0).done);
  RangePlan empty({IdRange{0, std::nullopt}});
  empty.Split({}, {}, 8);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(empty.at(0).done);
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
  plan.UpdateNearEnd(0);
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
  // 5,000 ids are 100 pages: two batches, the end is near.
  RangePlan near({IdRange{0, 5001}});
  near.UpdateNearEnd(0);
  EXPECT_TRUE(near.near_end());
  EXPECT_EQ(near.PagesFor(near.at(0)), near.PagesToEnd(near.at(0)));
  RangePlan far({IdRange{0, 5101}});
  far.UpdateNearEnd(0);
  EXPECT_FALSE(far.near_end());
  // What a batch in flight will read does not count as left.
  far.at(0).in_flight = true;
  far.at(0).pages = 10;
  far.UpdateNearEnd(0);
  EXPECT_TRUE(far.near_end());
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
