#include "service/metrics/file_metrics.h"

#include <string>

#include "absl/status/status.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {
constexpr char kOtherUpload[] = "other";
const char* Direction(bool upload) { return upload ? "up" : "down"; }

// Why a transfer failed, from a fixed set: UNAVAILABLE alone does not say
// whether the file may have been stored (OUTCOME_UNKNOWN) or surely was not
// (NOT_EXECUTED).
std::string FailureReason(const absl::Status& status) {
  if (IsB24Error(status)) return "B24_ERROR";  // its code: b24gate_bitrix_errors_total
  const std::string reason = ReasonOf(status);
  // Out of time (a stall, a deadline) is one series whether or not the
  // reason adds NOT_EXECUTED for the caller; OUTCOME_UNKNOWN keeps its own,
  // as that the file may exist matters more.
  if (status.code() == absl::StatusCode::kDeadlineExceeded && reason != kReasonOutcomeUnknown) {
    return std::string(kReasonDeadline);
  }
  for (absl::string_view known : {kReasonOutcomeUnknown, kReasonTransport, kReasonBadResponse,
                                  kReasonNotExecuted, kReasonInvalidRequest, kReasonDeadline,
                                  kReasonCancelled, kReasonUnknownPortal}) {
    if (reason == known) return reason;
  }
  return absl::StatusCodeToString(status.code());
}
}  // namespace

FileMetrics::FileMetrics(prometheus::Registry& registry, const std::vector<std::string>& portals) {
  auto& bytes = prometheus::BuildCounter()
                    .Name("b24gate_file_bytes_total")
                    .Help("bytes of files moved through the gateway, by portal and direction")
                    .Register(registry);
  auto& ended = prometheus::BuildCounter()
                    .Name("b24gate_file_transfers_total")
                    .Help("file transfers ended, by direction and gRPC status code")
                    .Register(registry);
  failures_ = &prometheus::BuildCounter()
                    .Name("b24gate_file_failures_total")
                    .Help("file transfers that failed, by direction and reason")
                    .Register(registry);
  auto& in_progress = prometheus::BuildGauge()
                          .Name("b24gate_file_transfers_in_progress")
                          .Help("file transfers begun and not ended, by direction")
                          .Register(registry);
  if (!portals.empty()) default_portal_ = portals.front();
  std::vector<std::string> names = portals;
  names.push_back(kOtherUpload);
  for (bool upload : {true, false}) {
    in_progress_[upload] = &in_progress.Add({{"direction", Direction(upload)}});
    for (const std::string& p : names) {
      bytes_[{p, upload}] = &bytes.Add({{"portal", p}, {"direction", Direction(upload)}});
    }
    for (int code = 0; code <= static_cast<int>(absl::StatusCode::kUnauthenticated); ++code) {
      const std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
      ended_[{code, upload}] = &ended.Add({{"direction", Direction(upload)}, {"code", name}});
    }
  }
}

void FileMetrics::Started(bool upload) { in_progress_.at(upload)->Increment(); }

void FileMetrics::Moved(const std::string& portal, bool upload, int64_t bytes) {
  auto it = bytes_.find({portal.empty() ? default_portal_ : portal, upload});
  if (it == bytes_.end()) it = bytes_.find({kOtherUpload, upload});
  it->second->Increment(static_cast<double>(bytes));
}

void FileMetrics::Ended(bool upload, const absl::Status& status) {
  in_progress_.at(upload)->Decrement();
  auto it = ended_.find({static_cast<int>(status.code()), upload});
  if (it != ended_.end()) it->second->Increment();
  if (!status.ok()) {
    failures_->Add({{"direction", Direction(upload)}, {"reason", FailureReason(status)}}).Increment();
  }
}

}  // namespace b24gate
