// Many portals in one emulator: routing by Host and by refresh token, each
// portal's own webhook, OAuth chain and limits, data built on first use,
// removal, the count of tokens used after rotation, and the install posts'
// form.
#include "tests/emulator/portal_set.h"

#include <gtest/gtest.h>

#include "tests/emulator/query_parser.h"
#include "tests/emulator/test/portal_harness.h"

namespace b24emu::portal_set_test {
namespace {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

PortalConfig CreatedConfig(const PortalPlan& plan) {
  PortalConfig config = TestConfig();
  OAuthOptions oauth;
  oauth.client_id = "app.1";
  oauth.client_secret = "s3cret";
  config.oauth = oauth;
  config.bucket.burst = plan.burst.value_or(50);
  return config;
}

class PortalSetTest : public ::testing::Test {
 protected:
  PortalSetTest()
      : set_(&first_.portal(), CreatedConfig,
             [this] {
               ++data_made_;
               return std::make_unique<FakeMethods>();
             },
             /*poster=*/nullptr, /*notifier=*/nullptr, &first_.clock()) {
    set_.SetOrigin(/*https=*/false, 8080);
  }

  json Create(NewPortal spec = {}) {
    absl::StatusOr<json> created = set_.Create(spec);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : json();
  }
  static HttpReply Rest(Portal& portal, const std::string& target) {
    RestRequest r;
    r.target = target;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.params.query = target.substr(q + 1);
    return portal.HandleRest(r);
  }
  json Refresh(const std::string& token, std::string* url) {
    std::shared_ptr<Portal> portal = set_.ForRefreshToken(token, url);
    return json::parse(portal->HandleToken(OJson{{"grant_type", "refresh_token"},
                                                 {"client_id", "app.1"},
                                                 {"client_secret", "s3cret"},
                                                 {"refresh_token", token}},
                                           *url)
                           .body);
  }

  PortalHarness first_;
  int data_made_ = 0;
  PortalSet set_;
};

TEST_F(PortalSetTest, EachPortalIsReachedByItsHostAndAnyOtherHostReachesTheFirst) {
  const json one = Create();
  const json two = Create(NewPortal{"shop", {}});
  EXPECT_EQ(one["name"], "portal-1");
  EXPECT_EQ(one["domain"], "portal-1.localhost:8080");
  EXPECT_EQ(one["client_endpoint"], "http://portal-1.localhost:8080/rest/");
  EXPECT_EQ(two["domain"], "shop.localhost:8080");
  EXPECT_NE(one["member_id"], two["member_id"]);
  EXPECT_NE(one["application_token"], two["application_token"]);
  EXPECT_NE(one["webhook"], two["webhook"]);

  EXPECT_EQ(set_.ForHost("127.0.0.1:8080").get(), &first_.portal());
  EXPECT_EQ(set_.ForHost("localhost:8080").get(), &first_.portal());
  EXPECT_EQ(set_.ForHost("unknown.localhost:8080").get(), &first_.portal());
  std::shared_ptr<Portal> p1 = set_.ForHost("portal-1.localhost:8080");
  EXPECT_NE(p1.get(), &first_.portal());
  EXPECT_EQ(set_.ForHost("PORTAL-1.localhost").get(), p1.get()) << "host names are case-blind";
  EXPECT_NE(set_.ForHost("shop.localhost:8080").get(), p1.get());
}

TEST_F(PortalSetTest, AWebhookWorksOnItsOwnPortalOnly) {
  const std::string hook = Create()["webhook"];  // http://portal-1.localhost:8080/rest/1/CODE/
  Create();
  const std::string path = hook.substr(hook.find("/rest/")) + "echo";
  EXPECT_EQ(Rest(*set_.ForHost("portal-1.localhost:8080"), path).status, 200);
  EXPECT_EQ(PortalHarness::Json(Rest(*set_.ForHost("portal-2.localhost:8080"), path))["error"],
            "INVALID_CREDENTIALS");
  EXPECT_EQ(Rest(first_.portal(), path).status, 401);
}

TEST_F(PortalSetTest, APortalIsBuiltOnFirstUseOnly) {
  Create();
  Create();
  EXPECT_EQ(data_made_, 0);
  EXPECT_FALSE(set_.List()["portals"][0]["in_memory"]);
  set_.ForHost("portal-2.localhost:8080");
  set_.ForHost("portal-2.localhost:8080");
  EXPECT_EQ(data_made_, 1);
  EXPECT_FALSE(set_.List()["portals"][0]["in_memory"]);
  EXPECT_TRUE(set_.List()["portals"][1]["in_memory"]);
}

TEST_F(PortalSetTest, EachPortalHasItsOwnBucket) {
  NewPortal small;
  small.plan.burst = 2;
  Create(small);
  Create();
  std::shared_ptr<Portal> tight = set_.ForHost("portal-1.localhost");
  const std::string hook = set_.List()["portals"][0]["webhook"];
  const std::string path = hook.substr(hook.find("/rest/")) + "echo";
  EXPECT_EQ(Rest(*tight, path).status, 200);
  EXPECT_EQ(Rest(*tight, path).status, 200);
  EXPECT_EQ(Rest(*tight, path).status, 503);
  EXPECT_EQ(Rest(first_.portal(), "/rest/1/secret/echo").status, 200) << "another portal's budget";
  EXPECT_EQ(set_.List()["portals"][0]["plan"]["burst"], 2);
}

TEST_F(PortalSetTest, TheTokenEndpointFindsThePortalARefreshTokenBelongsTo) {
  Create();
  Create();
  std::shared_ptr<Portal> p2 = set_.ForHost("portal-2.localhost");
  std::string url = "http://127.0.0.1:8080";
  const json token = Refresh(p2->InitialRefreshToken(), &url);
  EXPECT_EQ(url, "http://portal-2.localhost:8080");
  EXPECT_EQ(token["client_endpoint"], "http://portal-2.localhost:8080/rest/");
  EXPECT_EQ(token["member_id"], set_.List()["portals"][1]["member_id"]);
  EXPECT_EQ(Rest(*p2, "/rest/echo?auth=" + token["access_token"].get<std::string>()).status, 200);
  EXPECT_EQ(Rest(*set_.ForHost("portal-1.localhost"),
                 "/rest/echo?auth=" + token["access_token"].get<std::string>())
                .status,
            401)
      << "another portal does not know the token";
  std::string first_url = "http://127.0.0.1:8080";
  EXPECT_EQ(set_.ForRefreshToken("short", &first_url).get(), &first_.portal());
  EXPECT_EQ(first_url, "http://127.0.0.1:8080");
}

TEST_F(PortalSetTest, RemovingAPortalEndsItsTokensAndKeepsItsRotationCount) {
  const std::string hook = Create()["webhook"];
  std::shared_ptr<Portal> held = set_.ForHost("portal-1.localhost");
  const std::string initial = held->InitialRefreshToken();
  std::string url;
  Refresh(initial, &url);
  EXPECT_EQ(Refresh(initial, &url)["error"], "invalid_grant");
  EXPECT_EQ(set_.List()["tokens_used_after_rotation"], 1);

  absl::StatusOr<json> removed = set_.Remove("portal-1", /*clean=*/false);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(set_.Remove("portal-1", false).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(set_.ForHost("portal-1.localhost").get(), &first_.portal());
  EXPECT_EQ(set_.ForRefreshToken(initial, &url).get(), &first_.portal());
  EXPECT_EQ(Rest(*held, hook.substr(hook.find("/rest/")) + "echo").status, 200)
      << "a portal held by a request in flight stays alive";
  const json list = set_.List();
  EXPECT_EQ(list["count"], 0);
  EXPECT_EQ(list["tokens_used_after_rotation"], 1) << "a removed portal's uses still count";
  EXPECT_EQ(set_.Create(NewPortal{"portal-1", {}}).ok(), true) << "its name is free again";
  EXPECT_EQ(set_.Create(NewPortal{"portal-1", {}}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(set_.Create(NewPortal{"Bad_Name", {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PortalSetTest, AnAutomaticNameSkipsTheNamesTaken) {
  Create(NewPortal{"portal-2", {}});
  EXPECT_EQ(Create()["name"], "portal-3");
}

TEST(ParseNewPortals, ReadsTheBodyAndNamesWhatIsWrong) {
  absl::StatusOr<std::vector<NewPortal>> three =
      ParseNewPortals(R"({"count": 3, "plan": "enterprise", "bucket_rate": 0.5})");
  ASSERT_TRUE(three.ok()) << three.status();
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[2].plan.plan, "enterprise");
  EXPECT_EQ((*three)[2].plan.rate, 0.5);
  EXPECT_TRUE(ParseNewPortals("").ok());
  for (const char* bad : {R"([1])", R"({"count": 0})", R"({"plan": "free"})",
                          R"({"name": "a", "count": 2})", R"({"bucket_burst": 0})",
                          R"({"colour": "red"})", R"({"count": "2"})"}) {
    absl::StatusOr<std::vector<NewPortal>> parsed = ParseNewPortals(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AppNotifier, TheInstallPostCarriesThePortalsTokensAndIdentity) {
  InstalledApp app;
  app.domain = "p1.localhost:8080";
  app.client_endpoint = "http://p1.localhost:8080/rest/";
  app.member_id = "m1";
  app.application_token = "apptoken";
  app.access_token = "access";
  app.refresh_token = "refresh";
  app.access_lifetime = absl::Seconds(3600);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const OJson install = ParsePhpQuery(AppNotifier::InstallForm(app, now));
  EXPECT_EQ(install["event"], "ONAPPINSTALL");
  EXPECT_EQ(install["ts"], "1700000000");
  EXPECT_EQ(install["auth"]["domain"], "p1.localhost:8080");
  EXPECT_EQ(install["auth"]["client_endpoint"], "http://p1.localhost:8080/rest/");
  EXPECT_EQ(install["auth"]["member_id"], "m1");
  EXPECT_EQ(install["auth"]["application_token"], "apptoken");
  EXPECT_EQ(install["auth"]["access_token"], "access");
  EXPECT_EQ(install["auth"]["refresh_token"], "refresh");
  EXPECT_EQ(install["auth"]["expires_in"], "3600");
  EXPECT_EQ(install["auth"]["expires"], "1700003600");
  EXPECT_EQ(install["data"]["VERSION"], "1");

  const OJson uninstall = ParsePhpQuery(AppNotifier::UninstallForm(app, /*clean=*/true, now));
  EXPECT_EQ(uninstall["event"], "ONAPPUNINSTALL");
  EXPECT_EQ(uninstall["data"]["CLEAN"], "1");
  EXPECT_EQ(uninstall["auth"]["application_token"], "apptoken");
  EXPECT_FALSE(uninstall["auth"].contains("refresh_token")) << "its tokens are dead";
  EXPECT_FALSE(uninstall["auth"].contains("access_token"));
}

}  // namespace
}  // namespace b24emu::portal_set_test
