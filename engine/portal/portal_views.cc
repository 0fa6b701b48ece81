// Portal, third part: run-time tuning and the read-only views (Budget,
// Stats), each a short look under the lock.
#include <algorithm>

#include "engine/bitrix/method_traits.h"
#include "engine/portal/portal.h"

namespace b24gate {

absl::Status Portal::Tune(const PortalTuning& tuning) {
  if (absl::Status s = ValidateTuning(tuning); !s.ok()) return s;
  Outbox out(options_.name, observer_);
  {
    absl::MutexLock lock(&mu_);
    tuning_ = tuning;
    autothrottle_.SetMaxConcurrency(tuning.max_concurrency);
    operating_.SetPolicy(tuning.operating);
    ApplyRate(clock_->Now(), &out);
    pool_->Wake(this);
  }
  out.Deliver();
  return absl::OkStatus();
}

PortalTuning Portal::Tuning() const {
  absl::MutexLock lock(&mu_);
  return tuning_;
}


PortalBudget Portal::Budget(const std::string& method) const {
  std::string normalized = NormalizeMethod(method);
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  PortalBudget b;
  const BucketPolicy policy = bucket_.policy();
  b.bucket_level = bucket_.Level(now);
  // The headroom in force (measured jitter), not the configured most: the
  // planners' free requests are the ones the bucket will let go.
  b.bucket_usable = std::max(1.0, policy.burst - bucket_.Headroom());
  b.drain_per_second = policy.drain_per_second;
  b.requests_free_now = std::max(0.0, b.bucket_usable - b.bucket_level);
  b.in_flight = ledger_.requests();
  b.max_in_flight = MaxInFlight();
  b.queued = static_cast<int>(queue_.size());
  b.operating_used = absl::Seconds(operating_.Operating(normalized));
  b.operating_reserved = operating_.Reserved(normalized);
  b.operating_left = operating_.Left(normalized);
  b.command_cost = operating_.Estimate(normalized);
  absl::Time ready = operating_.ReadyAt(normalized);
  if (ready > now) b.paused_until = ready;
  b.request_timeout = options_.request_timeout;
  return b;
}

void Portal::Warm(int requests) {
  absl::MutexLock lock(&mu_);
  if (draining_ || stopping_) return;
  // Opened by the next turn, after it has sent what is queued: the hint
  // comes just after a read's first request was queued, and warmed on this
  // thread it reached the transport first, whose loop then spent ~1 ms
  // opening the connections and writing their HEAD requests before it took
  // the request, which then had none free and opened one more.
  const int connections = std::min(requests, MaxInFlight());
  if (connections < 2) return;  // the request itself opens its one
  warm_wanted_ = std::max(warm_wanted_, connections);
  pool_->Wake(this);
}

void Portal::WarmNow(int connections) {
  // Every request to the portal goes to its base URL's origin (REST 3.0's
  // /rest/api/ too).
  const std::string base_url = credentials_->Current().base_url;
  if (connections > 1 && !base_url.empty()) transport_->Warm(base_url, connections, options_.tls);
}

void Portal::Preconnect() {
  const std::string base_url = credentials_->Current().base_url;
  if (!base_url.empty()) transport_->Warm(base_url, 1, options_.tls);
}

PortalStats Portal::Stats() const {
  absl::MutexLock lock(&mu_);
  PortalStats s = stats_;
  absl::Time now = clock_->Now();
  s.queued = static_cast<double>(queue_.size());
  s.client_queued = queue_.QueuedPerClient();
  for (const std::string& client : queue_.Classes()) s.client_commands.emplace(client, 0);
  s.in_flight = ledger_.requests();
  s.bucket_level = bucket_.Level(now);
  s.bucket_headroom_effective = bucket_.Headroom();
  s.bucket_jitter_seconds = absl::ToDoubleSeconds(bucket_.Jitter(now));
  s.operating = operating_.Snapshot();
  for (const auto& [method, seconds] : s.operating) {
    s.paused[method] = operating_.ReadyAt(method) > now;
  }
  s.concurrency_limit = MaxInFlight();
  s.rate_factor = autothrottle_.rate_factor();
  s.slowdowns = autothrottle_.slowdowns();
  BudgetStatus sharing = budget_->Status();
  s.shared_budget_fallback = sharing.fallback ? 1 : 0;
  s.redis_errors = sharing.redis_errors;
  return s;
}

}  // namespace b24gate
