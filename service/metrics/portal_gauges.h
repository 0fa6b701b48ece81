// A Prometheus Collectable that reads every portal's state when scraped:
// the gauges and counters listed in engine/portal/portal_stats.h, the tuning
// fields of engine/portal/tuning_fields.h, and per method the operating
// seconds used and whether the method is paused.
//
// Generated from those lists: a stat or tunable added there appears here
// without an edit (named b24gate_<stat>, counters b24gate_portal_<stat>_total,
// unless kGaugeNames below gives the agreed operational name).
//
// Thread-safety: thread-safe (Portal::Stats and Tuning are).
#ifndef B24GATE_SERVICE_METRICS_PORTAL_GAUGES_H_
#define B24GATE_SERVICE_METRICS_PORTAL_GAUGES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "engine/portal/portal.h"
#include "service/metrics/label_limiter.h"

namespace b24gate {

class PortalGauges : public prometheus::Collectable {
 public:
  // `portals` gives the portals in memory at each scrape; it must stay
  // callable while this object lives. `method_cap` bounds the method
  // labels; later methods are reported as "other" (the largest value).
  using PortalsFn = std::function<std::vector<std::shared_ptr<Portal>>()>;
  explicit PortalGauges(PortalsFn portals, size_t method_cap = 200);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The metric name of a gauge of PortalStats, e.g. "queued" ->
  // "b24gate_queued_commands".
  static std::string GaugeName(const std::string& stat);
  static std::string CounterName(const std::string& stat);

 private:
  const PortalsFn portals_;
  mutable LabelLimiter methods_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_PORTAL_GAUGES_H_
