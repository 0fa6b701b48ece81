// The engine's front door: the portals (configured, or registered at run
// time through directory(), see portal_directory.h) and every operation the
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
#include "engine/gateway/portal_directory.h"
#include "engine/http/http_transport.h"
#include "engine/lists/list_reader.h"
#include "engine/lists/ordered_fanout.h"
#include "engine/portal/call_types.h"
#include "engine/portal/dispatch_pool.h"
#include "engine/portal/dispatcher.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_options.h"
#include "engine/portal/v3_catalog.h"

namespace b24gate {

// One method call.
struct CallSpec {
  std::string portal;  // name, member_id or domain; "" = the default portal
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

// Where the portals registered at run time are kept, and what they start
// from (portal_directory.h). The default keeps them in memory.
struct RegistryParts {
  std::unique_ptr<PortalRegistry> registry;  // null: memory
  DirectoryOptions options;
};

class Gateway {
 public:
  // REQUIRES: portals validated, names unique; the first is the default (with
  // none, every call must name a registered portal). `clock` and `observer`
  // must outlive the Gateway. `cache` (may be null: no read cache) answers
  // and keeps reads of Call, bulk calls, CallMany and GetById, and is told
  // of every write (README "Read cache"). The registry is read by
  // directory().Load(), not here.
  Gateway(std::vector<PortalOptions> portals, std::unique_ptr<HttpTransport> transport,
          Clock* clock, PortalObserver* observer = PortalObserver::Null(),
          GatewayOptions options = {}, std::unique_ptr<ReadCache> cache = nullptr,
          RegistryParts registry = {});
  // A gateway in front of dispatchers it does not own (a test's fakes): the
  // operations work the same; FindPortal, directory(), portals() and the
  // shutdown steps see none of them. REQUIRES: dispatchers non-empty, names
  // unique; they, `clock` and `cache` outlive the Gateway.
  Gateway(std::vector<Dispatcher*> dispatchers, Clock* clock, GatewayOptions options = {},
          std::unique_ptr<ReadCache> cache = nullptr);
  ~Gateway();

  // The portal by name, member_id or domain ("" = default), or NOT_FOUND
  // (reason UNKNOWN_PORTAL). Hold it only while using it: a removed portal
  // leaves memory when its last holder lets go.
  absl::StatusOr<std::shared_ptr<Portal>> FindPortal(const std::string& name) const;
  // The portals in memory now (registered ones appear on first use).
  std::vector<std::shared_ptr<Portal>> portals() const;
  // The portals, and adding and removing them at run time. REQUIRES: not
  // the gateway of fakes.
  PortalDirectory& directory() const { return *directory_; }
  const GatewayOptions& options() const { return options_; }
  // Null when no read cache is configured.
  ReadCache* cache() const { return cache_.get(); }

  // Server shutdown, in two steps (see Portal): queued commands are answered
  // NOT_EXECUTED and nothing new is sent; then, at the grace deadline, what
  // is still on the wire is answered OUTCOME_UNKNOWN.
  void BeginShutdown();
  void AbandonInFlight();

  // The API `auto` sends `methods` to on `portal`: REST 3.0 when the
  // portal's OpenAPI document lists every one of them, else classic
  // (v3_catalog.h). NOT_FOUND for an unknown portal; a document that cannot
  // be read fails with the reason, its message saying so. `done` may run
  // before this returns.
  void ResolveAutoApi(const std::string& portal, std::vector<std::string> methods,
                      std::function<void(absl::StatusOr<RestApi>)> done);

  // Validates method and params (INVALID_ARGUMENT, naming `where`).
  static absl::Status ValidateCall(const std::string& method, const nlohmann::ordered_json& params,
                                   const std::string& where);

  // One call. Invalid input and unknown portals fail through `done` before
  // anything is queued.
  void Call(CallSpec call, CallOptions options, CallCallback done);

  // A named batch, split into requests of up to 50 (see PlanBatch, and
  // PlanV3Batch when `options.api` is REST 3.0); commands run in order, one
  // `batch` request after another.
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
  // A portal found for one operation: `hold` keeps it in memory until the
  // operation is over (null for a test's fakes).
  struct PortalRef {
    Dispatcher* dispatcher;
    std::shared_ptr<Portal> hold;
    Dispatcher* operator->() const { return dispatcher; }
    Dispatcher& operator*() const { return *dispatcher; }
  };
  // The portal by name, member_id or domain ("" = default), or NOT_FOUND
  // (reason UNKNOWN_PORTAL).
  absl::StatusOr<PortalRef> Find(const std::string& name) const;
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
  // The portals this gateway made (null when given dispatchers).
  std::unique_ptr<PortalDirectory> directory_;
  // The dispatchers given (a test's fakes); the first is the default.
  std::vector<Dispatcher*> fakes_;
  std::map<std::string, Dispatcher*> fakes_by_name_;
  // The REST 3.0 method lists of the fakes (a Portal keeps its own).
  std::map<const Dispatcher*, std::unique_ptr<V3Catalog>> fake_catalogs_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GATEWAY_H_
