// The access log names every request and no secret: webhook codes masked,
// OAuth tokens and client secrets (in query strings and bodies) never written.
#include "tests/emulator/access_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/server.h"
#include "tests/emulator/test/fake_methods.h"
#include "tests/emulator/test/portal_harness.h"
#include "tests/support/temp_file.h"

namespace b24emu::access_log_test {
namespace {

using nlohmann::json;

TEST(MaskedPath, HidesTheWebhookCodeWhereverThePortalReadsIt) {
  EXPECT_EQ(MaskedPath("/rest/1/c0de/crm.lead.list"), "/rest/1/***/crm.lead.list");
  EXPECT_EQ(MaskedPath("/rest/1/c0de/crm.lead.list.json"), "/rest/1/***/crm.lead.list.json");
  EXPECT_EQ(MaskedPath("//rest//12/c0de//batch/"), "//rest//12/***//batch/");
  EXPECT_EQ(MaskedPath("/rest/api/1/c0de/tasks.task.list"), "/rest/api/1/***/tasks.task.list");
  EXPECT_EQ(MaskedPath("/rest/1/c0de/"), "/rest/1/***/");
  EXPECT_EQ(MaskedPath("/upload/b24emu-crm/0123abcd"), "/upload/b24emu-crm/***");
  // Nothing secret in these.
  EXPECT_EQ(MaskedPath("/rest/crm.lead.list"), "/rest/crm.lead.list");
  EXPECT_EQ(MaskedPath("/oauth/token/"), "/oauth/token/");
  EXPECT_EQ(MaskedPath("/_emulator/stats"), "/_emulator/stats");
  EXPECT_EQ(MaskedPath(""), "");
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(AccessLog, ALinePerRequestAndNoSecret) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string path = ::b24gate::testing::TempDir() + "/access.log";
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status();
  PortalConfig config = TestConfig();  // webhook 1/secret
  config.webhooks = {{1, "hook-c0de-7"}};
  OAuthOptions oauth;
  oauth.client_id = "app";
  oauth.client_secret = "client-s3cret";
  oauth.initial_refresh_token = "refresh-t0ken";
  config.oauth = oauth;
  FakeMethods methods;
  Portal portal(std::move(config), &methods, RealClock());
  ServerOptions options;
  options.access_log = log->get();
  std::string access_token;
  {
    EmulatorServer server(options, &portal);
    absl::StatusOr<int> port = server.Start();
    ASSERT_TRUE(port.ok()) << port.status();
    httplib::Client client("127.0.0.1", *port);
    client.set_read_timeout(10, 0);
    auto res = client.Get("/rest/1/hook-c0de-7/crm.lead.get.json?id=7");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    res = client.Post("/oauth/token/",
                      "grant_type=refresh_token&client_id=app&client_secret=client-s3cret&refresh_token=refresh-t0ken",
                      "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    access_token = json::parse(res->body)["access_token"];
    res = client.Get("/rest/crm.lead.get?id=1&auth=" + access_token);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    res = client.Post("/rest/crm.lead.get", "id=1&auth=" + access_token, "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    res = client.Get("/rest/1/wrong-c0de/crm.lead.get?id=1");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    server.Stop();
  }
  const std::string text = Read(path);
  // One line a request, masked.
  EXPECT_TRUE(absl::StrContains(text, " GET /rest/1/***/crm.lead.get.json 200 ")) << text;
  EXPECT_TRUE(absl::StrContains(text, " POST /oauth/token/ 200 ")) << text;
  EXPECT_TRUE(absl::StrContains(text, " GET /rest/crm.lead.get 200 ")) << text;
  EXPECT_TRUE(absl::StrContains(text, " POST /rest/crm.lead.get 200 ")) << text;
  EXPECT_TRUE(absl::StrContains(text, " GET /rest/1/***/crm.lead.get 401 ")) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5) << text;
  for (const std::string& secret :
       {std::string("hook-c0de-7"), std::string("wrong-c0de"), std::string("client-s3cret"),
        std::string("refresh-t0ken"), access_token}) {
    EXPECT_FALSE(absl::StrContains(text, secret)) << "a secret in the access log";
  }
}

}  // namespace
}  // namespace b24emu::access_log_test
