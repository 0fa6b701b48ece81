// What one batch of a parallel keyset read carries: each range's pages in
// turn up to 50, the count's command when it is asked for or there is room,
// and the room left spent on asking the ranges to their ends.
#include "engine/lists/batch_builder.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace b24gate::batch_builder_test {
namespace {

struct Fill {
  bool count_first;
  std::vector<std::pair<int, int>> asks;  // (pages, pages to end) per range
  bool count_offered;                     // at Finish
  std::vector<int> pages;                 // what each range gets
  bool with_count;
  int count_pages = 1;  // the pages' worth of time the count takes
};

class BatchBuilderFill : public ::testing::TestWithParam<Fill> {};

TEST_P(BatchBuilderFill, GivesEachRangeItsPages) {
  const Fill& f = GetParam();
  BatchBuilder batch(f.count_first, f.count_pages);
  for (auto [pages, to_end] : f.asks) {
    ASSERT_TRUE(batch.HasRoom());
    batch.Add(pages, to_end);
  }
  batch.Finish(f.count_offered);
  EXPECT_EQ(batch.pages(), f.pages);
  EXPECT_EQ(batch.with_count(), f.with_count);
  int total = 0;
  for (int p : f.pages) total += p;
  EXPECT_EQ(batch.total(), total);
  EXPECT_LE(total + (f.with_count ? f.count_pages : 0), kMaxPages);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BatchBuilderFill,
    ::testing::Values(
        // Three ranges of 20 pages: the third gets what is left.
        Fill{false, {{20, 22}, {20, 22}, {20, 22}}, false, {20, 20, 10}, false},
        // The count asked for up front keeps the last command.
        Fill{true, {{20, 22}, {20, 22}, {20, 22}}, true, {20, 20, 9}, true},
        // One short range: the count rides in the room left, and the range
        // is asked on to its end.
        Fill{false, {{20, 22}}, true, {22}, true},
        // Room left goes to the ranges in order, each up to its end.
        Fill{false, {{20, 22}, {10, 30}}, false, {22, 28}, false},
        // A full batch has no room for the count.
        Fill{false, {{50, 50}}, true, {50}, false},
        // Nothing to spare: a range already at its end asks no more.
        Fill{false, {{5, 5}, {7, 7}}, false, {5, 7}, false},
        // A count worth 5 pages asked for up front: 45 pages besides it, so
        // the batch takes as long as one of 50 pages.
        Fill{true, {{50, 50}}, true, {45}, true, 5},
        // Offered at the end, it rides only where its 5 pages fit.
        Fill{false, {{45, 45}}, true, {45}, true, 5},
        Fill{false, {{46, 46}}, true, {46}, false, 5}));

TEST(BatchBuilder, KeysEachRangesChainByItsOwnPrefix) {
  BatchBuilder batch(false);
  batch.Add(2, 2);
  batch.Add(3, 3);
  batch.Finish(false);
  KeysetQuery query;
  query.method = "crm.lead.list";
  query.shape.keyset_filter_field = "ID";
  query.shape.keyset_order_field = "ID";
  query.shape.item_id_field = "ID";
  std::vector<BatchCommandSpec> commands = batch.Commands(query, "", {{0, 100}, {99, 200}});
  std::vector<std::string> keys;
  for (const auto& c : commands) keys.push_back(c.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"r0p0", "r0p1", "r1p0", "r1p1", "r1p2"}));
  EXPECT_EQ(commands[0].params["filter"][">ID"], 0);
  EXPECT_EQ(commands[2].params["filter"][">ID"], 99);
  EXPECT_EQ(commands[3].params["filter"][">ID"], "$result[r1p0][49][ID]");
}

}  // namespace
}  // namespace b24gate::batch_builder_test
