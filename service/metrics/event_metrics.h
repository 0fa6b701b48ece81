// A Prometheus Collectable that reads the event subscriptions' ledger when
// scraped, per portal that has had a subscriber or an accepted post:
//   b24gate_events_received_total{portal} (online posts accepted),
//   b24gate_events_refused_total{reason} (posts refused),
//   b24gate_events_delivered_total{portal}, b24gate_events_redelivered_total{portal},
//   b24gate_events_acknowledged_total{portal},
//   b24gate_events_oldest_unacknowledged_seconds{portal} (the consumer lag),
//   b24gate_events_log_bytes (the on-disk log) or
//   b24gate_events_stream_entries{portal} (Redis), per the store.
//
// Thread-safety: thread-safe (EventLedger is).
#ifndef B24GATE_SERVICE_METRICS_EVENT_METRICS_H_
#define B24GATE_SERVICE_METRICS_EVENT_METRICS_H_

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "engine/events/event_ledger.h"
#include "engine/events/online_event_store.h"

namespace b24gate {

class EventMetrics : public prometheus::Collectable {
 public:
  // `ledger` and `hub` must outlive this object; `hub` null: no events log.
  EventMetrics(const EventLedger* ledger, const OnlineEventStore* hub) : ledger_(ledger), hub_(hub) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const EventLedger* const ledger_;
  const OnlineEventStore* const hub_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_EVENT_METRICS_H_
