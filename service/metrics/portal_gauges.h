// A Prometheus Collectable that reads every portal's state when scraped:
// the gauges and counters listed in engine/portal/portal_stats.h, the tuning
// fields of engine/portal/tuning_fields.h, and per method the operating
// seconds used and whether the method is paused.
//
// Generated from those lists: a stat or tunable added there appears here
// without an edit (named b24gate_<stat>, counters b24gate_portal_<stat>_total,
// unless kGaugeNames below gives the agreed operational name).
//
// Portals past PortalMetrics' cap are summed as portal="other". Its gauges
// are the sums now; its counters only grow (Prometheus would read a drop as
// a reset and count the whole value again): each scrape adds what each of
// those portals counted since the scrape before, so a portal leaving memory
// or moving between its own series and "other" never takes counts away.
//
// Thread-safety: thread-safe (Portal::Stats and Tuning are; scrapes take
// turns over the sums).
#ifndef B24GATE_SERVICE_METRICS_PORTAL_GAUGES_H_
#define B24GATE_SERVICE_METRICS_PORTAL_GAUGES_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_stats.h"
#include "service/metrics/label_limiter.h"

namespace b24gate {

class PortalGauges : public prometheus::Collectable {
 public:
  // `portals` gives the portals in memory at each scrape; `label` (may be
  // null: every portal its own) the label of a portal's series, where
  // "other" sums the portal's counters and gauges with the other portals'
  // without series of their own (PortalMetrics::PortalLabel). Both must stay
  // callable while this object lives. `method_cap` bounds the method
  // labels; later methods are reported as "other" (the largest value).
  using PortalsFn = std::function<std::vector<std::shared_ptr<Portal>>()>;
  using LabelFn = std::function<std::string(const std::string&)>;
  explicit PortalGauges(PortalsFn portals, LabelFn label = nullptr, size_t method_cap = 200);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The metric name of a gauge of PortalStats, e.g. "queued" ->
  // "b24gate_queued_commands".
  static std::string GaugeName(const std::string& stat);
  static std::string CounterName(const std::string& stat);

 private:
  // A portal counted in "other" at the last scrape, as it was then.
  struct Seen {
    const Portal* portal;  // identity only: a rebuilt portal is another
    PortalStats stats;
  };
  // Adds what `portal` counted since the last scrape to other_counters_.
  void CountInOther(const std::string& name, const Portal* portal, const PortalStats& stats) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PortalsFn portals_;
  const LabelFn label_;
  mutable LabelLimiter methods_;
  mutable absl::Mutex mu_;
  mutable std::map<std::string, Seen> other_seen_ ABSL_GUARDED_BY(mu_);
  // Portals with series of their own at the last scrape.
  mutable std::set<std::string> own_ ABSL_GUARDED_BY(mu_);
  mutable PortalStats other_counters_ ABSL_GUARDED_BY(mu_);
  mutable bool other_shown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_PORTAL_GAUGES_H_
