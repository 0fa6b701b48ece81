// A Prometheus Collectable that reads the libcurl transport's counts when
// scraped:
//   b24gate_transport_connects_total{path="request"}: connections opened for
//     a caller's request, on its path (each a TCP, and for HTTPS a TLS,
//     handshake added to a call);
//   b24gate_transport_connects_total{path="ahead"}: opened before any
//     request needed them (Warm, and in place of a recently used portal's
//     connection the server closed at its keep-alive limit);
//   b24gate_transport_replaced_total{when="before_limit"|"after_close"}:
//     idle connections of recently used portals replaced ahead, before the
//     idle limit their server announces, or after the server closed them.
//
// Thread-safety: thread-safe (CurlTransport's counts are).
#ifndef B24GATE_SERVICE_METRICS_TRANSPORT_METRICS_H_
#define B24GATE_SERVICE_METRICS_TRANSPORT_METRICS_H_

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "engine/http/curl_transport.h"

namespace b24gate {

class TransportMetrics : public prometheus::Collectable {
 public:
  // `transport` must outlive this object's registration.
  explicit TransportMetrics(const CurlTransport* transport) : transport_(transport) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const CurlTransport* const transport_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_TRANSPORT_METRICS_H_
