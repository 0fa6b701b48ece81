// The application's install flow end to end: the gateway serves an OAuth
// application (the config's "application") and its inbound endpoint takes
// the application's ONAPPINSTALL and ONAPPUNINSTALL posts at /app. An
// install registers the portal with its tokens and application_token (calls
// can address it by member_id at once; its events are accepted only with
// that token); another install of the same member_id with another token,
// and an uninstall with another token, are refused; an uninstall with the
// installed token removes the portal.
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/e2e/binaries.h"
#include "tests/e2e/event_helpers.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::app_install_test {
namespace {

constexpr char kRefresh[] = "install-refresh-token-1";
constexpr char kAppToken[] = "installed-application-token";
constexpr char kMember[] = "a1b2c3member";

struct AppStack {
  std::unique_ptr<Stack> stack;  // the emulator (an OAuth server too) and a plain gateway
  std::unique_ptr<Process> gateway;  // the application's gateway
  std::shared_ptr<grpc::Channel> channel;
};

AppStack StartApp() {
  AppStack s;
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero", "--oauth", "app.test:app-secret",
                         "--oauth-refresh-token", kRefresh, "--application-token", kAppToken};
  s.stack = Up(emulator);
  if (!s.stack) return s;
  const std::string emu = s.stack->emulator().address();
  json config = {{"listen", "127.0.0.1:0"},
                 {"portals", {{{"name", "main"}, {"webhook", s.stack->webhook_url()}}}},
                 {"application",
                  {{"client_id", "app.test"},
                   {"client_secret", "app-secret"},
                   {"oauth_url", "http://" + emu + "/oauth/token/"}}},
                 {"shutdown_grace_seconds", 5},
                 {"predrain_delay_seconds", 0}};
  absl::StatusOr<std::unique_ptr<Process>> gw = Process::Start(
      {kGatewayBin, "--config", testing::TempFile(config.dump()), "--events-listen", "127.0.0.1:0",
       "--events-log", testing::TempDir()});
  EXPECT_TRUE(gw.ok()) << gw.status();
  if (!gw.ok()) return s;
  s.gateway = std::move(*gw);
  s.channel = grpc::CreateChannel(s.gateway->address(), grpc::InsecureChannelCredentials());
  return s;
}

int PostApp(AppStack& s, const std::string& path, const std::string& form) {
  httplib::Client client("http://" + PrintedAddress(*s.gateway, "events"));
  httplib::Result res = client.Post(path, form, "application/x-www-form-urlencoded");
  return res ? res->status : -1;
}

// As the portal posts it (docs/bitrix24-protocol.md "Installing an application").
std::string AppEvent(AppStack& s, const std::string& event, const std::string& token) {
  const std::string domain = s.stack->emulator().address();
  return "event=" + event + "&data%5BVERSION%5D=1&data%5BLANGUAGE_ID%5D=en&ts=1700000000" +
         "&auth%5Bdomain%5D=" + domain + "&auth%5Bclient_endpoint%5D=http%3A%2F%2F" + domain +
         "%2Frest%2F&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F" +
         "&auth%5Bmember_id%5D=" + kMember + "&auth%5Bapplication_token%5D=" + token +
         "&auth%5Baccess_token%5D=unused&auth%5Brefresh_token%5D=" + kRefresh;
}

grpc::Status CallOn(AppStack& s, const std::string& portal) {
  auto stub = pb::GatewayService::NewStub(s.channel);
  pb::CallRequest request;
  request.set_method("crm.deal.list");
  request.set_portal(portal);
  pb::CallResponse response;
  return stub->Call(Ctx(30).get(), request, &response);
}

TEST(AppInstall, AnInstalledPortalServesCallsAndAnUninstallWithItsTokenRemovesIt) {
  AppStack s = StartApp();
  ASSERT_TRUE(s.gateway);
  EXPECT_EQ(CallOn(s, kMember).error_code(), grpc::StatusCode::NOT_FOUND) << "not installed yet";
  ASSERT_EQ(PostApp(s, "/app", AppEvent(s, "ONAPPINSTALL", kAppToken)), 200);
  grpc::Status installed = CallOn(s, kMember);
  EXPECT_TRUE(installed.ok()) << installed.error_message();
  EXPECT_EQ(PostApp(s, "/app", AppEvent(s, "ONAPPINSTALL", "another-token")), 409)
      << "a post without the installed token cannot take the portal over";

  // Its events are accepted with the token of the install, and only with it.
  const std::string name = [&] {
    std::string n = s.stack->emulator().address();
    for (char& c : n) c = c == ':' ? '-' : c;
    return n;
  }();
  const std::string event = "event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=1&auth%5Bapplication_token%5D=";
  EXPECT_EQ(PostApp(s, "/events/" + name, event + kAppToken), 200);
  EXPECT_EQ(PostApp(s, "/events/" + name, event + "forged"), 403);

  EXPECT_EQ(PostApp(s, "/app", AppEvent(s, "ONAPPUNINSTALL", "forged")), 403);
  EXPECT_TRUE(CallOn(s, kMember).ok()) << "a forged uninstall changes nothing";
  ASSERT_EQ(PostApp(s, "/app", AppEvent(s, "ONAPPUNINSTALL", kAppToken)), 200);
  EXPECT_EQ(CallOn(s, kMember).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(PostApp(s, "/app", AppEvent(s, "ONAPPUNINSTALL", kAppToken)), 404) << "gone already";
}

TEST(AppInstall, AnInstallWhoseEndpointIsNotOnItsDomainIsRefused) {
  AppStack s = StartApp();
  ASSERT_TRUE(s.gateway);
  std::string form = AppEvent(s, "ONAPPINSTALL", kAppToken);
  const std::string domain = s.stack->emulator().address();
  form.replace(form.find("client_endpoint%5D=http%3A%2F%2F") + 32, domain.size(), "evil.example");
  EXPECT_EQ(PostApp(s, "/app", form), 400);
  EXPECT_EQ(CallOn(s, kMember).error_code(), grpc::StatusCode::NOT_FOUND);
}

// /app takes no more than the event posts do: 64 KiB of body.
TEST(AppInstall, AnInstallOverTheBodyBoundIsRefused) {
  AppStack s = StartApp();
  ASSERT_TRUE(s.gateway);
  const std::string form = AppEvent(s, "ONAPPINSTALL", kAppToken) + "&pad=" + std::string(70000, 'x');
  EXPECT_EQ(PostApp(s, "/app", form), 413);
  EXPECT_EQ(CallOn(s, kMember).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace b24gate::e2e::app_install_test
