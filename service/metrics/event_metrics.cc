#include "service/metrics/event_metrics.h"

#include <string>

namespace b24gate {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<MetricFamily> EventMetrics::Collect() const {
  MetricFamily delivered{"b24gate_events_delivered_total",
                         "Events written to subscribers' streams, redeliveries included.",
                         MetricType::Counter, {}};
  MetricFamily redelivered{"b24gate_events_redelivered_total",
                           "Events delivered again after a stream ended without their "
                           "acknowledgement.",
                           MetricType::Counter, {}};
  MetricFamily acknowledged{"b24gate_events_acknowledged_total",
                            "Events subscribers acknowledged (then cleared from the portal).",
                            MetricType::Counter, {}};
  MetricFamily lag{"b24gate_events_oldest_unacknowledged_seconds",
                   "Age of the oldest event delivered and not yet cleared from the portal.",
                   MetricType::Gauge, {}};
  auto sample = [](const std::string& portal, double value, bool counter) {
    ClientMetric m;
    m.label = {{"portal", portal}};
    if (counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    return m;
  };
  for (const auto& [portal, c] : ledger_->Snapshot()) {
    delivered.metric.push_back(sample(portal, static_cast<double>(c.delivered), true));
    redelivered.metric.push_back(sample(portal, static_cast<double>(c.redelivered), true));
    acknowledged.metric.push_back(sample(portal, static_cast<double>(c.acknowledged), true));
    lag.metric.push_back(sample(portal, absl::ToDoubleSeconds(c.oldest_unacknowledged), false));
  }
  std::vector<MetricFamily> out;
  for (MetricFamily* f : {&delivered, &redelivered, &acknowledged, &lag}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace b24gate
