// Which methods a portal serves through REST 3.0, as its own OpenAPI document
// says (rest.documentation.openapi, docs/bitrix24-protocol.md "REST 3.0"):
// what `auto` API selection routes by. The document is fetched once, through
// the portal like any call (its bucket, its queue), and kept; callers that
// ask while it is on its way wait for that one fetch. An answer that a method
// was not found (MarkStale) makes the next caller fetch it again, at most once
// per kMinRefresh, so a caller repeating a mistyped method name costs one
// fetch a minute, not one per call.
//
// A portal that has no such method (an older one) serves no REST 3.0 method
// as far as `auto` goes: every call stays classic. Any other failure to read
// the document is the waiting callers' answer when there is no earlier list
// (the next caller tries again); a refresh that fails keeps the earlier list.
//
// Thread-safety: thread-safe. Never calls the portal or a callback while
// holding its lock; a callback runs on the caller's thread when the list is
// at hand, else on the thread that delivers the document.
#ifndef B24GATE_ENGINE_PORTAL_V3_CATALOG_H_
#define B24GATE_ENGINE_PORTAL_V3_CATALOG_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/portal/dispatcher.h"

namespace b24gate {

// Method names, lower-cased (the portal matches names without case).
using V3MethodSet = std::set<std::string>;

class V3Catalog {
 public:
  using Callback = std::function<void(absl::StatusOr<std::shared_ptr<const V3MethodSet>>)>;

  // The shortest time between two fetches of the document.
  static constexpr absl::Duration kMinRefresh = absl::Minutes(1);
  // How long one fetch may take, queueing and retries included.
  static constexpr absl::Duration kFetchDeadline = absl::Minutes(2);

  // `portal` and `clock` must outlive the catalog, and every call the
  // catalog queued on `portal` must be answered before it goes.
  V3Catalog(Dispatcher* portal, Clock* clock) : portal_(portal), clock_(clock) {}

  V3Catalog(const V3Catalog&) = delete;
  V3Catalog& operator=(const V3Catalog&) = delete;

  // Calls `done` with the methods the document lists, fetching it first
  // when there is none yet or it is stale.
  void Methods(Callback done);

  // A method was answered "not found": the document may be out of date.
  void MarkStale();

  // The methods an OpenAPI document lists: the last segment of each key of
  // its `paths`, lower-cased ("/tasks.task.list" -> "tasks.task.list").
  // UNAVAILABLE / BAD_RESPONSE when `paths` is not an object.
  static absl::StatusOr<V3MethodSet> MethodsOf(const nlohmann::ordered_json& document);

 private:
  void Fetch();
  void Delivered(absl::StatusOr<CallReply> reply);

  Dispatcher* const portal_;
  Clock* const clock_;

  absl::Mutex mu_;
  // Null until a document was read.
  std::shared_ptr<const V3MethodSet> methods_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stale_ ABSL_GUARDED_BY(mu_) = false;
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Callback> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_V3_CATALOG_H_
