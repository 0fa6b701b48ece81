#include "engine/gateway/gateway.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/common/errors.h"
#include "engine/gateway/batch_plan.h"

namespace b24gate {

Gateway::Gateway(std::vector<PortalOptions> portals, std::unique_ptr<HttpTransport> transport,
                 Clock* clock, PortalObserver* observer, GatewayOptions options)
    : options_(options), transport_(std::move(transport)) {
  for (auto& portal_options : portals) {
    auto portal =
        std::make_unique<Portal>(std::move(portal_options), transport_.get(), clock, observer);
    by_name_[portal->name()] = portal.get();
    portals_.push_back(std::move(portal));
  }
}

Gateway::~Gateway() {
  // Portals wait for their in-flight requests, which need the transport.
  portals_.clear();
  transport_.reset();
}

absl::StatusOr<Portal*> Gateway::FindPortal(const std::string& name) const {
  if (name.empty()) return portals_.front().get();
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    return GatewayError(absl::StatusCode::kNotFound, kReasonUnknownPortal,
                        absl::StrCat("portal: \"", name, "\" is not configured"));
  }
  return it->second;
}

std::vector<Portal*> Gateway::portals() const {
  std::vector<Portal*> out;
  for (const auto& p : portals_) out.push_back(p.get());
  return out;
}

void Gateway::BeginShutdown() {
  for (const auto& p : portals_) p->BeginShutdown();
}

void Gateway::AbandonInFlight() {
  for (const auto& p : portals_) p->AbandonInFlight();
}

absl::Status Gateway::ValidateCall(const std::string& method, const nlohmann::ordered_json& params,
                                   const std::string& where) {
  if (absl::Status s = ValidateMethodName(method); !s.ok()) return s;
  if (NormalizeMethod(method) == "batch") {
    return absl::InvalidArgumentError("method: use CallBatch for batch requests");
  }
  if (!params.is_null() && !params.is_object() && !params.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": must be an object (or a list for positional methods), got ", params.type_name()));
  }
  return absl::OkStatus();
}

void Gateway::Call(CallSpec call, CallOptions options, CallCallback done) {
  absl::StatusOr<Portal*> portal = FindPortal(call.portal);
  if (!portal.ok()) {
    done(portal.status());
    return;
  }
  if (absl::Status s = ValidateCall(call.method, call.params, call.params_field); !s.ok()) {
    done(s);
    return;
  }
  if (absl::Status s = CheckParams(call.params, call.params_field, options_.limits); !s.ok()) {
    done(s);
    return;
  }
  (*portal)->Call(std::move(call.method), std::move(call.params), call.raw, std::move(options),
                  std::move(done));
}

void Gateway::CallBatch(const std::string& portal_name, std::vector<BatchCommandSpec> commands,
                        bool halt, CallOptions options, CallBatchCallback done) {
  absl::StatusOr<Portal*> portal = FindPortal(portal_name);
  if (!portal.ok()) {
    done(portal.status());
    return;
  }
  absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> plan =
      PlanBatch(std::move(commands), kMaxBatchCommands, options_.limits);
  if (!plan.ok()) {
    done(plan.status());
    return;
  }
  BatchRun::Start(*portal, std::move(*plan), halt, std::move(options), std::move(done));
}

absl::StatusOr<std::shared_ptr<OrderedFanout>> Gateway::PrepareBulk(BulkSpec bulk, BulkForm form,
                                                                   CallOptions options,
                                                                   FanoutSink* sink) {
  absl::StatusOr<Portal*> portal = FindPortal(bulk.portal);
  if (!portal.ok()) return portal.status();
  if (absl::Status s = ValidateBulk(bulk, form, options_.limits); !s.ok()) return s;
  return OrderedFanout::Create(*portal, std::move(bulk.method), std::move(bulk.params), bulk.raw,
                               std::move(options), sink, BulkFanoutOptions(form));
}

absl::StatusOr<std::shared_ptr<OrderedFanout>> Gateway::PrepareGetById(GetByIdSpec request,
                                                                      CallOptions options,
                                                                      FanoutSink* sink) {
  absl::StatusOr<Portal*> portal = FindPortal(request.portal);
  if (!portal.ok()) return portal.status();
  absl::StatusOr<std::vector<nlohmann::ordered_json>> calls = ExpandGetById(request, options_.limits);
  if (!calls.ok()) return calls.status();
  return OrderedFanout::Create(*portal, std::move(request.method), std::move(*calls),
                               /*as_json=*/false, std::move(options), sink);
}

absl::StatusOr<std::shared_ptr<ListReader>> Gateway::PrepareGetAll(const std::string& portal_name,
                                                                  ListRequest request,
                                                                  ListSink* sink) {
  absl::StatusOr<Portal*> portal = FindPortal(portal_name);
  if (!portal.ok()) return portal.status();
  if (absl::Status s = ValidateMethodName(request.method); !s.ok()) return s;
  if (absl::Status s = CheckParams(request.params, request.params_field, options_.limits); !s.ok()) {
    return s;
  }
  // Reads are safe to repeat whatever the method's name.
  request.options.idempotent = true;
  return ListReader::Create(*portal, std::move(request), sink);
}

}  // namespace b24gate
