#include "service/metrics/cache_metrics.h"

#include <map>
#include <string>

#include "service/metrics/scrape.h"

namespace b24gate {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<MetricFamily> CacheMetrics::Collect() const {
  MetricFamily hits{"b24gate_cache_hits_total", "Reads answered from the read cache.",
                    MetricType::Counter, {}};
  MetricFamily misses{"b24gate_cache_misses_total",
                      "Cacheable reads answered by the portal (refreshes included).",
                      MetricType::Counter, {}};
  MetricFamily evictions{"b24gate_cache_evictions_total",
                         "Cached answers dropped to stay within the size bounds.",
                         MetricType::Counter, {}};
  MetricFamily entries{"b24gate_cache_entries", "Answers held in the in-memory read cache.",
                       MetricType::Gauge, {}};
  for (const auto& [portal, c] : cache_->Counts()) {
    AddSample(&hits, {{"portal", portal}}, static_cast<double>(c.hits));
    AddSample(&misses, {{"portal", portal}}, static_cast<double>(c.misses));
    if (c.evictions >= 0) {
      AddSample(&evictions, {{"portal", portal}}, static_cast<double>(c.evictions));
    }
    if (c.entries >= 0) AddSample(&entries, {{"portal", portal}}, static_cast<double>(c.entries));
  }
  return WithSeries({&hits, &misses, &evictions, &entries});
}

}  // namespace b24gate
