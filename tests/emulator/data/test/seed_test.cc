// Seed spec parsing, determinism, sparse ids, and concurrent use.
#include <thread>

#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::seed_test {
namespace {

TEST(SeedSpecTest, ParsesEveryKey) {
  absl::StatusOr<SeedSpec> s = ParseSeedSpec(
      "crm.lead=1000000,crm.deal=500,crm.contact=200,crm.company=50,tasks.task=100,user=20,crm.item=100");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->leads, 1000000);
  EXPECT_EQ(s->deals, 500);
  EXPECT_EQ(s->contacts, 200);
  EXPECT_EQ(s->companies, 50);
  EXPECT_EQ(s->tasks, 100);
  EXPECT_EQ(s->users, 20);
  EXPECT_EQ(s->items, 100);
}

TEST(SeedSpecTest, RejectsBadSpecs) {
  for (const char* bad : {"crm.quote=5", "crm.lead=-1", "crm.lead=x", "crm.lead", "crm.lead=1,crm.lead=2"}) {
    std::string error;
    EXPECT_EQ(MakeSeededPortal(bad, &error), nullptr) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_TRUE(ParseSeedSpec("").ok());
}

TEST(SeedTest, SameSpecSameData) {
  auto a = Portal("crm.lead=300,crm.deal=50,crm.contact=20");
  auto b = Portal("crm.lead=300,crm.deal=50,crm.contact=20");
  json params = {{"select", {"*", "UF_*", "PHONE", "EMAIL"}}, {"start", 100}};
  EXPECT_EQ(Call(*a, "crm.lead.list", params).result, Call(*b, "crm.lead.list", params).result);
  EXPECT_EQ(Call(*a, "crm.deal.contact.items.get", {{"id", 1}}).result,
            Call(*b, "crm.deal.contact.items.get", {{"id", 1}}).result);
}

TEST(SeedTest, IdsAreSparseWithSmallGaps) {
  auto p = Portal("crm.lead=500");
  std::vector<int64_t> ids;
  for (int start = 0; start < 500; start += 50) {
    std::vector<int64_t> page = Ids(Call(*p, "crm.lead.list", {{"start", start}, {"select", {"ID"}}}).result);
    ids.insert(ids.end(), page.begin(), page.end());
  }
  ASSERT_EQ(ids.size(), 500u);
  int gaps = 0;
  for (size_t i = 1; i < ids.size(); ++i) {
    int64_t step = ids[i] - ids[i - 1];
    EXPECT_GE(step, 1);
    EXPECT_LE(step, 3);
    gaps += step > 1;
  }
  EXPECT_GT(gaps, 100);
  // Gaps are real: an id inside one is Not found.
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] - ids[i - 1] > 1) {
      EXPECT_EQ(Call(*p, "crm.lead.get", {{"id", ids[i - 1] + 1}}).error_description, "Not found");
      break;
    }
  }
}

TEST(SeedTest, MultiFieldIdsAreUniqueAcrossEntities) {
  auto p = Portal("crm.lead=50,crm.contact=50,crm.company=50");
  std::set<std::string> seen;
  for (const char* m : {"crm.lead.list", "crm.contact.list", "crm.company.list"}) {
    for (const json& row : Call(*p, m, {{"select", {"PHONE", "EMAIL"}}}).result) {
      for (const char* f : {"PHONE", "EMAIL"}) {
        if (!row.contains(f)) continue;
        for (const json& item : row[f]) EXPECT_TRUE(seen.insert(item["ID"]).second);
      }
    }
  }
  EXPECT_GT(seen.size(), 50u);
}

TEST(ConcurrencyTest, ReadsAndWritesFromManyThreads) {
  auto p = Portal("crm.lead=2000");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (t % 2 == 0) {
          Call(*p, "crm.lead.add", {{"fields", {{"TITLE", "c"}}}});
        } else {
          MethodResult r = Call(*p, "crm.lead.list", {{"filter", {{">ID", i * 10}}}, {"start", -1}});
          EXPECT_EQ(r.result.size(), 50u);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(Call(*p, "crm.lead.list").total, 2400);
}

}  // namespace
}  // namespace b24emu::data::testing::seed_test
