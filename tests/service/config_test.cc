// LoadConfig: flags over environment over file, and start-up input that must
// fail with one clear line (and never quote a secret).
#include "service/config.h"

#include <cstdio>
#include <string>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/config_reading.h"
#include "tests/support/temp_file.h"

namespace b24gate::config_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::b24gate::testing::TempFile;

const char kHook[] = "https://p.example.com/rest/1/s3cretcode/";


absl::StatusOr<ServerConfig> Load(std::vector<std::string> args,
                                  std::map<std::string, std::string> env = {}) {
  return LoadConfig(args, env);
}

// The error's message, checked to be one line without the webhook code.
std::string ErrorOf(const absl::StatusOr<ServerConfig>& config) {
  EXPECT_FALSE(config.ok());
  if (config.ok()) return "";
  std::string message(config.status().message());
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_THAT(message, Not(HasSubstr("s3cretcode")));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return message;
}

TEST(Config, Defaults) {
  auto c = Load({"--portal", std::string("main=") + kHook});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:50051");
  EXPECT_FALSE(c->insecure_listen_any);
  EXPECT_FALSE(c->tls.enabled());
  EXPECT_EQ(c->metrics_listen, "");
  EXPECT_EQ(c->predrain_delay, absl::Seconds(5));
  EXPECT_EQ(c->shutdown_grace, absl::Seconds(20));
  EXPECT_EQ(c->log.format, LogFormat::kJson);
  EXPECT_EQ(c->log.level, LogLevel::kInfo);
  ASSERT_EQ(c->portals.size(), 1u);
  EXPECT_EQ(c->portals[0].name, "main");
  EXPECT_EQ(c->portals[0].webhook_url, kHook);
}

TEST(Config, FlagsBeatEnvironmentBeatFile) {
  std::string file = TempFile(R"({"listen": "127.0.0.1:1", "metrics_listen": "127.0.0.1:9464",
      "shutdown_grace_seconds": 7, "predrain_delay_seconds": 1, "log_level": "warn",
      "portals": [{"name": "main", "burst": 10, "drain_per_second": 1, "batch_size": 20}]})");
  auto c = Load({"--config", file, "--listen", "127.0.0.1:3", "--log-format", "text",
                 "--shutdown-grace", "250ms"},
                {{"B24GATE_LISTEN", "127.0.0.1:2"},
                 {"B24GATE_PORTALS", std::string("main=") + kHook + ",eu=https://eu.example.com/rest/1/x1/"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:3");
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(c->shutdown_grace, absl::Milliseconds(250));
  EXPECT_EQ(c->predrain_delay, absl::Seconds(1));
  EXPECT_EQ(c->log.format, LogFormat::kText);
  EXPECT_EQ(c->log.level, LogLevel::kWarn);
  ASSERT_EQ(c->portals.size(), 2u);
  // Settings from the file, webhook from the environment.
  EXPECT_EQ(c->portals[0].name, "main");
  EXPECT_EQ(c->portals[0].webhook_url, kHook);
  EXPECT_EQ(c->portals[0].bucket.burst, 10);
  EXPECT_EQ(c->portals[0].batch_size, 20);
  EXPECT_EQ(c->portals[1].name, "eu");
  std::remove(file.c_str());
}

TEST(Config, EnvironmentListenBeatsFile) {
  auto c = Load({"--portal", std::string("a=") + kHook}, {{"B24GATE_LISTEN", "127.0.0.1:2"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:2");
}

TEST(Config, ListenWithoutPortIsAnError) {
  std::string e = ErrorOf(Load({"--listen", "127.0.0.1", "--portal", std::string("a=") + kHook}));
  EXPECT_THAT(e, HasSubstr("has no port"));
  EXPECT_THAT(e, HasSubstr("127.0.0.1"));
}

TEST(Config, PortOutOfRangeIsAnError) {
  for (const char* listen : {":70000", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "h:"}) {
    std::string e = ErrorOf(Load({"--listen", listen, "--portal", std::string("a=") + kHook}));
    EXPECT_THAT(e, HasSubstr("0..65535")) << listen;
  }
  std::string e = ErrorOf(Load({"--metrics-listen", "0.0.0.0:99999", "--portal", std::string("a=") + kHook}));
  EXPECT_THAT(e, HasSubstr("metrics-listen"));
}

TEST(Config, ListenForms) {
  for (auto [given, bound] : std::vector<std::pair<std::string, std::string>>{
           {":50051", "0.0.0.0:50051"},
           {"[::1]:0", "[::1]:0"},
           {"localhost:65535", "localhost:65535"}}) {
    auto c = Load({"--listen", given, "--insecure-listen-any", "--portal", std::string("a=") + kHook});
    ASSERT_TRUE(c.ok()) << given << ": " << c.status();
    EXPECT_EQ(c->listen, bound);
  }
}

TEST(Config, BeyondLoopbackNeedsClientAuthenticationOrInsecureListenAny) {
  const std::string portal = std::string("a=") + kHook;
  for (const char* listen : {"0.0.0.0:1", ":1", "[::]:1", "10.0.0.1:1", "gateway.example.com:1"}) {
    std::string e = ErrorOf(Load({"--listen", listen, "--portal", portal}));
    EXPECT_THAT(e, HasSubstr("no client authentication is configured")) << listen;
    EXPECT_THAT(e, HasSubstr("--insecure-listen-any")) << listen;
  }
  for (const char* listen : {"127.0.0.1:1", "127.1.2.3:1", "[::1]:1", "localhost:1"}) {
    EXPECT_TRUE(Load({"--listen", listen, "--portal", portal}).ok()) << listen;
  }
  EXPECT_TRUE(Load({"--listen", "0.0.0.0:1", "--insecure-listen-any", "--portal", portal}).ok());
  std::string file = TempFile(R"({"listen": "0.0.0.0:1", "insecure_listen_any": true})");
  EXPECT_TRUE(Load({"--config", file, "--portal", portal}).ok());
  std::remove(file.c_str());
  // Required client certificates authenticate callers; optional ones do not.
  auto mtls = Load({"--listen", "0.0.0.0:1", "--tls-cert", "c.pem", "--tls-key", "k.pem",
                    "--tls-client-ca", "ca.pem", "--portal", portal});
  EXPECT_TRUE(mtls.ok()) << mtls.status();
  file = TempFile(R"({"listen": "0.0.0.0:1", "tls": {"cert_file": "c.pem", "key_file": "k.pem",
                      "client_ca_file": "ca.pem", "require_client_cert": false}})");
  EXPECT_THAT(ErrorOf(Load({"--config", file, "--portal", portal})),
              HasSubstr("no client authentication"));
  std::remove(file.c_str());
}

TEST(Config, TlsFromFileAndFlags) {
  std::string file = TempFile(R"({"tls": {"cert_file": "/f/cert.pem", "key_file": "/f/key.pem",
                                          "client_ca_file": "/f/ca.pem", "require_client_cert": false,
                                          "reload_interval_seconds": 5}})");
  auto c = Load({"--config", file, "--tls-cert", "/flag/cert.pem", "--portal", std::string("a=") + kHook});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.cert_file, "/flag/cert.pem");
  EXPECT_EQ(c->tls.key_file, "/f/key.pem");
  EXPECT_EQ(c->tls.client_ca_file, "/f/ca.pem");
  EXPECT_FALSE(c->tls.require_client_cert);
  EXPECT_FALSE(c->tls.requires_client_cert());
  EXPECT_EQ(c->tls.reload_interval, absl::Seconds(5));
  std::remove(file.c_str());
}

TEST(Config, TlsMistakes) {
  const std::string portal = std::string("a=") + kHook;
  EXPECT_THAT(ErrorOf(Load({"--tls-key", "k.pem", "--portal", portal})),
              HasSubstr("both a certificate and its key"));
  EXPECT_THAT(ErrorOf(Load({"--tls-client-ca", "ca.pem", "--portal", portal})), HasSubstr("needs TLS"));
  for (const char* tls : {R"({"cert": "c.pem"})", R"({"cert_file": 5})", R"({"require_client_cert": "no"})",
                          R"({"reload_interval_seconds": 0})", R"([])"}) {
    std::string file = TempFile(std::string(R"({"tls": )") + tls + "}");
    EXPECT_THAT(ErrorOf(Load({"--config", file, "--portal", portal})), HasSubstr("config.tls")) << tls;
    std::remove(file.c_str());
  }
}

TEST(Config, SamePortalTwiceIsAnError) {
  std::string e = ErrorOf(Load({"--portal", std::string("a=") + kHook, "--portal",
                                "a=https://q.example.com/rest/1/othercode/"}));
  EXPECT_THAT(e, HasSubstr("\"a\" is given twice"));
  e = ErrorOf(Load({}, {{"B24GATE_PORTALS", std::string("a=") + kHook + ",a=" + kHook}}));
  EXPECT_THAT(e, HasSubstr("B24GATE_PORTALS"));
  std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook +
                              R"("}, {"name": "a", "webhook": ")" + kHook + R"("}]})");
  e = ErrorOf(Load({"--config", file}));
  EXPECT_THAT(e, HasSubstr("config: portals[1]: portal \"a\" is given twice"));
  std::remove(file.c_str());
}

TEST(Config, FlagPortalBeatsEnvironmentPortalOfTheSameName) {
  auto c = Load({"--portal", std::string("a=") + kHook},
                {{"B24GATE_PORTALS", "a=https://other.example.com/rest/1/zz9/"}});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->portals.size(), 1u);
  EXPECT_EQ(c->portals[0].webhook_url, kHook);
}

TEST(Config, UserInfoInAUrlIsRefusedWithoutPrintingIt) {
  std::string hook = "https://admin:hunter2pass@p.example.com/rest/1/s3cretcode/";
  for (auto load : {Load({"--portal", "a=" + hook}), Load({}, {{"B24GATE_PORTALS", "a=" + hook}})}) {
    std::string e = ErrorOf(load);
    EXPECT_THAT(e, HasSubstr("user:password@"));
    EXPECT_THAT(e, Not(HasSubstr("hunter2pass")));
    EXPECT_THAT(e, Not(HasSubstr("admin")));
  }
  std::string file = TempFile(R"({"portals": [{"name": "a", "webhook": ")" + hook + R"("}]})");
  std::string e = ErrorOf(Load({"--config", file}));
  EXPECT_THAT(e, Not(HasSubstr("hunter2pass")));
  std::remove(file.c_str());
}

TEST(Config, TruncatedJsonSaysWhereAndWhy) {
  std::string file = TempFile("{\n  \"portals\": [\n    {\"name\": \"a\", \"webhook\": \"https://p.example.com/rest/1/s3cretcode/\"");
  std::string e = ErrorOf(Load({"--config", file}));
  EXPECT_THAT(e, HasSubstr("not valid JSON"));
  EXPECT_THAT(e, HasSubstr("unexpected end of file"));
  EXPECT_THAT(e, HasSubstr("line 3"));
  std::remove(file.c_str());
  file = TempFile("{\"listen\": 127.0.0.1:5}");
  e = ErrorOf(Load({"--config", file}));
  EXPECT_THAT(e, HasSubstr("syntax error at line 1"));
  std::remove(file.c_str());
  file = TempFile("[1, 2]");
  EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr("must hold a JSON object"));
  std::remove(file.c_str());
}

TEST(Config, WrongTypesAreErrorsNotExceptions) {
  for (const char* text :
       {R"({"listen": 5})", R"({"shutdown_grace_seconds": "20"})", R"({"portals": {}})",
        R"({"portals": [{"name": 3}]})", R"({"portals": [{"webhook_file": 3}]})",
        R"({"portals": [{"ca_file": true}]})", R"({"portals": [{"burst": "50"}]})",
        R"({"portals": [{"oauth": {"client_id": 1}}]})", R"({"log_level": "loud"})"}) {
    std::string file = TempFile(text);
    absl::StatusOr<ServerConfig> c = Load({"--config", file});
    EXPECT_FALSE(c.ok()) << text;
    std::remove(file.c_str());
  }
}

TEST(Config, TuningValuesAreCheckedByTheSharedTable) {
  std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "batch_size": 60, "webhook": ")") +
                              kHook + R"("}]})");
  EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr("portals[0].batch_size: must be 1..50"));
  std::remove(file.c_str());
  file = TempFile(std::string(R"({"portals": [{"name": "a", "max_concurrency": 2.5, "webhook": ")") +
                  kHook + R"("}]})");
  EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr("max_concurrency: must be a whole number"));
  std::remove(file.c_str());
}

TEST(Config, UnknownFlagEchoesOnlyItsName) {
  std::string e = ErrorOf(Load({std::string("--portl=a=") + kHook}));
  EXPECT_THAT(e, HasSubstr("unknown flag \"--portl\""));
}

TEST(Config, DurationsAndLogFlags) {
  auto c = Load({"--portal", std::string("a=") + kHook, "--predrain-delay", "0", "--shutdown-grace=2.5",
                 "--log-level", "debug"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->predrain_delay, absl::ZeroDuration());
  EXPECT_EQ(c->shutdown_grace, absl::Milliseconds(2500));
  EXPECT_EQ(c->log.level, LogLevel::kDebug);
  ErrorOf(Load({"--portal", std::string("a=") + kHook, "--predrain-delay", "soon"}));
  ErrorOf(Load({"--portal", std::string("a=") + kHook, "--shutdown-grace", "-1s"}));
  ErrorOf(Load({"--portal", std::string("a=") + kHook, "--log-format", "xml"}));
}

TEST(Config, SecretsOfListsWebhookCodesAndOAuthSecrets) {
  std::string file = TempFile(R"({"portals": [{"name": "app", "oauth": {"client_id": "local.1",
      "client_secret": "appsecret42", "refresh_token": "refresh99", "portal_url": "https://p.example.com/rest/"}}]})");
  auto c = Load({"--config", file, "--portal", std::string("a=") + kHook});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(SecretsOf(*c), ::testing::UnorderedElementsAre("s3cretcode", "appsecret42", "refresh99"));
  std::remove(file.c_str());
}


const char kTokenHash[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(Config, ClientsAreReadWithTheirDefaults) {
  std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook +
                              R"("}], "clients": [
      {"name": "billing", "token_sha256": ")" + kTokenHash + R"(", "roles": ["read-only"]},
      {"name": "ops", "certificate_identity": "ops.internal", "roles": "admin", "portals": ["a"],
       "allow": ["crm.*"], "deny": ["crm.deal.delete"], "weight": 3}]})");
  auto c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->clients.size(), 2u);
  EXPECT_EQ(c->clients[0].name, "billing");
  EXPECT_TRUE(c->clients[0].has_role(kRoleReadOnly));
  EXPECT_FALSE(c->clients[0].has_role(kRoleAdmin));
  EXPECT_EQ(c->clients[0].portals, std::vector<std::string>{"*"});
  EXPECT_EQ(c->clients[0].allow, std::vector<std::string>{"*"});
  EXPECT_EQ(c->clients[0].weight, 1);
  EXPECT_TRUE(c->clients[1].has_role(kRoleAdmin));
  EXPECT_EQ(c->clients[1].deny, std::vector<std::string>{"crm.deal.delete"});
  EXPECT_EQ(c->clients[1].weight, 3);
}

TEST(Config, FairShareIsOnUnlessTheFileSaysOff) {
  std::string on = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook + R"("}]})");
  auto c = Load({"--config", on});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->fair_share);
  std::string off = TempFile(std::string(R"({"fair_share": false, "portals": [{"name": "a", "webhook": ")") +
                             kHook + R"("}]})");
  c = Load({"--config", off});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->fair_share);
  std::string bad = TempFile(std::string(R"({"fair_share": "no", "portals": [{"name": "a", "webhook": ")") +
                             kHook + R"("}]})");
  EXPECT_THAT(ErrorOf(Load({"--config", bad})), HasSubstr("config.fair_share"));
  for (const std::string& f : {on, off, bad}) std::remove(f.c_str());
}

TEST(Config, MaxFileSizeIsBytesFromAFlagOrTheFile) {
  const std::string portal = std::string("a=") + kHook;
  auto c = Load({"--portal", portal});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_file_size, 0);
  c = Load({"--portal", portal, "--max-file-size", "1073741824"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_file_size, int64_t{1} << 30);
  std::string file = TempFile(std::string(R"({"max_file_size_bytes": 5000, "portals": [{"name": "a", "webhook": ")") +
                              kHook + R"("}]})");
  c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_file_size, 5000);
  std::remove(file.c_str());
  for (const char* bad : {"-1", "1G", "1.5"}) {
    EXPECT_THAT(ErrorOf(Load({"--portal", portal, "--max-file-size", bad})), HasSubstr("--max-file-size"))
        << bad;
  }
}

TEST(Config, FileStallTimeoutIsADurationOfAtLeastASecond) {
  const std::string portal = std::string("a=") + kHook;
  auto c = Load({"--portal", portal});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->file_stall_timeout, absl::Seconds(60));
  c = Load({"--portal", portal, "--file-stall-timeout", "2s"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->file_stall_timeout, absl::Seconds(2));
  std::string file = TempFile(std::string(R"({"file_stall_timeout_seconds": 90, "portals": [{"name": "a", "webhook": ")") +
                              kHook + R"("}]})");
  c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->file_stall_timeout, absl::Seconds(90));
  std::remove(file.c_str());
  for (const char* bad : {"500ms", "0", "2h", "soon"}) {
    EXPECT_THAT(ErrorOf(Load({"--portal", portal, "--file-stall-timeout", bad})),
                HasSubstr("--file-stall-timeout"))
        << bad;
  }
}

// The keeping warm of recently used portals' connections: on by default
// for 5 minutes, 0 turns it off, and a value that is no duration from 0 to
// 1h is refused naming the setting.
TEST(Config, KeepWarmForIsADurationUpToAnHour) {
  const std::string portal = std::string("a=") + kHook;
  auto c = Load({"--portal", portal});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keep_warm_for, absl::Minutes(5));
  c = Load({"--portal", portal, "--keep-warm-for", "0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keep_warm_for, absl::ZeroDuration());
  c = Load({"--portal", portal, "--keep-warm-for", "90s"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keep_warm_for, absl::Seconds(90));
  std::string file = TempFile(std::string(R"({"keep_warm_for_seconds": 600, "portals": [{"name": "a", "webhook": ")") +
                              kHook + R"("}]})");
  c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keep_warm_for, absl::Minutes(10));
  std::remove(file.c_str());
  for (const char* bad : {"-1s", "2h", "soon", ""}) {
    EXPECT_THAT(ErrorOf(Load({"--portal", portal, "--keep-warm-for", bad})), HasSubstr("--keep-warm-for"))
        << bad;
  }
}

TEST(Config, ListReadAheadIsABudgetInBytes) {
  auto file_with = [](const std::string& value) {
    return TempFile(std::string(R"({"list_read_ahead_bytes": )") + value +
                    R"(, "portals": [{"name": "a", "webhook": ")" + kHook + R"("}]})");
  };
  std::string plain = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook + R"("}]})");
  auto c = Load({"--config", plain});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->gateway.list_read_ahead_bytes, 32 << 20);
  std::string set = file_with("1048576");
  c = Load({"--config", set});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->gateway.list_read_ahead_bytes, 1 << 20);
  std::vector<std::string> files = {plain, set};
  for (const char* bad : {"0", "1.5", "\"32M\""}) {
    files.push_back(file_with(bad));
    EXPECT_THAT(ErrorOf(Load({"--config", files.back()})), HasSubstr("config.list_read_ahead_bytes"))
        << bad;
  }
  for (const std::string& f : files) std::remove(f.c_str());
}

TEST(Config, BadClientsSayWhichAndWhy) {
  auto error_of = [](const std::string& clients) {
    std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook +
                                R"("}], "clients": )" + clients + "}");
    return ErrorOf(Load({"--config", file}));
  };
  EXPECT_THAT(error_of(R"([{"name": "x"}])"), HasSubstr("config.clients[0]: needs a credential"));
  EXPECT_THAT(error_of(R"([{"name": "x y", "certificate_identity": "c"}])"),
              HasSubstr("config.clients[0].name"));
  // A pasted token is refused without being echoed.
  std::string e = error_of(R"([{"name": "x", "token_sha256": "my-plain-token"}])");
  EXPECT_THAT(e, HasSubstr("config.clients[0].token_sha256: must be 64 hex digits"));
  EXPECT_THAT(e, Not(HasSubstr("my-plain-token")));
  EXPECT_THAT(error_of(std::string(R"([{"name": "x", "token_sha256": ")") + kTokenHash +
                       R"("}, {"name": "y", "token_sha256": ")" + kTokenHash + R"("}])"),
              HasSubstr("config.clients[1].token_sha256: the same token as client \"x\""));
  EXPECT_THAT(error_of(R"([{"name": "x", "certificate_identity": "c"}, {"name": "x", "certificate_identity": "d"}])"),
              HasSubstr("config.clients[1].name: \"x\" is used twice"));
  EXPECT_THAT(error_of(R"([{"name": "x", "certificate_identity": "c", "roles": ["root"]}])"),
              HasSubstr("config.clients[0].roles[0]: unknown role \"root\""));
  EXPECT_THAT(error_of(R"([{"name": "x", "certificate_identity": "c", "weight": 0}])"),
              HasSubstr("config.clients[0].weight"));
  EXPECT_THAT(error_of(R"([{"name": "x", "certificate_identity": "c", "alow": ["*"]}])"),
              HasSubstr("config.clients[0].alow: unknown setting"));
  EXPECT_THAT(error_of(R"({"name": "x"})"), HasSubstr("config.clients: must be a list"));
}

TEST(Config, CacheSectionIsReadOffWithoutIt) {
  auto none = Load({"--portal", std::string("a=") + kHook});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->cache.enabled());
  std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook +
                              R"("}], "cache": {"rules": [
      {"methods": "crm.*.list", "ttl_seconds": 300},
      {"methods": ["crm.deal.get", "user.get"], "ttl_seconds": 0.5}], "max_entries": 50}})");
  auto c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->cache.enabled());
  ASSERT_EQ(c->cache.rules.size(), 3u);
  EXPECT_EQ(c->cache.rules[0].pattern, "crm.*.list");
  EXPECT_EQ(c->cache.rules[0].ttl, absl::Seconds(300));
  EXPECT_EQ(c->cache.rules[2].pattern, "user.get");
  EXPECT_EQ(c->cache.rules[2].ttl, absl::Milliseconds(500));
  EXPECT_EQ(c->cache.max_entries, 50u);
  EXPECT_EQ(c->cache.max_bytes, size_t{64} << 20);
}

TEST(Config, BadCacheSectionsSayWhichAndWhy) {
  auto error_of = [](const std::string& cache) {
    std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook +
                                R"("}], "cache": )" + cache + "}");
    return ErrorOf(Load({"--config", file}));
  };
  EXPECT_THAT(error_of(R"({"rules": []})"), HasSubstr("config.cache.rules: must be a non-empty list"));
  EXPECT_THAT(error_of(R"({"rules": [{"methods": "crm.*.list"}]})"),
              HasSubstr("config.cache.rules[0].ttl_seconds: is required"));
  EXPECT_THAT(error_of(R"({"rules": [{"methods": "crm.*.list", "ttl_seconds": -1}]})"),
              HasSubstr("config.cache.rules[0].ttl_seconds"));
  EXPECT_THAT(error_of(R"({"rules": [{"ttl_seconds": 5}]})"),
              HasSubstr("config.cache.rules[0].methods: is required"));
  EXPECT_THAT(error_of(R"({"rules": [{"methods": ["crm.deal.get", "crm deal"], "ttl_seconds": 5}]})"),
              HasSubstr("config.cache.rules[0].methods[1]: may hold only"));
  EXPECT_THAT(error_of(R"({"rules": [{"methods": "x", "ttl_seconds": 5, "ttl": 1}]})"),
              HasSubstr("config.cache.rules[0].ttl: unknown setting"));
  EXPECT_THAT(error_of(R"({"rules": [{"methods": "x", "ttl_seconds": 5}], "max_entries": 0})"),
              HasSubstr("config.cache.max_entries: must be a whole number >= 1"));
  EXPECT_THAT(error_of(R"([1])"), HasSubstr("config.cache: must be an object"));
}

// The file's text with one portal "a" whose object ends in `portal_extra`.
std::string FileWith(const std::string& top_extra, const std::string& portal_extra = "") {
  return TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook + "\"" +
                  portal_extra + "}]" + top_extra + "}");
}

TEST(Config, OutOfRangeNumbersNameTheKey) {
  for (auto [top, portal, expected] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"", R"(, "request_timeout_seconds": 1e308)", "portals[0].request_timeout_seconds"},
           {"", R"(, "request_timeout_seconds": 0)", "portals[0].request_timeout_seconds"},
           {"", R"(, "max_attempts": 1e308)", "portals[0].max_attempts"},
           {"", R"(, "api_version": "v2")", "portals[0].api_version: must be \"classic\", \"v3\" or \"auto\""},
           {R"(, "shutdown_grace_seconds": 1e308)", "", "config.shutdown_grace_seconds"},
           {R"(, "predrain_delay_seconds": 1e308)", "", "config.predrain_delay_seconds"},
           {R"(, "predrain_delay_seconds": -1)", "", "config.predrain_delay_seconds"},
       }) {
    std::string file = FileWith(top, portal);
    EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr(expected));
    std::remove(file.c_str());
  }
  EXPECT_THAT(ErrorOf(Load({"--portal", std::string("a=") + kHook, "--shutdown-grace", "1e308"})),
              HasSubstr("--shutdown-grace: must be a duration from 0 to 1h"));
  EXPECT_THAT(ErrorOf(Load({"--portal", std::string("a=") + kHook, "--predrain-delay", "2h"})),
              HasSubstr("--predrain-delay"));
}

TEST(Config, AKeyTwiceInOneObjectIsAnErrorAnywhere) {
  for (auto [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"listen": "127.0.0.1:1", "listen": "127.0.0.1:2"})", "config.listen: given twice"},
           {R"({"portals": [{"name": "a"}, {"name": "b", "burst": 5, "name": "c"}]})",
            "config.portals[1].name: given twice"},
           {R"({"portals": [[], {"name": "b"}], "redis": {"url": "redis://x:1", "url": "redis://y:1"}})",
            "config.redis.url: given twice"},
           {R"({"cache": {"rules": [{"methods": "x", "ttl_seconds": 1, "methods": "y"}]}})",
            "config.cache.rules[0].methods: given twice"},
       }) {
    std::string file = TempFile(text);
    EXPECT_THAT(ErrorOf(Load({"--config", file, "--portal", std::string("z=") + kHook})),
                HasSubstr(expected));
    std::remove(file.c_str());
  }
  // The same key in two objects is fine.
  std::string file = TempFile(std::string(R"({"portals": [{"name": "a", "webhook": ")") + kHook +
                              R"("}, {"name": "b", "webhook": ")" + kHook + R"("}]})");
  EXPECT_TRUE(Load({"--config", file}).ok());
  std::remove(file.c_str());
}

TEST(Config, WebhookAndWebhookFileTogetherAreRefused) {
  std::string hook = TempFile(kHook);
  std::string file = FileWith("", R"(, "webhook_file": ")" + hook + "\"");
  EXPECT_THAT(ErrorOf(Load({"--config", file})),
              HasSubstr("config: portals[0]: give either webhook or webhook_file, not both"));
  std::remove(file.c_str());
  std::remove(hook.c_str());
}

// A Kubernetes Secret mounted as a file, its final newline not part of it.
TEST(Config, ApplicationTokenComesInlineOrFromAFileNotBoth) {
  std::string token = TempFile("tok-from-file-5e1\n");
  std::string file = FileWith("", R"(, "application_token_file": ")" + token + "\"");
  auto c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->portals[0].application_token, "tok-from-file-5e1");
  EXPECT_THAT(SecretsOf(*c), ::testing::Contains("tok-from-file-5e1"));
  std::remove(file.c_str());
  file = FileWith("", R"(, "application_token": "x", "application_token_file": ")" + token + "\"");
  EXPECT_THAT(ErrorOf(Load({"--config", file})),
              HasSubstr("portals[0]: give either application_token or application_token_file, not both"));
  std::remove(file.c_str());
  file = FileWith("", R"(, "application_token_file": "/nonexistent/token")");
  EXPECT_THAT(ErrorOf(Load({"--config", file})),
              HasSubstr("portals[0].application_token_file: cannot read \"/nonexistent/token\""));
  std::remove(file.c_str());
  std::remove(token.c_str());
}

TEST(Config, PortalNamesArePlainAndNotEchoed) {
  for (const std::string& name : {std::string("a b"), std::string("a/b"), std::string(".."),
                                  std::string("a\0b", 3), std::string(".hidden"), std::string(65, 'n'),
                                  std::string("")}) {
    std::string file = TempFile(std::string(R"({"portals": [{"name": )") +
                                ConfigJson(name).dump() + R"(, "webhook": ")" + kHook + R"("}]})");
    std::string e = ErrorOf(Load({"--config", file}));
    EXPECT_THAT(e, HasSubstr("config: portals[0]: a portal name is 1 to 64 letters")) << name;
    if (!name.empty()) EXPECT_THAT(e, Not(HasSubstr(name))) << name;
    std::remove(file.c_str());
    if (name.empty()) continue;  // "=URL" is a malformed spec, below
    EXPECT_THAT(ErrorOf(Load({"--portal", name + "=" + kHook})), HasSubstr("--portal: a portal name is"))
        << name;
  }
  EXPECT_TRUE(Load({"--portal", std::string("Main_2.eu-1=") + kHook}).ok());
}

TEST(Config, UrlsWithSpacesAreRefusedWithoutPrintingThem) {
  EXPECT_THAT(ErrorOf(Load({"--portal", "a=https://p.example.com/rest/1/s3cretcode /"})),
              HasSubstr("must not contain spaces"));
  std::string file = TempFile(R"({"portals": [{"name": "a",
      "webhook": "https://p.example.com/rest/1/s3cret\tcode/"}]})");
  EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr("portals[0].webhook: the URL must not"));
  std::remove(file.c_str());
  // Surrounding white space (a file's newline) is not part of the URL.
  auto c = Load({"--portal", std::string("a= ") + kHook + "\n"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->portals[0].webhook_url, kHook);
}

TEST(Config, MissingFilesAndDirectoriesSaySo) {
  std::string file = FileWith("", R"(, "ca_file": "/nonexistent/ca.pem")");
  EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr("portal \"a\": ca_file: cannot read"));
  std::remove(file.c_str());
  EXPECT_THAT(ErrorOf(Load({"--portal", std::string("a=") + kHook, "--ca-file", "/nonexistent/ca.pem"})),
              HasSubstr("ca_file: cannot read \"/nonexistent/ca.pem\""));
  EXPECT_THAT(ErrorOf(Load({"--portal", std::string("a=") + kHook, "--ca-file", "/tmp"})),
              HasSubstr("is a directory"));
  file = TempFile(R"({"portals": [{"name": "a", "webhook_file": "/tmp"}]})");
  EXPECT_THAT(ErrorOf(Load({"--config", file})),
              HasSubstr("portals[0].webhook_file: \"/tmp\" is a directory, not a file"));
  std::remove(file.c_str());
  EXPECT_THAT(ErrorOf(Load({"--config", "/tmp"})), HasSubstr("--config: \"/tmp\" is a directory"));
}

TEST(Config, MetricsNeedAPortOfTheirOwn) {
  const std::string portal = std::string("a=") + kHook;
  for (auto [listen, metrics] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:7000", "127.0.0.1:7000"},
           {"127.0.0.1:7000", "0.0.0.0:7000"},
           {"0.0.0.0:7000", "127.0.0.1:7000"}}) {
    EXPECT_THAT(ErrorOf(Load({"--listen", listen, "--metrics-listen", metrics, "--portal", portal,
                              "--insecure-listen-any"})),
                HasSubstr("the same port as listen")) << listen << " " << metrics;
  }
  EXPECT_TRUE(Load({"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--portal", portal}).ok());
  EXPECT_TRUE(Load({"--listen", "127.0.0.1:7000", "--metrics-listen", "127.0.0.2:7000", "--portal", portal})
                  .ok());
}

TEST(Config, EventBindingsAreReadPerPortal) {
  std::string file = FileWith(R"(, "events_listen": "127.0.0.1:0")",
                              R"(, "event_bindings": {"offline": ["ONCRMDEALADD", "onCrmDealUpdate", "ONCRMDEALADD"],
      "online": "ONCRMLEADADD", "auth_connector": "crm-sync-writes"})");
  absl::StatusOr<ServerConfig> c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  const PortalOptions::EventBindings& b = c->portals[0].event_bindings;
  ASSERT_TRUE(b.offline);
  EXPECT_EQ(*b.offline, (std::vector<std::string>{"ONCRMDEALADD", "ONCRMDEALUPDATE"})) << "upper case, once";
  ASSERT_TRUE(b.online);
  EXPECT_EQ(*b.online, (std::vector<std::string>{"ONCRMLEADADD"}));
  EXPECT_EQ(b.auth_connector, "crm-sync-writes");
  std::remove(file.c_str());

  file = FileWith("", R"(, "event_bindings": {"offline": []})");
  c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->portals[0].event_bindings.offline) << "an empty list is managed: unbind every offline binding";
  EXPECT_TRUE(c->portals[0].event_bindings.offline->empty());
  EXPECT_FALSE(c->portals[0].event_bindings.online) << "a list not given is left alone";
  std::remove(file.c_str());

  file = FileWith("");
  c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->portals[0].event_bindings.offline);
  EXPECT_FALSE(c->portals[0].event_bindings.online);
  std::remove(file.c_str());
}

TEST(Config, BadEventBindingsNameWhere) {
  for (auto [top, portal, expected] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"", R"(, "event_bindings": ["ONCRMDEALADD"])", "portals[0].event_bindings: must be an object"},
           {"", R"(, "event_bindings": {"offline": ["ONCRMDEALADD", "ON CRM"]})",
            "portals[0].event_bindings.offline[1]: an event name is 1 to 64 of A-Z a-z 0-9 _"},
           {"", R"(, "event_bindings": {"offline": ["ONCRMDEAL*"]})", "portals[0].event_bindings.offline[0]"},
           {"", R"(, "event_bindings": {"offline": [7]})", "portals[0].event_bindings.offline"},
           {"", R"(, "event_bindings": {"offline": ["OnOfflineEvent"]})",
            "portals[0].event_bindings.offline[0]: ONOFFLINEEVENT is bound by the offline streams"},
           {R"(, "events_listen": "127.0.0.1:0")", R"(, "event_bindings": {"online": [""]})",
            "portals[0].event_bindings.online[0]: an event name"},
           {"", R"(, "event_bindings": {"auth_connector": "a b"})", "portals[0].event_bindings.auth_connector"},
           {"", R"(, "event_bindings": {"offlne": []})", "portals[0].event_bindings"},
           {"", R"(, "event_bindings": {"online": ["ONCRMLEADADD"]})",
            "portal \"a\": event_bindings.online: online bindings need the inbound endpoint (--events-listen)"},
       }) {
    std::string file = FileWith(top, portal);
    EXPECT_THAT(ErrorOf(Load({"--config", file})), HasSubstr(expected)) << portal;
    std::remove(file.c_str());
  }
}

}  // namespace
}  // namespace b24gate::config_test
