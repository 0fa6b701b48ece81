// A real Prometheus (the Debian package) scrapes the gateway's /metrics every
// 0.5 s while the test drives traffic: successful calls, a cached read, a
// GetAll stream, an unknown method (ERROR_METHOD_NOT_FOUND) and a forced 429
// (OPERATION_TIME_LIMIT: the emulator's operating-time limit is cut to
// 0.1 s per method, which about ten ~10 ms calls of one method spend).
// The test then asks Prometheus's HTTP API for the series and checks their
// values against what it did and what the emulator counted, and runs every
// query of the Grafana dashboard (deploy/grafana/b24gate.json) against the
// same Prometheus: each must answer with series of the shape its panel draws.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/free_port.h"

extern char** environ;

namespace b24gate::e2e::prometheus_test {
namespace {

using ::b24gate::testing::FreePort;

// A Prometheus server in a temporary directory, stopped when destroyed.
class Prometheus {
 public:
  static std::unique_ptr<Prometheus> Start(const std::string& target) {
    auto p = std::unique_ptr<Prometheus>(new Prometheus);
    char dir[] = "/tmp/b24gate-prometheus-XXXXXX";
    if (!mkdtemp(dir)) return nullptr;
    p->dir_ = dir;
    p->port_ = FreePort();
    std::ofstream(p->dir_ + "/prometheus.yml")
        << "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n"
        << "scrape_configs:\n  - job_name: b24gate\n    static_configs:\n"
        << "      - targets: ['" << target << "']\n";
    std::vector<std::string> args = {"prometheus",
                                     "--config.file=" + p->dir_ + "/prometheus.yml",
                                     "--storage.tsdb.path=" + p->dir_ + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(p->port_),
                                     "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = p->dir_ + "/prometheus.log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawnp(&p->pid_, "prometheus", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return nullptr;
    // Ready when /-/ready answers 200.
    for (int i = 0; i < 300; ++i) {
      auto res = p->Client().Get("/-/ready");
      if (res && res->status == 200) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }

  ~Prometheus() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  // The API's whole answer to GET `path` (status "success" or "error"), or
  // null when there is none.
  json Api(const std::string& path) {
    auto res = Client().Get(path.c_str());
    if (!res) return nullptr;
    json j = json::parse(res->body, nullptr, false);
    return j.is_discarded() ? json(nullptr) : j;
  }

  // The answer to an instant query (see Api).
  json Instant(const std::string& promql) {
    return Api("/api/v1/query?query=" + httplib::detail::encode_query_param(promql));
  }

  // The value of an instant query that returns one sample, or nullopt.
  std::optional<double> Query(const std::string& promql) {
    json j = Instant(promql);
    if (!j.is_object() || j["status"] != "success") return std::nullopt;
    const json& result = j["data"]["result"];
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  // Polls until `promql` has the value `want` (Prometheus sees a scrape
  // some time after the traffic), up to 30 s; returns the last value.
  std::optional<double> WaitFor(const std::string& promql, double want) {
    std::optional<double> v;
    for (int i = 0; i < 300; ++i) {
      v = Query(promql);
      if (v && *v == want) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return v;
  }

 private:
  Prometheus() = default;
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c;
  }
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

// Metric names `promql` reads: its b24gate_* identifiers (labels and
// functions never start so).
std::set<std::string> MetricsIn(const std::string& promql) {
  static const std::regex kName("b24gate_[A-Za-z0-9_]+");
  std::set<std::string> names;
  for (std::sregex_iterator it(promql.begin(), promql.end(), kName), end; it != end; ++it) {
    names.insert(it->str());
  }
  return names;
}

// Label names a legend draws ("{{portal}} {{method}}": portal, method).
std::vector<std::string> LegendLabels(const std::string& legend) {
  static const std::regex kLabel(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
  std::vector<std::string> labels;
  for (std::sregex_iterator it(legend.begin(), legend.end(), kLabel), end; it != end; ++it) {
    labels.push_back((*it)[1].str());
  }
  return labels;
}

// `text` with every `from` replaced by `to`.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// One panel query against the real Prometheus: it parses, reads only
// metrics the gateway exports, and answers with at least one series that is
// a number (not NaN: an empty rate or a mismatched division shows) and with
// every label its legend draws on each series.
void ExpectPanelAnswers(Prometheus& prometheus, const std::string& where, const std::string& promql,
                        const std::string& legend, const std::set<std::string>& exported) {
  EXPECT_EQ(promql.find('$'), std::string::npos) << where << ": a variable left unsubstituted: " << promql;
  for (const std::string& metric : MetricsIn(promql)) {
    EXPECT_TRUE(exported.count(metric)) << where << ": the gateway exports no " << metric;
  }
  json answer = prometheus.Instant(promql);
  ASSERT_TRUE(answer.is_object() && answer["status"] == "success") << where << ": " << promql << "\n"
                                                                   << answer.dump();
  const json& result = answer["data"]["result"];
  EXPECT_EQ(answer["data"]["resultType"], "vector") << where;
  EXPECT_FALSE(result.empty()) << where << ": no series for " << promql;
  bool a_number = false;
  for (const json& series : result) {
    a_number = a_number || series["value"][1] != "NaN";
    for (const std::string& label : LegendLabels(legend)) {
      EXPECT_TRUE(series["metric"].contains(label))
          << where << ": legend \"" << legend << "\" draws " << label << ", which " << series["metric"].dump()
          << " lacks";
    }
  }
  EXPECT_TRUE(result.empty() || a_number) << where << ": only NaN from " << promql << "\n" << result.dump();
}

// Every query of the Grafana dashboard, with its variables substituted as
// Grafana does for one portal: $portal is the first value the variable's
// own label_values() query finds; $__rate_interval (Grafana derives it from
// the scrape interval) is 1m, which spans the whole test at 0.5 s scrapes.
void ExpectDashboardAnswers(Prometheus& prometheus) {
  std::ifstream file(kDashboardJson);
  json dashboard = json::parse(file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << kDashboardJson << " is not JSON";
  json names = prometheus.Api("/api/v1/label/__name__/values");
  ASSERT_TRUE(names.is_object() && names["status"] == "success") << names.dump();
  std::set<std::string> exported(names["data"].begin(), names["data"].end());

  std::string portal;
  for (const json& variable : dashboard["templating"]["list"]) {
    if (variable["name"] != "portal") continue;
    std::smatch m;
    std::string definition = variable["definition"];
    ASSERT_TRUE(std::regex_match(definition, m, std::regex(R"(label_values\((\w+), *(\w+)\))"))) << definition;
    std::string by = absl::StrCat("group by (", m[2].str(), ") (", m[1].str(), ")");
    ExpectPanelAnswers(prometheus, "variable portal", by, absl::StrCat("{{", m[2].str(), "}}"), exported);
    json values = prometheus.Instant(by)["data"]["result"];
    if (!values.empty()) portal = values[0]["metric"][m[2].str()];
  }
  ASSERT_EQ(portal, "main") << "the portal variable finds no portal";

  for (const json& panel : dashboard["panels"]) {
    if (panel["type"] == "row") continue;
    std::string title = panel["title"];
    EXPECT_FALSE(panel.value("targets", json::array()).empty()) << "panel \"" << title << "\" has no query";
    for (const json& target : panel.value("targets", json::array())) {
      std::string promql = ReplaceAll(ReplaceAll(target["expr"], "$__rate_interval", "1m"), "$portal", portal);
      ExpectPanelAnswers(prometheus, absl::StrCat("panel \"", title, "\" ", target["refId"].get<std::string>()),
                         promql, target.value("legendFormat", ""), exported);
    }
  }
}

// One call of each kind the test made before: a batch, a cached read, an
// unknown method, a GetAll stream, and a call of the paused crm.deal.get
// that meets its deadline in the gateway.
void MoreTraffic(Stack& stack, const json& lead, const json& deal) {
  BatchOut batch = CallBatch(stack, {{"lead", "crm.lead.get", {{"id", lead}}},
                                     {"contacts", "crm.contact.list", {{"select", {"ID"}}}}});
  EXPECT_TRUE(batch.status.ok()) << batch.status.error_message();
  EXPECT_TRUE(Call1(stack, "crm.lead.list", {{"select", {"ID"}}}).status.ok());
  EXPECT_EQ(Call1(stack, "no.such.method", json::object()).status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(GetAll(stack, "crm.company.list", {{"select", {"ID"}}}).status.ok());
  pb::CallRequest request;
  request.set_method("crm.deal.get");
  *request.mutable_params() = V({{"id", deal}});
  pb::CallResponse response;
  EXPECT_EQ(stack.stub().Call(Ctx(0.5).get(), request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(Prometheus, ScrapesTheGatewaysSeries) {
  EmulatorSpec emulator;
  // 0.1 s of operating time per method and window (default 480 s).
  emulator.extra_args = {"--operating-limit", "0.1"};
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  // The read cache's series exist once a cacheable read went through it.
  gateway.settings = {{"cache", {{"rules", {{{"methods", "crm.lead.list"}, {"ttl_seconds", 300}}}}}}};
  auto started = Stack::Start(std::move(emulator), std::move(gateway));
  ASSERT_TRUE(started.ok()) << started.status();
  Stack& stack = **started;
  std::string metrics = MetricsAddress(stack.gateway());
  ASSERT_FALSE(metrics.empty()) << "no \"metrics on\" line";
  auto prometheus = Prometheus::Start(metrics);
  ASSERT_TRUE(prometheus) << "prometheus did not start (is the Debian package installed?)";
  ASSERT_EQ(prometheus->WaitFor("up{job=\"b24gate\"}", 1), 1.0);

  // Traffic: a batch of four methods, an unknown method, a list read.
  json lead = IdsOf(stack.Rest("crm.lead.list", {{"select", {"ID"}}})["result"]).at(0);
  json deal = IdsOf(stack.Rest("crm.deal.list", {{"select", {"ID"}}})["result"]).at(0);
  stack.ResetEmulator();
  BatchOut batch = CallBatch(stack, {{"lead", "crm.lead.get", {{"id", lead}}},
                                     {"deal", "crm.deal.get", {{"id", deal}}},
                                     {"contacts", "crm.contact.list", {{"select", {"ID"}}}},
                                     {"users", "user.get", json::object()}});
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  for (const auto& [key, result] : batch.by_key()) {
    EXPECT_FALSE(result.has_error()) << key << ": " << result.error().code();
  }
  for (int i = 0; i < 2; ++i) {  // a miss, then a hit
    CallOut read = Call1(stack, "crm.lead.list", {{"select", {"ID"}}});
    ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  }
  CallOut unknown = Call1(stack, "no.such.method", json::object());
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(unknown.status), "ERROR_METHOD_NOT_FOUND");
  GetAllOut companies = GetAll(stack, "crm.company.list", {{"select", {"ID"}}});
  ASSERT_TRUE(companies.status.ok()) << companies.status.error_code() << " " << companies.status.error_message();
  ASSERT_FALSE(companies.items.empty());
  // Spend crm.deal.get's budget until a call meets a 429, which the gateway
  // holds back and retries until the call's (short) deadline.
  grpc::Status limited;
  int deal_calls = 0;
  while (deal_calls < 40 && limited.ok()) {
    pb::CallRequest request;
    request.set_method("crm.deal.get");
    *request.mutable_params() = V({{"id", deal}});
    pb::CallResponse response;
    limited = stack.stub().Call(Ctx(1.5).get(), request, &response);
    ++deal_calls;
  }
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << limited.error_message();
  json stats = stack.EmulatorStats();
  ASSERT_GE(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 1) << stats.dump();
  GetAllOut& deals = companies;

  const std::string p = "portal=\"main\"";
  // Bitrix24 errors by code.
  EXPECT_EQ(prometheus->WaitFor("b24gate_bitrix_errors_total{" + p + ",code=\"ERROR_METHOD_NOT_FOUND\"}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_bitrix_errors_total{" + p + ",code=\"OPERATION_TIME_LIMIT\"}",
                                StatIn(stats, "errors", "OPERATION_TIME_LIMIT")),
            static_cast<double>(StatIn(stats, "errors", "OPERATION_TIME_LIMIT")));
  EXPECT_GE(prometheus->Query("b24gate_retries_total{" + p + ",reason=\"operating_limit\"}").value_or(0), 1);
  // Every HTTP request the emulator answered, counted once by outcome.
  double requests = static_cast<double>(StatInt(stats, "requests"));
  EXPECT_EQ(prometheus->WaitFor("sum(b24gate_http_requests_total{" + p + "})", requests), requests);
  EXPECT_EQ(prometheus->WaitFor("b24gate_http_requests_total{" + p + ",outcome=\"b24_error\"}",
                                1 + StatIn(stats, "errors", "OPERATION_TIME_LIMIT")),
            1.0 + StatIn(stats, "errors", "OPERATION_TIME_LIMIT"));
  // Commands by method; the batch carried four.
  EXPECT_EQ(prometheus->WaitFor("b24gate_commands_total{" + p + ",method=\"crm.lead.get\"}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_batch_commands_count{" + p + "}", requests), requests);
  EXPECT_GE(prometheus->Query("max(b24gate_batch_commands_sum{" + p + "})").value_or(0), 4 + requests - 1);
  EXPECT_EQ(prometheus->WaitFor("b24gate_upstream_latency_seconds_count{" + p + "}", requests), requests);
  // gRPC side.
  const std::string gs = "grpc_service=\"bitrix24.gateway.v1.GatewayService\"";
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_handled_total{" + gs + ",grpc_method=\"Call\",grpc_code=\"NOT_FOUND\"}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_handled_total{" + gs + ",grpc_method=\"Call\",grpc_code=\"DEADLINE_EXCEEDED\"}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_started_total{" + gs + ",grpc_method=\"Call\"}", 3 + deal_calls),
            3.0 + deal_calls);
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_handled_total{" + gs + ",grpc_method=\"CallBatch\",grpc_code=\"OK\"}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_handling_seconds_count{" + gs + ",grpc_method=\"GetAll\"}", 1), 1.0);
  double items = static_cast<double>(deals.items.size());
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_stream_items_total{grpc_method=\"GetAll\"}", items), items);
  EXPECT_EQ(prometheus->WaitFor("b24gate_grpc_open_streams{grpc_method=\"GetAll\"}", 0), 0.0);
  // Throttle state, sampled at scrape time.
  EXPECT_EQ(prometheus->WaitFor("b24gate_bucket_burst{" + p + "}", 50), 50.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_bucket_drain_per_second{" + p + "}", 2), 2.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_queued_commands{" + p + "}", 0), 0.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_inflight_requests{" + p + "}", 0), 0.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_autothrottle_rate_factor{" + p + "}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_operating_limit_seconds{" + p + "}", 480), 480.0);
  EXPECT_TRUE(prometheus->Query("b24gate_bucket_level{" + p + "}").has_value());
  EXPECT_TRUE(prometheus->Query("b24gate_operating_seconds{" + p + ",method=\"crm.deal.get\"}").has_value());
  // crm.deal.get waits for its operating-time window now.
  EXPECT_EQ(prometheus->WaitFor("b24gate_method_paused{" + p + ",method=\"crm.deal.get\"}", 1), 1.0);
  // The README's saturation query evaluates.
  EXPECT_TRUE(prometheus->Query("max by (portal) (b24gate_bucket_level / (b24gate_bucket_burst - b24gate_bucket_headroom))").has_value());
  EXPECT_EQ(prometheus->WaitFor("b24gate_cache_hits_total{" + p + "}", 1), 1.0);
  EXPECT_EQ(prometheus->WaitFor("b24gate_cache_misses_total{" + p + "}", 1), 1.0);

  // A series appears at its first event, and the traffic above may all fall
  // between two scrapes, so rate() may see no increase yet: the same kinds
  // of calls again, seen by a later scrape, make every rate and ratio of the
  // dashboard a number.
  MoreTraffic(stack, lead, deal);
  double more = static_cast<double>(Requests(stack));
  EXPECT_EQ(prometheus->WaitFor("sum(b24gate_http_requests_total{" + p + "})", more), more);
  ExpectDashboardAnswers(*prometheus);
}

}  // namespace
}  // namespace b24gate::e2e::prometheus_test
