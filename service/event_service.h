// bitrix24.gateway.v1.EventService on the gRPC callback API: each Subscribe
// stream is one small bidirectional reactor in front of an
// OfflineSubscription or an online stream (OnlineEventStore, engine/events/), whose
// Bitrix24 calls go through the gateway's portals (so they pass the
// throttle and the client's permissions like any other). No thread per
// stream: engine callbacks, gRPC callbacks and the shared PollTimer drive it.
//
// Every stream of a consumer is a member of its group and they share its
// events. Offline: one OfflineReader per (portal, consumer) in this
// replica reads the portal's queue with the consumer's one process_id for
// all its streams (OfflineReaders). Online: OnlineEventStore, in process or
// in Redis Streams across replicas.
//
// Thread-safety: thread-safe (gRPC calls it from many threads).
#ifndef B24GATE_SERVICE_EVENT_SERVICE_H_
#define B24GATE_SERVICE_EVENT_SERVICE_H_

#include <map>
#include <string>
#include <utility>

#include "bitrix24/gateway/v1/events.grpc.pb.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/events/event_ledger.h"
#include "engine/events/offline_readers.h"
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
    // An offline event delivered and not acknowledged this long goes to
    // another stream of its consumer.
    absl::Duration visibility_timeout = absl::Minutes(5);
    Clock* clock = Clock::Real();  // must outlive the service
  };

  // Everything must outlive the service; `access` null: every call is
  // anonymous.
  EventService(Gateway* gateway, const AccessControl* access, EventLedger* ledger,
               PollTimer* timer, OnlineEventStore* hub, Options options);

  grpc::ServerBidiReactor<bitrix24::gateway::v1::SubscribeRequest,
                          bitrix24::gateway::v1::SubscribeResponse>*
  Subscribe(grpc::CallbackServerContext* context) override;

  // The handler URL the portal `portal` posts its events to ("" = off).
  std::string HandlerUrl(const std::string& portal) const;

  // The portal says its offline queue is not empty (ONOFFLINEEVENT): its
  // offline readers that wait for their timer read now.
  void PollNow(const std::string& portal);

  // Server shutdown: every stream ends UNAVAILABLE (its unacknowledged
  // events stay in the portal's queue) and new ones are refused.
  void Shutdown();

 private:
  friend class SubscribeReactor;
  using Key = std::pair<std::string, std::string>;  // (portal, consumer)

  // Adds `reactor` to the streams of `key`. False when shutting down.
  bool Register(const Key& key, SubscribeReactor* reactor);
  void Unregister(const Key& key, SubscribeReactor* reactor);

  Gateway* const gateway_;
  const AccessControl* const access_;
  OnlineEventStore* const hub_;
  const Options options_;
  OfflineReaders offline_;

  absl::Mutex mu_;
  std::multimap<Key, SubscribeReactor*> active_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_EVENT_SERVICE_H_
