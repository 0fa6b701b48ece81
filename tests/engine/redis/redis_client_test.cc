// RedisClient against a real redis-server started on a free port; the
// reconnect backoff runs on a FakeClock so the test decides when it is over.
#include "engine/redis/redis_client.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/redis_server.h"

namespace b24gate::redis_client_test {
namespace {

using testing::RedisServer;

TEST(RedisUrlTest, ParsesHostPortAndDatabase) {
  absl::StatusOr<RedisAddress> a = ParseRedisUrl("redis://cache.local:6380/2");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "cache.local");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 2);
  a = ParseRedisUrl("redis://10.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 6379);
  EXPECT_EQ(a->db, 0);
  a = ParseRedisUrl("redis://[::1]:7000/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 7000);
  EXPECT_EQ(RedisUrlOf(*a), "redis://[::1]:7000/0");
}

TEST(RedisUrlTest, RefusesWhatItCannotUse) {
  for (const char* bad : {"http://h:1", "redis://", "redis://h:0", "redis://h:70000", "redis://h:x",
                          "redis://h:1/db", "redis://h:1/-1", "redis://h:1?x=1"}) {
    absl::StatusOr<RedisAddress> a = ParseRedisUrl(bad);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  absl::StatusOr<RedisAddress> a = ParseRedisUrl("redis://user:hunter2@h:1");
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message().find("hunter2"), absl::string_view::npos);
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  RedisOptions Options() {
    RedisOptions o;
    o.address = *ParseRedisUrl(server_->url());
    return o;
  }
  std::unique_ptr<RedisServer> server_;
  FakeClock clock_;
};

TEST_F(RedisClientTest, TypedReplies) {
  RedisClient client(Options(), &clock_);
  absl::StatusOr<RedisReply> r = client.Command({"SET", "k", "v\0x", "PX", "10000"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, RedisReply::Type::kStatus);
  EXPECT_EQ(r->str, "OK");
  r = client.Command({"GET", "k"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, RedisReply::Type::kString);
  EXPECT_EQ(r->str, "v");
  r = client.Command({"GET", "missing"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_nil());
  r = client.Command({"INCRBY", "n", "41"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->AsInt(), 41);
  r = client.Command({"RPUSH", "l", "a", "b"});
  ASSERT_TRUE(r.ok());
  r = client.Command({"LRANGE", "l", "0", "-1"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->type, RedisReply::Type::kArray);
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[1].str, "b");
  EXPECT_TRUE(client.healthy());
}

TEST_F(RedisClientTest, BinarySafeValues) {
  RedisClient client(Options(), &clock_);
  std::string value("a\0b\r\nc", 6);
  ASSERT_TRUE(client.Command({"SET", "bin", value}).ok());
  absl::StatusOr<RedisReply> r = client.Command({"GET", "bin"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str, value);
}

TEST_F(RedisClientTest, ErrorReplyIsInternalAndKeepsTheConnection) {
  RedisClient client(Options(), &clock_);
  ASSERT_TRUE(client.Command({"SET", "s", "text"}).ok());
  absl::StatusOr<RedisReply> r = client.Command({"INCR", "s"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("not an integer"), absl::string_view::npos);
  EXPECT_TRUE(client.Command({"PING"}).ok());
}

TEST_F(RedisClientTest, EvalLoadsTheScriptAfterNoscript) {
  RedisClient client(Options(), &clock_);
  RedisScript script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}");
  EXPECT_EQ(script.sha1().size(), 40u);
  absl::StatusOr<RedisReply> r = client.Eval(script, {"counter"}, {"x"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->elements.size(), 3u);
  EXPECT_EQ(r->elements[0].str, "counter");
  EXPECT_EQ(r->elements[1].str, "x");
  EXPECT_EQ(r->elements[2].integer, 1);
  // The server forgets its scripts (as after a restart): loaded again.
  ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());
  r = client.Eval(script, {"counter"}, {"y"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->elements[2].integer, 2);
  // A script error is Redis's error.
  RedisScript broken("return redis.call('NOSUCHCOMMAND')");
  EXPECT_EQ(client.Eval(broken, {}, {}).status().code(), absl::StatusCode::kInternal);
}

TEST_F(RedisClientTest, SelectsTheDatabaseOfTheUrl) {
  RedisOptions db3 = Options();
  db3.address.db = 3;
  RedisClient in3(db3, &clock_);
  RedisClient in0(Options(), &clock_);
  ASSERT_TRUE(in3.Command({"SET", "where", "three"}).ok());
  EXPECT_TRUE(in0.Command({"GET", "where"})->is_nil());
  EXPECT_EQ(in3.Command({"GET", "where"})->str, "three");
}

TEST_F(RedisClientTest, ReconnectsAfterTheBackoffWhenRedisReturns) {
  RedisOptions o = Options();
  o.min_backoff = absl::Seconds(1);
  o.max_backoff = absl::Seconds(4);
  RedisClient client(o, &clock_);
  ASSERT_TRUE(client.Command({"SET", "a", "1"}).ok());
  server_->Kill();
  EXPECT_EQ(client.Command({"PING"}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(client.healthy());
  ASSERT_TRUE(server_->Restart().ok());
  // Within the backoff nothing is tried: fails fast even though Redis is up.
  absl::StatusOr<RedisReply> r = client.Command({"PING"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("next attempt in"), absl::string_view::npos);
  clock_.Advance(absl::Seconds(1));
  r = client.Command({"PING"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->str, "PONG");
  EXPECT_TRUE(client.Command({"GET", "a"})->is_nil());  // a new, empty server
}

TEST_F(RedisClientTest, BackoffDoublesWhileRedisStaysAway) {
  RedisOptions o = Options();
  o.min_backoff = absl::Seconds(1);
  o.max_backoff = absl::Seconds(4);
  server_->Kill();
  RedisClient client(o, &clock_);
  EXPECT_FALSE(client.Command({"PING"}).ok());  // attempt 1: next in 1 s
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(client.Command({"PING"}).ok());  // attempt 2: next in 2 s
  ASSERT_TRUE(server_->Restart().ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(client.Command({"PING"}).ok());  // still backing off
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(client.Command({"PING"}).ok());
}

TEST_F(RedisClientTest, ASilentServerTimesOut) {
  RedisOptions o = Options();
  o.command_timeout = absl::Milliseconds(100);
  RedisClient client(o, &clock_);
  ASSERT_TRUE(client.Command({"PING"}).ok());
  server_->Pause();
  absl::StatusOr<RedisReply> r = client.Command({"PING"});
  server_->Resume();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("timed out"), absl::string_view::npos) << r.status();
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(client.Command({"PING"}).ok());
}

TEST_F(RedisClientTest, ConcurrentCommandsEachGetTheirOwnReply) {
  // What is tested is which reply goes to which caller, not timeouts: with
  // the default 100 ms, one INCR slower than that on a loaded machine dropped
  // the connection, the backoff on the fake clock never ended, and all 1,600
  // commands failed (seen at load 8).
  RedisOptions options = Options();
  options.command_timeout = absl::Seconds(30);
  RedisClient client(options, &clock_);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::string key = "t" + std::to_string(t);
      for (int i = 1; i <= 200; ++i) {
        absl::StatusOr<RedisReply> r = client.Command({"INCR", key});
        if (!r.ok() || r->integer != i) mismatches++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace b24gate::redis_client_test
