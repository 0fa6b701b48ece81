#include "service/metrics/transport_metrics.h"

#include "service/metrics/scrape.h"

namespace b24gate {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<MetricFamily> TransportMetrics::Collect() const {
  MetricFamily connects{"b24gate_transport_connects_total",
                        "Connections opened to portals: on a request's own path (path=\"request\"), "
                        "or ahead of the requests (path=\"ahead\").",
                        MetricType::Counter, {}};
  AddSample(&connects, {{"path", "request"}},
            static_cast<double>(transport_->request_path_connects()));
  AddSample(&connects, {{"path", "ahead"}}, static_cast<double>(transport_->ahead_connects()));
  return WithSeries({&connects});
}

}  // namespace b24gate
