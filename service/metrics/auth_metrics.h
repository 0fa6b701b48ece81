// Refused callers as Prometheus series: b24gate_auth_failures_total{reason}
// (calls refused UNAUTHENTICATED) and b24gate_permission_denied_total{client}
// (calls refused PERMISSION_DENIED). Both label sets are fixed at start-up:
// the refusal reasons, and the configured client names (bounded by the
// config), so a caller cannot grow them; anything else counts as "other".
//
// Thread-safety: thread-safe (the series are created in the constructor).
#ifndef B24GATE_SERVICE_METRICS_AUTH_METRICS_H_
#define B24GATE_SERVICE_METRICS_AUTH_METRICS_H_

#include <map>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace b24gate {

class AuthMetrics {
 public:
  // `registry` must outlive this object.
  AuthMetrics(prometheus::Registry& registry, const std::vector<std::string>& reasons,
              const std::vector<std::string>& clients);

  void AuthFailed(const std::string& reason);
  void PermissionDenied(const std::string& client);

 private:
  static prometheus::Counter& Pick(std::map<std::string, prometheus::Counter*>& series,
                                   const std::string& key);

  prometheus::Family<prometheus::Counter>& auth_failures_;
  prometheus::Family<prometheus::Counter>& permission_denied_;
  // Built in the constructor and only read afterwards.
  std::map<std::string, prometheus::Counter*> by_reason_;
  std::map<std::string, prometheus::Counter*> by_client_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_AUTH_METRICS_H_
