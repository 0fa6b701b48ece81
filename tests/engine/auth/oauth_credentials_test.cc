// OAuthCredentials on its own (one process): saving the rotated refresh
// token is disk I/O and happens without the credentials' lock, so requests
// asking for the current token are not held up by a slow disk.
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/synchronization/notification.h"
#include "engine/auth/credentials.h"

namespace b24gate::oauth_credentials_test {
namespace {

// Issues one new pair of tokens per refresh, answering on a thread of its own.
class OneTokenServer : public HttpTransport {
 public:
  ~OneTokenServer() override {
    for (auto& t : threads_) t.join();
  }
  void Send(HttpRequest, Callback done) override {
    HttpResponse response;
    response.status = 200;
    response.body =
        nlohmann::json{{"access_token", "access-1"}, {"refresh_token", "refresh-1"}}.dump();
    threads_.emplace_back([response, done = std::move(done)] { done(response); });
  }

 private:
  std::vector<std::thread> threads_;
};

// A token file on a disk that stalls: Save waits until the test lets it go.
class StalledStore : public TokenStore {
 public:
  absl::StatusOr<std::string> Load() override { return absl::NotFoundError("none yet"); }
  absl::Status Save(const std::string&) override {
    saving.Notify();
    release.WaitForNotification();
    return absl::OkStatus();
  }
  absl::Notification saving;
  absl::Notification release;
};

TEST(OAuthCredentials, ASlowTokenFileDoesNotHoldUpCurrent) {
  OneTokenServer server;
  auto owned = std::make_unique<StalledStore>();
  StalledStore* store = owned.get();
  OAuthOptions o;
  o.client_id = "app";
  o.client_secret = "secret";
  o.refresh_token = "refresh-0";
  o.oauth_url = "https://oauth.example/token/";
  o.portal_url = "https://portal.example/rest/";
  OAuthCredentials credentials(o, std::move(owned), &server, TlsOptions{});

  absl::Notification refreshed;
  credentials.Refresh(0, [&](absl::Status s) {
    EXPECT_TRUE(s.ok()) << s;
    refreshed.Notify();
  });
  ASSERT_TRUE(store->saving.WaitForNotificationWithTimeout(absl::Seconds(5)));
  // While the refresh token is being written, Current() answers at once,
  // with the old (here: no) access token: the new one is used only once its
  // refresh token is safe.
  absl::Notification answered;
  Auth during;
  std::thread reader([&] {
    during = credentials.Current();
    answered.Notify();
  });
  const bool prompt = answered.WaitForNotificationWithTimeout(absl::Seconds(2));
  store->release.Notify();
  reader.join();
  EXPECT_TRUE(prompt) << "Current() waited for the token file to be written";
  EXPECT_TRUE(during.access_token.empty());
  ASSERT_TRUE(refreshed.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(credentials.Current().access_token, "access-1");
}

}  // namespace
}  // namespace b24gate::oauth_credentials_test
