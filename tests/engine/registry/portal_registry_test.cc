// The portal registry's stores keep what they are given across a reopen:
// files (one per portal, 0600, written atomically) and Redis (a real
// redis-server, as replicas share it), whose change log tells a replica
// what the others wrote since it last looked.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "engine/redis/redis_url.h"
#include "engine/registry/file_registry.h"
#include "engine/registry/redis_registry.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_file.h"

namespace b24gate::portal_registry_test {
namespace {

PortalRecord Record(const std::string& name) {
  PortalRecord r;
  r.name = name;
  r.member_id = "member-" + name;
  r.portal_url = "https://" + name + ".example/rest/";
  r.refresh_token = "refresh-" + name;
  r.application_token = "app-token-" + name;
  r.plan = "enterprise";
  r.tuning["batch_size"] = 20;
  return r;
}

std::vector<std::string> Names(const std::vector<PortalRecord>& records) {
  std::vector<std::string> names;
  for (const PortalRecord& r : records) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  return names;
}

// Put, replace, remove, and what a fresh registry of the same place loads.
void KeepsWhatItIsGiven(const std::function<std::unique_ptr<PortalRegistry>()>& open) {
  {
    std::unique_ptr<PortalRegistry> registry = open();
    ASSERT_TRUE(registry->Put(Record("acme")).ok());
    ASSERT_TRUE(registry->Put(Record("bolt")).ok());
    ASSERT_TRUE(registry->Put(Record("gone")).ok());
    PortalRecord rotated = Record("acme");
    rotated.refresh_token = "refresh-acme-2";
    ASSERT_TRUE(registry->Put(rotated).ok());
    ASSERT_TRUE(registry->Remove("gone").ok());
    ASSERT_TRUE(registry->Remove("never-there").ok());
  }
  std::unique_ptr<PortalRegistry> registry = open();
  absl::StatusOr<std::vector<PortalRecord>> records = registry->LoadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(Names(*records), (std::vector<std::string>{"acme", "bolt"}));
  for (const PortalRecord& r : *records) {
    PortalRecord expected = Record(r.name);
    if (r.name == "acme") expected.refresh_token = "refresh-acme-2";
    EXPECT_EQ(EncodeRecord(r), EncodeRecord(expected));
  }
}

TEST(FilePortalRegistry, KeepsRecordsAcrossAReopenInPrivateFiles) {
  const std::string dir = testing::TempDir() + "/portals";
  KeepsWhatItIsGiven([&] { return *FilePortalRegistry::Open(dir); });
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  int files = 0;
  for (const auto& name : {"acme", "bolt"}) {
    std::string hex;
    for (char c : std::string(name)) hex += absl::StrFormat("%02x", c);
    ASSERT_EQ(stat((dir + "/portal-" + hex + ".json").c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST(FilePortalRegistry, IgnoresAnInterruptedWriteAndRefusesADamagedRecord) {
  const std::string dir = testing::TempDir();
  std::unique_ptr<FilePortalRegistry> registry = *FilePortalRegistry::Open(dir);
  ASSERT_TRUE(registry->Put(Record("acme")).ok());
  std::ofstream(dir + "/portal-61.json.tmp") << "{\"name\":";  // a crash mid-write
  absl::StatusOr<std::vector<PortalRecord>> records = registry->LoadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->size(), 1u);
  std::ofstream(dir + "/portal-62.json") << "not json";
  EXPECT_EQ(registry->LoadAll().status().code(), absl::StatusCode::kDataLoss);
}

TEST(RedisPortalRegistry, KeepsRecordsForEveryReplica) {
  auto server = testing::RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  RedisOptions options;
  options.address = *ParseRedisUrl((*server)->url());
  KeepsWhatItIsGiven([&] {
    return std::make_unique<RedisPortalRegistry>(
        std::make_shared<RedisClient>(options, Clock::Real()), "test:");
  });
}

TEST(RedisPortalRegistry, TheChangeLogGivesEachChangedNameOnceWithItsRecordNow) {
  auto server = testing::RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  RedisOptions options;
  options.address = *ParseRedisUrl((*server)->url());
  auto redis = std::make_shared<RedisClient>(options, Clock::Real());
  RedisPortalRegistry writer(redis, "test:");
  RedisPortalRegistry reader(redis, "test:");
  ASSERT_TRUE(writer.Put(Record("old")).ok());
  absl::StatusOr<int64_t> head = reader.Head();
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(reader.ChangesSince(*head, 100)->empty());

  ASSERT_TRUE(writer.Put(Record("acme")).ok());
  ASSERT_TRUE(writer.Put(Record("bolt")).ok());
  PortalRecord rotated = Record("acme");
  rotated.refresh_token = "refresh-acme-2";
  ASSERT_TRUE(writer.Put(rotated).ok());
  ASSERT_TRUE(writer.Remove("old").ok());
  absl::StatusOr<std::vector<RegistryChange>> changes = reader.ChangesSince(*head, 100);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].name, "bolt");
  EXPECT_EQ((*changes)[1].name, "acme");
  ASSERT_TRUE((*changes)[1].record);
  EXPECT_EQ((*changes)[1].record->refresh_token, "refresh-acme-2");
  EXPECT_EQ((*changes)[2].name, "old");
  EXPECT_FALSE((*changes)[2].record) << "removed";
  EXPECT_LT((*changes)[0].seq, (*changes)[1].seq);

  // In pages, and nothing after the last one read.
  absl::StatusOr<std::vector<RegistryChange>> first = reader.ChangesSince(*head, 1);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ(reader.ChangesSince(first->front().seq, 100)->size(), 2u);
  EXPECT_TRUE(reader.ChangesSince(changes->back().seq, 100)->empty());

  // Redis lost everything and came back: the new log is read from its start.
  ASSERT_TRUE(redis->Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(writer.Put(Record("cato")).ok());
  absl::StatusOr<std::vector<RegistryChange>> after_loss =
      reader.ChangesSince(changes->back().seq, 100);
  ASSERT_TRUE(after_loss.ok()) << after_loss.status();
  ASSERT_EQ(after_loss->size(), 1u);
  EXPECT_EQ(after_loss->front().name, "cato");
}

}  // namespace
}  // namespace b24gate::portal_registry_test
