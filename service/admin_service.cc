#include "service/admin_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/tuning_fields.h"
#include "service/event_status.h"
#include "service/status_mapping.h"

namespace b24gate {
namespace {

namespace pb = bitrix24::gateway::v1;

// Sets the numeric proto field `name` of `message` to `value`; false when the
// message has no such field (a stat or tunable without a proto field, which
// admin_fields_test catches).
bool SetNumber(google::protobuf::Message* message, const std::string& name, double value) {
  const google::protobuf::FieldDescriptor* f = message->GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated()) return false;
  const google::protobuf::Reflection* r = message->GetReflection();
  switch (f->cpp_type()) {
    case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
      r->SetDouble(message, f, value);
      return true;
    case google::protobuf::FieldDescriptor::CPPTYPE_FLOAT:
      r->SetFloat(message, f, static_cast<float>(value));
      return true;
    case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(message, f, static_cast<int64_t>(value));
      return true;
    case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(message, f, static_cast<int32_t>(value));
      return true;
    default:
      return false;
  }
}

}  // namespace

void FillStatus(const PortalStats& s, pb::PortalStatus* status) {
#define B24GATE_FILL_STAT(name, help) SetNumber(status, #name, static_cast<double>(s.name));
  B24GATE_PORTAL_COUNTERS(B24GATE_FILL_STAT)
  B24GATE_PORTAL_GAUGES(B24GATE_FILL_STAT)
#undef B24GATE_FILL_STAT
  for (const auto& [method, seconds] : s.operating) {
    (*status->mutable_operating_seconds())[method] = seconds;
  }
}

void FillTuning(const PortalTuning& t, pb::PortalTuning* tuning) {
  for (const TuningField& field : TuningFields()) SetNumber(tuning, field.name, field.get(t));
}

namespace {

// Calls `apply` with each tunable set in `in`, by its name.
void ForEachSetTuning(const pb::PortalTuning& in,
                      const std::function<void(const TuningField&, double)>& apply) {
  const google::protobuf::Reflection* r = in.GetReflection();
  for (const TuningField& field : TuningFields()) {
    const google::protobuf::FieldDescriptor* f = in.GetDescriptor()->FindFieldByName(field.name);
    if (f == nullptr || !r->HasField(in, f)) continue;
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
        apply(field, r->GetDouble(in, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
        apply(field, r->GetInt32(in, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        apply(field, static_cast<double>(r->GetInt64(in, f)));
        break;
      default:
        break;
    }
  }
}

}  // namespace

void MergeTuning(const pb::PortalTuning& in, PortalTuning* t) {
  ForEachSetTuning(in, [t](const TuningField& field, double value) { field.set(t, value); });
}

void MergeTuning(const pb::PortalTuning& in, std::map<std::string, double>* tuning) {
  ForEachSetTuning(in, [tuning](const TuningField& field, double value) {
    (*tuning)[field.name] = value;
  });
}

namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

void FillState(Portal& portal, pb::PortalState* out) {
  out->set_name(portal.name());
  FillTuning(portal.Tuning(), out->mutable_tuning());
  FillStatus(portal.Stats(), out->mutable_status());
}

// A listed portal: its record and, when in memory, its live state.
void FillState(const PortalListing& listing, pb::PortalState* out) {
  if (listing.live) {
    FillState(*listing.live, out);
  } else {
    out->set_name(listing.record.name);
    FillTuning(listing.tuning, out->mutable_tuning());
  }
  out->set_member_id(listing.record.member_id);
  out->set_domain(listing.record.Domain());
  out->set_configured(listing.configured);
  out->set_live(listing.live != nullptr);
  out->set_plan(listing.record.plan);
  out->set_oauth(listing.oauth);
}

// Surrounding white space dropped, '/' appended (files and forms add and
// drop them).
std::string TrimUrl(const std::string& url) {
  std::string out(absl::StripAsciiWhitespace(url));
  if (!out.empty() && out.back() != '/') out.push_back('/');
  return out;
}

void SetCredentials(const pb::PortalCredentials& c, PortalRecord* r) {
  r->webhook_url = TrimUrl(c.webhook_url());
  r->portal_url = TrimUrl(c.portal_url());
  r->refresh_token = c.refresh_token();
  r->client_id = c.client_id();
  r->client_secret = c.client_secret();
  r->application_token = c.application_token();
}

// The given lists, as given (EventBindings::Check normalises them).
EventBindingsSpec SpecOf(const pb::PortalEventBindings& in) {
  EventBindingsSpec spec;
  if (in.has_offline()) spec.offline.emplace(in.offline().names().begin(), in.offline().names().end());
  if (in.has_online()) spec.online.emplace(in.online().names().begin(), in.online().names().end());
  spec.auth_connector = in.auth_connector();
  return spec;
}

absl::Status CheckCredentials(const PortalRecord& r) {
  if (!r.webhook_url.empty() && (!r.portal_url.empty() || !r.refresh_token.empty())) {
    return absl::InvalidArgumentError(
        "credentials: give either webhook_url or portal_url with refresh_token, not both");
  }
  if (r.webhook_url.empty() && (r.portal_url.empty() || r.refresh_token.empty())) {
    return absl::InvalidArgumentError(
        "credentials: give webhook_url, or portal_url and refresh_token (OAuth)");
  }
  return absl::OkStatus();
}

// The page token is the last name listed, base64 so that callers treat it
// as opaque.
absl::StatusOr<std::string> NameAfter(const std::string& token) {
  std::string name;
  if (!absl::WebSafeBase64Unescape(token, &name)) {
    return absl::InvalidArgumentError("page_token: not a token this gateway gave");
  }
  return name;
}

}  // namespace

absl::Status AdminService::Admit(grpc::CallbackServerContext* context) const {
  if (access_ == nullptr) return absl::OkStatus();
  absl::StatusOr<const ClientSpec*> client = access_->Admit(*context);
  if (!client.ok()) return client.status();
  return access_->AuthorizeAdmin(*client);
}

grpc::ServerUnaryReactor* AdminService::Run(grpc::CallbackServerContext* context,
                                            const std::function<absl::Status()>& work) const {
  auto* reactor = context->DefaultReactor();
  absl::Status s = Admit(context);
  if (s.ok()) s = work();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RunWrite(grpc::CallbackServerContext* context,
                                                 std::function<absl::Status()> work) {
  auto* reactor = context->DefaultReactor();
  if (absl::Status s = Admit(context); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  FinishOn(registry_writes_.get(), reactor, std::move(work), "portal registry writes");
  return reactor;
}

void AdminService::FinishOn(BlockingLane* lane, grpc::ServerUnaryReactor* reactor,
                            std::function<absl::Status()> work, const std::string& what) {
  if (lane == nullptr) {
    reactor->Finish(ToGrpcStatus(work()));
    return;
  }
  if (!lane->Submit([reactor, work = std::move(work)] { reactor->Finish(ToGrpcStatus(work())); })) {
    reactor->Finish(ToGrpcStatus(
        absl::UnavailableError(absl::StrCat("too many ", what, " under way; try again shortly"))));
  }
}

absl::Status AdminService::ReadBindings(const pb::PortalEventBindings& in, PortalRecord* record) const {
  if (!events_) return absl::InvalidArgumentError("event_bindings: this gateway serves no events");
  EventBindingsSpec spec = SpecOf(in);
  if (absl::Status s = events_->bindings->Check("event_bindings", &spec); !s.ok()) return s;
  record->event_bindings = std::move(spec);
  return absl::OkStatus();
}

absl::Status AdminService::Describe(const std::string& key, pb::PortalState* out) const {
  absl::StatusOr<PortalListing> listing = gateway_->directory().Describe(key);
  if (!listing.ok()) return listing.status();
  FillState(*listing, out);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::ListPortals(grpc::CallbackServerContext* context,
                                                    const pb::ListPortalsRequest* request,
                                                    pb::ListPortalsResponse* response) {
  return Run(context, [&]() -> absl::Status {
    if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_size: must be 0 (default ", kDefaultPageSize, ") to ", kMaxPageSize));
    }
    absl::StatusOr<std::string> after = NameAfter(request->page_token());
    if (!after.ok()) return after.status();
    const size_t size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
    const std::string filter = absl::AsciiStrToLower(request->filter());
    auto keep = [&filter](const PortalRecord& r) {
      return filter.empty() || absl::StrContains(absl::AsciiStrToLower(r.name), filter) ||
             absl::StrContains(absl::AsciiStrToLower(r.member_id), filter) ||
             absl::StrContains(absl::AsciiStrToLower(r.Domain()), filter);
    };
    // One more than the page: whether a next page exists.
    std::vector<PortalListing> page = gateway_->directory().List(*after, size + 1, keep);
    if (page.size() > size) {
      page.pop_back();
      response->set_next_page_token(absl::WebSafeBase64Escape(page.back().record.name));
    }
    for (const PortalListing& listing : page) FillState(listing, response->add_portals());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminService::UpdatePortalTuning(
    grpc::CallbackServerContext* context, const pb::UpdatePortalTuningRequest* request,
    pb::UpdatePortalTuningResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (absl::Status s = Admit(context); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  absl::StatusOr<PortalListing> listing = gateway_->directory().Describe(request->portal());
  // A registered portal's tuning is kept in its record, so it outlasts
  // the portal leaving memory and restarts: a registry write. A configured
  // portal's lasts until restart (the configuration says what it starts
  // with): in memory, at once.
  if (listing.ok() && !listing->configured) {
    FinishOn(registry_writes_.get(), reactor,
             [this, request, response] { return TuneRegistered(request, response->mutable_portal()); },
             "portal registry writes");
    return reactor;
  }
  reactor->Finish(ToGrpcStatus(listing.ok() ? TuneConfigured(*listing->live, *request, response->mutable_portal())
                                            : listing.status()));
  return reactor;
}

absl::Status AdminService::TuneConfigured(Portal& portal, const pb::UpdatePortalTuningRequest& request,
                                          pb::PortalState* out) const {
  PortalTuning tuning = request.reset() ? TuningOf(portal.options()) : portal.Tuning();
  MergeTuning(request.tuning(), &tuning);
  if (absl::Status s = portal.Tune(tuning); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tuning.", s.message()));
  }
  FillState(portal, out);
  return absl::OkStatus();
}

absl::Status AdminService::TuneRegistered(const pb::UpdatePortalTuningRequest* request,
                                          pb::PortalState* out) const {
  std::string name;
  absl::Status s = gateway_->directory().Update(request->portal(), [&](PortalRecord* r) {
    name = r->name;
    if (request->reset()) r->tuning.clear();
    MergeTuning(request->tuning(), &r->tuning);
    return absl::OkStatus();
  });
  if (s.code() == absl::StatusCode::kInvalidArgument && !absl::StartsWith(s.message(), "tuning")) {
    return absl::InvalidArgumentError(absl::StrCat("tuning.", s.message()));
  }
  if (!s.ok()) return s;
  return Describe(name, out);
}

grpc::ServerUnaryReactor* AdminService::GetPortal(grpc::CallbackServerContext* context,
                                                  const pb::GetPortalRequest* request,
                                                  pb::GetPortalResponse* response) {
  return Run(context, [&] { return Describe(request->portal(), response->mutable_portal()); });
}

grpc::ServerUnaryReactor* AdminService::GetEventStatus(grpc::CallbackServerContext* context,
                                                       const pb::GetEventStatusRequest* request,
                                                       pb::GetEventStatusResponse* response) {
  auto* reactor = context->DefaultReactor();
  absl::Status s = Admit(context);
  if (s.ok() && !events_) s = absl::UnimplementedError("this gateway serves no events");
  if (!s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  auto describe = [this, request, response] {
    return DescribeEvents(*gateway_, *events_->bindings, *events_->ledger, events_->redis_lag,
                          request->portal(), response);
  };
  // Without Redis the answer is in memory: at once, on this thread.
  if (events_->redis_lag == nullptr) {
    reactor->Finish(ToGrpcStatus(describe()));
    return reactor;
  }
  // Redis: off gRPC's callback threads, a few at a time; the request and
  // response live until Finish.
  FinishOn(event_status_reads_.get(), reactor, describe, "event status reads");
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::AddPortal(grpc::CallbackServerContext* context,
                                                  const pb::AddPortalRequest* request,
                                                  pb::AddPortalResponse* response) {
  return RunWrite(context, [this, request, response]() -> absl::Status {
    PortalRecord record;
    record.name = request->name();
    record.member_id = request->member_id();
    record.domain = request->domain();
    record.plan = request->plan();
    SetCredentials(request->credentials(), &record);
    if (absl::Status s = CheckCredentials(record); !s.ok()) return s;
    MergeTuning(request->tuning(), &record.tuning);
    if (request->has_event_bindings()) {
      if (absl::Status s = ReadBindings(request->event_bindings(), &record); !s.ok()) return s;
    }
    if (absl::Status s = gateway_->directory().Add(record); !s.ok()) return s;
    return Describe(record.name, response->mutable_portal());
  });
}

grpc::ServerUnaryReactor* AdminService::UpdatePortal(grpc::CallbackServerContext* context,
                                                     const pb::UpdatePortalRequest* request,
                                                     pb::UpdatePortalResponse* response) {
  return RunWrite(context, [this, request, response]() -> absl::Status {
    std::string name;
    absl::Status s = gateway_->directory().Update(request->portal(), [&](PortalRecord* r) {
      name = r->name;
      if (request->has_credentials()) {
        SetCredentials(request->credentials(), r);
        if (absl::Status bad = CheckCredentials(*r); !bad.ok()) return bad;
      }
      if (request->has_plan()) r->plan = request->plan();
      if (request->reset_tuning()) r->tuning.clear();
      MergeTuning(request->tuning(), &r->tuning);
      if (request->has_event_bindings()) return ReadBindings(request->event_bindings(), r);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return Describe(name, response->mutable_portal());
  });
}

grpc::ServerUnaryReactor* AdminService::RemovePortal(grpc::CallbackServerContext* context,
                                                     const pb::RemovePortalRequest* request,
                                                     pb::RemovePortalResponse*) {
  return RunWrite(context, [this, request] { return gateway_->directory().Remove(request->portal()); });
}

}  // namespace b24gate
