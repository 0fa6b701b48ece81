// A Prometheus Collectable that reads the event subscriptions' ledger when
// scraped, per portal that has had a subscriber or an accepted post:
//   b24gate_events_received_total{portal,source} (source "inbound": posts
//   the inbound endpoint accepted; "offline": offline queue rows stored
//   for the first time),
//   b24gate_events_refused_total{reason} (posts refused),
//   b24gate_events_delivered_total{portal}, b24gate_events_redelivered_total{portal},
//   b24gate_events_acknowledged_total{portal},
//   b24gate_events_oldest_unacknowledged_seconds{portal} (the consumer lag),
//   b24gate_events_log_bytes (the on-disk logs, online and offline) or
//   b24gate_events_stream_entries{portal} (Redis, both streams), per the
//   stores.
//
// Thread-safety: thread-safe (EventLedger is).
#ifndef B24GATE_SERVICE_METRICS_EVENT_METRICS_H_
#define B24GATE_SERVICE_METRICS_EVENT_METRICS_H_

#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "engine/events/event_ledger.h"
#include "engine/events/online_event_store.h"

namespace b24gate {

class EventMetrics : public prometheus::Collectable {
 public:
  // `ledger` and `stores` must outlive this object; a null store is skipped.
  EventMetrics(const EventLedger* ledger, std::vector<const OnlineEventStore*> stores)
      : ledger_(ledger), stores_(std::move(stores)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const EventLedger* const ledger_;
  const std::vector<const OnlineEventStore*> stores_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_EVENT_METRICS_H_
