// Portals added and removed while the gateway runs (portal_directory.h), on
// a fake transport and a fake clock: addressed by name, member_id or domain;
// removal answers queued calls NOT_EXECUTED, lets calls on the wire finish
// and makes later calls NOT_FOUND; idle portals leave memory and come back;
// the registry keeps records and rotated tokens across a restart; a rotated
// token is stored before its access token is used, and its write holds up
// no other portal nor change; replicas sharing a Redis registry see each
// other's additions, changes and removals.
#include "engine/gateway/portal_directory.h"

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "engine/gateway/gateway.h"
#include "engine/redis/redis_url.h"
#include "engine/registry/file_registry.h"
#include "engine/registry/redis_registry.h"
#include "tests/engine/fake_transport.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_file.h"
#include "tests/support/wait_for.h"

namespace b24gate::portal_directory_test {
namespace {

using OJson = nlohmann::ordered_json;

PortalRecord Webhook(const std::string& name, const std::string& member_id) {
  PortalRecord r;
  r.name = name;
  r.member_id = member_id;
  r.webhook_url = "https://" + name + ".example/rest/1/secret-" + name + "/";
  return r;
}

PortalRecord OAuth(const std::string& name, const std::string& refresh_token) {
  PortalRecord r;
  r.name = name;
  r.member_id = "m-" + name;
  r.portal_url = "https://" + name + ".example/rest/";
  r.refresh_token = refresh_token;
  return r;
}

// Sets one tunable of a registered portal through its record.
absl::Status SetTuning(PortalDirectory& directory, const std::string& key, const std::string& field,
                       double value) {
  return directory.Update(key, [&](PortalRecord* r) {
    r->tuning[field] = value;
    return absl::OkStatus();
  });
}

// A call's outcome, waited for.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<CallReply> reply = absl::UnknownError("not answered");
  CallCallback Callback() {
    return [this](absl::StatusOr<CallReply> r) {
      reply = std::move(r);
      done.Notify();
    };
  }
  absl::StatusOr<CallReply> Wait() {
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
    return reply;
  }
};

// Memory, whose writes of a record with refresh token `gated` wait until
// Open(): a slow disk or Redis, under the test's control.
class GatedRegistry : public MemoryPortalRegistry {
 public:
  explicit GatedRegistry(std::string gated) : gated_(std::move(gated)) {}
  absl::Status Put(const PortalRecord& record) override {
    if (record.refresh_token == gated_) {
      entered_.Notify();
      open_.WaitForNotification();
    }
    return MemoryPortalRegistry::Put(record);
  }
  void AwaitEntered() { EXPECT_TRUE(entered_.WaitForNotificationWithTimeout(absl::Seconds(5))); }
  void Open() {
    if (!open_.HasBeenNotified()) open_.Notify();
  }

 private:
  const std::string gated_;
  absl::Notification entered_;
  absl::Notification open_;
};

// Memory, whose reads answer `error` the first `failures` times: a Redis
// too slow for its operation timeout at start-up, or one that is down.
class FlakyRegistry : public MemoryPortalRegistry {
 public:
  FlakyRegistry(absl::Status error, int failures) : error_(std::move(error)), failures_(failures) {}
  absl::StatusOr<std::vector<PortalRecord>> LoadAll() override {
    if (++reads_ <= failures_) return error_;
    return MemoryPortalRegistry::LoadAll();
  }
  int reads() const { return reads_; }

 private:
  const absl::Status error_;
  const int failures_;
  int reads_ = 0;  // Load() runs on the test's thread
};

class PortalDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(nullptr); }
  void TearDown() override { Stop(); }

  // `loaded`: where Load()'s outcome goes; null: it must succeed.
  void Start(std::unique_ptr<PortalRegistry> registry, absl::Status* loaded = nullptr) {
    auto transport = std::make_unique<FakeTransport>();
    transport_ = transport.get();
    gateway_ = MakeGateway(std::move(registry), std::move(transport), loaded);
  }
  std::unique_ptr<Gateway> MakeGateway(std::unique_ptr<PortalRegistry> registry,
                                       std::unique_ptr<FakeTransport> transport,
                                       absl::Status* loaded = nullptr) {
    RegistryParts parts;
    parts.registry = std::move(registry);
    parts.options.base.oauth.client_id = "app";
    parts.options.base.oauth.client_secret = "app-secret";
    parts.options.base.oauth.oauth_url = "https://oauth.example/oauth/token/";
    parts.options.base.linger = absl::ZeroDuration();
    parts.options.idle_after = absl::Minutes(10);
    parts.options.sweep_every = absl::Seconds(30);
    parts.options.sync_every = absl::ZeroDuration();  // Sync() by hand
    // Load's waits between attempts pass at once, and are recorded.
    parts.options.on_load_retry = [this](const absl::Status&, absl::Duration wait) {
      load_waits_.push_back(wait);
      clock_.Advance(wait);
    };
    auto gateway = std::make_unique<Gateway>(std::vector<PortalOptions>{}, std::move(transport),
                                             &clock_, PortalObserver::Null(), GatewayOptions(),
                                             nullptr, std::move(parts));
    absl::Status s = gateway->directory().Load();
    if (loaded != nullptr) {
      *loaded = s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
    return gateway;
  }
  void Stop() {
    if (!gateway_) return;
    transport_->Close();
    gateway_.reset();
  }
  PortalDirectory& directory() { return gateway_->directory(); }

  void Call(const std::string& portal, Outcome* outcome) {
    CallSpec call;
    call.portal = portal;
    call.method = "user.current";
    gateway_->Call(std::move(call), CallOptions(), outcome->Callback());
  }
  // Sends a call to `portal` and answers it; returns the URL it went to.
  std::string CallAndAnswer(const std::string& portal) {
    Outcome outcome;
    Call(portal, &outcome);
    std::optional<FakeTransport::Exchange> exchange = transport_->Next();
    if (!exchange) return "nothing sent";
    std::string url = exchange->request.url;
    exchange->done(ResultAnswer(OJson{{"ID", 1}}));
    EXPECT_TRUE(outcome.Wait().ok());
    return url;
  }

  FakeClock clock_;
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<Gateway> gateway_;
  std::vector<absl::Duration> load_waits_;
};

TEST_F(PortalDirectoryTest, AnAddedPortalIsAddressedByNameMemberIdOrDomain) {
  ASSERT_TRUE(directory().Add(Webhook("acme", "member-acme")).ok());
  ASSERT_TRUE(directory().Add(Webhook("bolt", "member-bolt")).ok());
  const std::string acme = "https://acme.example/rest/1/secret-acme/user.current";
  EXPECT_EQ(CallAndAnswer("acme"), acme);
  EXPECT_EQ(CallAndAnswer("member-acme"), acme);
  EXPECT_EQ(CallAndAnswer("ACME.example"), acme);
  EXPECT_EQ(CallAndAnswer("member-bolt"), "https://bolt.example/rest/1/secret-bolt/user.current");
}

TEST_F(PortalDirectoryTest, KeysThatAddressAnotherPortalAreRefused) {
  ASSERT_TRUE(directory().Add(Webhook("acme", "member-acme")).ok());
  EXPECT_EQ(directory().Add(Webhook("acme", "other")).code(), absl::StatusCode::kAlreadyExists);
  PortalRecord same_member = Webhook("bolt", "member-acme");
  EXPECT_EQ(directory().Add(same_member).code(), absl::StatusCode::kAlreadyExists);
  PortalRecord same_domain = Webhook("bolt", "member-bolt");
  same_domain.domain = "acme.example";
  EXPECT_EQ(directory().Add(same_domain).code(), absl::StatusCode::kAlreadyExists);
  PortalRecord bad_name = Webhook("no/slash", "m");
  EXPECT_EQ(directory().Add(bad_name).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(directory().size(), 1u);
}

TEST_F(PortalDirectoryTest, RemovalAnswersQueuedCallsFinishesThoseOnTheWireThenNotFound) {
  PortalRecord acme = Webhook("acme", "member-acme");
  acme.tuning["max_concurrency"] = 1;  // the second call waits in the queue
  ASSERT_TRUE(directory().Add(acme).ok());
  Outcome on_wire;
  Outcome queued;
  Call("acme", &on_wire);
  std::optional<FakeTransport::Exchange> exchange = transport_->Next();
  ASSERT_TRUE(exchange);
  Call("acme", &queued);

  ASSERT_TRUE(directory().Remove("member-acme").ok());
  absl::StatusOr<CallReply> refused = queued.Wait();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(refused.status()), kReasonNotExecuted);
  exchange->done(ResultAnswer(OJson{{"ID", 1}}));
  EXPECT_TRUE(on_wire.Wait().ok());

  Outcome later;
  Call("acme", &later);
  EXPECT_EQ(later.Wait().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(directory().Remove("acme").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(transport_->sent(), 1);
}

TEST_F(PortalDirectoryTest, AnIdlePortalLeavesMemoryAndComesBackOnTheNextCall) {
  ASSERT_TRUE(directory().Add(Webhook("acme", "member-acme")).ok());
  EXPECT_TRUE(directory().Live().empty());  // built on first use
  CallAndAnswer("acme");
  EXPECT_EQ(directory().Live().size(), 1u);
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(directory().Live().size(), 1u);  // not idle long enough yet
  // Idle for 11 minutes: the next sweep takes it out. The sweep runs on a
  // pool thread, which a loaded machine may run seconds later.
  clock_.Advance(absl::Minutes(6));
  EXPECT_TRUE(::b24gate::testing::WaitFor([&] { return directory().Live().empty(); }));
  EXPECT_EQ(CallAndAnswer("acme"), "https://acme.example/rest/1/secret-acme/user.current");
}

TEST_F(PortalDirectoryTest, UpdateChangesTuningAtOnceAndCredentialsForLaterCalls) {
  ASSERT_TRUE(directory().Add(Webhook("acme", "member-acme")).ok());
  CallAndAnswer("acme");
  ASSERT_TRUE(directory()
                  .Update("acme",
                          [](PortalRecord* r) {
                            r->tuning["batch_size"] = 10;
                            r->webhook_url = "https://acme.example/rest/1/new-code/";
                            return absl::OkStatus();
                          })
                  .ok());
  EXPECT_EQ(CallAndAnswer("acme"), "https://acme.example/rest/1/new-code/user.current");
  absl::StatusOr<std::shared_ptr<Portal>> portal = gateway_->FindPortal("acme");
  ASSERT_TRUE(portal.ok());
  EXPECT_EQ((*portal)->Tuning().batch_size, 10);
  absl::Status bad = directory().Update("acme", [](PortalRecord* r) {
    r->tuning["batch_size"] = 500;
    return absl::OkStatus();
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*portal)->Tuning().batch_size, 10);
}

TEST_F(PortalDirectoryTest, InstallAgainReplacesTheTokensOfTheSameMember) {
  ASSERT_TRUE(directory().Install(OAuth("acme", "refresh-a")).ok());
  PortalRecord again = OAuth("acme-2", "refresh-b");
  again.member_id = "m-acme";
  ASSERT_TRUE(directory().Install(again).ok());
  EXPECT_EQ(directory().size(), 1u);
  absl::StatusOr<PortalRecord> stored = directory().Get("m-acme");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->name, "acme");
  EXPECT_EQ(stored->refresh_token, "refresh-b");
}

TEST_F(PortalDirectoryTest, RestartKeepsPortalsAndTheRotatedRefreshToken) {
  const std::string dir = ::b24gate::testing::TempDir();
  Stop();
  Start(*FilePortalRegistry::Open(dir));
  ASSERT_TRUE(directory().Add(OAuth("acme", "refresh-0")).ok());
  ASSERT_TRUE(directory().Add(Webhook("bolt", "member-bolt")).ok());
  Outcome outcome;
  Call("m-acme", &outcome);
  // No access token yet: the portal refreshes first, and the new refresh
  // token is kept before the call is sent with the new access token.
  std::optional<FakeTransport::Exchange> refresh = transport_->Next();
  ASSERT_TRUE(refresh);
  EXPECT_NE(refresh->request.url.find("refresh_token=refresh-0"), std::string::npos);
  refresh->done(FakeTransport::Json(
      200, OJson{{"access_token", "access-1"}, {"refresh_token", "refresh-1"}}.dump()));
  std::optional<FakeTransport::Exchange> call = transport_->Next();
  ASSERT_TRUE(call);
  call->done(ResultAnswer(OJson{{"ID", 1}}));
  EXPECT_TRUE(outcome.Wait().ok());

  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  Stop();
  Start(*FilePortalRegistry::Open(dir));
  EXPECT_EQ(directory().size(), 2u);
  absl::StatusOr<PortalRecord> acme = directory().Get("acme");
  ASSERT_TRUE(acme.ok());
  EXPECT_EQ(acme->refresh_token, "refresh-1");
  EXPECT_EQ(directory().Get("bolt.example")->name, "bolt");
}

TEST_F(PortalDirectoryTest, StartUpWaitsForARegistryThatAnswersLate) {
  Stop();
  auto owned =
      std::make_unique<FlakyRegistry>(absl::UnavailableError("redis: timed out"), 3);
  FlakyRegistry* registry = owned.get();
  ASSERT_TRUE(registry->Put(Webhook("acme", "member-acme")).ok());
  Start(std::move(owned));
  EXPECT_EQ(registry->reads(), 4);
  EXPECT_EQ(load_waits_, (std::vector<absl::Duration>{
                             absl::Milliseconds(200), absl::Milliseconds(400),
                             absl::Milliseconds(800)}));
  EXPECT_EQ(directory().size(), 1u);
  EXPECT_EQ(CallAndAnswer("member-acme"), "https://acme.example/rest/1/secret-acme/user.current");
}

TEST_F(PortalDirectoryTest, StartUpGivesUpOnARegistryThatStaysDown) {
  Stop();
  const absl::Time start = clock_.Now();
  absl::Status loaded;
  Start(std::make_unique<FlakyRegistry>(absl::UnavailableError("redis: connection refused"), 1000),
        &loaded);
  EXPECT_EQ(loaded.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(loaded.message().find("connection refused"), absl::string_view::npos);
  // Waits of 0.2, 0.4, 0.8 s, then 1 s each, up to the 5 s patience.
  EXPECT_EQ(load_waits_.size(), 7u);
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(5));
}

TEST_F(PortalDirectoryTest, StartUpDoesNotRetryADamagedRegistry) {
  Stop();
  auto owned = std::make_unique<FlakyRegistry>(absl::DataLossError("record acme: bad JSON"), 1);
  FlakyRegistry* registry = owned.get();
  absl::Status loaded;
  Start(std::move(owned), &loaded);
  EXPECT_EQ(loaded.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(registry->reads(), 1);
  EXPECT_TRUE(load_waits_.empty());
}

TEST_F(PortalDirectoryTest, ARotatedTokenIsStoredBeforeItIsUsedAndItsWriteHoldsUpNoOtherChange) {
  Stop();
  auto owned = std::make_unique<GatedRegistry>("refresh-1");
  GatedRegistry* registry = owned.get();
  Start(std::move(owned));
  ASSERT_TRUE(directory().Add(OAuth("acme", "refresh-0")).ok());
  ASSERT_TRUE(directory().Add(Webhook("bolt", "member-bolt")).ok());
  Outcome acme;
  Call("acme", &acme);
  std::optional<FakeTransport::Exchange> refresh = transport_->Next();
  ASSERT_TRUE(refresh);
  // The answer is taken on a thread of its own, which stores the rotated
  // token (and waits on the gate).
  std::thread answer([&] {
    refresh->done(FakeTransport::Json(
        200, OJson{{"access_token", "access-1"}, {"refresh_token", "refresh-1"}}.dump()));
  });
  registry->AwaitEntered();

  // Meanwhile other portals are added, changed and called...
  absl::Notification changed;
  std::thread admin([&] {
    EXPECT_TRUE(directory().Add(Webhook("cato", "member-cato")).ok());
    EXPECT_TRUE(SetTuning(directory(), "bolt", "batch_size", 10).ok());
    changed.Notify();
  });
  const bool others_went_on = changed.WaitForNotificationWithTimeout(absl::Seconds(5));
  EXPECT_TRUE(others_went_on) << "another portal's change waited for acme's token write";
  std::string sent_while_storing = others_went_on ? CallAndAnswer("cato") : "";
  EXPECT_EQ(sent_while_storing, "https://cato.example/rest/1/secret-cato/user.current");
  // ...but acme's call waits for its token to be stored.
  EXPECT_FALSE(transport_->Next(absl::Milliseconds(200))) << "sent before the token was stored";

  registry->Open();
  answer.join();
  admin.join();
  std::optional<FakeTransport::Exchange> call = transport_->Next();
  ASSERT_TRUE(call);
  EXPECT_NE(call->request.url.find("auth=access-1"), std::string::npos);
  call->done(ResultAnswer(OJson{{"ID", 1}}));
  EXPECT_TRUE(acme.Wait().ok());
  EXPECT_EQ(directory().Get("acme")->refresh_token, "refresh-1");
}

TEST_F(PortalDirectoryTest, AReplacedPortalsLateRefreshDoesNotStoreItsTokenOverTheNewOnes) {
  ASSERT_TRUE(directory().Add(OAuth("acme", "refresh-0")).ok());
  Outcome outcome;
  Call("acme", &outcome);
  std::optional<FakeTransport::Exchange> refresh = transport_->Next();
  ASSERT_TRUE(refresh);
  // A reinstall brings new tokens while the old portal's refresh is out.
  ASSERT_TRUE(directory().Install(OAuth("acme", "refresh-installed")).ok());
  refresh->done(FakeTransport::Json(
      200, OJson{{"access_token", "access-1"}, {"refresh_token", "refresh-old-1"}}.dump()));
  if (std::optional<FakeTransport::Exchange> call = transport_->Next()) {
    call->done(ResultAnswer(OJson{{"ID", 1}}));
  }
  // The call the replaced portal held is answered, not lost.
  EXPECT_TRUE(outcome.Wait().ok());
  EXPECT_EQ(directory().Get("acme")->refresh_token, "refresh-installed");
}

// Two replicas' directories on one redis-server.
class SharedRegistryTest : public PortalDirectoryTest {
 protected:
  void SetUp() override {
    auto server = ::b24gate::testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    redis_server_ = std::move(*server);
    Start(Registry());
    auto transport = std::make_unique<FakeTransport>();
    other_transport_ = transport.get();
    other_ = MakeGateway(Registry(), std::move(transport));
  }
  void TearDown() override {
    if (other_) {
      other_transport_->Close();
      other_.reset();
    }
    Stop();
  }
  std::unique_ptr<PortalRegistry> Registry() {
    RedisOptions options;
    options.address = *ParseRedisUrl(redis_server_->url());
    return std::make_unique<RedisPortalRegistry>(
        std::make_shared<RedisClient>(options, Clock::Real()), "test:");
  }
  PortalDirectory& other() { return other_->directory(); }

  std::unique_ptr<::b24gate::testing::RedisServer> redis_server_;
  FakeTransport* other_transport_ = nullptr;
  std::unique_ptr<Gateway> other_;
};

TEST_F(SharedRegistryTest, AnotherReplicaSeesAPortalAddedChangedAndRemovedWithoutRestart) {
  ASSERT_TRUE(directory().Add(Webhook("acme", "member-acme")).ok());
  EXPECT_EQ(other().Get("member-acme").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(other().Sync().ok());
  absl::StatusOr<std::shared_ptr<Portal>> there = other_->FindPortal("member-acme");
  ASSERT_TRUE(there.ok()) << there.status();

  ASSERT_TRUE(SetTuning(directory(), "acme", "batch_size", 9).ok());
  ASSERT_TRUE(other().Sync().ok());
  EXPECT_EQ((*there)->Tuning().batch_size, 9) << "the live portal is retuned";

  // A call queued on the other replica when the portal is removed here.
  ASSERT_TRUE(SetTuning(other(), "acme", "max_concurrency", 1).ok());
  ASSERT_TRUE(directory().Sync().ok());
  EXPECT_EQ(directory().Get("acme")->tuning.at("max_concurrency"), 1);
  Outcome on_wire;
  Outcome queued;
  CallSpec call;
  call.portal = "acme";
  call.method = "user.current";
  other_->Call(call, CallOptions(), on_wire.Callback());
  std::optional<FakeTransport::Exchange> exchange = other_transport_->Next();
  ASSERT_TRUE(exchange);
  other_->Call(call, CallOptions(), queued.Callback());

  ASSERT_TRUE(directory().Remove("acme").ok());
  ASSERT_TRUE(other().Sync().ok());
  absl::StatusOr<CallReply> refused = queued.Wait();
  EXPECT_EQ(ReasonOf(refused.status()), kReasonNotExecuted);
  exchange->done(ResultAnswer(OJson{{"ID", 1}}));
  EXPECT_TRUE(on_wire.Wait().ok()) << "the call on the wire finishes";
  EXPECT_EQ(other_->FindPortal("acme").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SharedRegistryTest, ARotatedTokenReachesTheOtherReplicaWithoutRebuildingItsPortal) {
  ASSERT_TRUE(directory().Add(OAuth("acme", "refresh-0")).ok());
  ASSERT_TRUE(other().Sync().ok());
  absl::StatusOr<std::shared_ptr<Portal>> there = other_->FindPortal("acme");
  ASSERT_TRUE(there.ok());
  Outcome outcome;
  Call("acme", &outcome);
  std::optional<FakeTransport::Exchange> refresh = transport_->Next();
  ASSERT_TRUE(refresh);
  refresh->done(FakeTransport::Json(
      200, OJson{{"access_token", "access-1"}, {"refresh_token", "refresh-1"}}.dump()));
  std::optional<FakeTransport::Exchange> sent = transport_->Next();
  ASSERT_TRUE(sent);
  sent->done(ResultAnswer(OJson{{"ID", 1}}));
  ASSERT_TRUE(outcome.Wait().ok());

  ASSERT_TRUE(other().Sync().ok());
  EXPECT_EQ(other().Get("acme")->refresh_token, "refresh-1");
  absl::StatusOr<std::shared_ptr<Portal>> still = other_->FindPortal("acme");
  EXPECT_EQ(still->get(), there->get());
}

// A shared registry in memory whose change log holds one removal, of a
// portal this replica never had: the sync thread's first round applies it
// and tells the watcher.
class OneChangeRegistry : public MemoryPortalRegistry {
 public:
  bool shared() const override { return true; }
  absl::StatusOr<std::vector<RegistryChange>> ChangesSince(int64_t seq, size_t) override {
    if (seq >= 1) return std::vector<RegistryChange>{};
    return std::vector<RegistryChange>{RegistryChange{1, "gone", std::nullopt}};
  }
};

// A replica stopped while its sync thread told EventBindings of a change
// (EventBindings::Changed reads the directory through the gateway) crashed
// after its last log line: ~Gateway's directory_.reset() cleared the
// pointer before the directory's destructor waited for the round, and the
// watcher read the directory through a null pointer (SIGSEGV; seen as a
// replica's exit status 139 in registry_replicas_test).
TEST(PortalDirectoryTeardown, AWatcherCallInProgressAsTheGatewayGoesStillFindsTheDirectory) {
  FakeClock clock;  // no second round: the first is woken, the next never due
  RegistryParts parts;
  parts.registry = std::make_unique<OneChangeRegistry>();
  parts.options.sync_every = absl::Seconds(1);
  auto gateway = std::make_unique<Gateway>(std::vector<PortalOptions>{},
                                           std::make_unique<FakeTransport>(), &clock,
                                           PortalObserver::Null(), GatewayOptions(), nullptr,
                                           std::move(parts));
  Gateway* const reader = gateway.get();
  absl::Notification entered;
  absl::Notification destroying;
  absl::StatusCode found = absl::StatusCode::kUnknown;
  gateway->directory().Watch([&](const std::string& name) {
    entered.Notify();
    destroying.WaitForNotification();
    // ~Gateway is under way on the test's thread: without the fix it has
    // cleared its pointer to the directory by now (its first statement)
    // and waits for this round. The pause only widens that window; with
    // the fix the gateway waits for this call before it touches the
    // pointer, whatever the timing.
    absl::SleepFor(absl::Milliseconds(100));
    found = reader->directory().Describe(name).status().code();
  });
  ASSERT_TRUE(gateway->directory().Load().ok());  // starts the sync thread
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  destroying.Notify();
  gateway.reset();
  EXPECT_EQ(found, absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace b24gate::portal_directory_test
