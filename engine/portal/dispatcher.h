// What work on one portal needs of it: send a call, send a pre-formed batch,
// and look at the room left. The list strategies (engine/lists/) and the
// gateway's operations (engine/gateway/) see a portal only through this, so
// they can be tested against a fake that answers when the test says
// (tests/support/fake_dispatcher.h), with no HTTP, threads or real time.
// Portal (portal.h) is the real one.
//
// Thread-safety: implementations are thread-safe. Callbacks are never run
// from inside Call or Batch (unless the caller lent its thread to Call,
// CallOptions::lend_thread), and never while the implementation holds a lock
// of its own: a caller may hold its own lock while it calls in and take that
// lock again in the callback.
#ifndef B24GATE_ENGINE_PORTAL_DISPATCHER_H_
#define B24GATE_ENGINE_PORTAL_DISPATCHER_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/portal/call_types.h"

namespace b24gate {

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  // The portal's configured name.
  virtual const std::string& name() const = 0;

  // Queues one call. `params` is an object, or a list for positional
  // methods. When `as_json` is true, or params hold a null or are a list, the
  // call travels alone as a JSON body; otherwise it may share a batch.
  virtual void Call(std::string method, nlohmann::ordered_json params, bool as_json,
                    CallOptions options, CallCallback done) = 0;

  // Queues calls of one method together, each as Call would and answered
  // on its own callback. They enter the queue at once: the dispatcher never
  // sees part of them, so they ride in as few batches as they fill (queued
  // one by one, a look between two may send the first part alone).
  virtual void Calls(const std::string& method, std::vector<GroupedCall> calls, bool as_json,
                     const CallOptions& options) = 0;

  // Queues a pre-formed batch of at most 50 commands; keys and order are kept
  // so `$result[key]` references work.
  // REQUIRES: 1 <= commands.size() <= 50, keys unique.
  virtual void Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
                     BatchCallback done) = 0;

  // What the portal can take now, for callers that size their own
  // parallelism (parallel list reading). A snapshot: read-only, cheap, and
  // stale as soon as it returns, so use it to choose how much to queue, not
  // as a promise that it will be sent at once.
  virtual PortalBudget Budget(const std::string& method) const = 0;

  // A hint that about `requests` requests will be queued at once soon (a
  // parallel list read has sent its first request): the portal may open
  // its idle connections ahead, up to its max_concurrency, so that they are
  // ready when they go. Costs no request of the portal's budget.
  virtual void Warm(int requests) { (void)requests; }

  // Runs `job` (short: a fraction of a millisecond) once, where it holds
  // up no answer and no request: on the portal's threads when they have
  // nothing else to do (a list read makes the pages that wait for its first
  // range there, while it waits). By default: now, on the calling thread.
  // REQUIRES: the caller holds no lock `job` takes.
  virtual void Background(std::function<void()> job) { job(); }
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_DISPATCHER_H_
