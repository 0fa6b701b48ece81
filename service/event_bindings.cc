#include "service/event_bindings.h"

#include <memory>
#include <utility>

#include "engine/events/event_pattern.h"

namespace b24gate {
namespace {

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

EventBindings::EventBindings(Logger* logger, Clock* clock, PollTimer* timer, BindingKeeper::Options options)
    : logger_(logger),
      clock_(clock),
      keeper_(
          // Looked up at each pass: a registered portal's latest
          // credentials, built again if it left memory.
          [this](const std::string& portal) -> absl::StatusOr<BindingSync::Caller> {
            absl::StatusOr<std::shared_ptr<Portal>> found = gateway_->FindPortal(portal);
            if (!found.ok()) return found.status();
            return CallerOf(*std::move(found));
          },
          [timer](absl::Duration delay, std::function<void()> fire) { timer->After(delay, std::move(fire)); },
          [this](const std::string& portal, const BindingKeeper::Status& status) { Report(portal, status); },
          clock, options) {}

void EventBindings::Start(Gateway* gateway, const std::vector<PortalOptions>& configured,
                          HandlerUrl handler_url) {
  gateway_ = gateway;
  handler_url_ = std::move(handler_url);
  // Watching first: a portal registered while the list is read is told twice, never missed.
  gateway->directory().Watch([this](const std::string& name) { Changed(name); });
  for (const PortalOptions& options : configured) {
    keeper_.Set(options.name, options.event_bindings, handler_url_(options.name));
  }
  std::string after;
  constexpr size_t kPage = 1000;
  for (;;) {
    std::vector<PortalListing> page = gateway->directory().List(
        after, kPage, [](const PortalRecord& r) { return r.event_bindings.listed(); });
    for (const PortalListing& listing : page) {
      if (!listing.configured) Changed(listing.record.name);
    }
    if (page.size() < kPage) break;
    after = page.back().record.name;
  }
}

void EventBindings::Changed(const std::string& name) {
  absl::MutexLock lock(&changed_mu_);
  absl::StatusOr<PortalListing> listing = gateway_->directory().Describe(name);
  if (!listing.ok()) return keeper_.Forget(name);
  if (listing->configured) return;  // the configuration's list, set at start-up
  EventBindingsSpec wanted = listing->record.event_bindings;
  const std::string handler = handler_url_(name);
  // Written by a replica with the inbound endpoint; this one has none (the
  // replicas should share their flags): its online bindings are left alone.
  if (handler.empty()) wanted.online.reset();
  keeper_.Set(name, wanted, handler);
}

absl::Status EventBindings::Check(const std::string& where, EventBindingsSpec* bindings) const {
  if (absl::Status s = NormalizeEventBindings(where, bindings); !s.ok()) return s;
  // Every handler URL is the endpoint's URL and the portal's name: "" for
  // one is "" for all.
  if (bindings->online && handler_url_ && handler_url_("").empty()) {
    return absl::InvalidArgumentError(
        where + ".online: this gateway has no inbound endpoint (--events-listen) to bind online events to");
  }
  return absl::OkStatus();
}

void EventBindings::Report(const std::string& portal, const BindingKeeper::Status& status) {
  const BindingSync::Report& report = status.report;
  nlohmann::ordered_json fields = {{"portal", portal},
                                   {"attempt", status.attempts},
                                   {"desired", Names(report.desired)},
                                   {"found", Names(report.found)},
                                   {"bound", Names(report.bound)},
                                   {"unbound", Names(report.unbound)}};
  if (!report.errors.empty()) fields["errors"] = report.errors;
  // None after a shutdown.
  if (status.next_attempt != absl::InfiniteFuture()) {
    fields["retry_in_ms"] = absl::ToInt64Milliseconds(status.next_attempt - clock_->Now());
  }
  logger_->Log(report.errors.empty() ? LogLevel::kInfo : LogLevel::kWarn, "event bindings", fields);
}

}  // namespace b24gate
