// bitrix24.gateway.v1.FilesService on the gRPC callback API: one reactor per
// RPC between the gRPC stream and a BytePipe that the engine's FileGateway
// streams to or from the portal. Flow control end to end: an upload's next
// message is read only when the pipe has room, and a download's next chunk
// is written only when the client took the last one, so a slow side holds
// the other back and memory stays at a pipe's capacity per transfer. No
// thread waits: reactors are woken by the pipe.
//
// Every RPC first identifies its caller (AccessControl::Admit), like
// GatewayService; the engine's per-command check then sees
// disk.folder.uploadfile / disk.storage.uploadfile / disk.file.get /
// disk.attachedObject.get, or for a record's file field crm.<entity>.update
// and crm.<entity>.get.
//
// An upload whose first message has not come `stall_timeout` after the call
// opened is refused (DEADLINE_EXCEEDED, reason NOT_EXECUTED: nothing was
// sent to the portal); from its header on, the transfer's own stall check
// (FileGatewayOptions::stall_timeout) bounds it. The bound is one entry in
// a shared PollTimer per call, not a thread, cancelled once the header came
// or the call ended.
//
// Thread-safety: thread-safe (gRPC calls it from many threads).
#ifndef B24GATE_SERVICE_FILES_SERVICE_H_
#define B24GATE_SERVICE_FILES_SERVICE_H_

#include <cstdint>
#include <string>

#include "bitrix24/gateway/v1/files.grpc.pb.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/events/poll_timer.h"
#include "engine/files/file_gateway.h"
#include "service/auth/access_control.h"
#include "service/metrics/file_metrics.h"

namespace b24gate {

struct FilesServiceOptions {
  // Times the wait for an upload's first message; null: it is not bounded
  // (the client's deadline is).
  PollTimer* timer = nullptr;
  absl::Duration stall_timeout = absl::Seconds(60);
};

class FilesService final : public bitrix24::gateway::v1::FilesService::CallbackService {
 public:
  // `files`, `access` (null: every call anonymous), `metrics` (null: none)
  // and `options.timer` must outlive the service.
  FilesService(FileGateway* files, const AccessControl* access, FileMetrics* metrics,
               FilesServiceOptions options = {})
      : files_(files), access_(access), metrics_(metrics), options_(options) {}

  grpc::ServerReadReactor<bitrix24::gateway::v1::UploadFileRequest>* UploadFile(
      grpc::CallbackServerContext* context,
      bitrix24::gateway::v1::UploadFileResponse* response) override;
  grpc::ServerWriteReactor<bitrix24::gateway::v1::DownloadFileResponse>* DownloadFile(
      grpc::CallbackServerContext* context,
      const bitrix24::gateway::v1::DownloadFileRequest* request) override;

 private:
  FileGateway* const files_;
  const AccessControl* const access_;
  FileMetrics* const metrics_;
  const FilesServiceOptions options_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_FILES_SERVICE_H_
