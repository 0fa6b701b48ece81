#include "engine/cache/read_cache.h"

#include <gtest/gtest.h>

#include "engine/cache/memory_store.h"

namespace b24gate::read_cache_test {
namespace {

using Json = nlohmann::ordered_json;

class ReadCacheTest : public ::testing::Test {
 protected:
  ReadCacheTest() {
    CacheOptions options;
    options.rules = {{"crm.*.list", absl::Minutes(5)}, {"crm.deal.get", absl::Seconds(10)}};
    cache_ = std::make_unique<ReadCache>(options,
                                         std::make_unique<MemoryCacheStore>(100, 1 << 20, &clock_));
  }
  static CallReply Reply(const std::string& title) {
    CallReply r;
    r.result = Json::array({{{"ID", "1"}, {"TITLE", title}}});
    r.total = 1;
    return r;
  }
  // Find, and on a miss store `reply`; returns whether it was a hit.
  bool Read(const std::string& method, const Json& params, const std::string& title,
            CacheMode mode = CacheMode::kUse, std::string* got = nullptr) {
    CacheLookup lookup = cache_->Find("p", method, params, mode);
    if (lookup.hit) {
      if (got) *got = lookup.hit->result[0]["TITLE"];
      return true;
    }
    cache_->Store(lookup.ticket, Reply(title));
    if (got) *got = title;
    return false;
  }

  FakeClock clock_;
  std::unique_ptr<ReadCache> cache_;
};

TEST_F(ReadCacheTest, SecondReadIsAHitWhateverTheKeyOrder) {
  EXPECT_FALSE(Read("crm.deal.list", Json::parse(R"({"a":1,"b":2})"), "x"));
  std::string got;
  EXPECT_TRUE(Read("CRM.DEAL.LIST", Json::parse(R"({"b":2,"a":1})"), "y", CacheMode::kUse, &got));
  EXPECT_EQ(got, "x");
  auto counts = cache_->Counts()["p"];
  EXPECT_EQ(counts.hits, 1);
  EXPECT_EQ(counts.misses, 1);
  EXPECT_EQ(counts.entries, 1);
}

TEST_F(ReadCacheTest, OnlyReadsMatchingARuleAreCached) {
  EXPECT_FALSE(Read("crm.deal.fields", Json::object(), "x"));
  EXPECT_FALSE(Read("crm.deal.fields", Json::object(), "x"));
  CacheLookup write = cache_->Find("p", "crm.deal.list.update", Json::object(), CacheMode::kUse);
  EXPECT_TRUE(write.ticket.key.empty());
  EXPECT_EQ(cache_->Counts()["p"].misses, 0) << "uncacheable calls are not counted";
}

TEST_F(ReadCacheTest, ErrorsAreNeverStored) {
  CacheLookup lookup = cache_->Find("p", "crm.deal.get", Json{{"id", 9}}, CacheMode::kUse);
  cache_->Store(lookup.ticket, absl::NotFoundError("Not found"));
  EXPECT_FALSE(cache_->Find("p", "crm.deal.get", Json{{"id", 9}}, CacheMode::kUse).hit);
}

TEST_F(ReadCacheTest, TimeToLiveOfTheMatchingRule) {
  EXPECT_FALSE(Read("crm.deal.get", Json{{"id", 1}}, "x"));
  clock_.Advance(absl::Seconds(9));
  EXPECT_TRUE(Read("crm.deal.get", Json{{"id", 1}}, "x"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(Read("crm.deal.get", Json{{"id", 1}}, "x"));
}

TEST_F(ReadCacheTest, BypassNeitherReadsNorWritesRefreshReplaces) {
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "bypassed", CacheMode::kBypass));
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "first"));
  std::string got;
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "refreshed", CacheMode::kRefresh));
  EXPECT_TRUE(Read("crm.deal.list", Json::object(), "-", CacheMode::kUse, &got));
  EXPECT_EQ(got, "refreshed");
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "-", CacheMode::kBypass));
}

TEST_F(ReadCacheTest, AWriteDropsItsEntityTypesReadsOnly) {
  Read("crm.deal.list", Json::object(), "deal");
  Read("crm.lead.list", Json::object(), "lead");
  cache_->Invalidate("p", "crm.deal.get");  // a read: nothing happens
  EXPECT_TRUE(Read("crm.deal.list", Json::object(), "-"));
  cache_->Invalidate("other-portal", "crm.deal.update");
  EXPECT_TRUE(Read("crm.deal.list", Json::object(), "-"));
  cache_->Invalidate("p", "crm.deal.update");
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "deal2"));
  EXPECT_TRUE(Read("crm.lead.list", Json::object(), "-"));
  cache_->Invalidate("p", "crm.deal.contact.add");  // a deal's sub-entity drops deals too
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "deal3"));
}

TEST_F(ReadCacheTest, ARaceWithAWriteNeverStoresUnderTheNewGeneration) {
  // A read starts, a write completes, then the read's (possibly old) answer
  // arrives: it must not be served to reads after the write.
  CacheLookup before = cache_->Find("p", "crm.deal.list", Json::object(), CacheMode::kUse);
  cache_->Invalidate("p", "crm.deal.update");
  cache_->Store(before.ticket, Reply("old"));
  EXPECT_FALSE(Read("crm.deal.list", Json::object(), "new"));
}

}  // namespace
}  // namespace b24gate::read_cache_test
