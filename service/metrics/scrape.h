// Series built at scrape time, by the Collectables that read state when
// Prometheus asks (CacheMetrics, EventMetrics, PortalGauges): one way to
// add a series to a family, and to leave families without one out.
//
// Thread-safety: plain functions of their arguments.
#ifndef B24GATE_SERVICE_METRICS_SCRAPE_H_
#define B24GATE_SERVICE_METRICS_SCRAPE_H_

#include <initializer_list>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace b24gate {

// Adds the series `labels` with `value` to `family`: a counter's value or a
// gauge's, as the family's type says.
void AddSample(prometheus::MetricFamily* family,
               std::vector<prometheus::ClientMetric::Label> labels, double value);

// The families that have a series, moved out in order: a family with none
// is left out of the scrape.
std::vector<prometheus::MetricFamily> WithSeries(
    std::initializer_list<prometheus::MetricFamily*> families);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_SCRAPE_H_
