#include "service/admin_service.h"

#include "absl/strings/str_cat.h"
#include "service/status_mapping.h"

namespace b24gate {
namespace {

namespace pb = bitrix24::gateway::v1;

void FillState(Portal& portal, pb::PortalState* out) {
  out->set_name(portal.name());
  PortalTuning t = portal.Tuning();
  pb::PortalTuning* tuning = out->mutable_tuning();
  tuning->set_burst(t.bucket.burst);
  tuning->set_drain_per_second(t.bucket.drain_per_second);
  tuning->set_headroom(t.bucket.headroom);
  tuning->set_operating_limit_seconds(absl::ToDoubleSeconds(t.operating.limit));
  tuning->set_operating_window_seconds(absl::ToDoubleSeconds(t.operating.window));
  tuning->set_operating_margin_seconds(absl::ToDoubleSeconds(t.operating.margin));
  tuning->set_batch_size(t.batch_size);
  tuning->set_max_concurrency(t.max_concurrency);
  tuning->set_linger_ms(absl::ToDoubleMilliseconds(t.linger));
  PortalStats s = portal.Stats();
  pb::PortalStatus* status = out->mutable_status();
  status->set_bucket_level(s.bucket_level);
  status->set_queued(s.queued);
  status->set_in_flight(s.in_flight);
  status->set_concurrency_limit(s.concurrency_limit);
  status->set_rate_factor(s.rate_factor);
  status->set_slowdowns(s.slowdowns);
  status->set_http_requests(s.http_requests);
  status->set_batch_requests(s.batch_requests);
  status->set_commands_sent(s.commands_sent);
  status->set_retries(s.retries);
  status->set_rate_limited(s.rate_limited);
  status->set_operating_blocked(s.operating_blocked);
  status->set_outcome_unknown(s.outcome_unknown);
  status->set_token_refreshes(s.token_refreshes);
  status->set_redirects(s.redirects);
  for (const auto& [method, seconds] : s.operating) {
    (*status->mutable_operating_seconds())[method] = seconds;
  }
}

// Applies the fields set in `in` over `t`.
void Merge(const pb::PortalTuning& in, PortalTuning* t) {
  if (in.has_burst()) t->bucket.burst = in.burst();
  if (in.has_drain_per_second()) t->bucket.drain_per_second = in.drain_per_second();
  if (in.has_headroom()) t->bucket.headroom = in.headroom();
  if (in.has_operating_limit_seconds()) t->operating.limit = absl::Seconds(in.operating_limit_seconds());
  if (in.has_operating_window_seconds()) {
    t->operating.window = absl::Seconds(in.operating_window_seconds());
  }
  if (in.has_operating_margin_seconds()) {
    t->operating.margin = absl::Seconds(in.operating_margin_seconds());
  }
  if (in.has_batch_size()) t->batch_size = in.batch_size();
  if (in.has_max_concurrency()) t->max_concurrency = in.max_concurrency();
  if (in.has_linger_ms()) t->linger = absl::Milliseconds(in.linger_ms());
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::ListPortals(grpc::CallbackServerContext* context,
                                                    const pb::ListPortalsRequest*,
                                                    pb::ListPortalsResponse* response) {
  for (Portal* portal : gateway_->portals()) FillState(*portal, response->add_portals());
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::UpdatePortalTuning(
    grpc::CallbackServerContext* context, const pb::UpdatePortalTuningRequest* request,
    pb::UpdatePortalTuningResponse* response) {
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<Portal*> portal = gateway_->FindPortal(request->portal());
  if (!portal.ok()) {
    reactor->Finish(ToGrpcStatus(portal.status()));
    return reactor;
  }
  PortalTuning tuning = request->reset() ? TuningOf((*portal)->options()) : (*portal)->Tuning();
  Merge(request->tuning(), &tuning);
  if (absl::Status s = (*portal)->Tune(tuning); !s.ok()) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat("tuning.", s.message()))));
    return reactor;
  }
  FillState(**portal, response->mutable_portal());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace b24gate
