#include "service/admin_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/strings/str_cat.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/tuning_fields.h"
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

void MergeTuning(const pb::PortalTuning& in, PortalTuning* t) {
  const google::protobuf::Reflection* r = in.GetReflection();
  for (const TuningField& field : TuningFields()) {
    const google::protobuf::FieldDescriptor* f = in.GetDescriptor()->FindFieldByName(field.name);
    if (f == nullptr || !r->HasField(in, f)) continue;
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
        field.set(t, r->GetDouble(in, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
        field.set(t, r->GetInt32(in, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        field.set(t, static_cast<double>(r->GetInt64(in, f)));
        break;
      default:
        break;
    }
  }
}

namespace {

void FillState(Portal& portal, pb::PortalState* out) {
  out->set_name(portal.name());
  FillTuning(portal.Tuning(), out->mutable_tuning());
  FillStatus(portal.Stats(), out->mutable_status());
}

}  // namespace

absl::Status AdminService::Admit(grpc::CallbackServerContext* context) const {
  if (access_ == nullptr) return absl::OkStatus();
  absl::StatusOr<const ClientSpec*> client = access_->Admit(*context);
  if (!client.ok()) return client.status();
  return access_->AuthorizeAdmin(*client);
}

grpc::ServerUnaryReactor* AdminService::ListPortals(grpc::CallbackServerContext* context,
                                                    const pb::ListPortalsRequest*,
                                                    pb::ListPortalsResponse* response) {
  if (absl::Status s = Admit(context); !s.ok()) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  for (const auto& portal : gateway_->portals()) FillState(*portal, response->add_portals());
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::UpdatePortalTuning(
    grpc::CallbackServerContext* context, const pb::UpdatePortalTuningRequest* request,
    pb::UpdatePortalTuningResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (absl::Status s = Admit(context); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  absl::StatusOr<std::shared_ptr<Portal>> portal = gateway_->FindPortal(request->portal());
  if (!portal.ok()) {
    reactor->Finish(ToGrpcStatus(portal.status()));
    return reactor;
  }
  PortalTuning tuning = request->reset() ? TuningOf((*portal)->options()) : (*portal)->Tuning();
  MergeTuning(request->tuning(), &tuning);
  if (absl::Status s = (*portal)->Tune(tuning); !s.ok()) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat("tuning.", s.message()))));
    return reactor;
  }
  FillState(**portal, response->mutable_portal());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace b24gate
