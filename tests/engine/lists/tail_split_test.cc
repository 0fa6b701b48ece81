// The pages of a batch near the end of a read the connections bind: the
// work left poured over the connections so that they end together.
#include "engine/lists/tail_split.h"

#include <gtest/gtest.h>

#include "engine/lists/keyset_pages.h"

namespace b24gate::tail_split_test {
namespace {

constexpr double kPage = 0.1;  // seconds a page

TEST(TailPages, WorkThatFillsFullBatchesGetsFullBatches) {
  EXPECT_EQ(TailPages({}, 400, kPage, 8), kMaxPages);
  EXPECT_EQ(TailPages({5.0, 5.0, 5.0}, 10000, kPage, 8), kMaxPages);
}

TEST(TailPages, IdleConnectionsShareTheWorkLeftEqually) {
  // 80 pages over 8 idle connections: 10 each.
  EXPECT_EQ(TailPages({}, 80, kPage, 8), 10);
  EXPECT_EQ(TailPages({}, 81, kPage, 8), 11);  // rounded up: no crumbs left
}

TEST(TailPages, ABusyConnectionTakesItsShareWhenItsBatchEnds) {
  // 7 connections busy for 1 s (10 pages' time) and 10 pages left: the idle
  // one takes all of it, ending with them.
  std::vector<double> busy(7, 1.0);
  EXPECT_EQ(TailPages(busy, 10, kPage, 8), 10);
  // 90 pages left: all 8 end 2 s from now; this one gets 20 pages.
  EXPECT_EQ(TailPages(busy, 90, kPage, 8), 20);
}

TEST(TailPages, AConnectionBusyPastTheEndTakesNothing) {
  // One batch runs 10 s more: the 40 pages left (4 s) go to the 7 others,
  // 0.57 s each, 6 pages rounded up.
  std::vector<double> busy = {10.0};
  EXPECT_EQ(TailPages(busy, 40, kPage, 8), 6);
}

TEST(TailPages, AtLeastOnePage) {
  EXPECT_EQ(TailPages({}, 0, kPage, 8), 1);
  EXPECT_EQ(TailPages({3.0}, 0.2, kPage, 2), 1);
}

}  // namespace
}  // namespace b24gate::tail_split_test
