#include "engine/gateway/batch_run.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

absl::Status NotExecuted(absl::string_view why) {
  return GatewayError(absl::StatusCode::kAborted, kReasonNotExecuted,
                      absl::StrCat("not executed: ", why));
}

absl::Status HaltedAt(const std::string& key) {
  return NotExecuted(absl::StrCat("the batch halted at \"", key, "\""));
}

}  // namespace

void BatchRun::Start(Dispatcher* portal, std::vector<std::vector<BatchCommandSpec>> chunks, bool halt,
                     CallOptions options, CallBatchCallback done) {
  std::shared_ptr<BatchRun> run(
      new BatchRun(portal, std::move(chunks), halt, std::move(options), std::move(done)));
  run->SendChunk();
}

BatchRun::BatchRun(Dispatcher* portal, std::vector<std::vector<BatchCommandSpec>> chunks, bool halt,
                   CallOptions options, CallBatchCallback done)
    : portal_(portal),
      chunks_(std::move(chunks)),
      halt_(halt),
      options_(std::move(options)),
      done_(std::move(done)) {}

void BatchRun::SendChunk() {
  auto self = shared_from_this();
  portal_->Batch(chunks_[next_], halt_, options_,
                 [self](absl::StatusOr<BatchResult> batch) { self->OnChunk(std::move(batch)); });
}

void BatchRun::OnChunk(absl::StatusOr<BatchResult> batch) {
  // The whole request failed: its commands share the status (none ran, or
  // the outcome is unknown), and later chunks are not sent.
  if (!batch.ok()) {
    FailFrom(next_, batch.status(), NotExecuted("an earlier batch request failed"));
    return;
  }
  std::string failed_key = Record(std::move(*batch));
  ++next_;
  // `halt` stops the whole run at the first failure, across chunks too.
  if (halt_ && !failed_key.empty()) {
    FailFrom(next_, HaltedAt(failed_key), HaltedAt(failed_key));
    return;
  }
  if (next_ == chunks_.size()) {
    Finish();
    return;
  }
  SendChunk();
}

std::string BatchRun::Record(BatchResult batch) {
  std::string failed_key;
  for (const auto& command : chunks_[next_]) {
    auto it = batch.outcomes.find(command.key);
    // Absent keys were not executed: the portal's batch halted before them.
    if (it == batch.outcomes.end()) {
      results_.push_back({command.key, HaltedAt(failed_key)});
      continue;
    }
    if (!it->second.ok() && failed_key.empty()) failed_key = command.key;
    results_.push_back({command.key, std::move(it->second)});
  }
  return failed_key;
}

void BatchRun::FailFrom(size_t from, const absl::Status& first, const absl::Status& rest) {
  for (size_t c = from; c < chunks_.size(); ++c) {
    for (const auto& command : chunks_[c]) {
      results_.push_back({command.key, c == from ? first : rest});
    }
  }
  Finish();
}

void BatchRun::Finish() { done_(std::move(results_)); }

}  // namespace b24gate
