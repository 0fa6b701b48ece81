// OAuthCredentials with shared tokens: replicas (several credential objects)
// sharing one TokenSharing refresh once between them, a rotated refresh token
// is never sent twice, and a sharing store that cannot be reached leaves
// each replica refreshing on its own; one that merely timed out once does
// not, and a replica whose own refresh is refused takes a newer shared token.
// A replica that refreshed on its own shares the new pair once the store
// answers (without another call, and after a restart too), and an older
// shared pair never replaces its own. A lock command whose reply timed out
// is tried again rather than taken for the store being down.
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "engine/auth/credentials.h"
#include "engine/bitrix/query_parser.h"
#include "tests/support/wait_for.h"

namespace b24gate::shared_oauth_test {
namespace {

// Bitrix24's OAuth server as far as refreshes go: each valid refresh token
// works once and yields a new pair. Answers on a thread of its own.
class FakeOAuthServer : public HttpTransport {
 public:
  explicit FakeOAuthServer(std::string first_refresh) { valid_.insert(std::move(first_refresh)); }
  ~FakeOAuthServer() override {
    for (auto& t : threads_) t.join();
  }
  void Send(HttpRequest request, Callback done) override {
    std::string token;
    size_t at = request.url.find("refresh_token=");
    if (at != std::string::npos) token = request.url.substr(at + 14);
    HttpResponse response;
    response.status = 200;
    {
      absl::MutexLock lock(&mu_);
      sent_.push_back(token);
      if (valid_.erase(token) == 1) {
        ++issued_;
        std::string next = absl::StrCat("refresh-", issued_);
        valid_.insert(next);
        response.body = nlohmann::json{{"access_token", absl::StrCat("access-", issued_)},
                                       {"refresh_token", next}}
                            .dump();
      } else {
        response.status = 400;
        response.body = R"({"error":"invalid_grant","error_description":"refresh token spent"})";
      }
      threads_.emplace_back([this, response, done = std::move(done)]() mutable {
        absl::SleepFor(absl::Milliseconds(20));  // a round trip
        if (before_answer) before_answer();
        done(std::move(response));
      });
    }
  }
  int issued() {
    absl::MutexLock lock(&mu_);
    return issued_;
  }
  std::vector<std::string> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }
  // Runs before each answer is delivered, on the answering thread (set
  // before the first request).
  std::function<void()> before_answer;

 private:
  absl::Mutex mu_;
  std::set<std::string> valid_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> sent_ ABSL_GUARDED_BY(mu_);
  int issued_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

// One shared store (what Redis is to the replicas); each replica holds a
// handle of its own (its own lock value), as with RedisTokenSharing.
struct SharedState {
  absl::Mutex mu;
  std::optional<SharedTokens> tokens;
  int lock_holder = 0;  // 0: free
  bool unreachable = false;
  // Unreachable while this says so (checked under `mu`).
  std::function<bool()> unreachable_while;
  std::set<int> down_for;  // unreachable for these replicas only
  int loads_to_fail = 0;   // the next Load()s time out
  int stores_to_fail = 0;  // the next Store()s time out
  // The next Lock()s take the lock (when free) but their reply times out.
  int lock_replies_lost = 0;
  int loads = 0;                   // Load()s answered
  bool stored_unlocked = false;    // a Store() by a replica not holding the lock
  bool Down(int id) const {
    return unreachable || down_for.count(id) > 0 || (unreachable_while && unreachable_while());
  }
};

class FakeSharing : public TokenSharing {
 public:
  FakeSharing(SharedState* state, int id) : state_(state), id_(id) {}
  absl::StatusOr<std::optional<SharedTokens>> Load() override {
    absl::MutexLock lock(&state_->mu);
    if (state_->Down(id_)) return absl::UnavailableError("down");
    if (state_->loads_to_fail > 0) {
      --state_->loads_to_fail;
      return absl::UnavailableError("command timed out");
    }
    ++state_->loads;
    return state_->tokens;
  }
  // As RedisTokenSharing's script: a lock held by this replica counts as
  // taken.
  absl::StatusOr<bool> Lock(absl::Duration) override {
    absl::MutexLock lock(&state_->mu);
    if (state_->Down(id_)) return absl::UnavailableError("down");
    if (state_->lock_holder != 0 && state_->lock_holder != id_) return false;
    state_->lock_holder = id_;
    if (state_->lock_replies_lost > 0) {
      --state_->lock_replies_lost;
      return absl::UnavailableError("command timed out");
    }
    return true;
  }
  absl::Status Unlock() override {
    absl::MutexLock lock(&state_->mu);
    if (state_->Down(id_)) return absl::UnavailableError("down");
    if (state_->lock_holder == id_) state_->lock_holder = 0;
    return absl::OkStatus();
  }
  // As RedisTokenSharing's script: never over a version as high.
  absl::StatusOr<bool> Store(const SharedTokens& tokens) override {
    absl::MutexLock lock(&state_->mu);
    if (state_->Down(id_)) return absl::UnavailableError("down");
    if (state_->stores_to_fail > 0) {
      --state_->stores_to_fail;
      return absl::UnavailableError("command timed out");
    }
    if (state_->tokens && state_->tokens->version >= tokens.version) return false;
    if (state_->lock_holder != id_) state_->stored_unlocked = true;
    state_->tokens = tokens;
    return true;
  }

 private:
  SharedState* const state_;
  const int id_;
};

std::unique_ptr<OAuthCredentials> Replica(FakeOAuthServer* server, SharedState* state, int id,
                                          const std::string& refresh = "refresh-0",
                                          std::shared_ptr<TokenStore> file = nullptr) {
  OAuthOptions o;
  o.client_id = "app";
  o.client_secret = "secret";
  o.refresh_token = refresh;
  o.oauth_url = "https://oauth.example/token/";
  o.portal_url = "https://portal.example/rest/";
  o.sharing = std::make_shared<FakeSharing>(state, id);
  if (!file) file = std::make_shared<MemoryTokenStore>();
  return std::make_unique<OAuthCredentials>(o, std::move(file), server, TlsOptions{});
}

absl::Status RefreshAndWait(OAuthCredentials& c, int64_t generation) {
  absl::Notification done;
  absl::Status result;
  c.Refresh(generation, [&](absl::Status s) {
    result = s;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

TEST(SharedOAuth, ReplicasRefreshOnceBetweenThem) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  std::vector<std::unique_ptr<OAuthCredentials>> replicas;
  for (int i = 1; i <= 3; ++i) replicas.push_back(Replica(&server, &state, i));

  // Start-up: nobody has an access token.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (auto& r : replicas) {
    threads.emplace_back([&] { ok += RefreshAndWait(*r, 0).ok(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(server.issued(), 1);
  for (auto& r : replicas) EXPECT_EQ(r->Current().access_token, "access-1");

  // Every access token expired: each replica refreshes from its generation.
  threads.clear();
  for (auto& r : replicas) {
    threads.emplace_back([&] {
      int64_t generation = r->Current().generation;
      ok += RefreshAndWait(*r, generation).ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(server.issued(), 2);
  for (auto& r : replicas) EXPECT_EQ(r->Current().access_token, "access-2");
  EXPECT_EQ(state.tokens->refresh_token, "refresh-2");
  EXPECT_EQ(state.tokens->version, 2);
  std::vector<std::string> sent = server.sent();
  EXPECT_EQ(sent, (std::vector<std::string>{"refresh-0", "refresh-1"}))
      << "each refresh token sent once";
}

TEST(SharedOAuth, UnreachableStoreMeansRefreshingAlone) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  state.unreachable = true;
  auto replica = Replica(&server, &state, 1);
  EXPECT_TRUE(RefreshAndWait(*replica, 0).ok());
  EXPECT_EQ(replica->Current().access_token, "access-1");
  EXPECT_EQ(server.issued(), 1);
}

void Change(SharedState& state, const std::function<void(SharedState&)>& change) {
  absl::MutexLock lock(&state.mu);
  change(state);
}

TEST(SharedOAuth, ARefusedTokenIsNeverSentAgainButANewSharedOneIsTried) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto first = Replica(&server, &state, 1);
  ASSERT_TRUE(RefreshAndWait(*first, 0).ok());  // spends refresh-0, shares refresh-1
  // A replica that starts while the store is down has only the spent token.
  Change(state, [](SharedState& s) { s.unreachable = true; });
  auto late = Replica(&server, &state, 2);
  absl::Status refused = RefreshAndWait(*late, 0);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(RefreshAndWait(*late, 0).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(server.sent().size(), 2u) << "the refused token was sent once";
  // The store is back: the shared tokens are taken without a refresh.
  Change(state, [](SharedState& s) { s.unreachable = false; });
  EXPECT_TRUE(RefreshAndWait(*late, 0).ok());
  EXPECT_EQ(late->Current().access_token, "access-1");
  EXPECT_EQ(server.issued(), 1);
}

// Two replicas on access-1; `a` then refreshed (access-2, refresh-2 shared)
// while `b` still holds access-1 and the spent refresh-1.
void AfterARotation(FakeOAuthServer& server, OAuthCredentials& a, OAuthCredentials& b) {
  ASSERT_TRUE(RefreshAndWait(a, 0).ok());
  ASSERT_TRUE(RefreshAndWait(b, 0).ok());  // taken from the store
  ASSERT_TRUE(RefreshAndWait(a, a.Current().generation).ok());
  ASSERT_EQ(server.issued(), 2);
  ASSERT_EQ(b.Current().access_token, "access-1");
}

TEST(SharedOAuth, OneTimedOutLookDoesNotMakeAReplicaRefreshAlone) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto a = Replica(&server, &state, 1);
  auto b = Replica(&server, &state, 2);
  AfterARotation(server, *a, *b);
  Change(state, [](SharedState& s) { s.loads_to_fail = 1; });  // Redis busy for one command
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-2");
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1"}))
      << "no rotated refresh token was sent again";
}

TEST(SharedOAuth, ARefusedRefreshAloneTakesTheNewerSharedToken) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto a = Replica(&server, &state, 1);
  auto b = Replica(&server, &state, 2);
  AfterARotation(server, *a, *b);
  // Out of reach until `b`, alone, has sent its (spent) refresh token.
  Change(state, [&](SharedState& s) {
    s.unreachable_while = [&server] { return server.sent().size() < 3; };
  });
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-2");
  EXPECT_EQ(server.issued(), 2);
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1", "refresh-1"}));
  // The refused token is not sent again later.
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(server.issued(), 3);
  EXPECT_EQ(server.sent().back(), "refresh-2");
}

// `a` refreshed alone while the store was out of reach: the store still
// holds refresh-1, which `a` spent. Once the store answers, `b` (on
// access-1) takes a's pair and then refreshes with a's refresh token.
TEST(SharedOAuth, APairRefreshedAloneIsSharedOnceTheStoreAnswers) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto a = Replica(&server, &state, 1);
  auto b = Replica(&server, &state, 2);
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  ASSERT_TRUE(RefreshAndWait(*b, 0).ok());  // access-1 from the store
  // Out of reach until `a`, alone, has sent refresh-1.
  Change(state, [&](SharedState& s) {
    s.unreachable_while = [&server] { return server.sent().size() < 2; };
  });
  ASSERT_TRUE(RefreshAndWait(*a, a->Current().generation).ok());
  ASSERT_EQ(a->Current().access_token, "access-2");
  ASSERT_TRUE(state.tokens.has_value());
  EXPECT_EQ(state.tokens->refresh_token, "refresh-2");
  EXPECT_EQ(state.tokens->version, 2);
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-2") << "taken, not refreshed";
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-3");
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1", "refresh-2"}))
      << "no spent refresh token sent";
}

// The store answers again but cannot be written yet: the older shared pair
// (refresh-1, spent by `a` alone) never replaces a's own, in memory or in its
// token file, and the store gets a's newest pair.
TEST(SharedOAuth, AnOlderSharedPairNeverReplacesTheOwn) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto file = std::make_shared<MemoryTokenStore>();
  auto a = Replica(&server, &state, 1, "refresh-0", file);
  auto b = Replica(&server, &state, 2);
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  Change(state, [](SharedState& s) { s.unreachable = true; });
  ASSERT_TRUE(RefreshAndWait(*a, a->Current().generation).ok()) << "a failed store fails no caller";
  ASSERT_EQ(a->Current().access_token, "access-2");
  Change(state, [](SharedState& s) {
    s.unreachable = false;
    s.stores_to_fail = 1;
  });
  // Another call of a's, refused with access-2, looks at the store.
  EXPECT_TRUE(RefreshAndWait(*a, a->Current().generation).ok());
  EXPECT_EQ(a->Current().access_token, "access-3");
  EXPECT_EQ(file->Load().value_or(""), "refresh-3");
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1", "refresh-2"}));
  ASSERT_TRUE(state.tokens.has_value());
  EXPECT_EQ(state.tokens->refresh_token, "refresh-3");
  EXPECT_EQ(state.tokens->version, 3);
  // `b` starts from the store and refreshes with the newest token.
  ASSERT_TRUE(RefreshAndWait(*b, 0).ok());
  EXPECT_EQ(b->Current().access_token, "access-3");
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(server.sent().back(), "refresh-3");
  EXPECT_EQ(server.issued(), 4);
}

bool Shares(SharedState& state, const std::string& refresh_token, int64_t version) {
  absl::MutexLock lock(&state.mu);
  return state.tokens && state.tokens->refresh_token == refresh_token &&
         state.tokens->version == version;
}

// `a` refreshed alone and its callers have their answer while the store is
// still out of reach. The pair reaches the store once it answers, with no
// further call of a's: `b` then takes it instead of spending refresh-1.
TEST(SharedOAuth, APairRefreshedAloneIsWrittenWhenTheStoreAnswersWithoutAnotherCall) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto file = std::make_shared<MemoryTokenStore>();
  auto a = Replica(&server, &state, 1, "refresh-0", file);
  auto b = Replica(&server, &state, 2);
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  ASSERT_TRUE(RefreshAndWait(*b, 0).ok());  // access-1 from the store
  EXPECT_EQ(file->LoadTokens()->version, 0) << "a pair the store holds is not marked";
  Change(state, [](SharedState& s) { s.unreachable = true; });
  ASSERT_TRUE(RefreshAndWait(*a, a->Current().generation).ok());
  ASSERT_EQ(a->Current().access_token, "access-2");
  EXPECT_TRUE(Shares(state, "refresh-1", 1)) << "the store could not be written yet";
  EXPECT_EQ(file->LoadTokens()->version, 2) << "kept, to be offered after a restart";
  Change(state, [](SharedState& s) { s.unreachable = false; });
  EXPECT_TRUE(testing::WaitFor([&] { return Shares(state, "refresh-2", 2); }))
      << "written by a's sharing thread once the store answers";
  EXPECT_TRUE(testing::WaitFor([&] { return file->LoadTokens()->version == 0; }))
      << "no longer marked once shared";
  EXPECT_EQ(file->Load().value_or(""), "refresh-2");
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-2") << "taken, not refreshed";
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1"}));
}

// `a` refreshed alone, then restarted before the store answered. Its token
// file kept the pair with its version: the restarted `a` offers it to the
// store rather than taking the store's older pair (whose refresh token it
// spent).
TEST(SharedOAuth, ARestartedReplicaSharesThePairItRefreshedAlone) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto file = std::make_shared<MemoryTokenStore>();
  auto a = Replica(&server, &state, 1, "refresh-0", file);
  auto b = Replica(&server, &state, 2);
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  ASSERT_TRUE(RefreshAndWait(*b, 0).ok());
  Change(state, [](SharedState& s) { s.unreachable = true; });
  ASSERT_TRUE(RefreshAndWait(*a, a->Current().generation).ok());
  a.reset();  // the pair refreshed alone (refresh-2) was never shared
  Change(state, [](SharedState& s) { s.unreachable = false; });
  ASSERT_TRUE(Shares(state, "refresh-1", 1));
  a = Replica(&server, &state, 1, "refresh-0", file);
  EXPECT_EQ(a->Current().access_token, "access-2") << "the pair of its token file";
  EXPECT_TRUE(testing::WaitFor([&] { return Shares(state, "refresh-2", 2); }));
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-2");
  // The next refresh, by either, spends refresh-2: nothing was lost.
  EXPECT_TRUE(RefreshAndWait(*a, a->Current().generation).ok());
  EXPECT_EQ(a->Current().access_token, "access-3");
  EXPECT_EQ(file->Load().value_or(""), "refresh-3");
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1", "refresh-2"}));
}

// The reply to the lock command timed out although the lock was taken. The
// replica tries again, finds the lock its own, refreshes under it and
// releases it, instead of refreshing alone and leaving the lock to block
// the others until it expires.
TEST(SharedOAuth, ALockWhoseReplyTimedOutIsTakenOnTheNextTry) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto a = Replica(&server, &state, 1);
  auto b = Replica(&server, &state, 2);
  Change(state, [](SharedState& s) { s.lock_replies_lost = 1; });
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  {
    absl::MutexLock lock(&state.mu);
    EXPECT_EQ(state.lock_holder, 0) << "released";
    EXPECT_FALSE(state.stored_unlocked) << "refreshed and stored under the lock";
    ASSERT_TRUE(state.tokens.has_value());
    EXPECT_EQ(state.tokens->version, 1);
  }
  ASSERT_TRUE(RefreshAndWait(*b, 0).ok());
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok()) << "the lock is free for b";
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1"}));
}

// `a` refreshed alone (store out of reach for `a` only) and spent refresh-1;
// `b`, under the lock, refreshes with refresh-1 and is refused; a's pair is
// written (without the lock) before b's refusal arrives. `b` takes a's pair:
// its callers do not fail, and neither write replaced the other's newer one.
TEST(SharedOAuth, ARefreshUnderTheLockRefusedByAPairRefreshedAloneTakesThatPair) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto a = Replica(&server, &state, 1);
  auto b = Replica(&server, &state, 2);
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  ASSERT_TRUE(RefreshAndWait(*b, 0).ok());
  Change(state, [](SharedState& s) { s.down_for.insert(1); });
  ASSERT_TRUE(RefreshAndWait(*a, a->Current().generation).ok());
  ASSERT_EQ(server.sent().size(), 2u);
  server.before_answer = [&] {
    if (server.sent().size() != 3) return;
    // b's refusal waits until a's pair is in the store.
    Change(state, [](SharedState& s) { s.down_for.clear(); });
    testing::WaitFor([&] { return Shares(state, "refresh-2", 2); });
  };
  EXPECT_TRUE(RefreshAndWait(*b, b->Current().generation).ok());
  EXPECT_EQ(b->Current().access_token, "access-2");
  EXPECT_TRUE(Shares(state, "refresh-2", 2));
  EXPECT_EQ(server.sent(), (std::vector<std::string>{"refresh-0", "refresh-1", "refresh-1"}));
  absl::MutexLock lock(&state.mu);
  EXPECT_EQ(state.lock_holder, 0);
}

// A token file whose pair the store held is not offered again at a
// restart: the restarted replica takes the store's pair as before. (An
// operator who replaced the shared tokens, or deleted them, does not get an
// old pair back from a replica's file.)
TEST(SharedOAuth, AReplicaRestartedWithASharedPairTakesTheStoresPair) {
  FakeOAuthServer server("refresh-0");
  SharedState state;
  auto file = std::make_shared<MemoryTokenStore>();
  auto a = Replica(&server, &state, 1, "refresh-0", file);
  ASSERT_TRUE(RefreshAndWait(*a, 0).ok());
  a.reset();
  Change(state, [](SharedState& s) { s.tokens.reset(); });  // deleted by hand
  a = Replica(&server, &state, 1, "refresh-0", file);
  EXPECT_TRUE(a->Current().access_token.empty()) << "nothing taken from the file but its token";
  EXPECT_TRUE(RefreshAndWait(*a, 0).ok());
  EXPECT_EQ(a->Current().access_token, "access-2");
  EXPECT_TRUE(Shares(state, "refresh-2", 1));
}

}  // namespace
}  // namespace b24gate::shared_oauth_test
