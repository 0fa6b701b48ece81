#include "service/event_status.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

namespace b24gate {
namespace {

namespace pb = bitrix24::gateway::v1;
using Bindings = google::protobuf::RepeatedPtrField<pb::EventBinding>;

void Fill(const std::vector<BindingSync::Binding>& from, Bindings* to) {
  for (const BindingSync::Binding& b : from) {
    pb::EventBinding* out = to->Add();
    out->set_event(b.event);
    out->set_source(b.online ? pb::EVENT_SOURCE_ONLINE : pb::EVENT_SOURCE_OFFLINE);
  }
}

pb::EventBindingsState StateOf(BindingKeeper::State state) {
  switch (state) {
    case BindingKeeper::State::kPending:
      return pb::EVENT_BINDINGS_STATE_PENDING;
    case BindingKeeper::State::kOk:
      return pb::EVENT_BINDINGS_STATE_OK;
    case BindingKeeper::State::kFailed:
      return pb::EVENT_BINDINGS_STATE_FAILED;
  }
  return pb::EVENT_BINDINGS_STATE_UNSPECIFIED;
}

void FillReport(const BindingKeeper::Status& in, absl::Time now, pb::EventBindingsReport* out) {
  out->set_done(in.attempts > 0);
  Fill(in.report.desired, out->mutable_desired());
  Fill(in.report.found, out->mutable_found());
  Fill(in.report.bound, out->mutable_bound());
  Fill(in.report.unbound, out->mutable_unbound());
  for (const std::string& e : in.report.errors) out->add_errors(e);
  out->set_state(StateOf(in.state));
  out->set_attempts(in.attempts);
  out->set_last_error(in.last_error);
  if (in.state == BindingKeeper::State::kFailed && in.next_attempt != absl::InfiniteFuture()) {
    out->set_retry_in_seconds(std::max(0.0, absl::ToDoubleSeconds(in.next_attempt - now)));
  }
}

// Each consumer's lag: this replica's deliveries (EventLedger), and with
// Redis, the online groups' as Redis has them (every replica's) instead.
// The keys Redis answered for go into `shared`; Redis unreachable leaves
// this replica's figures.
std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag> Lags(
    const EventLedger& ledger, RedisEventLag* redis, const std::string& only,
    std::set<std::pair<std::string, std::string>>* shared) {
  std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag> lags = ledger.ConsumerLags();
  if (redis == nullptr) return lags;
  auto from_redis = redis->Lags(only);
  if (!from_redis.ok()) return lags;
  for (auto& [key, lag] : *from_redis) {
    lags[key] = lag;
    shared->insert(key);
  }
  return lags;
}

}  // namespace

absl::Status DescribeEvents(const Gateway& gateway, const EventBindings& bindings, const EventLedger& ledger,
                            RedisEventLag* redis_lag, const std::string& portal,
                            pb::GetEventStatusResponse* out) {
  std::string only;
  if (!portal.empty()) {
    absl::StatusOr<std::shared_ptr<Portal>> found = gateway.FindPortal(portal);
    if (!found.ok()) return found.status();
    only = (*found)->name();
  }
  std::map<std::string, pb::PortalEventStatus> by_portal;
  auto entry = [&](const std::string& name) -> pb::PortalEventStatus& {
    pb::PortalEventStatus& s = by_portal[name];
    s.set_portal(name);
    return s;
  };
  if (!only.empty()) entry(only);
  const absl::Time now = bindings.Now();
  for (const auto& [name, report] : bindings.Reports()) {
    if (only.empty() || name == only) FillReport(report, now, entry(name).mutable_bindings());
  }
  std::set<std::pair<std::string, std::string>> shared;
  for (const auto& [key, lag] : Lags(ledger, redis_lag, only, &shared)) {
    if (!only.empty() && key.first != only) continue;
    pb::ConsumerLag* c = entry(key.first).add_consumers();
    c->set_consumer(key.second);
    c->set_unacknowledged(lag.unacknowledged);
    c->set_oldest_unacknowledged_seconds(absl::ToDoubleSeconds(lag.oldest_unacknowledged));
    c->set_all_replicas(shared.count(key) > 0);
  }
  for (auto& [name, status] : by_portal) *out->add_portals() = std::move(status);
  return absl::OkStatus();
}

}  // namespace b24gate
