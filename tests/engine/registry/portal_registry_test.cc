// The portal registry's stores keep what they are given across a reopen:
// files (one per portal, 0600, written atomically) and Redis (a real
// redis-server, as replicas share it).
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

}  // namespace
}  // namespace b24gate::portal_registry_test
