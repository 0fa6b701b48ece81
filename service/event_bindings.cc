#include "service/event_bindings.h"

#include <memory>
#include <utility>

namespace b24gate {
namespace {

bool Listed(const PortalOptions::EventBindings& b) { return b.offline || b.online; }

nlohmann::ordered_json Names(const std::vector<BindingSync::Binding>& bindings) {
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (const BindingSync::Binding& b : bindings) names.push_back(BindingSync::Describe(b));
  return names;
}

// The pass's calls: the portal's own queue (binding management is the
// gateway's work, not a client's call), never the read cache. Reading and
// unbinding are safe to repeat; a repeated bind is answered "already
// bound", which the pass takes as bound.
BindingSync::Caller CallerOf(std::shared_ptr<Portal> portal) {
  return [portal = std::move(portal)](const std::string& method, nlohmann::ordered_json params,
                                      CallCallback done) {
    CallOptions options;
    options.idempotent = method != "event.bind";
    portal->Call(method, std::move(params), /*as_json=*/false, std::move(options), std::move(done));
  };
}

}  // namespace

void EventBindings::Start(Gateway* gateway, const std::vector<PortalOptions>& portals,
                          const std::function<std::string(const std::string&)>& handler_url) {
  std::vector<std::shared_ptr<Portal>> listed;
  for (const PortalOptions& options : portals) {
    if (!Listed(options.event_bindings)) continue;
    absl::StatusOr<std::shared_ptr<Portal>> portal = gateway->FindPortal(options.name);
    if (portal.ok()) listed.push_back(*std::move(portal));
  }
  {
    absl::MutexLock lock(&mu_);
    for (const std::shared_ptr<Portal>& portal : listed) reports_[portal->name()];
  }
  for (const std::shared_ptr<Portal>& portal : listed) {
    const std::string name = portal->name();
    BindingSync::Run(CallerOf(portal), portal->options().event_bindings, handler_url(name),
                     [this, name](BindingSync::Report report) { Finish(name, std::move(report)); });
  }
}

void EventBindings::Finish(const std::string& portal, BindingSync::Report report) {
  nlohmann::ordered_json fields = {{"portal", portal},
                                   {"desired", Names(report.desired)},
                                   {"found", Names(report.found)},
                                   {"bound", Names(report.bound)},
                                   {"unbound", Names(report.unbound)}};
  if (!report.errors.empty()) fields["errors"] = report.errors;
  logger_->Log(report.errors.empty() ? LogLevel::kInfo : LogLevel::kWarn, "event bindings", fields);
  absl::MutexLock lock(&mu_);
  reports_[portal] = PortalReport{true, std::move(report)};
}

std::map<std::string, EventBindings::PortalReport> EventBindings::Reports() const {
  absl::MutexLock lock(&mu_);
  return reports_;
}

}  // namespace b24gate
