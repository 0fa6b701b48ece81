// Runs the built b24-emulator binary (with the real data layer) and checks
// the start-up contract and a few calls end to end.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

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
    args.insert(args.begin(), B24EMU_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, B24EMU_BINARY, &actions, nullptr, argv.data(), environ), 0);
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
