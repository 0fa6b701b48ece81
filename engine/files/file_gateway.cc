#include "engine/files/file_gateway.h"

#include <optional>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

absl::Status OutcomeUnknown(absl::string_view why) {
  return GatewayError(
      absl::StatusCode::kUnavailable, kReasonOutcomeUnknown,
      absl::StrCat("the whole file was sent but the portal's answer was lost (", why,
                   "); the file may have been stored: look before uploading again"));
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

// The web server in front of a portal refused the request as larger than it
// takes (HTTP 413, before the portal saw it): the docs cap a cloud portal's
// POST at 2 GB; a self-hosted portal's is its server's setting. A field's
// value is base64, a third larger than the file. The same request will
// never fit: not retried, by the gateway or (RESOURCE_EXHAUSTED) a client.
absl::Status PortalTooLarge(const StreamResult& r) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the portal refused the upload as too large (HTTP 413 after ", r.bytes_sent,
      " bytes of the file: a portal's web server caps a request's size, 2 GB on a cloud "
      "Bitrix24, the server's own setting on a self-hosted one; a record field's base64 is a "
      "third larger than the file); nothing was stored"));
}

// What became of an upload whose transfer failed, in the terms of the
// retry classes (docs/bitrix24-protocol.md): nothing stored, or not known.
// Nullopt when the transfer got an answer other than a 413.
std::optional<absl::Status> TransferFailure(const StreamResult& r) {
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
    // NOT_EXECUTED: a DEADLINE_EXCEEDED of a write is otherwise read as
    // "may have run" (README "Errors").
    return GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonNotExecuted,
                        absl::StrCat("the upload stalled (", r.failure_message,
                                     ": the caller's stream or the portal stopped; "
                                     "--file-stall-timeout); nothing was stored"));
  }
  // Also when the server answered before the body's end and closed.
  if (r.status == 413) return PortalTooLarge(r);
  if (r.failure == TransportFailure::kNone) return std::nullopt;
  if (!r.body_complete) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                        absl::StrCat("the upload failed before its last byte reached the portal (",
                                     r.failure_message, "); nothing was stored"));
  }
  return OutcomeUnknown(r.failure_message);
}

// What became of an upload's POST: stored, not stored, or not known.
absl::StatusOr<UploadResult> UploadOutcome(const StreamResult& r) {
  if (std::optional<absl::Status> failed = TransferFailure(r)) return *failed;
  if (r.status >= 500) return OutcomeUnknown(absl::StrCat("HTTP ", r.status));
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
  // As the call path answers a refused redirect (portal_answers.cc):
  // resuming would meet the same answer, so no offset is offered.
  if (r.local_stop == LocalStop::kRedirectRefused) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonTransport, r.failure_message);
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

// Redirects a record's file link may take to its bytes.
constexpr int kMaxFileRedirects = 3;

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
  const int targets = (spec.folder_id > 0) + (spec.storage_id > 0) + spec.record.set();
  if (targets != 1 || spec.folder_id < 0 || spec.storage_id < 0) {
    return absl::InvalidArgumentError(
        "header.target: exactly one of folder_id, storage_id (a positive id) and record_field "
        "must be set");
  }
  if (spec.record.set()) {
    if (absl::Status s = CheckRecordField(spec.record, "header.record_field"); !s.ok()) return s;
    // A field's value is [name, base64]: it carries neither.
    if (!spec.rights.empty() || !spec.content_type.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          spec.rights.empty() ? "header.content_type" : "header.rights",
          ": only for a Drive upload (folder_id, storage_id); a record's field keeps no such thing"));
    }
  }
  if (absl::Status s = CheckDriveRights(spec.rights, "header.rights"); !s.ok()) return s;
  if (absl::Status s = CheckContentType(spec.content_type, "header.content_type"); !s.ok()) return s;
  if (spec.size < -1) return absl::InvalidArgumentError("header.size: must not be negative");
  if (options_.max_file_size > 0 && spec.size > options_.max_file_size) {
    return absl::InvalidArgumentError(absl::StrCat("header.size: ", spec.size,
                                                   " bytes is more than the gateway's maximum of ",
                                                   options_.max_file_size, " (--max-file-size)"));
  }
  return CheckFileName(spec.name, "header.name");
}

absl::Status FileGateway::Validate(const DownloadSpec& spec) {
  const int targets = (spec.file_id > 0) + (spec.attached_object_id > 0) + spec.record.set();
  if (spec.file_id < 0 || spec.attached_object_id < 0 || targets != 1) {
    return absl::InvalidArgumentError(
        "file_id, attached_object_id, record_field: exactly one must be set (a positive id)");
  }
  if (spec.record.set()) {
    if (absl::Status s = CheckRecordField(spec.record, "record_field"); !s.ok()) return s;
    if (spec.record.append) {
      return absl::InvalidArgumentError("record_field.append: only an upload appends");
    }
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
  if (spec.record.set()) {
    return UploadToField(std::move(spec), std::move(options), std::move(body), std::move(done));
  }
  CallSpec call;
  call.portal = spec.portal;
  call.method = spec.folder_id > 0 ? "disk.folder.uploadfile" : "disk.storage.uploadfile";
  call.params = OJson{{"id", spec.folder_id > 0 ? spec.folder_id : spec.storage_id},
                      {"data", {{"NAME", spec.name}}},
                      {"generateUniqueName", spec.generate_unique_name}};
  if (!spec.rights.empty()) call.params["rights"] = DriveRightsParam(spec.rights);
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
      FrameOneFile(result["field"].get<std::string>(), spec.name, RandomBoundary(), spec.content_type);
  request.upload = body;
  request.head = framing.head;
  request.tail = framing.tail;
  request.upload_size = spec.size;
  if (options_.max_file_size > 0) request.max_upload_size = options_.max_file_size;
  request.content_type = framing.content_type;
  request.stall_timeout = options_.stall_timeout;
  transport_->Start(std::move(request),
                    [done](StreamResult r) { done(UploadOutcome(r), r.bytes_sent); });
}

void FileGateway::Download(DownloadSpec spec, CallOptions options, std::shared_ptr<BytePipe> body,
                           std::function<void(absl::StatusOr<FileInfo>)> ready,
                           std::function<void(absl::Status)> done) {
  CallSpec call;
  call.portal = spec.portal;
  const bool attached = spec.attached_object_id > 0;
  if (spec.record.set()) {
    call.method = GetMethodOf(spec.record);
    call.params = GetParamsOf(spec.record);
  } else {
    call.method = attached ? "disk.attachedObject.get" : "disk.file.get";
    call.params = OJson{{"id", attached ? spec.attached_object_id : spec.file_id}};
  }
  // The links' authorization may not outlive a cache entry.
  call.cache = CacheMode::kBypass;
  gateway_->Call(std::move(call), std::move(options), [this, spec, body, ready, done](
                                                          absl::StatusOr<CallReply> reply) {
    if (!reply.ok()) {
      body->Abort();
      return ready(reply.status());
    }
    if (spec.record.set()) return DownloadRecordFile(spec, reply->result, body, ready, done);
    const OJson& file = reply->result;
    if (!file.is_object() || !file.contains("DOWNLOAD_URL") || !file["DOWNLOAD_URL"].is_string()) {
      body->Abort();
      return ready(BadAnswer("the portal's file object has no DOWNLOAD_URL"));
    }
    FileInfo info;
    info.name = file.contains("NAME") && file["NAME"].is_string() ? file["NAME"].get<std::string>() : "";
    info.size = IntField(file, "SIZE");
    info.file = WithoutCredentials(file);
    // An attachment's link (uf.php) redirects to the file's own.
    StartDownload(spec, file["DOWNLOAD_URL"].get<std::string>(), kMaxFileRedirects,
                  std::move(info), body, ready, done);
  });
}

void FileGateway::DownloadRecordFile(const DownloadSpec& spec, const OJson& record,
                                     std::shared_ptr<BytePipe> body,
                                     std::function<void(absl::StatusOr<FileInfo>)> ready,
                                     std::function<void(absl::Status)> done) {
  absl::StatusOr<OJson> value = FileValueOf(record, spec.record);
  if (!value.ok()) {
    body->Abort();
    return ready(value.status());
  }
  FileInfo info;
  if (value->contains("name") && (*value)["name"].is_string()) {
    info.name = (*value)["name"].get<std::string>();
  }
  info.size = IntField(*value, "size");
  info.file = WithoutLinkCredentials(*value);
  // A portal's file link answers with a redirect to where the bytes are.
  StartDownload(spec, FileLinkOf(*value), kMaxFileRedirects, std::move(info), body, ready, done);
}

void FileGateway::StartDownload(const DownloadSpec& spec, std::string url, int max_redirects,
                                FileInfo info, std::shared_ptr<BytePipe> body,
                                std::function<void(absl::StatusOr<FileInfo>)> ready,
                                std::function<void(absl::Status)> done) {
  StreamRequest request;
  std::string origin;
  absl::Status usable = PortalTransport(spec.portal, &request, &origin);
  if (absl::StartsWith(url, "/")) url = origin + url;  // a path on the portal
  if (usable.ok() && UrlOrigin(url).value_or("?") != origin) {
    usable = BadAnswer("the portal's file link is not on the portal's own origin");
  }
  if (!usable.ok()) {
    body->Abort();
    return ready(usable);
  }
  request.url = std::move(url);
  request.download = body;
  request.range_from = spec.offset;
  request.max_redirects = max_redirects;
  request.stall_timeout = options_.stall_timeout;
  // Both run on the transfer loop, in turn: `began` needs no lock.
  auto began = std::make_shared<bool>(false);
  request.on_body = [info = std::move(info), ready, began](const std::string& content_type) mutable {
    *began = true;
    info.content_type = content_type;
    ready(std::move(info));
  };
  transport_->Start(std::move(request), [ready, done, began](StreamResult r) {
    absl::Status outcome = DownloadOutcome(r);
    if (*began) return done(std::move(outcome));
    // No body began: the caller hears the failure instead of the header.
    ready(outcome.ok() ? BadAnswer("the portal's answer to the download carried no body") : outcome);
  });
}

// ---- A file for a record's field --------------------------------------------------

// One field upload: what its streamed request did, for the caller's answer.
struct FileGateway::FieldAttempt {
  UploadSpec spec;
  std::shared_ptr<BytePipe> body;
  std::shared_ptr<CancelToken> cancel;
  std::string placeholder;
  CallOptions read_back;  // the caller's identity and deadline, for the read back
  std::vector<int64_t> kept;  // an append: the field's files the update keeps
  // Set (before the portal hears of it) once the request was streamed.
  std::optional<StreamResult> sent;
};

void FileGateway::UploadToField(UploadSpec spec, CallOptions options,
                                std::shared_ptr<BytePipe> body, UploadDone done) {
  auto attempt = std::make_shared<FieldAttempt>();
  attempt->body = body;
  attempt->placeholder = RandomBoundary();
  attempt->read_back.client_id = options.client_id;
  attempt->read_back.deadline = options.deadline;
  if (!options.cancel) options.cancel = std::make_shared<CancelToken>();
  attempt->cancel = options.cancel;
  attempt->spec = std::move(spec);
  if (!attempt->spec.record.append) return UpdateField(attempt, std::move(options), std::move(done));
  // The update must name the field's files, or the portal deletes them:
  // read their ids first (a read; the caller's cancellation stops it).
  CallSpec call;
  call.portal = attempt->spec.portal;
  call.method = GetMethodOf(attempt->spec.record);
  call.params = GetParamsOf(attempt->spec.record);
  call.cache = CacheMode::kBypass;
  CallOptions read = attempt->read_back;
  read.cancel = options.cancel;
  gateway_->Call(std::move(call), std::move(read),
                 [this, attempt, options = std::move(options),
                  done = std::move(done)](absl::StatusOr<CallReply> reply) mutable {
                   absl::StatusOr<std::vector<int64_t>> kept =
                       reply.ok() ? FileIdsOf(reply->result, attempt->spec.record) : reply.status();
                   if (!kept.ok()) {
                     attempt->body->Abort();
                     return done(kept.status(), 0);
                   }
                   attempt->kept = *std::move(kept);
                   UpdateField(attempt, std::move(options), std::move(done));
                 });
}

void FileGateway::UpdateField(const std::shared_ptr<FieldAttempt>& attempt, CallOptions options,
                              UploadDone done) {
  CallSpec call;
  call.portal = attempt->spec.portal;
  call.method = UpdateMethodOf(attempt->spec.record);
  call.params = FieldUploadParams(attempt->spec.record, attempt->spec.name, attempt->placeholder,
                                  attempt->kept);
  call.raw = true;
  options.api = RestApi::kClassic;
  options.send_streamed = [this, attempt](HttpRequest request, HttpTransport::Callback sent) {
    SendToField(attempt, std::move(request), std::move(sent));
  };
  gateway_->Call(std::move(call), std::move(options),
                 [this, attempt, done](absl::StatusOr<CallReply> reply) {
                   const int64_t bytes = attempt->sent ? attempt->sent->bytes_sent : 0;
                   if (attempt->sent) {
                     // The transfer's own account of a failure is the precise one.
                     if (std::optional<absl::Status> failed = TransferFailure(*attempt->sent)) {
                       return done(*failed, bytes);
                     }
                   }
                   attempt->body->Abort();  // a no-op once the transfer read it all
                   if (!reply.ok()) return done(reply.status(), bytes);
                   ReadBackField(attempt, done);
                 });
}

void FileGateway::SendToField(const std::shared_ptr<FieldAttempt>& attempt, HttpRequest request,
                              HttpTransport::Callback done) {
  HttpResponse withdrawn;
  withdrawn.failure = TransportFailure::kNotSent;
  withdrawn.failure_message = "withdrawn before it was sent";
  if (request.starting && !request.starting()) return done(std::move(withdrawn));
  absl::StatusOr<SplitBody> split = SplitAtPlaceholder(request.body, attempt->placeholder);
  if (!split.ok()) {
    withdrawn.failure_message = std::string(split.status().message());
    withdrawn.permanent = true;
    return done(std::move(withdrawn));
  }
  StreamRequest stream;
  stream.url = std::move(request.url);
  stream.tls = request.tls;
  stream.content_type = request.content_type;
  stream.upload = attempt->body;
  stream.head = std::move(split->head);
  stream.tail = std::move(split->tail);
  stream.base64 = true;
  stream.upload_size = attempt->spec.size;
  if (options_.max_file_size > 0) stream.max_upload_size = options_.max_file_size;
  stream.stall_timeout = options_.stall_timeout;
  transport_->Start(std::move(stream), [attempt, done](StreamResult r) {
    HttpResponse response;
    response.failure = r.failure;
    response.failure_message = r.failure_message;
    response.status = r.status;
    response.body = r.answer;
    if (r.failure != TransportFailure::kNone && !r.body_complete) {
      // The portal never had a whole request: nothing ran.
      response.failure = TransportFailure::kNotSent;
      // Our side stopped it (the caller's stream): not the portal's trouble.
      if (r.local_stop != LocalStop::kNone) attempt->cancel->Cancel();
    }
    attempt->sent = std::move(r);
    done(std::move(response));
  });
}

void FileGateway::ReadBackField(const std::shared_ptr<FieldAttempt>& attempt, UploadDone done) {
  const int64_t bytes = attempt->sent ? attempt->sent->bytes_sent : 0;
  CallSpec call;
  call.portal = attempt->spec.portal;
  call.method = GetMethodOf(attempt->spec.record);
  call.params = GetParamsOf(attempt->spec.record);
  call.cache = CacheMode::kBypass;
  // Without the caller's cancellation: the file is stored, its value is owed.
  gateway_->Call(std::move(call), attempt->read_back, [attempt, done, bytes](absl::StatusOr<CallReply> reply) {
    const RecordField& record = attempt->spec.record;
    absl::StatusOr<OJson> value =
        !reply.ok()    ? absl::StatusOr<OJson>(reply.status())
        : record.append ? AddedFileValueOf(reply->result, record, attempt->kept)
                        : FileValueOf(reply->result, record);
    if (!value.ok()) {
      return done(absl::Status(value.status().code(),
                               absl::StrCat("the file was stored in the field, but reading it "
                                            "back failed: ", value.status().message())),
                  bytes);
    }
    UploadResult result;
    result.file = WithoutLinkCredentials(*std::move(value));
    result.bytes = bytes;
    done(std::move(result), bytes);
  });
}

}  // namespace b24gate
