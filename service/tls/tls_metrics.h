// The gRPC port's certificate as Prometheus series:
//   b24gate_tls_certificate_expiry_timestamp_seconds  (gauge, Unix time)
//   b24gate_tls_reloads_total                          (new certificate installed)
//   b24gate_tls_reload_errors_total                    (bad or unreadable files)
//
// Thread-safety: thread-safe (prometheus-cpp metrics are).
#ifndef B24GATE_SERVICE_TLS_TLS_METRICS_H_
#define B24GATE_SERVICE_TLS_TLS_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "service/tls/certificate_check.h"

namespace b24gate {

class TlsMetrics {
 public:
  // `registry` must outlive this object.
  explicit TlsMetrics(prometheus::Registry& registry);

  void Serving(const CertificateInfo& certificate);
  void Reloaded();
  void ReloadFailed();

 private:
  prometheus::Gauge& expiry_;
  prometheus::Counter& reloads_;
  prometheus::Counter& reload_errors_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_TLS_TLS_METRICS_H_
