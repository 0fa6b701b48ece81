// A PortalObserver that counts each portal's Bitrix24 traffic as Prometheus
// series: HTTP requests by outcome, commands by method, commands per request
// and upstream latency (histograms), Bitrix24 errors by code, retries by
// reason, outcome-unknown writes, token refreshes, redirects, REST 3.0
// requests and idempotent replays.
//
// Families are registered once, in the constructor. The series of a label
// combination are created the first time it is seen and kept, so an event
// costs one map lookup under a lock and the increments. Method and error-code
// labels are capped (LabelLimiter); the rest count as "other". So are the
// portals: the named ones (the configuration's) and the first `portal_cap`
// others to be busy get series of their own; later ones are counted
// together as portal="other", so thousands of registered portals do not
// make thousands of series (AdminService GetPortal shows any one of them).
//
// Thread-safety: thread-safe; never blocks on I/O.
#ifndef B24GATE_SERVICE_METRICS_PORTAL_METRICS_H_
#define B24GATE_SERVICE_METRICS_PORTAL_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/portal/portal_observer.h"
#include "service/metrics/label_limiter.h"

namespace b24gate {

class PortalMetrics : public PortalObserver {
 public:
  // Registers the families in `registry`, which must outlive this object.
  // `label_cap` bounds distinct method names (and, separately, error codes).
  // Throws what prometheus-cpp throws on a name clash (a programming error).
  PortalMetrics(prometheus::Registry& registry, size_t label_cap = 200,
                const std::vector<std::string>& named = {}, size_t portal_cap = 100);
  ~PortalMetrics() override;

  // The label the portal's series carry: its name, or "other".
  std::string PortalLabel(const std::string& portal);

  void OnRequestSent(const std::string& portal, int commands) override;
  void OnCommandSent(const std::string& portal, const std::string& method) override;
  void OnRequestDone(const std::string& portal, HttpOutcome outcome,
                     absl::Duration latency) override;
  void OnBitrixError(const std::string& portal, const std::string& method, const std::string& code,
                     const std::string& description) override;
  void OnRetry(const std::string& portal, const std::string& method, RetryReason reason,
               absl::Duration delay) override;
  void OnOutcomeUnknown(const std::string& portal, const std::string& method,
                        const std::string& cause) override;
  void OnTokenRefresh(const std::string& portal, bool ok) override;
  void OnRedirect(const std::string& portal) override;
  void OnRedirectRefused(const std::string& portal, const std::string& to,
                         const std::string& why) override;
  void OnRestV3Sent(const std::string& portal, const std::string& method) override;
  void OnIdempotentReplay(const std::string& portal, const std::string& method) override;

 private:
  // The series of one portal, created on its first event.
  struct Series;
  Series& SeriesOf(const std::string& portal);
  prometheus::Counter& Keyed(std::map<std::string, prometheus::Counter*>* cache,
                             prometheus::Family<prometheus::Counter>* family,
                             const std::string& portal, const char* label,
                             const std::string& value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  LabelLimiter portal_labels_;
  LabelLimiter methods_;
  LabelLimiter codes_;
  prometheus::Family<prometheus::Counter>& http_requests_;
  prometheus::Family<prometheus::Counter>& commands_;
  prometheus::Family<prometheus::Histogram>& batch_commands_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& outcome_unknown_;
  prometheus::Family<prometheus::Counter>& token_refreshes_;
  prometheus::Family<prometheus::Counter>& redirects_;
  prometheus::Family<prometheus::Counter>& redirects_refused_;
  prometheus::Family<prometheus::Counter>& rest_v3_requests_;
  prometheus::Family<prometheus::Counter>& idempotent_replays_;

  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Series>> portals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_PORTAL_METRICS_H_
