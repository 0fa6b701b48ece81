// Parallel keyset reading of long lists on simulated time (long_list_portal.h):
// the standard plan's bucket refilling at 2 requests a second, 8 connections,
// the emulator's small and huge page costs. What is asserted are counts and
// the simulated timeline, never the real clock: every item once and in
// order, the bucket never overflowing, the requests issued, and where the
// model puts the read against the portal's ceiling.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "tests/engine/lists/long_list_portal.h"

namespace b24gate::parallel_keyset_timeline_test {
namespace {

// Ids with gaps of 1 to 3, as the emulator seeds them.
std::vector<int64_t> SeededIds(int n, int seed) {
  std::mt19937 rng(seed);
  std::vector<int64_t> ids;
  int64_t id = 0;
  for (int i = 0; i < n; ++i) {
    id += 1 + static_cast<int64_t>(rng() % 3);
    ids.push_back(id);
  }
  return ids;
}

ListRequest Leads() {
  ListRequest r;
  r.method = "crm.lead.list";
  r.params = {{"select", {"ID", "TITLE"}}};
  return r;
}

// Reads `ids` whole and checks what every read must keep; prints the
// timeline's figures.
SimRead ReadAll(const std::vector<int64_t>& ids, SimProfile profile, const char* name) {
  LongListPortal portal(ids, profile);
  SimRead read = portal.Read(Leads());
  std::printf(
      "%s, %zu items: %d requests, %d commands, %.2f s simulated, ceiling %.2f s (%.1f%%)\n", name,
      ids.size(), read.requests, read.commands, read.seconds, read.ceiling_seconds,
      100 * read.share());
  EXPECT_TRUE(read.outcome.status.ok()) << read.outcome.status;
  EXPECT_EQ(read.outcome.Ids(), ids);  // every item once, in order
  EXPECT_LE(read.peak_level, profile.burst);
  return read;
}

// The bucket binds: requests are what the read pays for.
TEST(ParallelKeysetTimeline, SmallPagesSpendTheBucketOnFullBatches) {
  SimRead read = ReadAll(SeededIds(200000, 1), SimProfile::Small(), "small");
  // 4,000 pages: the bounds, 80 full batches, and what the ranges' part-empty
  // last pages and the count add.
  EXPECT_LE(read.requests, 83);
}

// The connections bind: the last batches are cut so that they end together
// instead of one range's batch running alone at the end.
TEST(ParallelKeysetTimeline, HugePagesEndTheConnectionsTogether) {
  SimRead read = ReadAll(SeededIds(200000, 1), SimProfile::Huge(), "huge");
  EXPECT_GE(read.share(), 0.95);
}

TEST(ParallelKeysetTimeline, HugePagesOfDenseIdsEndTheConnectionsTogether) {
  SimRead read = ReadAll(Ids(200000), SimProfile::Huge(), "huge, dense ids");
  EXPECT_GE(read.share(), 0.95);
}

TEST(ParallelKeysetTimeline, AShorterHugeListEndsItsConnectionsTogether) {
  SimRead read = ReadAll(SeededIds(100000, 2), SimProfile::Huge(), "huge");
  EXPECT_GE(read.share(), 0.95);
}

}  // namespace
}  // namespace b24gate::parallel_keyset_timeline_test
