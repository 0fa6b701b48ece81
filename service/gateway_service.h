// bitrix24.gateway.v1.GatewayService on the gRPC callback API: one small
// reactor per RPC that translates between protobuf messages and the engine's
// Gateway (which validates and does the work), maps statuses, and writes.
// The streaming RPCs share one writer (stream_writer.h). No thread waits on
// Bitrix24: every RPC completes from an engine callback.
//
// Every RPC first identifies its caller (AccessControl::Admit): refused
// UNAUTHENTICATED, or run with the caller's name as CallOptions::client_id,
// which the engine's per-command check (GatewayOptions::authorize) reads.
//
// Thread-safety: thread-safe (gRPC calls it from many threads).
#ifndef B24GATE_SERVICE_GATEWAY_SERVICE_H_
#define B24GATE_SERVICE_GATEWAY_SERVICE_H_

#include "bitrix24/gateway/v1/gateway.grpc.pb.h"
#include "absl/status/statusor.h"
#include "engine/gateway/gateway.h"
#include "service/auth/access_control.h"

namespace b24gate {

class GatewayService final : public bitrix24::gateway::v1::GatewayService::CallbackService {
 public:
  // `gateway` and `access` must outlive the service; `access` null: every
  // call is anonymous.
  explicit GatewayService(Gateway* gateway, const AccessControl* access = nullptr)
      : gateway_(gateway), access_(access) {}

  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context,
                                 const bitrix24::gateway::v1::CallRequest* request,
                                 bitrix24::gateway::v1::CallResponse* response) override;
  grpc::ServerUnaryReactor* CallBatch(grpc::CallbackServerContext* context,
                                      const bitrix24::gateway::v1::CallBatchRequest* request,
                                      bitrix24::gateway::v1::CallBatchResponse* response) override;
  grpc::ServerWriteReactor<bitrix24::gateway::v1::GetAllResponse>* GetAll(
      grpc::CallbackServerContext* context,
      const bitrix24::gateway::v1::GetAllRequest* request) override;
  grpc::ServerWriteReactor<bitrix24::gateway::v1::GetByIdResponse>* GetById(
      grpc::CallbackServerContext* context,
      const bitrix24::gateway::v1::GetByIdRequest* request) override;
  grpc::ServerWriteReactor<bitrix24::gateway::v1::CallManyResponse>* CallMany(
      grpc::CallbackServerContext* context,
      const bitrix24::gateway::v1::CallManyRequest* request) override;

 private:
  Gateway* const gateway_;
  const AccessControl* const access_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_GATEWAY_SERVICE_H_
