// Drive uploads and downloads of any size through the gateway, in bounded
// memory (README "Files"; the protocol in docs/bitrix24-protocol.md,
// "Files").
//
// Upload: disk.folder.uploadfile (or disk.storage.uploadfile) without file
// content, sent through the portal's queue and throttle like any call,
// answers an uploadUrl and a form field name; the file then goes there as a
// multipart POST whose body is streamed from a BytePipe the caller fills.
// The first step creates nothing and is repeated like a read; the POST
// creates the file and is never sent twice: once any byte of it may have
// reached the portal, a failure is reported as UNAVAILABLE with reason
// OUTCOME_UNKNOWN (the file may exist), not retried.
//
// Download: disk.file.get, or disk.attachedObject.get for an attached
// object (a read, through the queue), gives NAME, SIZE and DOWNLOAD_URL,
// which carries its own authorization; its body is streamed into a BytePipe
// the caller drains, following up to 3 redirects (an attachment's link,
// uf.php, redirects to the file's; a cloud portal's may go to a storage host),
// never from https to plain http (DecideDownloadRedirect): that one fails
// the download UNAVAILABLE / TRANSPORT_ERROR, as a refused call redirect.
//
// Both byte transfers run on a StreamTransport, which bounds how many run at
// once; they do not count against the portal's request rate (the portal's
// limits are on REST calls). The URLs the portal hands out must be on the
// portal's own origin: bytes and the URL's credentials go nowhere else.
//
// A file for a CRM record's field (record_file.h) is one REST call,
// crm.<entity>.update with {"fileData": [name, base64]}: it waits in the
// portal's queue and takes its bucket slot like any call, and when its turn
// comes its body is streamed (CallOptions::send_streamed), the file's
// bytes base64-encoded on the way into the JSON, on the StreamTransport.
// It is sent once: a write whose body is gone cannot be repeated. The
// answer is the field's value, read back with crm.<entity>.get. Appending
// to a multiple field reads the field first: the update lists the ids of
// its files ({"id": N}) before the new one, as the portal deletes the
// files an update does not name. Its
// download reads that value again and streams its link (following the
// portal's redirects).
//
// Thread-safety: thread-safe. Callbacks run on engine threads, never inline
// in the call that starts the work.
#ifndef B24GATE_ENGINE_FILES_FILE_GATEWAY_H_
#define B24GATE_ENGINE_FILES_FILE_GATEWAY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/files/byte_pipe.h"
#include "engine/files/drive_rights.h"
#include "engine/files/record_file.h"
#include "engine/files/stream_transport.h"
#include "engine/gateway/gateway.h"

namespace b24gate {

struct UploadSpec {
  std::string portal;  // "" = the default portal
  // Exactly one target: a folder or storage (> 0), or a record's field.
  int64_t folder_id = 0;
  int64_t storage_id = 0;
  RecordField record;
  std::string name;
  bool generate_unique_name = false;
  // Bytes the caller will send; -1 when not known in advance.
  int64_t size = -1;
  // A folder or storage only: the file's access rights and media type
  // ("" : application/octet-stream).
  std::vector<DriveRight> rights;
  std::string content_type;
};

struct DownloadSpec {
  std::string portal;
  // Exactly one is set: a Drive file (disk.file.get) or a file's
  // attachment to a record (disk.attachedObject.get), both > 0, or the file
  // in a record's field (crm.<entity>.get).
  int64_t file_id = 0;
  int64_t attached_object_id = 0;
  RecordField record;
  int64_t offset = 0;  // resume from this byte
};

// What disk.file.get says of a file, without DOWNLOAD_URL (it carries the
// portal's credentials, which stay in the gateway).
struct FileInfo {
  std::string name;
  int64_t size = -1;
  nlohmann::ordered_json file;
  std::string content_type;  // as the portal serves the bytes; "" when it names none
};

struct UploadResult {
  // The new file's object, without DOWNLOAD_URL; for a record's field, the
  // field's value (id, showUrl, downloadUrl) without the links' auth.
  nlohmann::ordered_json file;
  int64_t bytes = 0;            // bytes sent to the portal
};

struct FileGatewayOptions {
  // An upload of more than this many bytes (0: no limit) is refused:
  // INVALID_ARGUMENT before anything is sent when its declared size is
  // larger, RESOURCE_EXHAUSTED (nothing stored) once its stream passes it.
  int64_t max_file_size = 0;
  // A transfer in which no byte moves this long fails (StreamRequest's
  // stall_timeout); an upload cut short that way stored nothing and is
  // DEADLINE_EXCEEDED with reason NOT_EXECUTED.
  absl::Duration stall_timeout = absl::Seconds(60);
};

class FileGateway {
 public:
  // `gateway` and `transport` must outlive it.
  FileGateway(Gateway* gateway, StreamTransport* transport, FileGatewayOptions options = {})
      : gateway_(gateway), transport_(transport), options_(options) {}

  // Checks `spec` (INVALID_ARGUMENT naming the field, before anything is
  // sent); nothing else happens on an error.
  absl::Status Validate(const UploadSpec& spec) const;

  // Runs both steps (or, for a record's field, the one update), the body
  // read from `body` (which the caller closes at the end or aborts). `done` runs once, with the outcome and
  // the bytes of the file handed to the portal's connection (also when it
  // failed). On any failure `body` is aborted, so the caller stops filling
  // it. REQUIRES: Validate(spec).ok().
  using UploadDone = std::function<void(absl::StatusOr<UploadResult>, int64_t bytes_sent)>;
  void Upload(UploadSpec spec, CallOptions options, std::shared_ptr<BytePipe> body,
              UploadDone done);

  // Checks `spec` (INVALID_ARGUMENT naming the field).
  static absl::Status Validate(const DownloadSpec& spec);

  // Resolves the file, then streams its body (from spec.offset) into
  // `body`. `ready` runs once: the file's info (with the Content-Type the
  // portal answered) when its body begins, before any byte, or the error
  // (then nothing else runs). After a successful `ready`, `done` runs once
  // when the transfer ended; `body` is then closed (whole) or aborted.
  // REQUIRES: Validate(spec).ok().
  void Download(DownloadSpec spec, CallOptions options, std::shared_ptr<BytePipe> body,
                std::function<void(absl::StatusOr<FileInfo>)> ready,
                std::function<void(absl::Status)> done);

 private:
  // The portal's TLS settings and origin, or NOT_FOUND for an unknown one.
  absl::Status PortalTransport(const std::string& portal, StreamRequest* request,
                               std::string* origin) const;
  void SendUpload(const UploadSpec& spec, const CallReply& reply, std::shared_ptr<BytePipe> body,
                  UploadDone done);
  // A record's field: for an append, the field's file ids read first; the
  // update through the portal's queue, its body streamed by SendToField;
  // then the field's value read back.
  struct FieldAttempt;
  void UploadToField(UploadSpec spec, CallOptions options, std::shared_ptr<BytePipe> body,
                     UploadDone done);
  void UpdateField(const std::shared_ptr<FieldAttempt>& attempt, CallOptions options,
                   UploadDone done);
  void SendToField(const std::shared_ptr<FieldAttempt>& attempt, HttpRequest request,
                   HttpTransport::Callback done);
  void ReadBackField(const std::shared_ptr<FieldAttempt>& attempt, UploadDone done);
  // The link of a record's file, once its value was read.
  void DownloadRecordFile(const DownloadSpec& spec, const nlohmann::ordered_json& record,
                          std::shared_ptr<BytePipe> body,
                          std::function<void(absl::StatusOr<FileInfo>)> ready,
                          std::function<void(absl::Status)> done);
  // Streams `url` (a path: on the portal's origin) into `body`: `info`
  // goes to `ready` first. A URL off the portal's origin is BAD_RESPONSE.
  void StartDownload(const DownloadSpec& spec, std::string url, int max_redirects, FileInfo info,
                     std::shared_ptr<BytePipe> body,
                     std::function<void(absl::StatusOr<FileInfo>)> ready,
                     std::function<void(absl::Status)> done);

  Gateway* const gateway_;
  StreamTransport* const transport_;
  const FileGatewayOptions options_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_FILE_GATEWAY_H_
