#include "service/metrics/event_metrics.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "service/metrics/scrape.h"

namespace b24gate {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<MetricFamily> EventMetrics::Collect() const {
  MetricFamily received{"b24gate_events_received_total",
                        "Events that came in, by source: posts the inbound endpoint accepted "
                        "(inbound), offline queue rows stored in the events log (offline).",
                        MetricType::Counter, {}};
  MetricFamily refused{"b24gate_events_refused_total",
                       "Posts and connections the inbound endpoint refused, by reason (bad_token, "
                       "unknown_portal, malformed, truncated, too_large, headers_too_large, slow, busy, "
                       "conflict).",
                       MetricType::Counter, {}};
  MetricFamily delivered{"b24gate_events_delivered_total",
                         "Events written to subscribers' streams, redeliveries included.",
                         MetricType::Counter, {}};
  MetricFamily redelivered{"b24gate_events_redelivered_total",
                           "Events delivered again after a stream ended without their "
                           "acknowledgement.",
                           MetricType::Counter, {}};
  MetricFamily acknowledged{"b24gate_events_acknowledged_total",
                            "Events subscribers acknowledged.",
                            MetricType::Counter, {}};
  MetricFamily dropped{"b24gate_events_dropped_total",
                       "Unacknowledged deliveries the events log dropped at its size or age bound.",
                       MetricType::Counter, {}};
  MetricFamily log_bytes{"b24gate_events_log_bytes", "Size of the on-disk events log.",
                         MetricType::Gauge, {}};
  MetricFamily stream_entries{"b24gate_events_stream_entries",
                              "Entries of the portal's Redis stream not yet acknowledged by every "
                              "group, as of the last trim.",
                              MetricType::Gauge, {}};
  std::optional<int64_t> bytes;
  std::map<std::string, int64_t> entries;
  for (const OnlineEventStore* store : stores_) {
    if (store == nullptr) continue;
    if (std::optional<int64_t> b = store->log_bytes()) bytes = bytes.value_or(0) + *b;
    for (const auto& [portal, n] : store->stream_entries()) entries[portal] += n;
  }
  if (bytes) AddSample(&log_bytes, {}, static_cast<double>(*bytes));
  for (const auto& [portal, n] : entries) {
    AddSample(&stream_entries, {{"portal", portal}}, static_cast<double>(n));
  }
  MetricFamily lag{"b24gate_events_oldest_unacknowledged_seconds",
                   "Age of the oldest event delivered and not yet cleared from the portal.",
                   MetricType::Gauge, {}};
  for (const auto& [reason, n] : ledger_->RefusedSnapshot()) {
    AddSample(&refused, {{"reason", reason}}, static_cast<double>(n));
  }
  for (const auto& [portal, c] : ledger_->Snapshot()) {
    for (const auto& [source, n] :
         {std::pair{"inbound", c.received_inbound}, std::pair{"offline", c.received_offline}}) {
      AddSample(&received, {{"portal", portal}, {"source", source}}, static_cast<double>(n));
    }
    AddSample(&delivered, {{"portal", portal}}, static_cast<double>(c.delivered));
    AddSample(&redelivered, {{"portal", portal}}, static_cast<double>(c.redelivered));
    AddSample(&acknowledged, {{"portal", portal}}, static_cast<double>(c.acknowledged));
    AddSample(&dropped, {{"portal", portal}}, static_cast<double>(c.dropped));
    AddSample(&lag, {{"portal", portal}}, absl::ToDoubleSeconds(c.oldest_unacknowledged));
  }
  return WithSeries({&received, &refused, &delivered, &redelivered, &acknowledged, &dropped,
                     &log_bytes, &stream_entries, &lag});
}

}  // namespace b24gate
