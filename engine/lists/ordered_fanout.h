// Runs one method with many parameter sets (bulk Call, GetById) through a
// portal's queue, where they are packed into batches, and hands the results
// back in request order.
//
// At most `window` calls are queued or in flight at once, handed to the
// portal in groups (Dispatcher::Calls) of at least `refill` calls, or what
// is left: handed over one at a time as answers came back, a bulk under load
// left the dispatcher part-filled batches to send. Results are
// delivered as soon as a prefix of them is complete, in chunks of at most
// `chunk` results; the consumer acknowledges each chunk (Ack) before more
// than `max_unacked_chunks` pile up. Memory therefore stays bounded for any
// number of parameter sets.
//
// Thread-safety: thread-safe; sink calls are serialised.
#ifndef B24GATE_ENGINE_LISTS_ORDERED_FANOUT_H_
#define B24GATE_ENGINE_LISTS_ORDERED_FANOUT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/synchronization/mutex.h"
#include "engine/cache/read_cache.h"
#include "engine/portal/call_types.h"
#include "engine/portal/dispatcher.h"

namespace b24gate {

class FanoutSink {
 public:
  virtual ~FanoutSink() = default;
  // Results [first, first + results.size()) in request order.
  virtual void OnResults(size_t first, std::vector<absl::StatusOr<CallReply>> results) = 0;
  // Called once, after every result was delivered (or with an error when the
  // whole run stopped, e.g. cancelled).
  virtual void OnDone(absl::Status status) = 0;
};

struct FanoutOptions {
  size_t window = 1000;
  size_t refill = 50;  // a full batch
  size_t chunk = 500;
  int max_unacked_chunks = 4;
  // When set: reads are answered from it where they can be and their answers
  // kept; the results of writes drop their entity type's cached reads before
  // they are delivered. Must outlive the fan-out.
  ReadCache* cache = nullptr;
  CacheMode cache_mode = CacheMode::kUse;
  // Kept as long as the fan-out: what keeps `portal` alive (the gateway's
  // portals may be removed while an operation runs on them).
  std::shared_ptr<const void> portal_hold;
  // REST 3.0 writes: call i's Idempotency-Key at [i] (an empty one, or none
  // at all: the portal makes a key per write).
  std::vector<std::string> idempotency_keys;
};

class OrderedFanout : public std::enable_shared_from_this<OrderedFanout> {
 public:
  // Makes a fanout; Run() starts it. `sink` must stay valid until OnDone has
  // returned. The two steps let the consumer store the fanout before any
  // result can arrive.
  static std::shared_ptr<OrderedFanout> Create(Dispatcher* portal, std::string method,
                                              std::vector<nlohmann::ordered_json> params, bool as_json,
                                              CallOptions options, FanoutSink* sink,
                                              FanoutOptions fanout = {});
  // Call once, holding no lock the sink takes.
  void Run();
  void Ack();
  void Cancel();

 private:
  OrderedFanout(Dispatcher* portal, std::string method, std::vector<nlohmann::ordered_json> params,
                bool as_json, CallOptions options, FanoutSink* sink, FanoutOptions fanout);
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers the complete prefix; true when the run is finished.
  bool Deliver() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Submits calls up to the window; true when cache hits completed some.
  bool Submit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnResult(size_t index, absl::StatusOr<CallReply> reply);

  Dispatcher* const portal_;
  const std::string method_;
  std::vector<nlohmann::ordered_json> params_;
  const bool as_json_;
  CallOptions options_;
  FanoutSink* const sink_;
  const FanoutOptions fanout_;

  absl::Mutex mu_;
  size_t next_submit_ ABSL_GUARDED_BY(mu_) = 0;
  size_t next_deliver_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<size_t, absl::StatusOr<CallReply>> done_ ABSL_GUARDED_BY(mu_);
  int unacked_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_ORDERED_FANOUT_H_
