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
  MetricFamily replaced{"b24gate_transport_replaced_total",
                        "Idle connections of recently used portals replaced ahead: before the idle "
                        "limit their server announces (when=\"before_limit\"), or after the server "
                        "closed them (when=\"after_close\").",
                        MetricType::Counter, {}};
  AddSample(&replaced, {{"when", "before_limit"}},
            static_cast<double>(transport_->replaced_before_limit()));
  AddSample(&replaced, {{"when", "after_close"}},
            static_cast<double>(transport_->replaced_after_close()));
  return WithSeries({&connects, &replaced});
}

}  // namespace b24gate
