// Parallel keyset reading of long lists on simulated time (timed_list_server.h):
// the standard plan's bucket refilling at 2 requests a second, 8 connections,
// the emulator's small and huge page costs. What is asserted are counts and
// the simulated timeline, never the real clock: requests issued, every item
// once in order, the bucket never overflowing, and where the model puts the
// read against the portal's ceiling.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "tests/engine/lists/timed_list_server.h"

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

SimRead ReadAll(const std::vector<int64_t>& ids, SimProfile profile, const char* name) {
  TimedListServer server(ids, profile);
  SimRead read = server.Read(Leads());
  std::printf("%s %zu items: %d requests, %d commands, %.2f s simulated, ceiling %.2f s (%.1f%%), peak bucket %.1f\n",
              name, ids.size(), read.requests, read.commands, read.seconds, read.ceiling_seconds,
              100 * read.share(), read.peak_level);
  EXPECT_TRUE(read.outcome.status.ok()) << read.outcome.status;
  EXPECT_EQ(read.outcome.Ids(), ids);  // every item once, in order
  return read;
}

TEST(ParallelKeysetTimeline, Small200kFillsEveryRequestButTheLast) {
  ReadAll(SeededIds(200000, 1), SimProfile::Small(), "small");
}

TEST(ParallelKeysetTimeline, Huge200kEndsItsConnectionsTogether) {
  ReadAll(SeededIds(200000, 1), SimProfile::Huge(), "huge");
}

}  // namespace
}  // namespace b24gate::parallel_keyset_timeline_test
