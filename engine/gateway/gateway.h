// The engine's front door: the configured portals and every operation the
// gRPC service exposes. All input validation happens here, before anything is
// queued, so a request is either refused whole (INVALID_ARGUMENT naming the
// field and position, NOT_FOUND for an unknown portal) or handed to a portal.
// The service above only translates between protobuf and these types; the
// work itself lives in the files beside this one (bulk_call, get_by_id,
// batch_plan, batch_run) and below. Knows nothing of gRPC.
//
// Operations that produce many results (bulk calls, GetById, GetAll) are
// prepared in one step and started in a second (Run() on the returned
// fan-out or reader): the consumer stores the producer before its first
// result can arrive, and acknowledges results to bound memory.
//
// Thread-safety: thread-safe. Callbacks and sink calls run on engine threads.
#ifndef B24GATE_ENGINE_GATEWAY_GATEWAY_H_
#define B24GATE_ENGINE_GATEWAY_GATEWAY_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/cache/read_cache.h"
#include "engine/common/clock.h"
#include "engine/gateway/batch_run.h"
#include "engine/gateway/bulk_call.h"
#include "engine/gateway/gateway_options.h"
#include "engine/gateway/get_by_id.h"
#include "engine/http/http_transport.h"
#include "engine/lists/list_reader.h"
#include "engine/lists/ordered_fanout.h"
#include "engine/portal/call_types.h"
#include "engine/portal/dispatch_pool.h"
#include "engine/portal/dispatcher.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_options.h"

namespace b24gate {

// One method call.
struct CallSpec {
  std::string portal;  // "" = the default portal
  std::string method;
  // An object, or a list for positional methods; null sends no parameters.
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  // The request field `params` came from, for error messages.
  std::string params_field = "params";
  // Send params as one JSON request, unchanged (never inside a batch).
  bool raw = false;
  // What the call asks of the read cache (when one is configured).
  CacheMode cache = CacheMode::kUse;
};

class Gateway {
 public:
  // REQUIRES: portals non-empty, each validated; the first is the default.
  // `clock` and `observer` must outlive the Gateway. `cache` (may be null:
  // no read cache) answers and keeps reads of Call, bulk calls, CallMany and
  // GetById, and is told of every write (README "Read cache").
  Gateway(std::vector<PortalOptions> portals, std::unique_ptr<HttpTransport> transport,
          Clock* clock, PortalObserver* observer = PortalObserver::Null(),
          GatewayOptions options = {}, std::unique_ptr<ReadCache> cache = nullptr);
  // A gateway in front of dispatchers it does not own (a test's fakes): the
  // operations work the same; FindPortal, portals() and the shutdown steps
  // see none of them. REQUIRES: dispatchers non-empty, names unique; they,
  // `clock` and `cache` outlive the Gateway.
  Gateway(std::vector<Dispatcher*> dispatchers, Clock* clock, GatewayOptions options = {},
          std::unique_ptr<ReadCache> cache = nullptr);
  ~Gateway();

  // The named portal ("" = default), or NOT_FOUND (reason UNKNOWN_PORTAL).
  absl::StatusOr<Portal*> FindPortal(const std::string& name) const;
  std::vector<Portal*> portals() const;
  const GatewayOptions& options() const { return options_; }
  // Null when no read cache is configured.
  ReadCache* cache() const { return cache_.get(); }

  // Server shutdown, in two steps (see Portal): queued commands are answered
  // NOT_EXECUTED and nothing new is sent; then, at the grace deadline, what
  // is still on the wire is answered OUTCOME_UNKNOWN.
  void BeginShutdown();
  void AbandonInFlight();

  // Validates method and params (INVALID_ARGUMENT, naming `where`).
  static absl::Status ValidateCall(const std::string& method, const nlohmann::ordered_json& params,
                                   const std::string& where);

  // One call. Invalid input and unknown portals fail through `done` before
  // anything is queued.
  void Call(CallSpec call, CallOptions options, CallCallback done);

  // A named batch, split into requests of up to 50 (see PlanBatch); commands
  // run in order, one `batch` request after another.
  void CallBatch(const std::string& portal, std::vector<BatchCommandSpec> commands, bool halt,
                 CallOptions options, CallBatchCallback done);

  // One method with many parameter sets. The unary form collects every
  // result before replying, so it is refused above max_bulk_items; the
  // streaming form delivers results in chunks the sink acknowledges.
  // Returns the fan-out, not yet running (Run() it), or the validation error.
  absl::StatusOr<std::shared_ptr<OrderedFanout>> PrepareBulk(BulkSpec bulk, BulkForm form,
                                                            CallOptions options, FanoutSink* sink);

  // One `.get`-style call per id, results in id order (see get_by_id.h).
  // The method must be known as a read (IsReadMethod), or vouched for by
  // options.idempotent; else INVALID_ARGUMENT before anything is sent.
  absl::StatusOr<std::shared_ptr<OrderedFanout>> PrepareGetById(GetByIdSpec request,
                                                               CallOptions options,
                                                               FanoutSink* sink);

  // A whole list (GetAll). Returns the reader, not yet running. As for
  // GetById, the method must be a known read or request.options.idempotent
  // set; the reader then treats every page as safe to repeat.
  absl::StatusOr<std::shared_ptr<ListReader>> PrepareGetAll(const std::string& portal,
                                                           ListRequest request, ListSink* sink);

 private:
  // The named dispatcher ("" = default), or NOT_FOUND (reason UNKNOWN_PORTAL).
  absl::StatusOr<Dispatcher*> Find(const std::string& name) const;
  // OK, or options_.authorize's refusal prefixed with `where` (if any).
  absl::Status Authorize(const CallOptions& options, const Dispatcher& portal,
                         const std::string& method, const std::string& where = "") const;
  // `done`, preceded by keeping a read's answer in the cache and dropping
  // the cached reads a write may have changed.
  CallCallback ThroughCache(const std::string& portal, const std::string& method,
                            CacheTicket ticket, CallCallback done);

  // Threads of the dispatcher pool: sending is asynchronous, so a turn is
  // short (pick, encode, hand to the transport); two keep one slow encode
  // (a large batch) from delaying the other portals.
  static constexpr int kDispatchThreads = 2;

  Clock* const clock_;
  const GatewayOptions options_;
  const std::unique_ptr<ReadCache> cache_;
  std::unique_ptr<HttpTransport> transport_;
  // Runs the dispatchers of the portals this gateway made: a portal costs
  // memory, not a thread (null when given dispatchers).
  std::unique_ptr<DispatchPool> pool_;
  // The portals this gateway made (none when given dispatchers).
  std::vector<std::unique_ptr<Portal>> portals_;
  // What the operations use: the portals, or the dispatchers given; the
  // first is the default.
  std::vector<Dispatcher*> dispatchers_;
  std::map<std::string, Dispatcher*> by_name_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GATEWAY_H_
