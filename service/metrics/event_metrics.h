// A Prometheus Collectable that reads the event subscriptions' ledger when
// scraped, per portal that has had a subscriber or an accepted post:
//   b24gate_events_received_total{portal} (online posts accepted),
//   b24gate_events_refused_total{reason} (posts refused),
//   b24gate_events_delivered_total{portal}, b24gate_events_redelivered_total{portal},
//   b24gate_events_acknowledged_total{portal},
//   b24gate_events_oldest_unacknowledged_seconds{portal} (the consumer lag).
//
// Thread-safety: thread-safe (EventLedger is).
#ifndef B24GATE_SERVICE_METRICS_EVENT_METRICS_H_
#define B24GATE_SERVICE_METRICS_EVENT_METRICS_H_

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "engine/events/event_ledger.h"

namespace b24gate {

class EventMetrics : public prometheus::Collectable {
 public:
  // `ledger` must outlive this object.
  explicit EventMetrics(const EventLedger* ledger) : ledger_(ledger) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const EventLedger* const ledger_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_EVENT_METRICS_H_
