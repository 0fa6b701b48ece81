// bitrix24.gateway.v1.EventService on the gRPC callback API: each Subscribe
// stream is one small bidirectional reactor in front of a member of a
// consumer group of an event store (OnlineEventStore, engine/events/): the
// online store for online events, the offline store for offline ones. Its
// Bitrix24 calls (binds, enrichment) go through the gateway's portals (so
// they pass the throttle and the client's permissions like any other). No
// thread per stream: engine callbacks, gRPC callbacks and the shared
// PollTimer drive it.
//
// Offline events reach the offline store through one OfflineSource per
// portal on this replica, made at start for the configured portals and at
// a portal's first offline stream or ONOFFLINEEVENT otherwise; it reads the
// portal's queue while the store has a group of the portal.
//
// Thread-safety: thread-safe (gRPC calls it from many threads).
#ifndef B24GATE_SERVICE_EVENT_SERVICE_H_
#define B24GATE_SERVICE_EVENT_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "bitrix24/gateway/v1/events.grpc.pb.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/blocking_pool.h"
#include "engine/common/clock.h"
#include "engine/events/event_ledger.h"
#include "engine/events/offline_source.h"
#include "engine/events/online_event_store.h"
#include "engine/events/poll_timer.h"
#include "engine/gateway/gateway.h"
#include "service/auth/access_control.h"

namespace b24gate {

class SubscribeReactor;  // event_service.cc

class EventService final : public bitrix24::gateway::v1::EventService::CallbackService {
 public:
  struct Options {
    // How long an empty offline queue rests between reads.
    absl::Duration poll_interval = absl::Seconds(5);
    // The inbound endpoint's public URL ("" = off): handlers are bound as
    // INBOUND_URL/events/PORTAL.
    std::string inbound_url;
    // Told when an offline source's pass failed (may be null).
    std::function<void(const std::string& portal, const absl::Status&)> on_source_failed;
    // Where the offline sources store their rows and ask the store for the
    // portal's groups (blocking I/O, off the shared threads); it must
    // outlive the service. REQUIRES: set when `offline` is.
    BlockingPool* blocking = nullptr;
  };

  // Everything must outlive the service; `access` null: every call is
  // anonymous; `online` null: online streams are refused (no inbound
  // endpoint); `offline` null: offline streams are refused (its store did
  // not open).
  EventService(Gateway* gateway, const AccessControl* access, EventLedger* ledger, PollTimer* timer,
               OnlineEventStore* online, OnlineEventStore* offline, Options options);
  // Stops the offline sources (as Shutdown does), so none hands a job to
  // Options::blocking once the service is gone.
  ~EventService() override;

  grpc::ServerBidiReactor<bitrix24::gateway::v1::SubscribeRequest,
                          bitrix24::gateway::v1::SubscribeResponse>*
  Subscribe(grpc::CallbackServerContext* context) override;

  // The handler URL the portal `portal` posts its events to ("" = off).
  std::string HandlerUrl(const std::string& portal) const;

  // The portal says its offline queue is not empty (ONOFFLINEEVENT), or it
  // has a new offline group: its offline source reads now (made if need be).
  void PollNow(const std::string& portal);

  // Server shutdown: every stream ends UNAVAILABLE (its unacknowledged
  // events stay in the store), new ones are refused, and the offline
  // sources start no more passes.
  void Shutdown();

 private:
  friend class SubscribeReactor;
  using Key = std::pair<std::string, std::string>;  // (portal, consumer)

  // Adds `reactor` to the streams of `key`. False when shutting down.
  bool Register(const Key& key, SubscribeReactor* reactor);
  void Unregister(const Key& key, SubscribeReactor* reactor);

  // The portal's offline source, made and started if need be; null when
  // there is no offline store or the service is shutting down.
  std::shared_ptr<OfflineSource> SourceFor(const std::string& portal);

  Gateway* const gateway_;
  const AccessControl* const access_;
  EventLedger* const ledger_;
  PollTimer* const timer_;
  OnlineEventStore* const online_;
  OnlineEventStore* const offline_;
  const Options options_;

  absl::Mutex mu_;
  std::multimap<Key, SubscribeReactor*> active_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<OfflineSource>> sources_ ABSL_GUARDED_BY(mu_);  // by portal
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_EVENT_SERVICE_H_
