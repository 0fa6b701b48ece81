// Prometheus series read through Collect(), no HTTP: the portal observer's
// counters and histograms, the label cap, the scrape-time gauges generated
// from the stat and tuning lists, the events ledger's series, and the gRPC
// series.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "absl/synchronization/notification.h"
#include "engine/common/clock.h"
#include "engine/common/errors.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/tuning_fields.h"
#include "engine/events/event_ledger.h"
#include "service/metrics/event_metrics.h"
#include "service/metrics/file_metrics.h"
#include "service/metrics/grpc_metrics.h"
#include "service/metrics/portal_gauges.h"
#include "service/metrics/portal_metrics.h"
#include "tests/engine/fake_transport.h"

namespace b24gate::metrics_test {
namespace {

using prometheus::MetricFamily;

// name{label=value,...} -> value (counter, gauge, or a histogram's count),
// labels sorted by name. Reading a missing key adds a 0 entry (std::map).
std::map<std::string, double> Flatten(const std::vector<MetricFamily>& families) {
  std::map<std::string, double> out;
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      std::string key = f.name + "{";
      auto labels = m.label;
      std::sort(labels.begin(), labels.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      for (const auto& l : labels) key += l.name + "=" + l.value + ",";
      key += "}";
      switch (f.type) {
        case prometheus::MetricType::Counter:
          out[key] = m.counter.value;
          break;
        case prometheus::MetricType::Gauge:
          out[key] = m.gauge.value;
          break;
        case prometheus::MetricType::Histogram:
          out[key] = static_cast<double>(m.histogram.sample_count);
          out[f.name + "_sum" + key.substr(f.name.size())] = m.histogram.sample_sum;
          break;
        default:
          break;
      }
    }
  }
  return out;
}

TEST(PortalMetrics, EventsBecomeLabelledSeries) {
  prometheus::Registry registry;
  PortalMetrics metrics(registry);
  metrics.OnRequestSent("main", 3);
  metrics.OnCommandSent("main", "crm.lead.get");
  metrics.OnCommandSent("main", "crm.lead.get");
  metrics.OnCommandSent("main", "crm.deal.add");
  metrics.OnRequestDone("main", HttpOutcome::kOk, absl::Milliseconds(120));
  metrics.OnRequestDone("main", HttpOutcome::kBitrixError, absl::Milliseconds(20));
  metrics.OnBitrixError("main", "no.such", "ERROR_METHOD_NOT_FOUND", "Method not found!");
  metrics.OnBitrixError("main", "crm.old.get", "", "Not found");
  metrics.OnRetry("main", "crm.lead.get", RetryReason::kRateLimited, absl::ZeroDuration());
  metrics.OnOutcomeUnknown("main", "crm.deal.add", "reset");
  metrics.OnTokenRefresh("main", true);
  metrics.OnRedirect("main");
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=ok,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=b24_error,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=outcome_unknown,portal=main,}"], 0);
  EXPECT_EQ(m["b24gate_commands_total{method=crm.lead.get,portal=main,}"], 2);
  EXPECT_EQ(m["b24gate_commands_total{method=crm.deal.add,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_batch_commands{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_batch_commands_sum{portal=main,}"], 3);
  EXPECT_EQ(m["b24gate_upstream_latency_seconds{portal=main,}"], 2);
  EXPECT_NEAR(m["b24gate_upstream_latency_seconds_sum{portal=main,}"], 0.14, 1e-9);
  EXPECT_EQ(m["b24gate_bitrix_errors_total{code=ERROR_METHOD_NOT_FOUND,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_bitrix_errors_total{code=,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_retries_total{portal=main,reason=rate_limited,}"], 1);
  EXPECT_EQ(m["b24gate_retries_total{portal=main,reason=not_sent,}"], 0);
  EXPECT_EQ(m["b24gate_outcome_unknown_total{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_token_refreshes_total{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_redirects_total{portal=main,}"], 1);
}

TEST(PortalMetrics, MethodLabelsAreCapped) {
  prometheus::Registry registry;
  PortalMetrics metrics(registry, /*label_cap=*/3);
  for (int i = 0; i < 10; ++i) metrics.OnCommandSent("p", "m" + std::to_string(i));
  metrics.OnCommandSent("p", "m1");  // seen before: keeps its label
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m["b24gate_commands_total{method=m0,portal=p,}"], 1);
  EXPECT_EQ(m["b24gate_commands_total{method=m1,portal=p,}"], 2);
  EXPECT_EQ(m["b24gate_commands_total{method=m2,portal=p,}"], 1);
  EXPECT_EQ(m["b24gate_commands_total{method=other,portal=p,}"], 7);
  int series = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name == "b24gate_commands_total") series = static_cast<int>(f.metric.size());
  }
  EXPECT_EQ(series, 4);
}

TEST(PortalMetrics, PortalsBeyondTheCapAreCountedTogetherAsOther) {
  prometheus::Registry registry;
  PortalMetrics metrics(registry, 200, /*named=*/{"main"}, /*portal_cap=*/2);
  for (const std::string portal : {"a", "b", "c", "d", "main", "a"}) {
    metrics.OnRequestDone(portal, HttpOutcome::kOk, absl::Milliseconds(1));
  }
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=ok,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=ok,portal=a,}"], 2);
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=ok,portal=b,}"], 1);
  EXPECT_EQ(m["b24gate_http_requests_total{outcome=ok,portal=other,}"], 2);  // c and d
  std::set<std::string> portals;
  for (const auto& f : registry.Collect()) {
    for (const auto& metric : f.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "portal") portals.insert(label.value);
      }
    }
  }
  EXPECT_EQ(portals, (std::set<std::string>{"main", "a", "b", "other"}));
}

// Names of the portals with series of their own.
std::set<std::string> PortalLabels(prometheus::Registry& registry) {
  std::set<std::string> portals;
  for (const auto& f : registry.Collect()) {
    for (const auto& metric : f.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "portal") portals.insert(label.value);
      }
    }
  }
  return portals;
}

void Requests(PortalMetrics& metrics, const std::string& portal, int n) {
  for (int i = 0; i < n; ++i) {
    metrics.OnRequestSent(portal, 1);
    metrics.OnRequestDone(portal, HttpOutcome::kOk, absl::Milliseconds(1));
  }
}

TEST(PortalMetrics, TheBusiestPortalsHaveSeriesAndOneLeavingTheTopFoldsIntoOtherWhichOnlyGrows) {
  prometheus::Registry registry;
  FakeClock clock;
  PortalMetrics metrics(registry, 200, /*named=*/{"main"}, /*portal_cap=*/2, &clock,
                        /*rerank_every=*/absl::Minutes(1));
  const std::string ok = "b24gate_http_requests_total{outcome=ok,portal=";
  Requests(metrics, "a", 1);  // the first two take the free places
  Requests(metrics, "b", 1);
  Requests(metrics, "c", 10);
  Requests(metrics, "main", 1);
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m[ok + "other,}"], 10);
  EXPECT_EQ(PortalLabels(registry), (std::set<std::string>{"main", "a", "b", "other"}));

  // The next period: c is the busiest and takes b's place (a and b were
  // equal; a stays by name); b's series go, its later requests count in
  // "other", which never goes down; c starts series of its own from 0.
  clock.Advance(absl::Minutes(1));
  Requests(metrics, "c", 2);
  Requests(metrics, "b", 1);
  m = Flatten(registry.Collect());
  EXPECT_EQ(PortalLabels(registry), (std::set<std::string>{"main", "a", "c", "other"}));
  EXPECT_EQ(m[ok + "c,}"], 2);
  EXPECT_EQ(m[ok + "other,}"], 11);
  EXPECT_EQ(m[ok + "a,}"], 1);
  EXPECT_EQ(metrics.PortalLabel("b"), "other");
  EXPECT_EQ(metrics.PortalLabel("main"), "main") << "configured portals always have their own";

  // A period later a, idle, leaves; b, busy again, comes back with fresh
  // series, and "other" keeps what it counted.
  clock.Advance(absl::Minutes(1));
  Requests(metrics, "b", 3);
  m = Flatten(registry.Collect());
  EXPECT_EQ(PortalLabels(registry), (std::set<std::string>{"main", "b", "c", "other"}));
  EXPECT_EQ(m[ok + "b,}"], 3);
  EXPECT_EQ(m[ok + "other,}"], 11);
}

// The gauges' view of one portal the test owns.
PortalGauges::PortalsFn Only(Portal* portal) {
  return [portal] { return std::vector<std::shared_ptr<Portal>>{{portal, [](Portal*) {}}}; };
}

TEST(PortalGauges, EveryListedStatAndTunableIsExported) {
  FakeTransport transport;
  FakeClock clock;
  PortalOptions options;
  options.name = "main";
  options.webhook_url = "https://p.example.com/rest/1/code/";
  options.bucket.burst = 77;
  options.batch_size = 12;
  DispatchPool pool(&clock, 1);
  Portal portal(options, &transport, &clock, &pool);
  PortalGauges gauges(Only(&portal));
  auto m = Flatten(gauges.Collect());
#define B24GATE_EXPECT_GAUGE(name, help) \
  EXPECT_EQ(m.count(PortalGauges::GaugeName(#name) + "{portal=main,}"), 1u) << #name;
#define B24GATE_EXPECT_COUNTER(name, help) \
  EXPECT_EQ(m.count(PortalGauges::CounterName(#name) + "{portal=main,}"), 1u) << #name;
  B24GATE_PORTAL_GAUGES(B24GATE_EXPECT_GAUGE)
  B24GATE_PORTAL_COUNTERS(B24GATE_EXPECT_COUNTER)
#undef B24GATE_EXPECT_GAUGE
#undef B24GATE_EXPECT_COUNTER
  for (const TuningField& f : TuningFields()) {
    if (f.metric) EXPECT_EQ(m.count(std::string(f.metric) + "{portal=main,}"), 1u) << f.name;
  }
  // The agreed operational names.
  EXPECT_EQ(m["b24gate_bucket_burst{portal=main,}"], 77);
  EXPECT_EQ(m["b24gate_batch_size{portal=main,}"], 12);
  EXPECT_EQ(m["b24gate_queued_commands{portal=main,}"], 0);
  EXPECT_EQ(m["b24gate_inflight_requests{portal=main,}"], 0);
  EXPECT_EQ(m["b24gate_autothrottle_rate_factor{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_concurrency_limit{portal=main,}"], 8);
  EXPECT_EQ(m.count("b24gate_bucket_level{portal=main,}"), 1u);
  EXPECT_EQ(m.count("b24gate_bucket_drain_per_second{portal=main,}"), 1u);
  EXPECT_EQ(m.count("b24gate_bucket_headroom{portal=main,}"), 1u);
  EXPECT_EQ(m.count("b24gate_operating_limit_seconds{portal=main,}"), 1u);
}

TEST(PortalGauges, QueueAndOperatingSecondsPerMethodAreSampledAtScrape) {
  FakeTransport transport;
  FakeClock clock;
  PortalOptions options;
  options.name = "main";
  options.webhook_url = "https://p.example.com/rest/1/code/";
  options.linger = absl::ZeroDuration();
  DispatchPool pool(&clock, 1);
  Portal portal(options, &transport, &clock, &pool);
  PortalGauges gauges(Only(&portal));
  absl::Notification done;
  portal.Call("crm.lead.get", {{"id", 1}}, false, CallOptions{}, [&](absl::StatusOr<CallReply>) {
    done.Notify();
  });
  auto exchange = transport.Next();
  ASSERT_TRUE(exchange);
  auto m = Flatten(gauges.Collect());
  EXPECT_EQ(m["b24gate_inflight_requests{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_portal_http_requests_total{portal=main,}"], 1);
  exchange->done(FakeTransport::Json(
      200, R"({"result": {"ID": "1"}, "time": {"start": 1, "finish": 1.5, "duration": 0.5,
               "processing": 0.5, "operating": 3.25, "operating_reset_at": 1700000600}})"));
  done.WaitForNotification();
  m = Flatten(gauges.Collect());
  EXPECT_EQ(m["b24gate_inflight_requests{portal=main,}"], 0);
  EXPECT_EQ(m["b24gate_operating_seconds{method=crm.lead.get,portal=main,}"], 3.25);
  EXPECT_EQ(m["b24gate_method_paused{method=crm.lead.get,portal=main,}"], 0);
}

TEST(PortalGauges, PortalsWithoutSeriesOfTheirOwnAreSummedAsOther) {
  FakeTransport transport;
  FakeClock clock;
  DispatchPool pool(&clock, 1);
  std::vector<std::unique_ptr<Portal>> portals;
  for (const std::string name : {"main", "x", "y"}) {
    PortalOptions options;
    options.name = name;
    options.webhook_url = "https://p.example.com/rest/1/code/";
    options.max_concurrency = 1;
    options.linger = absl::ZeroDuration();
    portals.push_back(std::make_unique<Portal>(options, &transport, &clock, &pool));
  }
  PortalGauges gauges(
      [&] {
        std::vector<std::shared_ptr<Portal>> out;
        for (auto& p : portals) out.emplace_back(p.get(), [](Portal*) {});
        return out;
      },
      [](const std::string& portal) { return portal == "main" ? portal : std::string("other"); });
  // x and y: one call on the wire and, behind it, one queued each.
  auto call = [&](Portal& portal) {
    portal.Call("crm.lead.get", {{"id", 1}}, false, CallOptions(), [](absl::StatusOr<CallReply>) {});
  };
  call(*portals[1]);
  call(*portals[2]);
  auto first = transport.Next();
  auto second = transport.Next();
  ASSERT_TRUE(first && second);
  call(*portals[1]);
  call(*portals[2]);
  auto m = Flatten(gauges.Collect());
  EXPECT_EQ(m["b24gate_queued_commands{portal=other,}"], 2);
  EXPECT_EQ(m["b24gate_inflight_requests{portal=other,}"], 2);
  EXPECT_EQ(m["b24gate_queued_commands{portal=main,}"], 0);
  EXPECT_EQ(m.count("b24gate_queued_commands{portal=x,}"), 0u);
  EXPECT_EQ(m.count("b24gate_bucket_burst{portal=other,}"), 0u);  // no tuning for a sum
  first->done(FakeTransport::Failure(TransportFailure::kNotSent));
  second->done(FakeTransport::Failure(TransportFailure::kNotSent));
  transport.Close();
  portals.clear();
}

TEST(PortalGauges, OthersCountersNeverGoDownWhenPortalsLeaveMemoryOrGetSeriesOfTheirOwn) {
  FakeTransport transport;
  FakeClock clock;
  DispatchPool pool(&clock, 1);
  auto make = [&](const std::string& name) {
    PortalOptions options;
    options.name = name;
    options.webhook_url = "https://p.example.com/rest/1/code/";
    options.linger = absl::ZeroDuration();
    return std::make_shared<Portal>(options, &transport, &clock, &pool);
  };
  // One request, answered.
  auto request = [&](Portal& portal) {
    absl::Notification done;
    portal.Call("crm.lead.get", {{"id", 1}}, false, CallOptions(),
                [&](absl::StatusOr<CallReply>) { done.Notify(); });
    auto exchange = transport.Next();
    ASSERT_TRUE(exchange);
    exchange->done(FakeTransport::Json(200, R"({"result": {"ID": "1"}})"));
    done.WaitForNotification();
  };
  std::vector<std::shared_ptr<Portal>> live = {make("x"), make("y")};
  std::set<std::string> own;
  PortalGauges gauges([&] { return live; },
                      [&](const std::string& portal) {
                        return own.count(portal) > 0 ? portal : std::string("other");
                      });
  const std::string other = "b24gate_portal_http_requests_total{portal=other,}";
  request(*live[0]);
  EXPECT_EQ(Flatten(gauges.Collect())[other], 1);
  request(*live[1]);
  EXPECT_EQ(Flatten(gauges.Collect())[other], 2);
  live.erase(live.begin());  // x leaves memory
  EXPECT_EQ(Flatten(gauges.Collect())[other], 2);
  own.insert("y");  // y joins the busiest
  auto m = Flatten(gauges.Collect());
  EXPECT_EQ(m[other], 2);
  EXPECT_EQ(m["b24gate_portal_http_requests_total{portal=y,}"], 1);
  live.push_back(make("x"));  // x built again, from 0
  request(*live.back());
  EXPECT_EQ(Flatten(gauges.Collect())[other], 3);
  own.clear();  // y back among the others: what it counted stays under y
  EXPECT_EQ(Flatten(gauges.Collect())[other], 3);
  request(*live[0]);
  EXPECT_EQ(Flatten(gauges.Collect())[other], 4);
  transport.Close();
  live.clear();
}

TEST(PortalGauges, QueuedAndSentCommandsPerClient) {
  FakeTransport transport;
  FakeClock clock;
  PortalOptions options;
  options.name = "main";
  options.webhook_url = "https://p.example.com/rest/1/code/";
  options.linger = absl::ZeroDuration();
  options.max_concurrency = 1;
  options.fair_share.weights = {{"billing", 1}, {"ops", 2}};
  DispatchPool pool(&clock, 1);
  Portal portal(options, &transport, &clock, &pool);
  PortalGauges gauges(Only(&portal));
  auto call = [&](const std::string& client) {
    CallOptions o;
    o.client_id = client;
    portal.Call("crm.lead.get", {{"id", 1}}, false, o, [](absl::StatusOr<CallReply>) {});
  };
  call("ops");  // sent at once; the rest wait behind it
  auto exchange = transport.Next();
  ASSERT_TRUE(exchange);
  call("billing");
  call("billing");
  call("not-configured");
  auto m = Flatten(gauges.Collect());
  EXPECT_EQ(m["b24gate_client_commands_total{client=ops,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_client_commands_total{client=billing,portal=main,}"], 0);
  EXPECT_EQ(m["b24gate_client_queued_commands{client=billing,portal=main,}"], 2);
  EXPECT_EQ(m["b24gate_client_queued_commands{client=anonymous,portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_client_queued_commands{client=ops,portal=main,}"], 0);
  for (const auto& [series, value] : m) {
    EXPECT_EQ(series.find("not-configured"), std::string::npos) << series;
  }
  exchange->done(FakeTransport::Failure(TransportFailure::kNotSent));
  transport.Close();
}

// Counters as counters, the lag as a gauge, under their labels; the
// families of the events log and the Redis streams are left out when no
// store reports them.
TEST(EventMetrics, LedgerCountsAreLabelledAndFamiliesWithoutSeriesLeftOut) {
  FakeClock clock;
  EventLedger ledger(&clock);
  ledger.Received("main");
  ledger.ReceivedOffline("main", 3);
  ledger.CountDelivery("main", "billing", "e1", 1);
  ledger.CountDelivery("main", "billing", "e1", 2);
  ledger.Acknowledged("main", 1);
  ledger.Dropped("main", 4);
  ledger.Refused("bad_token");
  clock.Advance(absl::Seconds(7));
  EventMetrics metrics(&ledger, {});
  const std::vector<MetricFamily> families = metrics.Collect();
  auto m = Flatten(families);
  EXPECT_EQ(m["b24gate_events_received_total{portal=main,source=inbound,}"], 1);
  EXPECT_EQ(m["b24gate_events_received_total{portal=main,source=offline,}"], 3);
  EXPECT_EQ(m["b24gate_events_delivered_total{portal=main,}"], 2);
  EXPECT_EQ(m["b24gate_events_redelivered_total{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_events_acknowledged_total{portal=main,}"], 1);
  EXPECT_EQ(m["b24gate_events_dropped_total{portal=main,}"], 4);
  EXPECT_EQ(m["b24gate_events_refused_total{reason=bad_token,}"], 1);
  EXPECT_EQ(m["b24gate_events_oldest_unacknowledged_seconds{portal=main,}"], 7);
  std::set<std::string> names;
  for (const MetricFamily& f : families) names.insert(f.name);
  EXPECT_EQ(names.size(), 7u);
  EXPECT_EQ(names.count("b24gate_events_log_bytes"), 0u);
  EXPECT_EQ(names.count("b24gate_events_stream_entries"), 0u);
}

TEST(GrpcMetrics, StartedHandledStreamsAndItems) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  const std::string svc = "bitrix24.gateway.v1.GatewayService";
  metrics.Started(svc, "Call", false);
  metrics.Handled(svc, "Call", false, "NOT_FOUND", 0.25);
  metrics.Started(svc, "GetAll", true);
  metrics.Started(svc, "GetAll", true);
  metrics.Streamed("GetAll", 50);
  metrics.Streamed("GetAll", 7);
  metrics.Handled(svc, "GetAll", true, "OK", 1);
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m["b24gate_grpc_started_total{grpc_method=Call,grpc_service=" + svc + ",}"], 1);
  EXPECT_EQ(m["b24gate_grpc_handled_total{grpc_code=NOT_FOUND,grpc_method=Call,grpc_service=" + svc + ",}"], 1);
  EXPECT_EQ(m["b24gate_grpc_handling_seconds{grpc_method=Call,grpc_service=" + svc + ",}"], 1);
  EXPECT_EQ(m["b24gate_grpc_open_streams{grpc_method=GetAll,}"], 1);
  EXPECT_EQ(m["b24gate_grpc_stream_items_total{grpc_method=GetAll,}"], 57);
}

// A failed transfer is counted by why it failed, not only by its code:
// UNAVAILABLE is an upload that may have been stored (OUTCOME_UNKNOWN) or
// surely was not (NOT_EXECUTED). A portal's own error codes are not labels
// (a portal could grow them): they count as B24_ERROR.
TEST(FileMetrics, FailuresAreCountedByReason) {
  prometheus::Registry registry;
  FileMetrics metrics(registry, {"main"});
  const absl::Status failures[] = {
      GatewayError(absl::StatusCode::kUnavailable, kReasonOutcomeUnknown, "may be stored"),
      GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted, "not stored"),
      GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted, "not stored"),
      B24ErrorStatus("ERROR_NOT_FOUND", "no such folder", 400),
      B24ErrorStatus("SOME_NEW_CODE_42", "whatever the portal says", 400),
      absl::ResourceExhaustedError("past --max-file-size"),
      GatewayError(absl::StatusCode::kUnavailable, "MADE_UP_REASON", "not ours"),
  };
  for (const absl::Status& s : failures) {
    metrics.Started(/*upload=*/true);
    metrics.Ended(/*upload=*/true, s);
  }
  metrics.Started(/*upload=*/false);
  metrics.Ended(/*upload=*/false, absl::OkStatus());
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=OUTCOME_UNKNOWN,}"], 1);
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=NOT_EXECUTED,}"], 2);
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=B24_ERROR,}"], 2);
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=RESOURCE_EXHAUSTED,}"], 1);
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=UNAVAILABLE,}"], 1);
  EXPECT_EQ(m["b24gate_file_transfers_total{code=UNAVAILABLE,direction=up,}"], 4);
  EXPECT_EQ(m["b24gate_file_transfers_total{code=OK,direction=down,}"], 1);
  EXPECT_EQ(m["b24gate_file_transfers_in_progress{direction=up,}"], 0);
  int failure_series = 0;
  for (const auto& [key, value] : Flatten(registry.Collect())) {
    failure_series += key.rfind("b24gate_file_failures_total{", 0) == 0;
  }
  EXPECT_EQ(failure_series, 5) << "a success or a portal's code made a series of its own";
}

// A stall or a deadline is one series, DEADLINE_EXCEEDED, also when its
// reason tells the caller nothing was stored (NOT_EXECUTED); one whose file
// may exist still counts as OUTCOME_UNKNOWN.
TEST(FileMetrics, RunningOutOfTimeCountsAsDeadlineExceeded) {
  prometheus::Registry registry;
  FileMetrics metrics(registry, {"main"});
  const absl::Status failures[] = {
      GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonNotExecuted, "stalled, not stored"),
      GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonNotExecuted, "no header in time"),
      absl::DeadlineExceededError("the client's deadline"),
      GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonOutcomeUnknown, "may be stored"),
  };
  for (const absl::Status& s : failures) {
    metrics.Started(/*upload=*/true);
    metrics.Ended(/*upload=*/true, s);
  }
  auto m = Flatten(registry.Collect());
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=DEADLINE_EXCEEDED,}"], 3);
  EXPECT_EQ(m["b24gate_file_failures_total{direction=up,reason=OUTCOME_UNKNOWN,}"], 1);
  EXPECT_EQ(m.count("b24gate_file_failures_total{direction=up,reason=NOT_EXECUTED,}"), 0);
  EXPECT_EQ(m["b24gate_file_transfers_in_progress{direction=up,}"], 0);
}

}  // namespace
}  // namespace b24gate::metrics_test
