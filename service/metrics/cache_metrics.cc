#include "service/metrics/cache_metrics.h"

#include <map>
#include <string>

namespace b24gate {

using prometheus::ClientMetric;
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
  for (const auto& [portal, c] : cache_->Counts()) {
    hits.metric.push_back(sample(portal, static_cast<double>(c.hits), true));
    misses.metric.push_back(sample(portal, static_cast<double>(c.misses), true));
    if (c.evictions >= 0) evictions.metric.push_back(sample(portal, static_cast<double>(c.evictions), true));
    if (c.entries >= 0) entries.metric.push_back(sample(portal, static_cast<double>(c.entries), false));
  }
  std::vector<MetricFamily> out;
  for (MetricFamily* f : {&hits, &misses, &evictions, &entries}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace b24gate
