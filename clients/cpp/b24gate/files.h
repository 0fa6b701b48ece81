// FilesService for C++: uploads from a path or std::istream and downloads
// into a path or std::ostream, a chunk at a time, so neither side holds a
// whole file; into and out of a Drive folder or a CRM record's file field.
//
//   b24gate::client::Files files(channel);
//   b24gate::client::UploadOptions into;
//   into.folder_id = 17;
//   auto up = files.UploadFile("scan.pdf", into);
//   if (up.ok()) files.DownloadFile(std::stoll(up.value().file["ID"].get<std::string>()), "copy.pdf");
//
// The gateway computes SHA-256 while it streams, of an upload's bytes as
// they arrived and of a download's as they left; both helpers hash the same
// bytes here (sha256.h, no crypto library needed) and fail with
// CHECKSUM_MISMATCH (DATA_LOSS) when the two differ.
//
// Thread-safety: a Files may be used from several threads at once.
#ifndef B24GATE_CLIENTS_CPP_B24GATE_FILES_H_
#define B24GATE_CLIENTS_CPP_B24GATE_FILES_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "bitrix24/gateway/v1/files.grpc.pb.h"
#include "client.h"
#include "sha256.h"

namespace b24gate::client {

// A file field of one CRM record: Upload writes the file into it
// (crm.<entity>.update), Download reads it back (crm.<entity>.get).
struct RecordField {
  std::string entity_type;  // "deal", "lead", "contact", "company", or "item" (crm.item.*)
  int64_t record_id = 0;
  std::string field;  // the field's code, e.g. "UF_CRM_1638795037"
  int32_t index = 0;  // Download from a multiple field: which of its files
  int64_t entity_type_id = 0;  // entity_type "item" only: the record's entityTypeId
  // Upload into a multiple field: add the file to those it holds (else it
  // holds only this one afterwards).
  bool append = false;
};

// An access right on a Drive upload: an access level (disk.rights.getTasks'
// id) for whom the access code names ("U35", "G2", "DR12", "AU", ...).
struct DriveRight {
  int64_t task_id = 0;
  std::string access_code;
};

// Exactly one of folder_id, storage_id and record_field is set.
struct UploadOptions {
  int64_t folder_id = 0;   // a Drive folder (disk.folder.uploadfile)
  int64_t storage_id = 0;  // a storage's root (disk.storage.uploadfile)
  std::optional<RecordField> record_field;  // its value becomes this one file (or gains it: append)
  std::string name;        // UploadFile: default the path's file name
  // Rename to "name (1).ext" when the name is taken, instead of failing.
  bool generate_unique_name = false;
  // A Drive upload only: the file's access rights and media type ("" :
  // application/octet-stream).
  std::vector<DriveRight> rights;
  std::string content_type;
  // The bytes the stream will give, when known (UploadFile: the file's
  // size): the gateway refuses another length and stores nothing.
  std::optional<int64_t> size;
  size_t chunk_size = 1 << 20;  // bytes per message
  std::function<void(int64_t sent)> progress;  // after each chunk
  std::chrono::milliseconds timeout{0};  // 0 = the service config's deadline
};

struct UploadResult {
  Json file;  // Bitrix24's file object (ID, NAME, SIZE, ...); for a record's field, its value
  int64_t size = 0;
  std::string sha256;  // the gateway's, of the bytes it received (hex)
};

struct DownloadOptions {
  int64_t offset = 0;  // resume from this byte (DownloadFile: the file is cut there and continued)
  // The file in a CRM record's file field instead of a Drive file (file_id 0).
  std::optional<RecordField> record_field;
  // The file of an attached object (a file's attachment to a task, comment
  // or other record, as the record lists it) instead of a Drive file
  // (file_id 0).
  int64_t attached_object_id = 0;
  std::function<void(int64_t written, int64_t total)> progress;  // total -1: unknown
  std::chrono::milliseconds timeout{0};
};

struct DownloadResult {
  std::string name;
  int64_t size = -1;  // the whole file's size; -1 when the portal did not say
  Json file;
  int64_t written = 0;
  std::string content_type;  // as the portal serves the file
  // The gateway's SHA-256 (hex) of the bytes written (for a resumed
  // download, those from the offset on), checked against them; "" from a
  // gateway that predates it.
  std::string sha256;
};

class Files {
 public:
  explicit Files(std::shared_ptr<grpc::Channel> channel, Options options = {})
      : stub_(bitrix24::gateway::v1::FilesService::NewStub(channel)), options_(std::move(options)) {}

  Outcome<UploadResult> UploadFile(const std::string& path, UploadOptions options) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return Error{"NOT_FOUND", "cannot open " + path, grpc::StatusCode::NOT_FOUND, "", {}};
    if (!options.size) options.size = static_cast<int64_t>(in.tellg());
    in.seekg(0);
    if (options.name.empty()) options.name = path.substr(path.find_last_of('/') + 1);
    return Upload(in, options);
  }

  // Streams `in` to its end into the Drive or a record's field (FilesService.UploadFile).
  Outcome<UploadResult> Upload(std::istream& in, const UploadOptions& options) {
    if ((options.folder_id != 0) + (options.storage_id != 0) + options.record_field.has_value() != 1) {
      return Error{"INVALID_ARGUMENT", "set exactly one of folder_id, storage_id and record_field",
                   grpc::StatusCode::INVALID_ARGUMENT, "", {}};
    }
    grpc::ClientContext context;
    internal::Prepare(&context, options.timeout, options_);
    bitrix24::gateway::v1::UploadFileResponse response;
    auto writer = stub_->UploadFile(&context, &response);
    bitrix24::gateway::v1::UploadFileRequest request;
    auto* header = request.mutable_header();
    header->set_portal(options_.portal);
    if (options.folder_id != 0) header->set_folder_id(options.folder_id);
    if (options.storage_id != 0) header->set_storage_id(options.storage_id);
    if (options.record_field) *header->mutable_record_field() = ToProto(*options.record_field);
    header->set_name(options.name);
    header->set_generate_unique_name(options.generate_unique_name);
    if (options.size) header->set_size(*options.size);
    for (const DriveRight& right : options.rights) {
      auto* r = header->add_rights();
      r->set_task_id(right.task_id);
      r->set_access_code(right.access_code);
    }
    header->set_content_type(options.content_type);
    bool open = writer->Write(request);
    std::vector<char> buffer(options.chunk_size);
    int64_t sent = 0;
    Sha256 hash;
    while (open && in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      if (in.gcount() == 0) break;
      hash.Update(buffer.data(), static_cast<size_t>(in.gcount()));
      request.set_chunk(buffer.data(), static_cast<size_t>(in.gcount()));
      open = writer->Write(request);
      sent += in.gcount();
      if (open && options.progress) options.progress(sent);
    }
    if (in.bad()) {
      context.TryCancel();  // a source that failed: the gateway stores nothing
      writer->Finish();
      return Error{"DATA_LOSS", "reading the upload's source failed", grpc::StatusCode::DATA_LOSS, "", {}};
    }
    if (open) writer->WritesDone();
    grpc::Status status = writer->Finish();  // the gateway's reason when a write failed
    if (!status.ok()) return internal::FromStatus(status);
    if (response.sha256() != hash.HexDigest()) {
      return Error{"CHECKSUM_MISMATCH", "the gateway's SHA-256 of the upload differs from what was sent",
                   grpc::StatusCode::DATA_LOSS, "", {}};
    }
    return UploadResult{StructJson(response.file()), response.size(), response.sha256()};
  }

  Outcome<DownloadResult> DownloadFile(int64_t file_id, const std::string& path,
                                       const DownloadOptions& options = {}) {
    if (std::optional<Error> wrong = TargetError(file_id, options)) return *wrong;  // before the file is cut
    std::fstream out;
    std::error_code cut;
    if (options.offset > 0) {
      std::filesystem::resize_file(path, static_cast<uintmax_t>(options.offset), cut);
      out.open(path, std::ios::binary | std::ios::in | std::ios::out);
      out.seekp(options.offset);
    } else {
      out.open(path, std::ios::binary | std::ios::out | std::ios::trunc);
    }
    if (cut || !out) return Error{"NOT_FOUND", "cannot open " + path, grpc::StatusCode::NOT_FOUND, "", {}};
    return Download(file_id, out, options);
  }

  // Streams a Drive file (FilesService.DownloadFile) into `out`; with
  // options.record_field (file_id 0), the file in that record's field; with
  // options.attached_object_id (file_id 0), that attached object's file.
  // Exactly one of the three is set (INVALID_ARGUMENT otherwise). The
  // bytes are checked against the gateway's count and SHA-256 of what it
  // sent: CHECKSUM_MISMATCH (DATA_LOSS) when they differ.
  Outcome<DownloadResult> Download(int64_t file_id, std::ostream& out, const DownloadOptions& options = {}) {
    if (std::optional<Error> wrong = TargetError(file_id, options)) return *wrong;
    bitrix24::gateway::v1::DownloadFileRequest request;
    request.set_portal(options_.portal);
    request.set_file_id(file_id);
    request.set_attached_object_id(options.attached_object_id);
    request.set_offset(options.offset);
    if (options.record_field) *request.mutable_record_field() = ToProto(*options.record_field);
    grpc::ClientContext context;
    internal::Prepare(&context, options.timeout, options_);
    auto reader = stub_->DownloadFile(&context, request);
    DownloadResult result;
    Sha256 hash;
    std::optional<bitrix24::gateway::v1::DownloadFileSummary> summary;
    bitrix24::gateway::v1::DownloadFileResponse message;
    while (reader->Read(&message)) {
      if (message.has_header()) {
        result.name = message.header().name();
        result.size = message.header().size();
        result.file = StructJson(message.header().file());
        result.content_type = message.header().content_type();
        continue;
      }
      if (message.has_summary()) {
        summary = message.summary();
        continue;
      }
      hash.Update(message.chunk());
      out.write(message.chunk().data(), static_cast<std::streamsize>(message.chunk().size()));
      if (!out) {
        context.TryCancel();
        reader->Finish();
        return Error{"DATA_LOSS", "writing the download failed", grpc::StatusCode::DATA_LOSS, "", {}};
      }
      result.written += static_cast<int64_t>(message.chunk().size());
      if (options.progress) options.progress(result.written, result.size);
    }
    grpc::Status status = reader->Finish();
    if (!status.ok()) return internal::FromStatus(status);
    if (summary) {
      const std::string received = hash.HexDigest();
      if (summary->sha256() != received || summary->size() != result.written) {
        return Error{"CHECKSUM_MISMATCH",
                     "the bytes received (" + std::to_string(result.written) + ", SHA-256 " + received +
                         ") differ from those the gateway sent (" + std::to_string(summary->size()) +
                         ", SHA-256 " + summary->sha256() + ")",
                     grpc::StatusCode::DATA_LOSS, "", {}};
      }
      result.sha256 = summary->sha256();
    }
    return result;
  }

 private:
  // INVALID_ARGUMENT unless exactly one of file_id, record_field and
  // attached_object_id names the file to download.
  static std::optional<Error> TargetError(int64_t file_id, const DownloadOptions& options) {
    if ((file_id != 0) + (options.attached_object_id != 0) + options.record_field.has_value() == 1) {
      return std::nullopt;
    }
    return Error{"INVALID_ARGUMENT", "set exactly one of file_id, attached_object_id and record_field",
                 grpc::StatusCode::INVALID_ARGUMENT, "", {}};
  }

  static bitrix24::gateway::v1::RecordFileField ToProto(const RecordField& f) {
    bitrix24::gateway::v1::RecordFileField out;
    out.set_entity_type(f.entity_type);
    out.set_record_id(f.record_id);
    out.set_field(f.field);
    out.set_index(f.index);
    out.set_entity_type_id(f.entity_type_id);
    out.set_append(f.append);
    return out;
  }

  static Json StructJson(const google::protobuf::Struct& s) {
    google::protobuf::Value value;
    *value.mutable_struct_value() = s;
    return internal::ToJson(value);
  }

  std::unique_ptr<bitrix24::gateway::v1::FilesService::Stub> stub_;
  Options options_;
};

}  // namespace b24gate::client

#endif  // B24GATE_CLIENTS_CPP_B24GATE_FILES_H_
