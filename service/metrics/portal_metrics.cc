#include "service/metrics/portal_metrics.h"

#include <algorithm>
#include <array>
#include <vector>

namespace b24gate {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Histogram;

constexpr HttpOutcome kOutcomes[] = {HttpOutcome::kOk, HttpOutcome::kBitrixError,
                                     HttpOutcome::kNotSent, HttpOutcome::kOutcomeUnknown,
                                     HttpOutcome::kRedirect};
constexpr RetryReason kReasons[] = {RetryReason::kRateLimited, RetryReason::kOperatingLimit,
                                    RetryReason::kNotSent,     RetryReason::kServerError,
                                    RetryReason::kRedirect,    RetryReason::kTokenRefresh,
                                    RetryReason::kIdempotentWrite};

Family<Counter>& CounterFamily(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

Family<Histogram>& HistogramFamily(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

}  // namespace

struct PortalMetrics::Series {
  std::string portal;  // the portal label: its name, or "other"
  std::array<Counter*, std::size(kOutcomes)> http_requests{};
  std::array<Counter*, std::size(kReasons)> retries{};
  Histogram* batch_commands = nullptr;
  Histogram* latency = nullptr;
  Counter* outcome_unknown = nullptr;
  Counter* token_refreshes = nullptr;
  Counter* redirects = nullptr;
  Counter* redirects_refused = nullptr;
  Counter* rest_v3_requests = nullptr;
  Counter* idempotent_replays = nullptr;
  std::map<std::string, Counter*> commands;  // by method label
  std::map<std::string, Counter*> errors;    // by code label
};

PortalMetrics::PortalMetrics(prometheus::Registry& registry, size_t label_cap,
                             const std::vector<std::string>& named, size_t portal_cap,
                             Clock* clock, absl::Duration rerank_every)
    : clock_(clock),
      rerank_every_(rerank_every),
      portal_cap_(portal_cap),
      named_(named.begin(), named.end()),
      methods_(label_cap),
      codes_(label_cap),
      http_requests_(CounterFamily(registry, "b24gate_http_requests_total",
                                   "HTTP requests to the portal by how they ended")),
      commands_(CounterFamily(registry, "b24gate_commands_total",
                              "commands sent to the portal, batch entries one by one")),
      batch_commands_(HistogramFamily(registry, "b24gate_batch_commands",
                                      "commands carried per HTTP request (the batching ratio)")),
      latency_(HistogramFamily(registry, "b24gate_upstream_latency_seconds",
                               "time from sending an HTTP request to its answer")),
      errors_(CounterFamily(registry, "b24gate_bitrix_errors_total",
                            "Bitrix24 error answers by code (\"\" for old CRM methods)")),
      retries_(CounterFamily(registry, "b24gate_retries_total",
                             "commands requeued after a failure that allows it, by reason")),
      outcome_unknown_(CounterFamily(registry, "b24gate_outcome_unknown_total",
                                     "writes failed as OUTCOME_UNKNOWN (may have run)")),
      token_refreshes_(CounterFamily(registry, "b24gate_token_refreshes_total",
                                     "OAuth token refreshes")),
      redirects_(CounterFamily(registry, "b24gate_redirects_total",
                               "domain changes (3xx) followed")),
      redirects_refused_(CounterFamily(registry, "b24gate_redirects_refused_total",
                                       "redirects (3xx) refused: to plain http, or to an "
                                       "address not in the portal's redirect_to")),
      rest_v3_requests_(CounterFamily(registry, "b24gate_rest_v3_requests_total",
                                      "REST 3.0 (/rest/api/) requests sent to the portal")),
      idempotent_replays_(CounterFamily(registry, "b24gate_idempotent_replays_total",
                                        "REST 3.0 writes the portal answered from its "
                                        "idempotency store (an earlier attempt had run them)")),
      next_rank_(clock->Now() + rerank_every) {}

PortalMetrics::~PortalMetrics() = default;

std::string PortalMetrics::PortalLabel(const std::string& portal) {
  absl::MutexLock lock(&mu_);
  return LabelLocked(portal);
}

std::string PortalMetrics::LabelLocked(const std::string& portal) {
  if (named_.count(portal) > 0 || top_.count(portal) > 0) return portal;
  // Room left: a portal has its series from its first request.
  if (top_.size() < portal_cap_) {
    top_.insert(portal);
    return portal;
  }
  return "other";
}

void PortalMetrics::Rerank(absl::Time now) {
  next_rank_ = now + rerank_every_;
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [portal, requests] : busy_) ranked.emplace_back(requests, portal);
  // Busiest first; between equals, those in the top now, then by name.
  auto before = [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    if (top_.count(a.second) != top_.count(b.second)) return top_.count(a.second) > 0;
    return a.second < b.second;
  };
  std::sort(ranked.begin(), ranked.end(), before);
  std::set<std::string> top;
  for (const auto& [requests, portal] : ranked) {
    if (top.size() == portal_cap_) break;
    top.insert(portal);
  }
  // Portals idle for a whole period keep their place while there is room.
  for (const std::string& portal : top_) {
    if (top.size() < portal_cap_ && busy_.count(portal) == 0) top.insert(portal);
  }
  for (const std::string& portal : top_) {
    if (top.count(portal) > 0) continue;
    if (auto it = portals_.find(portal); it != portals_.end()) {
      RemoveSeries(*it->second);
      portals_.erase(it);
    }
  }
  top_ = std::move(top);
  for (auto it = busy_.begin(); it != busy_.end();) {
    it->second /= 2;
    if (it->second < 1) busy_.erase(it++);
    else ++it;
  }
}

void PortalMetrics::RemoveSeries(Series& s) {
  for (Counter* c : s.http_requests) http_requests_.Remove(c);
  for (Counter* c : s.retries) retries_.Remove(c);
  batch_commands_.Remove(s.batch_commands);
  latency_.Remove(s.latency);
  outcome_unknown_.Remove(s.outcome_unknown);
  token_refreshes_.Remove(s.token_refreshes);
  redirects_.Remove(s.redirects);
  redirects_refused_.Remove(s.redirects_refused);
  rest_v3_requests_.Remove(s.rest_v3_requests);
  idempotent_replays_.Remove(s.idempotent_replays);
  for (const auto& [method, c] : s.commands) commands_.Remove(c);
  for (const auto& [code, c] : s.errors) errors_.Remove(c);
}

PortalMetrics::Series& PortalMetrics::SeriesOf(const std::string& name) {
  if (const absl::Time now = clock_->Now(); now >= next_rank_) Rerank(now);
  const std::string portal = LabelLocked(name);
  std::unique_ptr<Series>& s = portals_[portal];
  if (s) return *s;
  // First event of this portal: every fixed-label series at once, so they
  // show 0 from the start (rate() needs the zero).
  s = std::make_unique<Series>();
  s->portal = portal;
  for (size_t i = 0; i < std::size(kOutcomes); ++i) {
    s->http_requests[i] = &http_requests_.Add({{"portal", portal}, {"outcome", HttpOutcomeName(kOutcomes[i])}});
  }
  for (size_t i = 0; i < std::size(kReasons); ++i) {
    s->retries[i] = &retries_.Add({{"portal", portal}, {"reason", RetryReasonName(kReasons[i])}});
  }
  s->batch_commands = &batch_commands_.Add(
      {{"portal", portal}}, Histogram::BucketBoundaries{1, 2, 5, 10, 20, 30, 40, 50});
  s->latency = &latency_.Add({{"portal", portal}},
                             Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                         1, 2.5, 5, 10, 30, 60});
  s->outcome_unknown = &outcome_unknown_.Add({{"portal", portal}});
  s->token_refreshes = &token_refreshes_.Add({{"portal", portal}});
  s->redirects = &redirects_.Add({{"portal", portal}});
  s->redirects_refused = &redirects_refused_.Add({{"portal", portal}});
  s->rest_v3_requests = &rest_v3_requests_.Add({{"portal", portal}});
  s->idempotent_replays = &idempotent_replays_.Add({{"portal", portal}});
  return *s;
}

prometheus::Counter& PortalMetrics::Keyed(std::map<std::string, prometheus::Counter*>* cache,
                                          Family<Counter>* family, const std::string& portal,
                                          const char* label, const std::string& value) {
  auto it = cache->find(value);
  if (it != cache->end()) return *it->second;
  Counter* c = &family->Add({{"portal", portal}, {label, value}});
  cache->emplace(value, c);
  return *c;
}

void PortalMetrics::OnRequestSent(const std::string& portal, int commands) {
  absl::MutexLock lock(&mu_);
  Series& s = SeriesOf(portal);  // may close the period: this request counts in the next
  if (named_.count(portal) == 0) busy_[portal] += 1;
  s.batch_commands->Observe(commands);
}

void PortalMetrics::OnCommandSent(const std::string& portal, const std::string& method) {
  std::string label = methods_.Label(method);
  absl::MutexLock lock(&mu_);
  Series& s = SeriesOf(portal);
  Keyed(&s.commands, &commands_, s.portal, "method", label).Increment();
}

void PortalMetrics::OnRequestDone(const std::string& portal, HttpOutcome outcome,
                                  absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  Series& s = SeriesOf(portal);
  for (size_t i = 0; i < std::size(kOutcomes); ++i) {
    if (kOutcomes[i] == outcome) s.http_requests[i]->Increment();
  }
  s.latency->Observe(absl::ToDoubleSeconds(latency));
}

void PortalMetrics::OnBitrixError(const std::string& portal, const std::string&,
                                  const std::string& code, const std::string&) {
  std::string label = codes_.Label(code);
  absl::MutexLock lock(&mu_);
  Series& s = SeriesOf(portal);
  Keyed(&s.errors, &errors_, s.portal, "code", label).Increment();
}

void PortalMetrics::OnRetry(const std::string& portal, const std::string&, RetryReason reason,
                            absl::Duration) {
  absl::MutexLock lock(&mu_);
  Series& s = SeriesOf(portal);
  for (size_t i = 0; i < std::size(kReasons); ++i) {
    if (kReasons[i] == reason) s.retries[i]->Increment();
  }
}

void PortalMetrics::OnOutcomeUnknown(const std::string& portal, const std::string&,
                                     const std::string&) {
  absl::MutexLock lock(&mu_);
  SeriesOf(portal).outcome_unknown->Increment();
}

void PortalMetrics::OnTokenRefresh(const std::string& portal, bool) {
  absl::MutexLock lock(&mu_);
  SeriesOf(portal).token_refreshes->Increment();
}

void PortalMetrics::OnRedirect(const std::string& portal) {
  absl::MutexLock lock(&mu_);
  SeriesOf(portal).redirects->Increment();
}

void PortalMetrics::OnRedirectRefused(const std::string& portal, const std::string&,
                                      const std::string&) {
  absl::MutexLock lock(&mu_);
  SeriesOf(portal).redirects_refused->Increment();
}

void PortalMetrics::OnRestV3Sent(const std::string& portal, const std::string&) {
  absl::MutexLock lock(&mu_);
  SeriesOf(portal).rest_v3_requests->Increment();
}

void PortalMetrics::OnIdempotentReplay(const std::string& portal, const std::string&) {
  absl::MutexLock lock(&mu_);
  SeriesOf(portal).idempotent_replays->Increment();
}

}  // namespace b24gate
