// A Prometheus Collectable that reads the read cache's counts when scraped:
//   b24gate_cache_hits_total{portal}, b24gate_cache_misses_total{portal},
//   b24gate_cache_evictions_total{portal}, b24gate_cache_entries{portal}.
// With Redis as the store, evictions and entries are Redis's business (its
// INFO) and are not exported.
//
// Thread-safety: thread-safe (ReadCache is).
#ifndef B24GATE_SERVICE_METRICS_CACHE_METRICS_H_
#define B24GATE_SERVICE_METRICS_CACHE_METRICS_H_

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "engine/cache/read_cache.h"

namespace b24gate {

class CacheMetrics : public prometheus::Collectable {
 public:
  // `cache` must outlive this object.
  explicit CacheMetrics(ReadCache* cache) : cache_(cache) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ReadCache* const cache_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_CACHE_METRICS_H_
