// RedisTokenSharing against a real redis-server: every command is safe to
// send again after its reply was lost. A lock attempt whose reply timed out
// (it ran on the server all the same) is taken by the next attempt of the
// same holder and by nobody else; the release deletes only the holder's own
// lock; a write of the tokens never replaces a higher version.
#include "engine/auth/redis_token_sharing.h"

#include <memory>

#include <gtest/gtest.h>

#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace b24gate::redis_token_sharing_test {
namespace {

using testing::RedisServer;

constexpr char kLockKey[] = "t:oauth-lock:4:acme:app";
constexpr char kTokensKey[] = "t:oauth:4:acme:app";

class RedisTokenSharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  // A connection of its own: a replica.
  std::shared_ptr<RedisClient> Client() {
    RedisOptions options;
    options.address = *ParseRedisUrl(server_->url());
    return std::make_shared<RedisClient>(options, Clock::Real());
  }
  std::unique_ptr<RedisTokenSharing> Sharing(std::shared_ptr<RedisClient> client) {
    return std::make_unique<RedisTokenSharing>(std::move(client), "t:", "acme", "app");
  }
  bool Exists(const char* key) {
    absl::StatusOr<RedisReply> reply = probe_->Command({"EXISTS", key});
    return reply.ok() && reply->AsInt() == 1;
  }

  std::unique_ptr<RedisServer> server_;
  std::shared_ptr<RedisClient> probe_;
};

TEST_F(RedisTokenSharingTest, ALockAttemptWhoseReplyWasLostIsTakenByTheNextAttempt) {
  probe_ = Client();
  auto a = Sharing(Client());
  auto b = Sharing(Client());
  // Connected, and the server knows the scripts (else the lost attempt
  // would be an EVALSHA answered NOSCRIPT, which runs nothing).
  ASSERT_EQ(a->Lock(absl::Seconds(45)).value_or(false), true);
  ASSERT_TRUE(a->Unlock().ok());
  ASSERT_FALSE(Exists(kLockKey));
  server_->Pause();
  absl::StatusOr<bool> lost = a->Lock(absl::Seconds(45));
  EXPECT_FALSE(lost.ok()) << "the reply timed out";
  server_->Resume();
  // The command was sent before the timeout: the server runs it now.
  ASSERT_TRUE(testing::WaitFor([&] { return Exists(kLockKey); }));
  EXPECT_EQ(b->Lock(absl::Seconds(45)).value_or(true), false) << "a's lock, not b's";
  absl::StatusOr<bool> again;
  // The first try may meet a's client waiting out its reconnect backoff.
  ASSERT_TRUE(testing::WaitFor([&] {
    again = a->Lock(absl::Seconds(45));
    return again.ok();
  }));
  EXPECT_TRUE(*again) << "a finds the lock its own";
  EXPECT_TRUE(b->Unlock().ok());
  EXPECT_TRUE(Exists(kLockKey)) << "b never releases a's lock";
  EXPECT_TRUE(a->Unlock().ok());
  EXPECT_FALSE(Exists(kLockKey));
  EXPECT_EQ(b->Lock(absl::Seconds(45)).value_or(false), true);
}

TEST_F(RedisTokenSharingTest, AWriteNeverReplacesAHigherVersion) {
  probe_ = Client();
  auto a = Sharing(Client());
  auto b = Sharing(Client());
  ASSERT_TRUE(probe_->Command({"SET", kTokensKey, "not json"}).ok());
  EXPECT_EQ(a->Store({"access-3", "refresh-3", "", 3}).value_or(false), true)
      << "something unreadable is overwritten";
  EXPECT_EQ(b->Store({"access-2", "refresh-2", "", 2}).value_or(true), false);
  EXPECT_EQ(a->Store({"access-3", "refresh-3", "", 3}).value_or(true), false)
      << "the same write again changes nothing";
  absl::StatusOr<std::optional<SharedTokens>> shared = b->Load();
  ASSERT_TRUE(shared.ok() && shared->has_value());
  EXPECT_EQ((*shared)->refresh_token, "refresh-3");
  EXPECT_EQ((*shared)->version, 3);
  EXPECT_EQ(b->Store({"access-4", "refresh-4", "", 4}).value_or(false), true);
  shared = a->Load();
  ASSERT_TRUE(shared.ok() && shared->has_value());
  EXPECT_EQ((*shared)->refresh_token, "refresh-4");
}

}  // namespace
}  // namespace b24gate::redis_token_sharing_test
