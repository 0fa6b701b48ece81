// OAuth through the Portal: token endpoint, rotation, expiry, REST auth.
#include "tests/emulator/oauth.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include "tests/emulator/test/portal_harness.h"

namespace b24emu::oauth_test {
namespace {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

PortalConfig OAuthConfig() {
  PortalConfig config = TestConfig();
  OAuthOptions oauth;
  oauth.client_id = "app.1";
  oauth.client_secret = "s3cret";
  oauth.initial_refresh_token = "refresh-0";
  oauth.access_lifetime = absl::Seconds(3600);
  config.oauth = oauth;
  return config;
}

class OAuthTest : public ::testing::Test {
 protected:
  json Refresh(const std::string& token, int* status = nullptr, const std::string& secret = "s3cret") {
    const OJson params = {{"grant_type", "refresh_token"}, {"client_id", "app.1"},
                          {"client_secret", secret}, {"refresh_token", token}};
    const HttpReply reply = h_.portal().HandleToken(params, "https://127.0.0.1:8443");
    if (status != nullptr) *status = reply.status;
    return json::parse(reply.body);
  }
  PortalHarness h_{OAuthConfig()};
};

TEST_F(OAuthTest, TokenResponseHasEveryField) {
  int status = 0;
  const json t = Refresh("refresh-0", &status);
  EXPECT_EQ(status, 200);
  for (const char* key : {"access_token", "refresh_token", "expires", "expires_in", "client_endpoint",
                          "server_endpoint", "domain", "member_id", "scope", "status", "user_id"}) {
    EXPECT_TRUE(t.contains(key)) << key;
  }
  EXPECT_EQ(t["expires_in"], 3600);
  EXPECT_EQ(t["expires"], 1725000000 + 3600);
  EXPECT_EQ(t["client_endpoint"], "https://127.0.0.1:8443/rest/");
  EXPECT_EQ(t["domain"], "127.0.0.1:8443");
  EXPECT_NE(t["refresh_token"], "refresh-0");
}

TEST_F(OAuthTest, UsedRefreshTokenIsInvalidGrantAndNewOneWorks) {
  const json first = Refresh("refresh-0");
  int status = 0;
  EXPECT_EQ(Refresh("refresh-0", &status)["error"], "invalid_grant");
  EXPECT_EQ(status, 400);
  const json second = Refresh(first["refresh_token"], &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Refresh(first["refresh_token"], &status)["error"], "invalid_grant");
  EXPECT_NE(second["access_token"], first["access_token"]);
}

TEST_F(OAuthTest, BadClientIsInvalidClient) {
  int status = 0;
  EXPECT_EQ(Refresh("refresh-0", &status, "wrong")["error"], "invalid_client");
  EXPECT_EQ(status, 401);
  // The refresh token was not consumed.
  EXPECT_EQ(Refresh("refresh-0", &status)["error"].is_null(), true);
}

TEST_F(OAuthTest, AccessTokenInQueryOrBody) {
  const std::string token = Refresh("refresh-0")["access_token"];
  EXPECT_EQ(h_.Get("/rest/crm.lead.get?id=1&auth=" + token).status, 200);
  EXPECT_EQ(h_.PostJson("/rest/crm.lead.get.json", json{{"id", 1}, {"auth", token}}.dump()).status, 200);
  EXPECT_EQ(h_.PostForm("/rest/echo", "auth=" + token + "&x=1").status, 200);
  EXPECT_EQ(h_.methods().last().params, json::parse(R"({"x":"1"})"));  // auth is not a parameter
}

TEST_F(OAuthTest, UnknownTokenIsInvalidToken) {
  const HttpReply reply = h_.Get("/rest/crm.lead.get?id=1&auth=nope");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(PortalHarness::Json(reply)["error"], "invalid_token");
}

TEST_F(OAuthTest, ExpiryBoundary) {
  const std::string token = Refresh("refresh-0")["access_token"];
  h_.clock().Advance(absl::Seconds(3600) - absl::Milliseconds(1));
  EXPECT_EQ(h_.Get("/rest/echo?auth=" + token).status, 200);
  h_.clock().Advance(absl::Milliseconds(1));
  const HttpReply reply = h_.Get("/rest/echo?auth=" + token);
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.body,
            R"({"error":"expired_token","error_description":"The access token provided has expired."})");
}

TEST_F(OAuthTest, ExpireTokensControl) {
  const std::string token = Refresh("refresh-0")["access_token"];
  h_.portal().ExpireTokens();
  EXPECT_EQ(PortalHarness::Json(h_.Get("/rest/echo?auth=" + token))["error"], "expired_token");
  const std::string fresh = Refresh(Refresh("refresh-0").value("refresh_token", "")).value("access_token", "");
  (void)fresh;
}

TEST_F(OAuthTest, OldAccessTokenStaysValidAfterRefresh) {
  const json first = Refresh("refresh-0");
  Refresh(first["refresh_token"]);
  EXPECT_EQ(h_.Get("/rest/echo?auth=" + first["access_token"].get<std::string>()).status, 200);
}

TEST_F(OAuthTest, ARefreshTokenUsedAfterItsRotationIsCounted) {
  const json first = Refresh("refresh-0");
  EXPECT_EQ(h_.portal().TokensUsedAfterRotation(), 0);
  int status = 0;
  EXPECT_EQ(Refresh("refresh-0", &status)["error"], "invalid_grant");
  EXPECT_EQ(h_.portal().TokensUsedAfterRotation(), 1);
  EXPECT_EQ(Refresh("never-issued", &status)["error"], "invalid_grant");
  EXPECT_EQ(h_.portal().TokensUsedAfterRotation(), 1) << "an unknown token was never rotated";
  EXPECT_EQ(h_.Get("/rest/echo?auth=" + first["access_token"].get<std::string>()).status, 200)
      << "this portal keeps access tokens valid after a refresh";
  EXPECT_EQ(h_.portal().StatsJson()["tokens_used_after_rotation"], 1);
}

TEST(OAuthRevoking, ARefreshEndsTheAccessTokenIssuedWithTheRefreshTokenUsed) {
  PortalConfig config = OAuthConfig();
  config.oauth->revoke_on_refresh = true;
  config.oauth->member_id = "member-7";
  config.oauth->token_suffix = "b24e0000000700010000";
  PortalHarness h(config);
  auto refresh = [&h](const std::string& token) {
    return json::parse(h.portal()
                           .HandleToken(OJson{{"grant_type", "refresh_token"},
                                              {"client_id", "app.1"},
                                              {"client_secret", "s3cret"},
                                              {"refresh_token", token}},
                                        "http://p7.localhost:1")
                           .body);
  };
  const json first = refresh("refresh-0");
  EXPECT_EQ(first["member_id"], "member-7");
  EXPECT_TRUE(absl::EndsWith(first["access_token"].get<std::string>(), "b24e0000000700010000"));
  EXPECT_TRUE(absl::EndsWith(first["refresh_token"].get<std::string>(), "b24e0000000700010000"));
  const json second = refresh(first["refresh_token"]);
  const std::string old_access = first["access_token"];
  EXPECT_EQ(PortalHarness::Json(h.Get("/rest/echo?auth=" + old_access))["error"], "invalid_token");
  EXPECT_EQ(h.portal().TokensUsedAfterRotation(), 1);
  EXPECT_EQ(h.Get("/rest/echo?auth=" + second["access_token"].get<std::string>()).status, 200);
  EXPECT_EQ(refresh(first["refresh_token"])["error"], "invalid_grant");
  EXPECT_EQ(h.portal().TokensUsedAfterRotation(), 2);
  // Past its lifetime a revoked token is only expired: no client can be
  // blamed for it any more.
  h.clock().Advance(absl::Seconds(3600));
  EXPECT_EQ(PortalHarness::Json(h.Get("/rest/echo?auth=" + old_access))["error"], "expired_token");
  EXPECT_EQ(h.portal().TokensUsedAfterRotation(), 2);
}

TEST_F(OAuthTest, ScaledLifetimeIsFractional) {
  PortalConfig config = OAuthConfig();
  config.oauth->access_lifetime = absl::Seconds(3600) * 0.0001;
  PortalHarness h(config);
  const HttpReply reply = h.portal().HandleToken(
      OJson{{"grant_type", "refresh_token"}, {"client_id", "app.1"}, {"client_secret", "s3cret"},
            {"refresh_token", "refresh-0"}},
      "http://localhost:1");
  EXPECT_DOUBLE_EQ(json::parse(reply.body)["expires_in"].get<double>(), 0.36);
}

}  // namespace
}  // namespace b24emu::oauth_test
