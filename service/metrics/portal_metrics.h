// A PortalObserver that counts each portal's Bitrix24 traffic as Prometheus
// series: HTTP requests by outcome, commands by method, commands per request
// and upstream latency (histograms), Bitrix24 errors by code, retries by
// reason, outcome-unknown writes, token refreshes, redirects, REST 3.0
// requests and idempotent replays.
//
// Families are registered once, in the constructor. The series of a label
// combination are created the first time it is seen and kept, so an event
// costs one map lookup under a lock and the increments. Method and error-code
// labels are capped (LabelLimiter); the rest count as "other".
//
// Portals: the named ones (the configuration's) always have series of their
// own; of the others, the `portal_cap` busiest do, and the rest are counted
// together as portal="other", so thousands of registered portals do not make
// thousands of series (AdminService GetPortal shows any one of them). Busy
// means HTTP requests sent, counted per portal and halved every `rerank_every`
// (so the last few periods weigh most); every `rerank_every` the top
// `portal_cap` are chosen again, ties keeping their place. Until the cap is
// reached a portal gets its series on its first request.
//
// Counters stay monotonic, which is what rate() and increase() rely on: a
// portal that leaves the top loses its series (they vanish from the scrape,
// so Prometheus marks them stale; no value ever goes down), and from then on
// its events count in portal="other", whose series are never removed and only
// grow. Past counts are never moved from one series to another: moving a
// leaving portal's totals into "other" would show as a burst in
// rate(...{portal="other"}). A portal that comes back to the top gets fresh
// series from 0, which Prometheus reads as a counter reset, as it does after
// a restart. sum(rate(...)) over all portals stays right, except for the
// increase of a leaving portal between its last scrape and its switch.
//
// Thread-safety: thread-safe; never blocks on I/O.
#ifndef B24GATE_SERVICE_METRICS_PORTAL_METRICS_H_
#define B24GATE_SERVICE_METRICS_PORTAL_METRICS_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/portal/portal_observer.h"
#include "service/metrics/label_limiter.h"

namespace b24gate {

class PortalMetrics : public PortalObserver {
 public:
  // Registers the families in `registry`, which must outlive this object.
  // `label_cap` bounds distinct method names (and, separately, error codes).
  // Throws what prometheus-cpp throws on a name clash (a programming error).
  // `clock` must outlive this object.
  PortalMetrics(prometheus::Registry& registry, size_t label_cap = 200,
                const std::vector<std::string>& named = {}, size_t portal_cap = 100,
                Clock* clock = Clock::Real(), absl::Duration rerank_every = absl::Minutes(1));
  ~PortalMetrics() override;

  // The label the portal's series carry now: its name, or "other".
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
  // The series `portal` counts in now (re-ranking first when it is time).
  Series& SeriesOf(const std::string& portal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string LabelLocked(const std::string& portal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Chooses the busiest portals again and removes the series of those
  // that left the top; halves the request counts.
  void Rerank(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveSeries(Series& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  prometheus::Counter& Keyed(std::map<std::string, prometheus::Counter*>* cache,
                             prometheus::Family<prometheus::Counter>* family,
                             const std::string& portal, const char* label,
                             const std::string& value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* const clock_;
  const absl::Duration rerank_every_;
  const size_t portal_cap_;
  const std::set<std::string> named_;
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

  // Events update series under mu_: a series removed by Rerank is never
  // in use.
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Series>> portals_ ABSL_GUARDED_BY(mu_);  // by label
  // The portals, not named, with series of their own now.
  std::set<std::string> top_ ABSL_GUARDED_BY(mu_);
  // Requests per portal not named, halved at each re-ranking (and dropped
  // when they fall below one): portals busy in the last few periods only.
  absl::flat_hash_map<std::string, double> busy_ ABSL_GUARDED_BY(mu_);
  absl::Time next_rank_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_PORTAL_METRICS_H_
