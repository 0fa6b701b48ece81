#include "service/metrics/auth_metrics.h"

namespace b24gate {
namespace {
constexpr char kOther[] = "other";
}  // namespace

AuthMetrics::AuthMetrics(prometheus::Registry& registry, const std::vector<std::string>& reasons,
                         const std::vector<std::string>& clients)
    : auth_failures_(prometheus::BuildCounter()
                         .Name("b24gate_auth_failures_total")
                         .Help("calls refused UNAUTHENTICATED, by reason")
                         .Register(registry)),
      permission_denied_(prometheus::BuildCounter()
                             .Name("b24gate_permission_denied_total")
                             .Help("calls refused PERMISSION_DENIED, by client")
                             .Register(registry)) {
  for (const std::string& r : reasons) by_reason_[r] = &auth_failures_.Add({{"reason", r}});
  by_reason_[kOther] = &auth_failures_.Add({{"reason", kOther}});
  for (const std::string& c : clients) by_client_[c] = &permission_denied_.Add({{"client", c}});
  by_client_[kOther] = &permission_denied_.Add({{"client", kOther}});
}

prometheus::Counter& AuthMetrics::Pick(std::map<std::string, prometheus::Counter*>& series,
                                       const std::string& key) {
  auto it = series.find(key);
  return it != series.end() ? *it->second : *series.at(kOther);
}

void AuthMetrics::AuthFailed(const std::string& reason) { Pick(by_reason_, reason).Increment(); }

void AuthMetrics::PermissionDenied(const std::string& client) {
  Pick(by_client_, client).Increment();
}

}  // namespace b24gate
