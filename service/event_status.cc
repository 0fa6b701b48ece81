#include "service/event_status.h"

#include <map>
#include <memory>
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

void FillReport(const EventBindings::PortalReport& in, pb::EventBindingsReport* out) {
  out->set_done(in.done);
  Fill(in.report.desired, out->mutable_desired());
  Fill(in.report.found, out->mutable_found());
  Fill(in.report.bound, out->mutable_bound());
  Fill(in.report.unbound, out->mutable_unbound());
  for (const std::string& e : in.report.errors) out->add_errors(e);
}

}  // namespace

absl::Status DescribeEvents(const Gateway& gateway, const EventBindings& bindings, const EventLedger& ledger,
                            const std::string& portal, pb::GetEventStatusResponse* out) {
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
  for (const auto& [name, report] : bindings.Reports()) {
    if (only.empty() || name == only) FillReport(report, entry(name).mutable_bindings());
  }
  for (const auto& [key, lag] : ledger.ConsumerLags()) {
    if (!only.empty() && key.first != only) continue;
    pb::ConsumerLag* c = entry(key.first).add_consumers();
    c->set_consumer(key.second);
    c->set_unacknowledged(lag.unacknowledged);
    c->set_oldest_unacknowledged_seconds(absl::ToDoubleSeconds(lag.oldest_unacknowledged));
  }
  for (auto& [name, status] : by_portal) *out->add_portals() = std::move(status);
  return absl::OkStatus();
}

}  // namespace b24gate
