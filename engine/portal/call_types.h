// Values that travel with every queued command: the caller's deadline,
// cancellation, identity, and the completion callbacks.
#ifndef B24GATE_ENGINE_PORTAL_CALL_TYPES_H_
#define B24GATE_ENGINE_PORTAL_CALL_TYPES_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/bitrix/bitrix_response.h"

namespace b24gate {

// Set by the caller's side (a cancelled RPC) and read by the dispatcher, which
// then drops the command instead of sending it.
// Thread-safety: thread-safe.
class CancelToken {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

struct CallOptions {
  // Bounds queueing plus retries.
  absl::Time deadline = absl::InfiniteFuture();
  // May be null.
  std::shared_ptr<CancelToken> cancel;
  // The caller says the method is safe to repeat although its name does not.
  bool idempotent = false;
  // Who asked (for per-client accounting); empty = anonymous.
  std::string client_id;
};

// One command of a pre-formed batch (CallBatch, chained list pages).
struct BatchCommandSpec {
  std::string key;
  std::string method;
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
};

// Per-key outcomes of a pre-formed batch. Keys absent from `outcomes` were
// not executed (the batch halted before them).
struct BatchResult {
  std::map<std::string, absl::StatusOr<CallReply>> outcomes;
};

using CallCallback = std::function<void(absl::StatusOr<CallReply>)>;
using BatchCallback = std::function<void(absl::StatusOr<BatchResult>)>;

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_CALL_TYPES_H_
