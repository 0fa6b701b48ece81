// Runs a planned CallBatch (see batch_plan.h): its chunks go to the portal
// one `batch` request after another, and every command gets its own outcome
// in request order. Commands that never ran report NOT_EXECUTED: those after
// a `halt`ed failure, and those of chunks after a request that failed whole.
//
// Thread-safety: a run is driven by the portal's callbacks, one at a time.
#ifndef B24GATE_ENGINE_GATEWAY_BATCH_RUN_H_
#define B24GATE_ENGINE_GATEWAY_BATCH_RUN_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/portal/call_types.h"
#include "engine/portal/dispatcher.h"

namespace b24gate {

// One command's outcome in a CallBatch, in request order.
struct KeyedOutcome {
  std::string key;
  absl::StatusOr<CallReply> outcome;
};
using CallBatchCallback = std::function<void(absl::StatusOr<std::vector<KeyedOutcome>>)>;

class BatchRun : public std::enable_shared_from_this<BatchRun> {
 public:
  // Sends the first chunk; `done` gets every command's outcome.
  // REQUIRES: `chunks` non-empty, each as PlanBatch makes them.
  static void Start(Dispatcher* portal, std::vector<std::vector<BatchCommandSpec>> chunks, bool halt,
                    CallOptions options, CallBatchCallback done);

 private:
  BatchRun(Dispatcher* portal, std::vector<std::vector<BatchCommandSpec>> chunks, bool halt,
           CallOptions options, CallBatchCallback done);

  void SendChunk();
  void OnChunk(absl::StatusOr<BatchResult> batch);
  // Records the current chunk's outcomes; returns the key of the first
  // failed command ("" when none failed).
  std::string Record(BatchResult batch);
  // Every command from chunk `from` on gets `status`; then the run ends.
  void FailFrom(size_t from, const absl::Status& first, const absl::Status& rest);
  void Finish();

  Dispatcher* const portal_;
  const std::vector<std::vector<BatchCommandSpec>> chunks_;
  const bool halt_;
  const CallOptions options_;
  CallBatchCallback done_;
  size_t next_ = 0;
  std::vector<KeyedOutcome> results_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_BATCH_RUN_H_
