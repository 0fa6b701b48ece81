// Portals added and removed while the gateway runs (portal_directory.h), on
// a fake transport and a fake clock: addressed by name, member_id or domain;
// removal answers queued calls NOT_EXECUTED, lets calls on the wire finish
// and makes later calls NOT_FOUND; idle portals leave memory and come back;
// the registry keeps records and rotated tokens across a restart.
#include "engine/gateway/portal_directory.h"

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "engine/gateway/gateway.h"
#include "engine/registry/file_registry.h"
#include "tests/engine/fake_transport.h"
#include "tests/support/temp_file.h"

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

class PortalDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(nullptr); }
  void TearDown() override { Stop(); }

  void Start(std::unique_ptr<PortalRegistry> registry) {
    auto transport = std::make_unique<FakeTransport>();
    transport_ = transport.get();
    RegistryParts parts;
    parts.registry = std::move(registry);
    parts.options.base.oauth.client_id = "app";
    parts.options.base.oauth.client_secret = "app-secret";
    parts.options.base.oauth.oauth_url = "https://oauth.example/oauth/token/";
    parts.options.base.linger = absl::ZeroDuration();
    parts.options.idle_after = absl::Minutes(10);
    parts.options.sweep_every = absl::Seconds(30);
    gateway_ = std::make_unique<Gateway>(std::vector<PortalOptions>{}, std::move(transport), &clock_,
                                         PortalObserver::Null(), GatewayOptions(), nullptr,
                                         std::move(parts));
    ASSERT_TRUE(gateway_->directory().Load().ok());
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
  for (int i = 0; i < 20 && !directory().Live().empty(); ++i) {
    clock_.Advance(absl::Minutes(1));
    absl::SleepFor(absl::Milliseconds(20));  // the sweep runs on a pool thread
  }
  EXPECT_TRUE(directory().Live().empty());
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

}  // namespace
}  // namespace b24gate::portal_directory_test
