#include "service/metrics/scrape.h"

#include <utility>

namespace b24gate {

void AddSample(prometheus::MetricFamily* family,
               std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (family->type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family->metric.push_back(std::move(m));
}

std::vector<prometheus::MetricFamily> WithSeries(
    std::initializer_list<prometheus::MetricFamily*> families) {
  std::vector<prometheus::MetricFamily> out;
  for (prometheus::MetricFamily* f : families) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace b24gate
