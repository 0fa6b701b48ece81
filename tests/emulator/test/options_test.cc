#include "tests/emulator/options.h"

#include <gtest/gtest.h>

namespace b24emu::options_test {
namespace {

TEST(OptionsTest, Defaults) {
  absl::StatusOr<EmulatorOptions> o = ParseOptions({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->listen_port, 0);
  ASSERT_EQ(o->webhooks.size(), 1u);  // 1/emulator when no credential is given
  EXPECT_EQ(o->webhooks[0].code, "emulator");
  const PortalConfig c = MakePortalConfig(*o);
  EXPECT_EQ(c.bucket.burst, 50);
  EXPECT_EQ(c.bucket.drain_per_second, 2);
  EXPECT_EQ(c.operating.limit, absl::Seconds(480));
  EXPECT_TRUE(c.per_method_batch_accounting);
  EXPECT_FALSE(c.oauth.has_value());
}

TEST(OptionsTest, OperatingRule) {
  absl::StatusOr<EmulatorOptions> rolling = ParseOptions({});
  ASSERT_TRUE(rolling.ok()) << rolling.status();
  EXPECT_FALSE(MakePortalConfig(*rolling).operating.block_whole_window);
  absl::StatusOr<EmulatorOptions> harsh = ParseOptions({"--operating-rule", "block-window"});
  ASSERT_TRUE(harsh.ok()) << harsh.status();
  EXPECT_TRUE(MakePortalConfig(*harsh).operating.block_whole_window);
  EXPECT_FALSE(ParseOptions({"--operating-rule", "fixed"}).ok());
}

TEST(OptionsTest, AllFlags) {
  absl::StatusOr<EmulatorOptions> o = ParseOptions(
      {"--listen", "0.0.0.0:8080", "--webhook", "1/abc", "--webhook=7/def", "--oauth", "app:sec",
       "--oauth-refresh-token", "rt", "--token-lifetime", "100", "--seed", "crm.lead=10",
       "--plan", "enterprise", "--operating-limit", "0", "--batch-accounting", "batch",
       "--profile", "huge", "--time-scale", "0.01", "--faults", "500=@1", "--seed-random", "9",
       "--fault-delay", "5", "--require-https", "--threads", "16"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen_host, "0.0.0.0");
  EXPECT_EQ(o->listen_port, 8080);
  ASSERT_EQ(o->webhooks.size(), 2u);
  EXPECT_EQ(o->webhooks[1].user_id, 7);
  const PortalConfig c = MakePortalConfig(*o);
  EXPECT_EQ(c.bucket.burst, 250);
  EXPECT_DOUBLE_EQ(c.bucket.drain_per_second, 500);  // 5 / 0.01
  EXPECT_FALSE(c.operating.enforce);
  EXPECT_EQ(c.operating.basket, absl::Milliseconds(600));
  EXPECT_FALSE(c.per_method_batch_accounting);
  EXPECT_EQ(c.oauth->access_lifetime, absl::Seconds(1));
  EXPECT_EQ(c.oauth->initial_refresh_token, "rt");
  EXPECT_EQ(c.fault_delay, absl::Milliseconds(50));
  EXPECT_FALSE(c.integer_reset_at);
  EXPECT_TRUE(c.require_https);
  EXPECT_EQ(MakeServerOptions(*o).threads, 16);
}

TEST(OptionsTest, ExplicitBucketAndNoLimits) {
  absl::StatusOr<EmulatorOptions> o =
      ParseOptions({"--bucket-burst", "10", "--bucket-rate", "1", "--no-limits", "--cost-zero"});
  ASSERT_TRUE(o.ok());
  const PortalConfig c = MakePortalConfig(*o);
  EXPECT_EQ(c.bucket.burst, 10);
  EXPECT_EQ(c.bucket.drain_per_second, 1);
  EXPECT_FALSE(c.bucket.enforce);
  EXPECT_FALSE(c.operating.enforce);
  EXPECT_EQ(c.cost.Cost(WorkDone{50, 1000, 1000}), absl::ZeroDuration());
}

// The web server's request size limit: the docs' 2 GB by default, any
// number of bytes, or 0 for none.
TEST(OptionsTest, MaxRequestSize) {
  EXPECT_EQ(MakeServerOptions(*ParseOptions({})).max_request_size, int64_t{2} << 30);
  EXPECT_EQ(MakeServerOptions(*ParseOptions({"--max-request-size", "1048576"})).max_request_size,
            1048576);
  EXPECT_EQ(MakeServerOptions(*ParseOptions({"--max-request-size=0"})).max_request_size, 0);
  EXPECT_FALSE(ParseOptions({"--max-request-size", "-1"}).ok());
  EXPECT_FALSE(ParseOptions({"--max-request-size", "2g"}).ok());
}

TEST(OptionsTest, DiskQuota) {
  EXPECT_EQ(MakePortalConfig(*ParseOptions({})).disk_quota, 0);
  EXPECT_EQ(MakePortalConfig(*ParseOptions({"--disk-quota", "5000"})).disk_quota, 5000);
  EXPECT_FALSE(ParseOptions({"--disk-quota", "-1"}).ok());
}

TEST(OptionsTest, Errors) {
  EXPECT_FALSE(ParseOptions({"--listen", "nohost"}).ok());
  EXPECT_FALSE(ParseOptions({"--webhook", "abc"}).ok());
  EXPECT_FALSE(ParseOptions({"--plan", "gold"}).ok());
  EXPECT_FALSE(ParseOptions({"--faults", "teapot=1"}).ok());
  EXPECT_FALSE(ParseOptions({"--tls-cert", "x"}).ok());
  EXPECT_FALSE(ParseOptions({"--time-scale", "0"}).ok());
  EXPECT_FALSE(ParseOptions({"--bogus"}).ok());
  EXPECT_FALSE(ParseOptions({"--seed"}).ok());
  EXPECT_TRUE(ParseOptions({"--help"})->help);
}

}  // namespace
}  // namespace b24emu::options_test
