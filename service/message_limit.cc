#include "service/message_limit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {

absl::Status TooLarge(size_t bytes) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the response would be ", bytes,
      " bytes, above gRPC's default 4 MiB message limit; read it with GetAll, GetById or CallMany, "
      "which stream"));
}

namespace {

// Replaces a read's result with the per-item error saying why it is absent.
void DropBody(bitrix24::gateway::v1::CallResult* out, size_t bytes) {
  out->Clear();
  bitrix24::gateway::v1::CommandError* error = out->mutable_error();
  error->set_code(kReasonResultTooLarge);
  error->set_description(absl::StrCat(
      "this result (", bytes,
      " bytes) was left out to keep the answer under gRPC's 4 MiB message limit; read it "
      "through CallMany or GetById, which stream"));
  error->set_grpc_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
}

}  // namespace

void FitUnderMessageLimit(std::vector<FittableResult> results, size_t message_bytes) {
  if (message_bytes <= kMaxMessageBytes) return;
  // Sizes are measured once; an entry's framing (a few bytes) is ignored.
  std::vector<std::pair<size_t, bitrix24::gateway::v1::CallResult*>> reads;
  for (const FittableResult& r : results) {
    if (r.is_read && r.result->has_result()) reads.push_back({r.result->ByteSizeLong(), r.result});
  }
  std::sort(reads.begin(), reads.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [bytes, result] : reads) {
    if (message_bytes <= kMaxMessageBytes) return;
    DropBody(result, bytes);
    message_bytes = message_bytes - bytes + result->ByteSizeLong();
  }
  if (message_bytes <= kMaxMessageBytes) return;
  for (const FittableResult& r : results) r.result->clear_time();
}

}  // namespace b24gate
