// bitrix24.gateway.v1.AdminService: portal state and run-time speed control.
// Answers from engine state only; never calls Bitrix24.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_ADMIN_SERVICE_H_
#define B24GATE_SERVICE_ADMIN_SERVICE_H_

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "engine/gateway/gateway.h"
#include "service/auth/access_control.h"

namespace b24gate {

// The proto views of the engine's lists, filled by field name from the
// X-macro stat lists (portal_stats.h) and the tuning table (tuning_fields.h).
void FillStatus(const PortalStats& stats, bitrix24::gateway::v1::PortalStatus* status);
void FillTuning(const PortalTuning& tuning, bitrix24::gateway::v1::PortalTuning* out);
// Applies the fields set in `in` over `tuning`.
void MergeTuning(const bitrix24::gateway::v1::PortalTuning& in, PortalTuning* tuning);

class AdminService final : public bitrix24::gateway::v1::AdminService::CallbackService {
 public:
  // `gateway` and `access` must outlive the service; `access` null: no
  // client authentication. With clients configured, only clients with the
  // `admin` role may call it.
  explicit AdminService(Gateway* gateway, const AccessControl* access = nullptr)
      : gateway_(gateway), access_(access) {}

  grpc::ServerUnaryReactor* ListPortals(grpc::CallbackServerContext* context,
                                        const bitrix24::gateway::v1::ListPortalsRequest* request,
                                        bitrix24::gateway::v1::ListPortalsResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePortalTuning(
      grpc::CallbackServerContext* context,
      const bitrix24::gateway::v1::UpdatePortalTuningRequest* request,
      bitrix24::gateway::v1::UpdatePortalTuningResponse* response) override;

 private:
  // OK when the caller may use this service; UNAUTHENTICATED or
  // PERMISSION_DENIED otherwise.
  absl::Status Admit(grpc::CallbackServerContext* context) const;

  Gateway* const gateway_;
  const AccessControl* const access_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_ADMIN_SERVICE_H_
