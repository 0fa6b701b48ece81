// Runs the built b24-emulator binary (with the real data layer) and checks
// the start-up contract and a few calls end to end.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/synchronization/mutex.h"
#include "tests/emulator/test/emulator_binary.h"

extern char** environ;

namespace b24emu::binary_test {
namespace {

using nlohmann::json;

class BinaryTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    args.insert(args.begin(), kEmulatorBinary);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, kEmulatorBinary, &actions, nullptr, argv.data(), environ), 0);
    close(fds[1]);
    out_ = fds[0];
  }
  std::string ReadLine() {
    std::string line;
    char c;
    while (read(out_, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status)) << "emulator did not exit cleanly on SIGTERM";
    }
    if (out_ >= 0) close(out_);
  }
  pid_t pid_ = 0;
  int out_ = -1;
};

TEST_F(BinaryTest, StartupLinesAndRealCalls) {
  Start({"--listen", "127.0.0.1:0", "--webhook", "1/t", "--seed", "crm.lead=300", "--oauth",
         "app:sec", "--oauth-refresh-token", "r0", "--no-limits", "--cost-zero"});
  const std::string first = ReadLine();
  ASSERT_EQ(first.rfind("listening on 127.0.0.1:", 0), 0u) << first;
  EXPECT_EQ(ReadLine(), "oauth refresh_token r0");
  const int port = std::stoi(first.substr(first.rfind(':') + 1));
  httplib::Client client("127.0.0.1", port);

  auto res = client.Get("/rest/1/t/crm.lead.list.json?order[ID]=ASC&select[]=ID");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json page = json::parse(res->body);
  EXPECT_EQ(page["result"].size(), 50u);
  EXPECT_EQ(page["total"], 300);
  EXPECT_EQ(page["next"], 50);

  // The SDKs' keyset chain inside one batch.
  const json batch = {
      {"halt", 0},
      {"cmd",
       {{"p0", "crm.lead.list?order[ID]=ASC&select[]=ID&start=-1"},
        {"p1", "crm.lead.list?order[ID]=ASC&select[]=ID&filter[>ID]=$result[p0][49][ID]&start=-1"}}}};
  res = client.Post("/rest/1/t/batch", batch.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json r = json::parse(res->body)["result"];
  const long last_p0 = std::stol(r["result"]["p0"][49]["ID"].get<std::string>());
  const long first_p1 = std::stol(r["result"]["p1"][0]["ID"].get<std::string>());
  EXPECT_GT(first_p1, last_p0);

  res = client.Get("/rest/1/t/crm.lead.get?id=999999999");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);

  res = client.Get("/oauth/token/?grant_type=refresh_token&client_id=app&client_secret=sec&refresh_token=r0");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  res = client.Get("/_emulator/stats");
  ASSERT_TRUE(res);
  const json stats = json::parse(res->body);
  EXPECT_EQ(stats["requests"], 3);
  EXPECT_EQ(stats["commands"], 4);
}

// --portals with --app-url: each portal's ONAPPINSTALL reaches the
// application even when it starts serving after the emulator; removing a
// portal posts its ONAPPUNINSTALL.
TEST_F(BinaryTest, PortalsCreatedAtStartInstallTheApplicationThatStartsLater) {
  absl::Mutex mu;
  std::vector<std::string> posts;
  httplib::Server app;
  app.Post("/app", [&](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    posts.push_back(req.body);
    res.set_content("OK", "text/plain");
  });
  const int app_port = app.bind_to_any_port("127.0.0.1");
  ASSERT_GT(app_port, 0);
  Start({"--listen", "127.0.0.1:0", "--oauth", "app:sec", "--portals", "3", "--app-url",
         "http://127.0.0.1:" + std::to_string(app_port) + "/app"});
  const std::string first = ReadLine();
  ASSERT_EQ(first.rfind("listening on 127.0.0.1:", 0), 0u) << first;
  httplib::Client client("127.0.0.1", std::stoi(first.substr(first.rfind(':') + 1)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::thread serving([&app] { app.listen_after_bind(); });
  {
    absl::MutexLock lock(&mu);
    auto three = [&posts]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return posts.size() >= 3; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&three), absl::Seconds(20)));
  }

  auto listed = client.Get("/_emulator/portals");
  ASSERT_TRUE(listed);
  const json portals = json::parse(listed->body)["portals"];
  ASSERT_EQ(portals.size(), 3u);
  {
    absl::MutexLock lock(&mu);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(posts[i].rfind("event=ONAPPINSTALL&", 0), 0u) << posts[i];
      const std::string member = portals[i]["member_id"];
      EXPECT_NE(posts[i].find("auth%5Bmember_id%5D=" + member), std::string::npos) << posts[i];
      EXPECT_NE(posts[i].find("auth%5Brefresh_token%5D="), std::string::npos) << posts[i];
    }
  }
  auto removed = client.Delete("/_emulator/portals/portal-2");
  ASSERT_TRUE(removed);
  EXPECT_EQ(json::parse(removed->body)["uninstall_status"], 200);
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(posts.size(), 4u);
    EXPECT_EQ(posts[3].rfind("event=ONAPPUNINSTALL&", 0), 0u) << posts[3];
    EXPECT_NE(posts[3].find(portals[1]["member_id"].get<std::string>()), std::string::npos);
  }
  app.stop();
  serving.join();
}

TEST_F(BinaryTest, HelpAndBadFlags) {
  Start({"--help"});
  EXPECT_EQ(ReadLine().rfind("Usage: b24-emulator", 0), 0u);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = 0;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(out_);
  Start({"--plan", "gold"});
  waitpid(pid_, &status, 0);
  pid_ = 0;
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace b24emu::binary_test
