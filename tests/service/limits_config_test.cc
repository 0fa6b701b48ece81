// The config file's "limits" section, read through LoadConfig: defaults,
// each key, the older top-level max_bulk_items, and errors naming the key.
#include "service/limits_config.h"

#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/config.h"
#include "tests/support/temp_file.h"

namespace b24gate::limits_config_test {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ServerConfig> LoadFile(const std::string& settings) {
  std::string path = ::b24gate::testing::TempFile(
      R"({"portals": [{"name": "a", "webhook": "https://p.example.com/rest/1/code/"}])" + settings +
      "}");
  auto config = LoadConfig({"--config", path}, {});
  std::remove(path.c_str());
  return config;
}

TEST(LimitsConfig, Defaults) {
  auto c = LoadFile("");
  ASSERT_TRUE(c.ok()) << c.status();
  const InputLimits& l = c->gateway.limits;
  EXPECT_EQ(l.max_depth, 32);
  EXPECT_EQ(l.max_params_bytes, 2u << 20);
  EXPECT_EQ(l.max_string_bytes, 1u << 20);
  EXPECT_EQ(l.max_bulk_items, 1000u);
  EXPECT_EQ(l.max_call_many_items, 100000u);
  EXPECT_EQ(l.max_ids, 10000u);
  EXPECT_EQ(l.max_batch_commands, 1000u);
  EXPECT_EQ(l.max_request_bytes, 4u << 20);
  EXPECT_EQ(GrpcReceiveLimit(l), (4 << 20) + (1 << 20));
}

TEST(LimitsConfig, EveryKeyIsRead) {
  auto c = LoadFile(R"(, "limits": {"max_depth": 7, "max_params_bytes": 100, "max_string_bytes": 10,
      "max_bulk_items": 2, "max_call_many_items": 3, "max_ids": 4, "max_batch_commands": 5,
      "max_request_bytes": 6000})");
  ASSERT_TRUE(c.ok()) << c.status();
  const InputLimits& l = c->gateway.limits;
  EXPECT_EQ(l.max_depth, 7);
  EXPECT_EQ(l.max_params_bytes, 100u);
  EXPECT_EQ(l.max_string_bytes, 10u);
  EXPECT_EQ(l.max_bulk_items, 2u);
  EXPECT_EQ(l.max_call_many_items, 3u);
  EXPECT_EQ(l.max_ids, 4u);
  EXPECT_EQ(l.max_batch_commands, 5u);
  EXPECT_EQ(l.max_request_bytes, 6000u);
}

TEST(LimitsConfig, OlderTopLevelKeyStillWorksAndTheSectionWins) {
  auto old_only = LoadFile(R"(, "max_bulk_items": 12)");
  ASSERT_TRUE(old_only.ok()) << old_only.status();
  EXPECT_EQ(old_only->gateway.limits.max_bulk_items, 12u);
  auto both = LoadFile(R"(, "max_bulk_items": 12, "limits": {"max_bulk_items": 34})");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->gateway.limits.max_bulk_items, 34u);
}

TEST(LimitsConfig, BadValuesNameTheKey) {
  auto error_of = [](const std::string& settings) {
    auto c = LoadFile(settings);
    EXPECT_FALSE(c.ok());
    return c.ok() ? std::string() : std::string(c.status().message());
  };
  EXPECT_THAT(error_of(R"(, "limits": {"max_depth": 0})"),
              HasSubstr("config.limits.max_depth: must be a whole number from 1 to 1000"));
  EXPECT_THAT(error_of(R"(, "limits": {"max_depth": 1001})"), HasSubstr("config.limits.max_depth"));
  EXPECT_THAT(error_of(R"(, "limits": {"max_ids": 2.5})"), HasSubstr("config.limits.max_ids"));
  EXPECT_THAT(error_of(R"(, "limits": {"max_request_bytes": 2147483648})"),
              HasSubstr("config.limits.max_request_bytes: must be a whole number from 1 to 1073741824"));
  EXPECT_THAT(error_of(R"(, "limits": {"max_deep": 3})"),
              HasSubstr("config.limits.max_deep: unknown setting"));
  EXPECT_THAT(error_of(R"(, "limits": 5)"), HasSubstr("config.limits: must be an object"));
}

}  // namespace
}  // namespace b24gate::limits_config_test
