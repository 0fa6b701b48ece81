// The "redis" config section, --redis / --replicas and the password's
// environment variable: sharing is off unless a URL is given, flags win, bad
// input fails with one line naming the setting, and the password is never
// printed but is masked in logs (SecretsOf).
#include "service/redis_config.h"

#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/config.h"
#include "service/settings.h"
#include "tests/support/temp_file.h"

namespace b24gate::redis_config_test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::b24gate::testing::TempFile;

const char kHook[] = "https://p.example.com/rest/1/s3cretcode/";


absl::StatusOr<ServerConfig> LoadWith(const std::string& redis_json,
                                      std::vector<std::string> flags = {},
                                      std::map<std::string, std::string> env = {}) {
  std::string file = TempFile(absl::StrCat(
      R"({"portals": [{"name": "main", "webhook": ")", kHook, R"("}])",
      redis_json.empty() ? "" : absl::StrCat(R"(, "redis": )", redis_json), "}"));
  flags.insert(flags.begin(), {"--config", file});
  return LoadConfig(flags, env);
}

TEST(RedisConfig, OffUnlessAUrlIsGiven) {
  auto c = LoadWith("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redis.enabled());
  c = LoadWith(R"({"replicas": 3})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redis.enabled());
}

TEST(RedisConfig, FileSection) {
  std::string password = TempFile("  pa55word-from-file\n");
  auto c = LoadWith(absl::StrCat(R"({"url": "redis://cache:6380/2", "replicas": 4,
      "key_prefix": "prod:", "timeout_ms": 50, "password_file": ")", password, R"("})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->redis.enabled());
  EXPECT_EQ(c->redis.replicas, 4);
  EXPECT_EQ(c->redis.key_prefix, "prod:");
  EXPECT_EQ(c->redis.timeout, absl::Milliseconds(50));
  EXPECT_EQ(c->redis.password, "pa55word-from-file");
  EXPECT_THAT(SecretsOf(*c), Contains("pa55word-from-file"));
  SharedBudgetOptions o = SharedBudgetOptionsOf(c->redis);
  EXPECT_EQ(o.redis.address.host, "cache");
  EXPECT_EQ(o.redis.address.port, 6380);
  EXPECT_EQ(o.redis.address.db, 2);
  EXPECT_EQ(o.redis.command_timeout, absl::Milliseconds(50));
  EXPECT_EQ(o.replicas, 4);
  EXPECT_EQ(o.key_prefix, "prod:");
}

TEST(RedisConfig, FlagsAndEnvironmentWin) {
  auto c = LoadWith(R"({"url": "redis://file:1", "replicas": 2})",
                    {"--redis", "redis://flag:2", "--replicas", "5"},
                    {{"B24GATE_REDIS_URL", "redis://env:3"}, {"B24GATE_REDIS_PASSWORD", "envpa55"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->redis.url, "redis://flag:2");
  EXPECT_EQ(c->redis.replicas, 5);
  EXPECT_EQ(c->redis.password, "envpa55");
  c = LoadWith(R"({"url": "redis://file:1"})", {}, {{"B24GATE_REDIS_URL", "redis://env:3"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->redis.url, "redis://env:3");
}

TEST(RedisConfig, BadInputNamesTheSetting) {
  struct Case {
    std::string redis_json;
    std::vector<std::string> flags;
    std::string expected;
  };
  for (const Case& k : std::vector<Case>{
           {R"({"url": "http://x:1"})", {}, "redis.url"},
           {R"({"url": "redis://x:1", "replicas": 0})", {}, "config.redis.replicas"},
           {R"({"url": "redis://x:1", "replicas": 2.5})", {}, "config.redis.replicas"},
           {R"({"url": "redis://x:1", "timeout_ms": 0})", {}, "config.redis.timeout_ms"},
           {R"({"url": "redis://x:1", "password": "inline"})", {}, "config.redis"},
           {R"({"url": 5})", {}, "config.redis.url"},
           {R"([])", {}, "config.redis"},
           {"", {"--redis", "redis://x:99999"}, "--redis"},
           {"", {"--redis", "redis://x:1", "--replicas", "many"}, "--replicas"},
       }) {
    auto c = LoadWith(k.redis_json, k.flags);
    ASSERT_FALSE(c.ok()) << k.redis_json;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(k.expected)) << k.redis_json;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(RedisConfig, APasswordInTheUrlIsRefusedWithoutBeingPrinted) {
  auto c = LoadWith("", {"--redis", "redis://user:hunter22@x:1"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("hunter22")));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("password"));
}

TEST(RedisConfig, UsageNamesTheFlags) {
  EXPECT_THAT(SettingsUsage(), HasSubstr("--redis"));
  EXPECT_THAT(SettingsUsage(), HasSubstr("--replicas"));
}

}  // namespace
}  // namespace b24gate::redis_config_test
