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
#include "engine/http/http_transport.h"

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

// Which Bitrix24 REST API serves a call: classic (/rest/...) or REST 3.0
// (/rest/api/..., docs/bitrix24-protocol.md "REST 3.0").
enum class RestApi { kClassic, kV3 };

struct CallOptions {
  // Bounds queueing plus retries.
  absl::Time deadline = absl::InfiniteFuture();
  // May be null.
  std::shared_ptr<CancelToken> cancel;
  // The caller says the method is safe to repeat although its name does not.
  bool idempotent = false;
  // Who asked (for per-client accounting); empty = anonymous.
  std::string client_id;
  // The API a call or a pre-formed batch goes to. A REST 3.0 batch's
  // commands are REST 3.0's {"method", "query", "as": key} (rest_v3.h).
  RestApi api = RestApi::kClassic;
  // REST 3.0 writes: the Idempotency-Key sent with every attempt. Empty:
  // the portal makes one per call.
  std::string idempotency_key;
  // Set for a call whose body is too large to hold (a file in a record's
  // field, streamed): it waits in the queue and takes its bucket and
  // concurrency slots like any call, travels alone, and when its turn comes
  // the request the portal built is handed to `send_streamed` instead of the
  // portal's transport. `send_streamed` sends it with its own body spliced
  // in (engine/files/file_gateway.cc) and answers `done` exactly once, as a
  // transport would, but may do so before it returns (the portal holds no
  // lock when it calls it). Such a call has one attempt: its
  // body cannot be read twice, so every failure is its caller's answer,
  // never a retry. Classic REST only.
  std::function<void(HttpRequest request, HttpTransport::Callback done)> send_streamed;
  // Dispatcher::Call only. The caller holds no lock and lends its thread:
  // when the portal's dispatcher is idle, the turn that sends the call runs
  // on it inside Call (DispatchPool::TurnHere), instead of waking a pool
  // thread. That turn may answer other callers (work given up) and, if it
  // is refused before it is sent, this call, before Call returns; both
  // break the Dispatcher's rule that no callback runs inside Call, hence
  // the opt-in. Set by the unary Call RPC.
  bool lend_thread = false;
  // The callback may do work out of proportion with its answer's size: a
  // list read's hands on the pages earlier answers left waiting for this
  // one (ordered delivery, converting hundreds of pages for the stream). Its
  // answer is then parsed and handled on a pool thread whatever its size,
  // never on the transport's single thread, which every portal's transfers
  // share. Costs the answer a hand-off between threads.
  bool heavy_callback = false;
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

// A snapshot of one portal's spare capacity for one method (Portal::Budget).
struct PortalBudget {
  // Leaky-bucket model of the request limit, autothrottle applied.
  double bucket_level = 0;      // modelled requests in the portal's counter now
  double bucket_usable = 0;     // the burst minus the headroom kept in reserve
  double drain_per_second = 0;  // requests per second the counter drains now
  // Requests that may be sent at once without waiting for the bucket.
  double requests_free_now = 0;
  // HTTP requests in flight, and the ceiling on them now.
  int in_flight = 0;
  int max_in_flight = 0;
  // Commands waiting in the portal's queue (all methods).
  int queued = 0;
  // The method's operating time in the portal's rolling window: the seconds
  // the portal last reported, the predicted cost of its commands in flight,
  // and what is left before the method must pause (limit - margin - used -
  // reserved, never negative).
  absl::Duration operating_used;
  absl::Duration operating_reserved;
  absl::Duration operating_left;
  // Predicted operating time of one command of the method, from what the
  // portal recently reported (zero until it has reported one). Left /
  // command_cost is how many more commands fit in flight now.
  absl::Duration command_cost;
  // While the method is paused for its operating time: when it may run again
  // (InfinitePast when it is not paused).
  absl::Time paused_until = absl::InfinitePast();
  // How long one request may take before it is given up as outcome unknown:
  // a batch whose commands run back to back must end well within it.
  absl::Duration request_timeout = absl::Seconds(30);
};

using CallCallback = std::function<void(absl::StatusOr<CallReply>)>;
using BatchCallback = std::function<void(absl::StatusOr<BatchResult>)>;

// One call of a group of calls to one method (Dispatcher::Calls).
struct GroupedCall {
  nlohmann::ordered_json params;
  CallCallback done;
  // A REST 3.0 write's own Idempotency-Key; empty: the group's options'.
  std::string idempotency_key;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_CALL_TYPES_H_
