// bitrix24.gateway.v1.AdminService: portal state, run-time speed control,
// portals added, changed and removed at run time (PortalDirectory), and the
// event bindings and consumers' lag (event_status.h). Answers
// from engine state and the portal registry; never calls Bitrix24. Secrets
// given (webhooks, tokens, client secrets) are never returned.
//
// The calls that write the portal registry (AddPortal, UpdatePortal,
// RemovePortal, a registered portal's UpdatePortalTuning: a file synced to
// disk, or a Redis round trip, each up to its timeouts) and GetEventStatus
// with Redis run on a BlockingPool and finish the RPC from its thread:
// never on gRPC's callback threads, which every RPC shares, so a slow disk
// or Redis holds up only the calls that wait on it. Each kind is a
// BlockingLane of a few at a time; one more is answered UNAVAILABLE at
// once.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_ADMIN_SERVICE_H_
#define B24GATE_SERVICE_ADMIN_SERVICE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "engine/common/blocking_lane.h"
#include "engine/common/blocking_pool.h"
#include "engine/events/event_ledger.h"
#include "engine/events/redis_event_lag.h"
#include "engine/gateway/gateway.h"
#include "service/auth/access_control.h"
#include "service/event_bindings.h"

namespace b24gate {

// The proto views of the engine's lists, filled by field name from the
// X-macro stat lists (portal_stats.h) and the tuning table (tuning_fields.h).
void FillStatus(const PortalStats& stats, bitrix24::gateway::v1::PortalStatus* status);
void FillTuning(const PortalTuning& tuning, bitrix24::gateway::v1::PortalTuning* out);
// Applies the fields set in `in` over `tuning`.
void MergeTuning(const bitrix24::gateway::v1::PortalTuning& in, PortalTuning* tuning);
// The fields set in `in`, by name, over `tuning` (a registered portal's
// record keeps them so).
void MergeTuning(const bitrix24::gateway::v1::PortalTuning& in,
                 std::map<std::string, double>* tuning);

class AdminService final : public bitrix24::gateway::v1::AdminService::CallbackService {
 public:
  // What the events side reports (GetEventStatus).
  struct Events {
    const EventBindings* bindings;
    const EventLedger* ledger;
    // With --redis: the online groups' lag across the replicas; else null.
    // Read (a SCAN and a script per portal) on the blocking pool.
    RedisEventLag* redis_lag = nullptr;
  };
  // GetEventStatus calls reading Redis at a time (waiting or running);
  // more are answered UNAVAILABLE at once.
  static constexpr int kMaxEventStatusReads = 4;
  // Calls writing the portal registry at a time (waiting or running); more
  // are answered UNAVAILABLE at once. Writes of one portal take turns
  // (PortalDirectory), so a few cover an operator's script.
  static constexpr int kMaxRegistryWrites = 4;

  // Everything given must outlive the service, `blocking` its jobs too;
  // `access` null: no client authentication. With clients configured, only
  // clients with the `admin` role may call it. `events` unset:
  // GetEventStatus is UNIMPLEMENTED. `blocking` null: the registry writes
  // and Redis reads run on the calling thread (tests that need neither).
  explicit AdminService(Gateway* gateway, const AccessControl* access = nullptr,
                        std::optional<Events> events = std::nullopt, BlockingPool* blocking = nullptr)
      : gateway_(gateway),
        access_(access),
        events_(events),
        event_status_reads_(blocking ? std::make_unique<BlockingLane>(blocking, kMaxEventStatusReads) : nullptr),
        registry_writes_(blocking ? std::make_unique<BlockingLane>(blocking, kMaxRegistryWrites) : nullptr) {}

  grpc::ServerUnaryReactor* ListPortals(grpc::CallbackServerContext* context,
                                        const bitrix24::gateway::v1::ListPortalsRequest* request,
                                        bitrix24::gateway::v1::ListPortalsResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePortalTuning(
      grpc::CallbackServerContext* context,
      const bitrix24::gateway::v1::UpdatePortalTuningRequest* request,
      bitrix24::gateway::v1::UpdatePortalTuningResponse* response) override;
  grpc::ServerUnaryReactor* GetPortal(grpc::CallbackServerContext* context,
                                      const bitrix24::gateway::v1::GetPortalRequest* request,
                                      bitrix24::gateway::v1::GetPortalResponse* response) override;
  grpc::ServerUnaryReactor* AddPortal(grpc::CallbackServerContext* context,
                                      const bitrix24::gateway::v1::AddPortalRequest* request,
                                      bitrix24::gateway::v1::AddPortalResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePortal(grpc::CallbackServerContext* context,
                                         const bitrix24::gateway::v1::UpdatePortalRequest* request,
                                         bitrix24::gateway::v1::UpdatePortalResponse* response) override;
  grpc::ServerUnaryReactor* RemovePortal(grpc::CallbackServerContext* context,
                                         const bitrix24::gateway::v1::RemovePortalRequest* request,
                                         bitrix24::gateway::v1::RemovePortalResponse* response) override;
  grpc::ServerUnaryReactor* GetEventStatus(grpc::CallbackServerContext* context,
                                           const bitrix24::gateway::v1::GetEventStatusRequest* request,
                                           bitrix24::gateway::v1::GetEventStatusResponse* response) override;

 private:
  // OK when the caller may use this service; UNAUTHENTICATED or
  // PERMISSION_DENIED otherwise.
  absl::Status Admit(grpc::CallbackServerContext* context) const;
  // Admits the caller, runs `work`, and finishes the RPC with its status.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                                const std::function<absl::Status()>& work) const;
  // Run, with `work` (a registry write) on the registry_writes_ lane. `work`
  // runs after the handler returned: it captures by value what it uses
  // (the request and response live until Finish).
  grpc::ServerUnaryReactor* RunWrite(grpc::CallbackServerContext* context, std::function<absl::Status()> work);
  // Finishes `reactor` with `work`'s status, run on `lane` (null: here, at
  // once); UNAVAILABLE naming `what` when the lane is full.
  static void FinishOn(BlockingLane* lane, grpc::ServerUnaryReactor* reactor,
                       std::function<absl::Status()> work, const std::string& what);
  // The state of portal `key` (name, member_id or domain) into `out`.
  absl::Status Describe(const std::string& key, bitrix24::gateway::v1::PortalState* out) const;
  // The event bindings given for a portal into its record. INVALID_ARGUMENT
  // naming the field.
  absl::Status ReadBindings(const bitrix24::gateway::v1::PortalEventBindings& in, PortalRecord* record) const;
  // UpdatePortalTuning of a registered portal: through its record.
  absl::Status TuneRegistered(const bitrix24::gateway::v1::UpdatePortalTuningRequest* request,
                              bitrix24::gateway::v1::PortalState* out) const;
  // UpdatePortalTuning of a configured portal: in memory only.
  absl::Status TuneConfigured(Portal& portal, const bitrix24::gateway::v1::UpdatePortalTuningRequest& request,
                              bitrix24::gateway::v1::PortalState* out) const;

  Gateway* const gateway_;
  const AccessControl* const access_;
  const std::optional<Events> events_;
  // GetEventStatus's reads of Redis, and the registry writes; null without
  // a pool.
  const std::unique_ptr<BlockingLane> event_status_reads_;
  const std::unique_ptr<BlockingLane> registry_writes_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_ADMIN_SERVICE_H_
