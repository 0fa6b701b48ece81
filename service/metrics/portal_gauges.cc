#include "service/metrics/portal_gauges.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/tuning_fields.h"

namespace b24gate {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Operational names agreed with the deployment's dashboards and alerts,
// where they differ from b24gate_<stat>.
const std::map<std::string, std::string>& GaugeNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"queued", "b24gate_queued_commands"},
      {"in_flight", "b24gate_inflight_requests"},
      {"rate_factor", "b24gate_autothrottle_rate_factor"},
  };
  return *names;
}

ClientMetric Sample(std::vector<ClientMetric::Label> labels, double value, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

}  // namespace

PortalGauges::PortalGauges(PortalsFn portals, size_t method_cap)
    : portals_(std::move(portals)), methods_(method_cap) {}

std::string PortalGauges::GaugeName(const std::string& stat) {
  auto it = GaugeNames().find(stat);
  return it != GaugeNames().end() ? it->second : absl::StrCat("b24gate_", stat);
}

std::string PortalGauges::CounterName(const std::string& stat) {
  // Not a portal counter to operators: a Redis health series.
  if (stat == "redis_errors") return "b24gate_redis_errors_total";
  return absl::StrCat("b24gate_portal_", stat, "_total");
}

std::vector<MetricFamily> PortalGauges::Collect() const {
  // One family per name, filled portal by portal, in list order.
  std::vector<MetricFamily> families;
  std::map<std::string, size_t> index;
  auto add = [&](const std::string& name, const char* help, MetricType type,
                 std::vector<ClientMetric::Label> labels, double value) {
    auto [it, inserted] = index.emplace(name, families.size());
    if (inserted) families.push_back(MetricFamily{name, help, type, {}});
    families[it->second].metric.push_back(Sample(std::move(labels), value, type));
  };
  for (const std::shared_ptr<Portal>& portal : portals_()) {
    const std::string& name = portal->name();
    PortalStats stats = portal->Stats();
    PortalTuning tuning = portal->Tuning();
    std::vector<ClientMetric::Label> by_portal = {{"portal", name}};
#define B24GATE_EXPORT_GAUGE(field, help) \
  add(GaugeName(#field), help, MetricType::Gauge, by_portal, static_cast<double>(stats.field));
#define B24GATE_EXPORT_COUNTER(field, help) \
  add(CounterName(#field), help, MetricType::Counter, by_portal, static_cast<double>(stats.field));
    B24GATE_PORTAL_GAUGES(B24GATE_EXPORT_GAUGE)
    B24GATE_PORTAL_COUNTERS(B24GATE_EXPORT_COUNTER)
#undef B24GATE_EXPORT_GAUGE
#undef B24GATE_EXPORT_COUNTER
    for (const TuningField& field : TuningFields()) {
      if (field.metric != nullptr) {
        add(field.metric, field.help, MetricType::Gauge, by_portal, field.get(tuning));
      }
    }
    // Per method; methods past the cap fold into "other" with the largest
    // value, which is what an alert on "near the limit" needs.
    std::map<std::string, double> operating;
    std::map<std::string, double> paused;
    for (const auto& [method, seconds] : stats.operating) {
      std::string label = methods_.Label(method);
      operating[label] = std::max(operating[label], seconds);
      auto p = stats.paused.find(method);
      paused[label] = std::max(paused[label], p != stats.paused.end() && p->second ? 1.0 : 0.0);
    }
    for (const auto& [method, seconds] : operating) {
      add("b24gate_operating_seconds", "operating seconds the portal reported in the window",
          MetricType::Gauge, {{"portal", name}, {"method", method}}, seconds);
      add("b24gate_method_paused", "1 while the method waits for its operating-time window",
          MetricType::Gauge, {{"portal", name}, {"method", method}}, paused[method]);
    }
    // Per API client (configured names and "anonymous": a fixed set).
    for (const auto& [client, commands] : stats.client_queued) {
      add("b24gate_client_queued_commands", "commands of the client waiting in the queue now",
          MetricType::Gauge, {{"portal", name}, {"client", client}}, commands);
    }
    for (const auto& [client, commands] : stats.client_commands) {
      add("b24gate_client_commands_total", "commands of the client sent to the portal",
          MetricType::Counter, {{"portal", name}, {"client", client}},
          static_cast<double>(commands));
    }
  }
  return families;
}

}  // namespace b24gate
