// Log lines: one JSON object (or text line) per event, with secrets masked.
#include "service/logging/logger.h"

#include <sstream>
#include <streambuf>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/logging/log_observer.h"
#include "service/logging/redact.h"

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
