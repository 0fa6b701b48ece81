#include "engine/cache/memory_store.h"

#include <string>

#include <gtest/gtest.h>

namespace b24gate::memory_store_test {
namespace {

TEST(MemoryCacheStore, EntriesExpireAtTheirTimeToLive) {
  FakeClock clock;
  MemoryCacheStore store(100, 1 << 20, &clock);
  store.Put("p", "short", "1", absl::Seconds(1));
  store.Put("p", "long", "2", absl::Seconds(10));
  EXPECT_EQ(store.Get("short"), "1");
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(store.Get("short"), std::nullopt);
  EXPECT_EQ(store.Get("long"), "2");
  EXPECT_EQ(store.Counts()["p"].entries, 1);
  EXPECT_EQ(store.Counts()["p"].evictions, 0) << "expiry is not an eviction";
}

TEST(MemoryCacheStore, EvictsTheLeastRecentlyUsedBeyondMaxEntries) {
  FakeClock clock;
  MemoryCacheStore store(2, 1 << 20, &clock);
  store.Put("p", "a", "1", absl::Minutes(1));
  store.Put("p", "b", "2", absl::Minutes(1));
  EXPECT_EQ(store.Get("a"), "1");  // b is now the least recently used
  store.Put("q", "c", "3", absl::Minutes(1));
  EXPECT_EQ(store.Get("b"), std::nullopt);
  EXPECT_EQ(store.Get("a"), "1");
  EXPECT_EQ(store.Get("c"), "3");
  auto counts = store.Counts();
  EXPECT_EQ(counts["p"].evictions, 1);
  EXPECT_EQ(counts["p"].entries, 1);
  EXPECT_EQ(counts["q"].entries, 1);
}

TEST(MemoryCacheStore, EvictsBeyondMaxBytesAndRefusesOversizedEntries) {
  FakeClock clock;
  MemoryCacheStore store(100, 20, &clock);  // key + value bytes
  store.Put("p", "k1", std::string(8, 'x'), absl::Minutes(1));   // 10 bytes
  store.Put("p", "k2", std::string(8, 'y'), absl::Minutes(1));   // 20 bytes
  store.Put("p", "k3", std::string(8, 'z'), absl::Minutes(1));   // 30 > 20: k1 goes
  EXPECT_EQ(store.Get("k1"), std::nullopt);
  EXPECT_TRUE(store.Get("k2").has_value());
  EXPECT_TRUE(store.Get("k3").has_value());
  store.Put("p", "big", std::string(30, 'w'), absl::Minutes(1));
  EXPECT_EQ(store.Get("big"), std::nullopt);
  EXPECT_TRUE(store.Get("k2").has_value()) << "an oversized entry must not push others out";
  EXPECT_EQ(store.Counts()["p"].evictions, 1);
}

TEST(MemoryCacheStore, ReplacingAnEntryKeepsOneCopy) {
  FakeClock clock;
  MemoryCacheStore store(10, 1 << 20, &clock);
  store.Put("p", "a", "old", absl::Minutes(1));
  store.Put("p", "a", "new", absl::Minutes(1));
  EXPECT_EQ(store.Get("a"), "new");
  EXPECT_EQ(store.Counts()["p"].entries, 1);
}

TEST(MemoryCacheStore, GenerationsCountBumps) {
  FakeClock clock;
  MemoryCacheStore store(10, 1 << 20, &clock);
  EXPECT_EQ(store.Generation("s"), 0);
  store.Bump("s");
  store.Bump("s");
  EXPECT_EQ(store.Generation("s"), 2);
  EXPECT_EQ(store.Generation("t"), 0);
}

}  // namespace
}  // namespace b24gate::memory_store_test
