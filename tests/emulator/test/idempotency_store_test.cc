// The REST 3.0 idempotency store on both sides of each boundary: key syntax,
// replay versus reuse, a repeat during the first run, and expiry.
#include "tests/emulator/idempotency_store.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/emulator/test/fake_clock.h"

namespace b24emu::idempotency_store_test {
namespace {

using Verdict = IdempotencyStore::Lookup::Verdict;

TEST(IdempotencyKeyTest, OneTo255PrintableAsciiCharacters) {
  EXPECT_TRUE(ValidIdempotencyKey("a"));
  EXPECT_TRUE(ValidIdempotencyKey(std::string(255, 'k')));
  EXPECT_TRUE(ValidIdempotencyKey("order 42 ~!"));
  EXPECT_FALSE(ValidIdempotencyKey(""));
  EXPECT_FALSE(ValidIdempotencyKey(std::string(256, 'k')));
  EXPECT_FALSE(ValidIdempotencyKey("tab\there"));
  EXPECT_FALSE(ValidIdempotencyKey("caf\xc3\xa9"));
}

TEST(IdempotencyStoreTest, SameBodyReplaysOtherBodyIsReused) {
  FakeClock clock;
  IdempotencyStore store(absl::Hours(24), &clock);
  EXPECT_EQ(store.Find("s", "{\"a\":1}").verdict, Verdict::kRun);
  store.Keep("s", "{\"a\":1}", {200, "first"}, clock.Now());
  IdempotencyStore::Lookup again = store.Find("s", "{\"a\":1}");
  EXPECT_EQ(again.verdict, Verdict::kReplay);
  EXPECT_EQ(again.answer.body, "first");
  EXPECT_EQ(store.Find("s", "{\"a\":2}").verdict, Verdict::kReused);
  // Another scope (credential, user, method) does not see the key.
  EXPECT_EQ(store.Find("t", "{\"a\":1}").verdict, Verdict::kRun);
}

TEST(IdempotencyStoreTest, FirstAnswerKeptSecondIgnored) {
  FakeClock clock;
  IdempotencyStore store(absl::Hours(24), &clock);
  store.Keep("s", "b", {200, "first"}, clock.Now());
  store.Keep("s", "b", {200, "second"}, clock.Now());
  EXPECT_EQ(store.Find("s", "b").answer.body, "first");
}

TEST(IdempotencyStoreTest, RepeatBeforeTheFirstRunFinishedRunsAndOverlaps) {
  FakeClock clock;
  IdempotencyStore store(absl::Hours(24), &clock);
  store.Keep("s", "b", {200, "first"}, clock.Now() + absl::Milliseconds(10));
  IdempotencyStore::Lookup early = store.Find("s", "b");
  EXPECT_EQ(early.verdict, Verdict::kRun);
  EXPECT_TRUE(early.overlap);
  clock.Advance(absl::Milliseconds(10));
  EXPECT_EQ(store.Find("s", "b").verdict, Verdict::kReplay);
}

TEST(IdempotencyStoreTest, KeyExpiresAfterTtl) {
  FakeClock clock;
  IdempotencyStore store(absl::Hours(24), &clock);
  store.Keep("s", "b", {200, "first"}, clock.Now());
  clock.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_EQ(store.Find("s", "b").verdict, Verdict::kReplay);
  clock.Advance(absl::Seconds(1));
  IdempotencyStore::Lookup late = store.Find("s", "b");
  EXPECT_EQ(late.verdict, Verdict::kRun);
  EXPECT_FALSE(late.overlap);
  EXPECT_EQ(store.size(), 0);
}

}  // namespace
}  // namespace b24emu::idempotency_store_test
