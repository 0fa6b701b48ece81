#include "engine/files/file_gateway.h"

#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/bitrix/bitrix_response.h"
#include "engine/common/errors.h"
#include "engine/files/multipart.h"
#include "engine/http/redirect_policy.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

std::string RandomBoundary() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("b24gate%016x%016x", rng(), rng());
}

absl::Status BadAnswer(absl::string_view what) {
  return GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse, what);
}

// A form field name as the portal names it: a plain token, so it cannot
// break out of the part's header.
bool IsFieldToken(const std::string& field) {
  if (field.empty() || field.size() > 64) return false;
  for (char c : field) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '[' && c != ']') return false;
  }
  return true;
}

// `object` without DOWNLOAD_URL: it carries the portal's credentials.
OJson WithoutCredentials(OJson object) {
  if (object.is_object()) object.erase("DOWNLOAD_URL");
  return object;
}

// The portal's answer to the POST (or to a download that got no body).
absl::StatusOr<OJson> AnswerOf(const StreamResult& r) {
  HttpResponse response;
  response.status = r.status;
  response.body = r.answer;
  absl::StatusOr<CommandOutcome> outcome = ParseCallResponse(response);
  if (!outcome.ok()) return outcome.status();
  if (outcome->error) {
    return B24ErrorStatus(outcome->error->code, outcome->error->description,
                          outcome->error->http_status);
  }
  return outcome->reply->result;
}

// What became of an upload's POST, in the terms of the retry classes
// (docs/bitrix24-protocol.md): stored, not stored, or not known.
absl::StatusOr<UploadResult> UploadOutcome(const StreamResult& r) {
  if (r.local_stop == LocalStop::kSizeMismatch) {
    return absl::InvalidArgumentError(absl::StrCat("size: ", r.failure_message,
                                                   "; nothing was stored"));
  }
  if (r.local_stop == LocalStop::kTooLarge) {
    return absl::ResourceExhaustedError(
        absl::StrCat(r.failure_message, " (--max-file-size); nothing was stored"));
  }
  if (r.local_stop == LocalStop::kPipeAborted) {
    return GatewayError(absl::StatusCode::kCancelled, kReasonCancelled,
                        "the upload stream ended early; nothing was stored");
  }
  if (r.local_stop == LocalStop::kStalled && !r.body_complete) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the upload stalled (", r.failure_message,
        ": the caller's stream or the portal stopped); nothing was stored"));
  }
  if (r.failure != TransportFailure::kNone && !r.body_complete) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                        absl::StrCat("the upload failed before its last byte reached the portal (",
                                     r.failure_message, "); nothing was stored"));
  }
  if (r.failure != TransportFailure::kNone || r.status >= 500) {
    return GatewayError(
        absl::StatusCode::kUnavailable, kReasonOutcomeUnknown,
        absl::StrCat("the whole file was sent but the portal's answer was lost (",
                     r.failure != TransportFailure::kNone ? r.failure_message
                                                          : absl::StrCat("HTTP ", r.status),
                     "); the file may have been stored: look before uploading again"));
  }
  absl::StatusOr<OJson> file = AnswerOf(r);
  if (!file.ok()) return file.status();
  if (!file->is_object() || !file->contains("ID")) {
    return BadAnswer("the portal's answer to the upload is not a file object");
  }
  UploadResult result;
  result.file = WithoutCredentials(std::move(*file));
  result.bytes = r.bytes_sent;
  return result;
}

absl::Status DownloadOutcome(const StreamResult& r) {
  if (r.local_stop == LocalStop::kPipeAborted) {
    return GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the download was abandoned");
  }
  if (r.failure != TransportFailure::kNone) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                        absl::StrCat("the download failed after ", r.bytes_received, " bytes (",
                                     r.failure_message, "); resume it from that offset"));
  }
  if (r.status == 200 || r.status == 206) return absl::OkStatus();
  absl::StatusOr<OJson> answer = AnswerOf(r);
  if (!answer.ok()) return answer.status();
  return BadAnswer(absl::StrCat("the portal answered the download with HTTP ", r.status,
                                r.status < 300 ? " (it ignored the requested range)" : ""));
}

// An integer the portal wrote as a number or as decimal text.
int64_t IntField(const OJson& object, const char* name) {
  int64_t value = -1;
  auto it = object.find(name);
  if (it == object.end()) return -1;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &value)) return value;
  return -1;
}

}  // namespace

absl::Status FileGateway::Validate(const UploadSpec& spec) const {
  if ((spec.folder_id > 0) == (spec.storage_id > 0)) {
    return absl::InvalidArgumentError(
        "header.target: exactly one of folder_id and storage_id must be set (a positive id)");
  }
  if (spec.size < -1) return absl::InvalidArgumentError("header.size: must not be negative");
  if (max_file_size_ > 0 && spec.size > max_file_size_) {
    return absl::InvalidArgumentError(absl::StrCat("header.size: ", spec.size,
                                                   " bytes is more than the gateway's maximum of ",
                                                   max_file_size_, " (--max-file-size)"));
  }
  return CheckFileName(spec.name, "header.name");
}

absl::Status FileGateway::Validate(const DownloadSpec& spec) {
  if (spec.file_id < 0 || spec.attached_object_id < 0 ||
      (spec.file_id > 0) == (spec.attached_object_id > 0)) {
    return absl::InvalidArgumentError(
        "file_id, attached_object_id: exactly one must be set (a positive id)");
  }
  if (spec.offset < 0) return absl::InvalidArgumentError("offset: must not be negative");
  return absl::OkStatus();
}

absl::Status FileGateway::PortalTransport(const std::string& portal, StreamRequest* request,
                                          std::string* origin) const {
  absl::StatusOr<std::shared_ptr<Portal>> found = gateway_->FindPortal(portal);
  if (!found.ok()) return found.status();
  request->tls = (*found)->options().tls;
  std::optional<std::string> own = UrlOrigin((*found)->credentials().Current().base_url);
  *origin = own.value_or("");
  return absl::OkStatus();
}

void FileGateway::Upload(UploadSpec spec, CallOptions options, std::shared_ptr<BytePipe> body,
                         UploadDone done) {
  CallSpec call;
  call.portal = spec.portal;
  call.method = spec.folder_id > 0 ? "disk.folder.uploadfile" : "disk.storage.uploadfile";
  call.params = OJson{{"id", spec.folder_id > 0 ? spec.folder_id : spec.storage_id},
                      {"data", {{"NAME", spec.name}}},
                      {"generateUniqueName", spec.generate_unique_name}};
  // Without fileContent the method only hands out an uploadUrl: repeating
  // it creates nothing.
  options.idempotent = true;
  gateway_->Call(std::move(call), std::move(options),
                 [this, spec, body, done](absl::StatusOr<CallReply> reply) {
                   if (!reply.ok()) {
                     body->Abort();
                     return done(reply.status(), 0);
                   }
                   SendUpload(spec, *reply, body, done);
                 });
}

void FileGateway::SendUpload(const UploadSpec& spec, const CallReply& reply,
                             std::shared_ptr<BytePipe> body, UploadDone done) {
  auto fail = [&](absl::Status status) {
    body->Abort();
    done(std::move(status), 0);
  };
  const OJson& result = reply.result;
  if (!result.is_object() || !result.contains("uploadUrl") || !result["uploadUrl"].is_string() ||
      !result.contains("field") || !result["field"].is_string() ||
      !IsFieldToken(result["field"].get<std::string>())) {
    return fail(BadAnswer("the portal's answer names no uploadUrl and form field"));
  }
  StreamRequest request;
  std::string origin;
  if (absl::Status s = PortalTransport(spec.portal, &request, &origin); !s.ok()) return fail(s);
  request.url = result["uploadUrl"].get<std::string>();
  if (UrlOrigin(request.url).value_or("?") != origin) {
    return fail(BadAnswer("the portal's uploadUrl is not on the portal's own origin"));
  }
  const MultipartFraming framing =
      FrameOneFile(result["field"].get<std::string>(), spec.name, RandomBoundary());
  request.upload = body;
  request.head = framing.head;
  request.tail = framing.tail;
  request.upload_size = spec.size;
  if (max_file_size_ > 0) request.max_upload_size = max_file_size_;
  request.content_type = framing.content_type;
  transport_->Start(std::move(request),
                    [done](StreamResult r) { done(UploadOutcome(r), r.bytes_sent); });
}

void FileGateway::Download(DownloadSpec spec, CallOptions options, std::shared_ptr<BytePipe> body,
                           std::function<void(absl::StatusOr<FileInfo>)> ready,
                           std::function<void(absl::Status)> done) {
  CallSpec call;
  call.portal = spec.portal;
  const bool attached = spec.attached_object_id > 0;
  call.method = attached ? "disk.attachedObject.get" : "disk.file.get";
  call.params = OJson{{"id", attached ? spec.attached_object_id : spec.file_id}};
  call.cache = CacheMode::kBypass;  // DOWNLOAD_URL's authorization may not outlive a cache entry
  gateway_->Call(std::move(call), std::move(options), [this, spec, body, ready, done](
                                                          absl::StatusOr<CallReply> reply) {
    auto fail = [&](absl::Status status) {
      body->Abort();
      ready(std::move(status));
    };
    if (!reply.ok()) return fail(reply.status());
    const OJson& file = reply->result;
    if (!file.is_object() || !file.contains("DOWNLOAD_URL") || !file["DOWNLOAD_URL"].is_string()) {
      return fail(BadAnswer("the portal's file object has no DOWNLOAD_URL"));
    }
    StreamRequest request;
    std::string origin;
    if (absl::Status s = PortalTransport(spec.portal, &request, &origin); !s.ok()) return fail(s);
    request.url = file["DOWNLOAD_URL"].get<std::string>();
    if (UrlOrigin(request.url).value_or("?") != origin) {
      return fail(BadAnswer("the portal's DOWNLOAD_URL is not on the portal's own origin"));
    }
    FileInfo info;
    info.name = file.contains("NAME") && file["NAME"].is_string() ? file["NAME"].get<std::string>() : "";
    info.size = IntField(file, "SIZE");
    info.file = WithoutCredentials(file);
    request.download = body;
    request.range_from = spec.offset;
    ready(std::move(info));
    transport_->Start(std::move(request), [done](StreamResult r) { done(DownloadOutcome(r)); });
  });
}

}  // namespace b24gate
