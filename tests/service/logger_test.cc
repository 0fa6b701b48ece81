// Log lines: one JSON object (or text line) per event, with secrets masked.
#include "service/logging/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "service/logging/log_observer.h"
#include "service/logging/log_sink.h"
#include "service/logging/redact.h"
#include "tests/support/wait_for.h"

namespace b24gate::logger_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Logger, JsonLineHasTimeLevelMessageAndFields) {
  std::stringstream out;
  Logger logger({LogFormat::kJson, LogLevel::kInfo}, &out);
  logger.Log(LogLevel::kInfo, "rpc", {{"portal", "main"}, {"duration_ms", 1.5}, {"none", nullptr}});
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["message"], "rpc");
  EXPECT_EQ(j["portal"], "main");
  EXPECT_EQ(j["duration_ms"], 1.5);
  EXPECT_FALSE(j.contains("none"));
  EXPECT_THAT(j["time"].get<std::string>(), ::testing::MatchesRegex("....-..-..T..:..:..\\....Z"));
}

// Unbuffered, as std::cerr: counts the writes that reach it, each of which
// std::cerr hands to the operating system.
class CountingBuf : public std::streambuf {
 public:
  std::string text;
  int writes = 0;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    ++writes;
    text.append(s, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    ++writes;
    if (c != traits_type::eof()) text.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
};

TEST(Logger, ALineIsOneWrite) {
  // stderr is unbuffered: a line in two writes is two system calls per
  // logged RPC.
  CountingBuf buf;
  std::ostream out(&buf);
  Logger logger({LogFormat::kJson, LogLevel::kInfo}, &out);
  logger.Log(LogLevel::kInfo, "rpc", {{"portal", "main"}});
  EXPECT_EQ(buf.writes, 1);
  EXPECT_EQ(Lines(buf.text).size(), 1u);
  EXPECT_EQ(buf.text.back(), '\n');
}

TEST(Logger, LevelFilters) {
  std::stringstream out;
  Logger logger({LogFormat::kText, LogLevel::kWarn}, &out);
  logger.Log(LogLevel::kInfo, "quiet");
  logger.Log(LogLevel::kError, "loud thing", {{"portal", "a b"}});
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr(" ERROR loud thing portal=\"a b\""));
}

TEST(Logger, ATextValueCannotForgeAnotherField) {
  std::stringstream out;
  Logger logger({LogFormat::kText, LogLevel::kInfo}, &out);
  logger.Log(LogLevel::kInfo, "rpc",
             {{"method", "x\" level=error"}, {"path", "C:\\dir"}, {"empty", ""}, {"word", "crm.lead.add"}});
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr(" rpc method=\"x\\\" level=error\" path=\"C:\\\\dir\" empty=\"\" "
                                  "word=crm.lead.add"))
      << lines[0];
}

TEST(Logger, RegisteredSecretsAndWebhookCodesAreMasked) {
  std::stringstream out;
  Logger logger({LogFormat::kJson, LogLevel::kDebug}, &out);
  logger.AddSecret("zq8clientsecret");
  logger.Log(LogLevel::kWarn, "failure",
             {{"error", "POST https://p.example.com/rest/7/abcdefcode/crm.lead.add?auth=tok123&x=1 "
                        "secret zq8clientsecret, {\"refresh_token\": \"rt999\"}"}});
  std::string line = out.str();
  for (const char* secret : {"abcdefcode", "tok123", "zq8clientsecret", "rt999"}) {
    EXPECT_THAT(line, Not(HasSubstr(secret))) << line;
  }
  EXPECT_THAT(line, HasSubstr("/rest/7/***/crm.lead.add"));
  EXPECT_NO_THROW(nlohmann::json::parse(line));
}

// A sink whose first line waits in Write until released, as a write(2) to a
// full pipe does.
class BlockingSink : public LogSink {
 public:
  void Write(absl::string_view line) override {
    absl::MutexLock lock(&mu_);
    lines_.emplace_back(line);
    if (lines_.size() == 1) mu_.Await(absl::Condition(&released_));
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  size_t lines() {
    absl::MutexLock lock(&mu_);
    return lines_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

TEST(Logger, AWriteThatWaitsHoldsUpNoOtherThread) {
  BlockingSink sink;
  Logger logger({LogFormat::kJson, LogLevel::kInfo}, &sink);
  std::thread stuck([&] { logger.Log(LogLevel::kInfo, "first"); });
  ASSERT_TRUE(::b24gate::testing::WaitFor([&] { return sink.lines() == 1; }));
  // While the first line's write waits, another thread logs and registers
  // a secret: neither waits for it (with the logger's lock held over the
  // write, both would until the first write ends).
  absl::Notification other_done;
  std::thread other([&] {
    logger.AddSecret("late-secret");
    logger.Log(LogLevel::kInfo, "second");
    other_done.Notify();
  });
  EXPECT_TRUE(::b24gate::testing::WaitFor([&] { return other_done.HasBeenNotified(); }))
      << "a line waited for another thread's write";
  EXPECT_EQ(sink.lines(), 2u);
  sink.Release();
  stuck.join();
  other.join();
}

TEST(Logger, ALongLineIsCutToOnePipeWriteWithItsSecretsMaskedFirst) {
  std::stringstream out;
  Logger logger({LogFormat::kJson, LogLevel::kInfo}, &out);
  logger.AddSecret("zq8clientsecret");
  // Secrets all along the value, so wherever it is cut one is cut in two.
  std::string error;
  for (int i = 0; i < 800; ++i) {
    absl::StrAppend(&error, "x", i, " zq8clientsecret https://p.example/rest/7/abcdefcode/m?auth=tok123 ");
  }
  logger.Log(LogLevel::kWarn, "failure", {{"portal", "main"}, {"error", error}, {"attempt", 3}});
  const std::string text = out.str();
  ASSERT_FALSE(text.empty());
  EXPECT_LE(text.size(), kMaxLogLineBytes);
  auto lines = Lines(text);
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["portal"], "main");
  EXPECT_EQ(j["attempt"], 3);
  EXPECT_EQ(j["message"], "failure");
  // No piece of a secret either, where the cut went through one.
  for (const char* piece : {"zq8c", "abcdef", "tok1"}) {
    EXPECT_THAT(text, Not(HasSubstr(piece))) << text;
  }
}

TEST(Logger, ManyFieldsStillMakeOneLineWithinAPipeWrite) {
  std::stringstream out;
  Logger logger({LogFormat::kText, LogLevel::kInfo}, &out);
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (int i = 0; i < 400; ++i) fields[absl::StrCat("field", i)] = "value";
  logger.Log(LogLevel::kInfo, std::string(10000, 'm'), fields);
  EXPECT_LE(out.str().size(), kMaxLogLineBytes);
  EXPECT_EQ(Lines(out.str()).size(), 1u);
  EXPECT_THAT(out.str(), HasSubstr("truncated=true"));
}

// Threads logging at once through one pipe: every line arrives whole.
TEST(FdLogSink, LinesFromManyThreadsArriveWholeThroughAPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string received;
  std::thread reader([&] {
    char buffer[8192];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) received.append(buffer, n);
  });
  {
    FdLogSink sink(fds[1]);
    Logger logger({LogFormat::kJson, LogLevel::kInfo}, &sink);
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&logger, t] {
        for (int i = 0; i < 200; ++i) {
          // Lines of about 3 KB: a few fill the pipe, so writers wait.
          logger.Log(LogLevel::kInfo, "line", {{"thread", t}, {"i", i}, {"pad", std::string(3000, 'p')}});
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
  }
  close(fds[1]);
  reader.join();
  close(fds[0]);
  auto lines = Lines(received);
  ASSERT_EQ(lines.size(), 800u);
  std::vector<int> next(4, 0);
  for (const std::string& line : lines) {
    auto j = nlohmann::json::parse(line);  // throws on a line cut into by another
    const int t = j["thread"];
    EXPECT_EQ(j["i"], next[t]++) << "a thread's lines out of order";
  }
}

TEST(Redact, UserInfoAndTokens) {
  EXPECT_EQ(RedactSecrets("https://u:pw@host/rest/1/code/"), "https://***@host/rest/1/***/");
  EXPECT_EQ(RedactSecrets("x?auth=abc&y=2"), "x?auth=***&y=2");
  EXPECT_EQ(RedactSecrets("client_secret=s1 access_token: a2"), "client_secret=*** access_token: ***");
  EXPECT_EQ(RedactSecrets("/rest/crm.lead.list"), "/rest/crm.lead.list");
  EXPECT_EQ(RedactSecrets("nothing here"), "nothing here");
}

TEST(LogObserver, OneLinePerEventWorthATrace) {
  std::stringstream out;
  Logger logger({LogFormat::kJson, LogLevel::kInfo}, &out);
  LogObserver observer(&logger);
  observer.OnRequestDone("p", HttpOutcome::kOk, absl::Milliseconds(3));  // debug: not shown
  observer.OnRequestDone("p", HttpOutcome::kOutcomeUnknown, absl::Milliseconds(3));
  observer.OnRetry("p", "crm.lead.get", RetryReason::kRateLimited, absl::Milliseconds(10));
  observer.OnAutothrottle("p", 0.5, 4);
  observer.OnTokenRefresh("p", true);
  observer.OnOutcomeUnknown("p", "crm.lead.add", "reset");
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 5u) << out.str();
  auto retry = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(retry["message"], "retry");
  EXPECT_EQ(retry["method"], "crm.lead.get");
  EXPECT_EQ(retry["portal"], "p");
  auto unknown = nlohmann::json::parse(lines[4]);
  EXPECT_EQ(unknown["level"], "error");
  EXPECT_EQ(unknown["outcome"], "outcome_unknown");
}

}  // namespace
}  // namespace b24gate::logger_test
