#include "service/files_service.h"

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/errors.h"
#include "engine/files/byte_pipe.h"
#include "service/json_value.h"
#include "service/rpc_call_options.h"
#include "service/status_mapping.h"

namespace b24gate {
namespace {

namespace pb = bitrix24::gateway::v1;

// What one transfer may hold between the client and the portal: the pipe's
// capacity plus a message in hand. Bounds memory per transfer whatever the
// file's size.
constexpr size_t kPipeCapacity = size_t{1} << 20;
// A download's chunk: well below gRPC's default 4 MiB message limit.
constexpr size_t kDownloadChunk = size_t{256} << 10;

// Lets a pipe's wake callback reach a reactor that may be gone: the reactor
// detaches itself before it is deleted, and a wake runs under the same lock.
template <typename Reactor>
class WakeTarget {
 public:
  explicit WakeTarget(Reactor* reactor) : reactor_(reactor) {}
  void Run(void (Reactor::*method)()) {
    absl::MutexLock lock(&mu_);
    if (reactor_ != nullptr) (reactor_->*method)();
  }
  void Detach() {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  Reactor* reactor_ ABSL_GUARDED_BY(mu_);
};

// SHA-256 of a stream, fed as it passes.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(absl::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, digest, &n);
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), n));
  }

 private:
  EVP_MD_CTX* ctx_;
};

RecordField RecordFrom(const pb::RecordFileField& r) {
  return RecordField{r.entity_type(), r.record_id(), r.field(), r.index(), r.entity_type_id(),
                     r.append()};
}

UploadSpec SpecFrom(const pb::UploadFileHeader& h) {
  UploadSpec spec;
  spec.portal = h.portal();
  if (h.target_case() == pb::UploadFileHeader::kFolderId) spec.folder_id = h.folder_id();
  if (h.target_case() == pb::UploadFileHeader::kStorageId) spec.storage_id = h.storage_id();
  if (h.target_case() == pb::UploadFileHeader::kRecordField) {
    spec.record = RecordFrom(h.record_field());
    // An empty message still names the target: refused as incomplete.
    if (!spec.record.set()) spec.record.record_id = -1;
  }
  spec.name = h.name();
  spec.generate_unique_name = h.generate_unique_name();
  spec.size = h.has_size() ? h.size() : -1;
  for (const pb::DriveRight& right : h.rights()) {
    spec.rights.push_back(DriveRight{right.task_id(), right.access_code()});
  }
  spec.content_type = h.content_type();
  return spec;
}

// UploadFile: the header starts the engine's upload; each chunk goes into
// the pipe, and the next message is read once the pipe took it.
class UploadCall : public grpc::ServerReadReactor<pb::UploadFileRequest> {
 public:
  UploadCall(FileGateway* files, FileMetrics* metrics, const FilesServiceOptions& options,
             grpc::CallbackServerContext* context, absl::StatusOr<std::string> client,
             pb::UploadFileResponse* response)
      : files_(files), metrics_(metrics), timer_(options.timer), stall_timeout_(options.stall_timeout),
        context_(context),
        client_(std::move(client)), response_(response),
        pipe_(std::make_shared<BytePipe>(kPipeCapacity)), cancel_(std::make_shared<CancelToken>()),
        wake_(std::make_shared<WakeTarget<UploadCall>>(this)) {
    pipe_->SetWriterWake([wake = wake_] { wake->Run(&UploadCall::OnRoom); });
    if (metrics_ != nullptr) metrics_->Started(/*upload=*/true);
    absl::MutexLock lock(&mu_);
    if (!client_.ok()) {
      Refuse(client_.status());
      return;
    }
    // Cancelled once the header came (the transfer's own stall check
    // bounds it from there) or the call ended, so the timer holds an entry
    // per upload waiting for its header, not one per upload of the last
    // stall_timeout. The detached target makes one that fires meanwhile a
    // no-op.
    if (timer_ != nullptr) {
      bound_ = timer_->After(stall_timeout_, [wake = wake_] { wake->Run(&UploadCall::OnNoHeader); });
    }
    StartRead(&message_);
  }

  // Locks are released before the engine or the pipe's Abort is called:
  // either may call back into this reactor.
  void OnReadDone(bool ok) override {
    std::optional<UploadSpec> start;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (!ok) {  // the client sent its last message (or went away)
        if (!started_) return Refuse(absl::InvalidArgumentError("header: the stream carried no header"));
        // A client that cancels ends its stream too; closing the pipe then
        // would send the bytes so far as a whole file. OnCancel aborts it.
        if (!context_->IsCancelled()) pipe_->Close();
        return;
      }
      if (!started_) {
        start = Header();
        if (!start) return;
      } else if (message_.part_case() == pb::UploadFileRequest::kChunk) {
        if (message_.chunk().empty()) return StartRead(&message_);  // nothing to hold
        held_ = std::move(*message_.mutable_chunk());
        hash_.Update(held_);
        return OfferHeld();
      } else {
        local_error_ = absl::InvalidArgumentError("header: only the first message may carry one");
      }
    }
    if (!start) return pipe_->Abort();  // Done() comes with local_error_
    files_->Upload(std::move(*start),
                   RpcCallOptions(*context_, *client_, /*idempotent=*/false, cancel_), pipe_,
                   [this](absl::StatusOr<UploadResult> result, int64_t sent) {
                     Done(std::move(result), sent);
                   });
    absl::MutexLock lock(&mu_);
    if (!finished_) StartRead(&message_);
  }

  void OnCancel() override {
    cancel_->Cancel();
    pipe_->Abort();
  }

  void OnDone() override {
    wake_->Detach();
    {
      absl::MutexLock lock(&mu_);  // a Done() still returning from the lock
      Disarm();
    }
    delete this;
  }

 private:
  void Refuse(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    if (metrics_ != nullptr) metrics_->Ended(/*upload=*/true, status);
    Finish(ToGrpcStatus(status));
  }

  // The first message: the upload's spec, or nullopt after refusing it.
  std::optional<UploadSpec> Header() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (message_.part_case() != pb::UploadFileRequest::kHeader) {
      Refuse(absl::InvalidArgumentError("header: the first message must carry the header"));
      return std::nullopt;
    }
    UploadSpec spec = SpecFrom(message_.header());
    if (absl::Status s = files_->Validate(spec); !s.ok()) {
      Refuse(s);
      return std::nullopt;
    }
    started_ = true;
    portal_ = spec.portal;
    Disarm();
    return spec;
  }

  // Takes the first-message bound off the timer (the timer's lock is taken
  // inside ours, never the other way: it calls back holding none).
  void Disarm() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (bound_) timer_->Cancel(*bound_);
    bound_.reset();
  }

  // Hands the chunk in hand to the pipe (moved, not copied); reads on once
  // it is taken.
  void OfferHeld() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    switch (pipe_->Write(&held_)) {
      case BytePipe::WriteResult::kTaken:
        StartRead(&message_);
        break;
      case BytePipe::WriteResult::kFull:
        break;  // OnRoom comes once the transfer has read some
      case BytePipe::WriteResult::kAborted:
        held_.clear();  // Done() comes with the reason
        break;
    }
  }

  void OnRoom() {
    absl::MutexLock lock(&mu_);
    if (!finished_ && !held_.empty()) OfferHeld();
  }

  // The stall bound from the call's opening: a client that never sends its
  // header is refused, and the engine never hears of the upload.
  void OnNoHeader() {
    absl::MutexLock lock(&mu_);
    if (finished_ || started_) return;
    Refuse(GatewayError(
        absl::StatusCode::kDeadlineExceeded, kReasonNotExecuted,
        absl::StrCat("nothing arrived within ", absl::ToDoubleSeconds(stall_timeout_),
                     "s of the upload's start: its first message (the header) must come within "
                     "--file-stall-timeout; nothing was sent to the portal")));
  }

  void Done(absl::StatusOr<UploadResult> result, int64_t sent) {
    absl::MutexLock lock(&mu_);
    if (result.ok() && local_error_.ok()) {
      *response_->mutable_file() = ToStruct(result->file);
      response_->set_size(result->bytes);
      response_->set_sha256(hash_.HexDigest());
    }
    if (metrics_ != nullptr) metrics_->Moved(portal_, /*upload=*/true, sent);
    Refuse(!local_error_.ok() ? local_error_ : result.status());
  }

  FileGateway* const files_;
  FileMetrics* const metrics_;
  PollTimer* const timer_;  // null: no first-message bound
  const absl::Duration stall_timeout_;
  grpc::CallbackServerContext* const context_;
  const absl::StatusOr<std::string> client_;
  pb::UploadFileResponse* const response_;
  const std::shared_ptr<BytePipe> pipe_;
  const std::shared_ptr<CancelToken> cancel_;
  const std::shared_ptr<WakeTarget<UploadCall>> wake_;

  absl::Mutex mu_;
  pb::UploadFileRequest message_;  // the read in progress (gRPC writes it)
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::string portal_ ABSL_GUARDED_BY(mu_);
  std::string held_ ABSL_GUARDED_BY(mu_);  // a chunk the pipe has not taken yet
  Sha256 hash_ ABSL_GUARDED_BY(mu_);
  absl::Status local_error_ ABSL_GUARDED_BY(mu_);  // the client's stream was wrong
  std::optional<PollTimer::Entry> bound_ ABSL_GUARDED_BY(mu_);  // the first-message bound, armed
};

// DownloadFile: the header once the engine resolved the file, then chunks
// read from the pipe, one write at a time, hashed as they go; the summary
// (their count and SHA-256) last, once the transfer ended whole.
class DownloadCall : public grpc::ServerWriteReactor<pb::DownloadFileResponse> {
 public:
  DownloadCall(FileGateway* files, FileMetrics* metrics, grpc::CallbackServerContext* context,
               absl::StatusOr<std::string> client, const pb::DownloadFileRequest& request)
      : metrics_(metrics), portal_(request.portal()),
        pipe_(std::make_shared<BytePipe>(kPipeCapacity)), cancel_(std::make_shared<CancelToken>()),
        wake_(std::make_shared<WakeTarget<DownloadCall>>(this)) {
    if (metrics_ != nullptr) metrics_->Started(/*upload=*/false);
    DownloadSpec spec{request.portal(), request.file_id(), request.attached_object_id(),
                      request.has_record_field() ? RecordFrom(request.record_field()) : RecordField{},
                      request.offset()};
    if (request.has_record_field() && !spec.record.set()) spec.record.record_id = -1;
    absl::Status refusal = client.status();
    if (refusal.ok()) refusal = FileGateway::Validate(spec);
    if (!refusal.ok()) {
      absl::MutexLock lock(&mu_);
      Refuse(refusal);
      return;
    }
    pipe_->SetReaderWake([wake = wake_] { wake->Run(&DownloadCall::Pump); });
    // No lock: the engine may answer at once, calling Ready().
    files->Download(
        spec, RpcCallOptions(*context, *client, /*idempotent=*/false, cancel_), pipe_,
        [this](absl::StatusOr<FileInfo> info) { Ready(std::move(info)); },
        [this](absl::Status status) { Ended(std::move(status)); });
  }

  void OnWriteDone(bool ok) override {
    // The client is gone: the transfer stops (Ended() comes unless it
    // already did). Outside the lock: the pipe wakes this reactor.
    if (!ok) pipe_->Abort();
    absl::MutexLock lock(&mu_);
    writing_ = false;
    PumpLocked();  // the next chunk, or the end (an aborted pipe reads as one)
  }

  void OnCancel() override {
    cancel_->Cancel();
    pipe_->Abort();
  }

  void OnDone() override {
    wake_->Detach();
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 private:
  void Refuse(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    if (metrics_ != nullptr) metrics_->Ended(/*upload=*/false, status);
    Finish(ToGrpcStatus(status));
  }

  void Ready(absl::StatusOr<FileInfo> info) {
    absl::MutexLock lock(&mu_);
    if (!info.ok()) return Refuse(info.status());
    pb::DownloadFileHeader* header = out_.mutable_header();
    header->set_name(info->name);
    header->set_size(info->size);
    *header->mutable_file() = ToStruct(info->file);
    header->set_content_type(info->content_type);
    writing_ = true;
    header_sent_ = true;
    StartWrite(&out_);
  }

  void Pump() {
    absl::MutexLock lock(&mu_);
    PumpLocked();
  }

  // Writes the pipe's next chunk, or finishes once it ended and the
  // transfer reported.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || !header_sent_ || ended_) return MaybeFinish();
    std::string* chunk = out_.mutable_chunk();
    chunk->resize(kDownloadChunk);
    size_t n = 0;
    switch (pipe_->Read(chunk->data(), chunk->size(), &n)) {
      case BytePipe::ReadResult::kData:
        chunk->resize(n);
        sent_ += static_cast<int64_t>(n);
        hash_.Update(*chunk);
        writing_ = true;
        StartWrite(&out_);
        return;
      case BytePipe::ReadResult::kEmpty:
        chunk->clear();
        return;  // Pump comes with more
      case BytePipe::ReadResult::kAborted:
        aborted_ = true;
        [[fallthrough]];
      case BytePipe::ReadResult::kEnd:
        chunk->clear();
        ended_ = true;
        return MaybeFinish();
    }
  }

  void Ended(absl::Status status) {
    absl::MutexLock lock(&mu_);
    result_ = std::move(status);
    if (!ended_ && !result_->ok()) ended_ = true;  // the pipe was aborted
    MaybeFinish();
  }

  // Finishes once the pipe ended, the transfer reported and the last write
  // went out; a whole transfer's summary is that last write.
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || !ended_ || !result_) return;
    if (result_->ok() && aborted_) {
      // The portal's answer came whole, but the client went away before
      // it had all of it.
      result_ = GatewayError(absl::StatusCode::kCancelled, kReasonCancelled,
                             "the download was abandoned");
    }
    if (result_->ok() && !summary_sent_) {
      pb::DownloadFileSummary* summary = out_.mutable_summary();
      summary->set_size(sent_);
      summary->set_sha256(hash_.HexDigest());
      summary_sent_ = true;
      writing_ = true;
      StartWrite(&out_);
      return;  // OnWriteDone comes back here
    }
    if (metrics_ != nullptr) metrics_->Moved(portal_, /*upload=*/false, sent_);
    Refuse(*result_);
  }

  FileMetrics* const metrics_;
  const std::string portal_;
  const std::shared_ptr<BytePipe> pipe_;
  const std::shared_ptr<CancelToken> cancel_;
  const std::shared_ptr<WakeTarget<DownloadCall>> wake_;

  absl::Mutex mu_;
  pb::DownloadFileResponse out_ ABSL_GUARDED_BY(mu_);  // the write in progress
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool header_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;  // the pipe has nothing more
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool summary_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;  // the pipe ended by an abort
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  Sha256 hash_ ABSL_GUARDED_BY(mu_);  // of the chunks written
  std::optional<absl::Status> result_ ABSL_GUARDED_BY(mu_);  // the transfer's end
};

}  // namespace

grpc::ServerReadReactor<pb::UploadFileRequest>* FilesService::UploadFile(
    grpc::CallbackServerContext* context, pb::UploadFileResponse* response) {
  return new UploadCall(files_, metrics_, options_, context, AdmittedClientName(access_, *context),
                        response);
}

grpc::ServerWriteReactor<pb::DownloadFileResponse>* FilesService::DownloadFile(
    grpc::CallbackServerContext* context, const pb::DownloadFileRequest* request) {
  return new DownloadCall(files_, metrics_, context, AdmittedClientName(access_, *context),
                          *request);
}

}  // namespace b24gate
