#include "service/tls/tls_metrics.h"

namespace b24gate {

TlsMetrics::TlsMetrics(prometheus::Registry& registry)
    : expiry_(prometheus::BuildGauge()
                  .Name("b24gate_tls_certificate_expiry_timestamp_seconds")
                  .Help("When the gRPC port's serving certificate expires (Unix time)")
                  .Register(registry)
                  .Add({})),
      reloads_(prometheus::BuildCounter()
                   .Name("b24gate_tls_reloads_total")
                   .Help("New certificates installed on the gRPC port without a restart")
                   .Register(registry)
                   .Add({})),
      reload_errors_(prometheus::BuildCounter()
                         .Name("b24gate_tls_reload_errors_total")
                         .Help("Certificate reloads refused (bad or unreadable files); the previous "
                               "certificate stays")
                         .Register(registry)
                         .Add({})) {}

void TlsMetrics::Serving(const CertificateInfo& certificate) {
  expiry_.Set(static_cast<double>(absl::ToUnixSeconds(certificate.not_after)));
}

void TlsMetrics::Reloaded() { reloads_.Increment(); }

void TlsMetrics::ReloadFailed() { reload_errors_.Increment(); }

}  // namespace b24gate
