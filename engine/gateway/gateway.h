// The engine's front door: the configured portals and the operations the
// gRPC service exposes, with all input validation. Knows nothing of gRPC.
//
// Thread-safety: thread-safe. Callbacks run on engine threads.
#ifndef B24GATE_ENGINE_GATEWAY_GATEWAY_H_
#define B24GATE_ENGINE_GATEWAY_GATEWAY_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/portal/call_types.h"
#include "engine/common/clock.h"
#include "engine/http/http_transport.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_options.h"

namespace b24gate {

// One command's outcome in a CallBatch, in request order.
struct KeyedOutcome {
  std::string key;
  absl::StatusOr<CallReply> outcome;
};
using CallBatchCallback = std::function<void(absl::StatusOr<std::vector<KeyedOutcome>>)>;

class Gateway {
 public:
  // REQUIRES: portals non-empty, each validated; the first is the default.
  // `clock` and `observer` must outlive the Gateway.
  Gateway(std::vector<PortalOptions> portals, std::unique_ptr<HttpTransport> transport,
          Clock* clock, PortalObserver* observer = PortalObserver::Null());
  ~Gateway();

  // The named portal ("" = default), or NOT_FOUND.
  absl::StatusOr<Portal*> FindPortal(const std::string& name) const;
  std::vector<Portal*> portals() const;

  // Server shutdown, in two steps (see Portal): queued commands are answered
  // NOT_EXECUTED and nothing new is sent; then, at the grace deadline, what
  // is still on the wire is answered OUTCOME_UNKNOWN.
  void BeginShutdown();
  void AbandonInFlight();

  // Validates method and params (INVALID_ARGUMENT) before anything is queued.
  static absl::Status ValidateCall(const std::string& method, const nlohmann::ordered_json& params,
                                   const std::string& where);

  // One call. `raw` sends params as one JSON request, unchanged.
  void Call(Portal* portal, std::string method, nlohmann::ordered_json params, bool raw,
            CallOptions options, CallCallback done);

  // A named batch, split into requests of up to 50 (see PlanBatch).
  void CallBatch(Portal* portal, std::vector<BatchCommandSpec> commands, bool halt,
                 CallOptions options, CallBatchCallback done);

 private:
  void RunBatchChunks(Portal* portal,
                      std::shared_ptr<std::vector<std::vector<BatchCommandSpec>>> chunks,
                      size_t next, bool halt, CallOptions options,
                      std::shared_ptr<std::vector<KeyedOutcome>> results, CallBatchCallback done);

  std::unique_ptr<HttpTransport> transport_;
  std::vector<std::unique_ptr<Portal>> portals_;
  std::map<std::string, Portal*> by_name_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GATEWAY_H_
