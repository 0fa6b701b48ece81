#include "service/event_service.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/events/event_enricher.h"
#include "engine/events/event_pattern.h"
#include "service/json_value.h"
#include "service/status_mapping.h"

namespace b24gate {
namespace {

namespace pb = bitrix24::gateway::v1;

constexpr int kMaxEventNames = 64;

absl::Status ValidateStart(const pb::SubscribeStart& start) {
  if (absl::Status s = ValidateConsumerName(start.consumer(), "start.consumer");
      !s.ok()) {
    return s;
  }
  if (!start.auth_connector().empty()) {
    if (absl::Status s = ValidateConsumerName(start.auth_connector(), "start.auth_connector");
        !s.ok()) {
      return s;
    }
  }
  if (start.events_size() > kMaxEventNames) {
    return absl::InvalidArgumentError(
        absl::StrCat("start.events: at most ", kMaxEventNames, " names (got ", start.events_size(), ")"));
  }
  for (int i = 0; i < start.events_size(); ++i) {
    if (absl::Status s = ValidateEventName(start.events(i), absl::StrCat("start.events[", i, "]"), /*patterns=*/true);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

pb::RecordState ToProto(RecordState state) {
  switch (state) {
    case RecordState::kPresent: return pb::RECORD_STATE_PRESENT;
    case RecordState::kDeleted: return pb::RECORD_STATE_DELETED;
    case RecordState::kUnreadable: return pb::RECORD_STATE_UNREADABLE;
    case RecordState::kNotRead: break;
  }
  return pb::RECORD_STATE_UNSPECIFIED;
}

pb::SubscribeResponse ToResponse(const std::string& portal, const QueuedEvent& e) {
  pb::SubscribeResponse response;
  pb::QueuedEvent* out = response.mutable_event();
  out->set_delivery_id(e.delivery_id);
  out->set_event(e.event);
  out->set_portal(portal);
  out->set_record_id(e.record_id);
  out->set_timestamp(e.timestamp);
  *out->mutable_data() = ToStruct(e.data);
  out->set_attempt(e.attempt);
  out->set_record_state(ToProto(e.record_state));
  if (e.record_state == RecordState::kPresent) *out->mutable_record() = ToStruct(e.record);
  out->set_record_error(e.record_error);
  return response;
}

}  // namespace

// One Subscribe stream. The subscription writes through Deliver/End; the
// stream's own reasons to end (the client left, a bad request, shutdown)
// go through Close, which stops the subscription first, so after
// it no subscription call can reach a finished reactor.
class SubscribeReactor final
    : public grpc::ServerBidiReactor<pb::SubscribeRequest, pb::SubscribeResponse>,
      public EventSink {
 public:
  SubscribeReactor(EventService* service, absl::StatusOr<std::string> client)
      : service_(service) {
    if (!client.ok()) {
      Close(client.status());
      return;
    }
    client_ = *client;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Close(absl::OkStatus());  // the client ended its side
    absl::Status status;
    if (request_.has_start()) {
      status = started_ ? absl::InvalidArgumentError("start: sent twice on one stream")
                        : OnStart(request_.start());
    } else if (request_.has_ack()) {
      std::vector<std::string> ids(request_.ack().delivery_ids().begin(),
                                   request_.ack().delivery_ids().end());
      status = started_ ? subscription()->Ack(ids, "ack.delivery_ids")
                        : absl::InvalidArgumentError("ack: the first request of a stream is start");
    } else {
      status = absl::InvalidArgumentError("request: neither start nor ack");
    }
    if (!status.ok()) return Close(status);
    absl::MutexLock lock(&mu_);
    if (!ending_) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (ok) return WriteNext();
    }
    Close(absl::UnavailableError("the stream to the subscriber broke"));
  }

  void OnCancel() override { Close(absl::CancelledError("the subscriber cancelled the stream")); }

  void OnDone() override {
    if (started_) service_->Unregister(key_, this);
    if (std::shared_ptr<EventSubscription> sub = subscription()) sub->Stop();
    { absl::MutexLock lock(&mu_); }  // a Deliver/End still returning from the lock
    delete this;
  }

  void Deliver(std::vector<QueuedEvent> events) override {
    absl::MutexLock lock(&mu_);
    if (ending_) return;
    for (const QueuedEvent& e : events) pending_.push_back(ToResponse(key_.first, e));
    WriteNext();
  }

  void End(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    EndLocked(status);
  }

  // Ends the stream with `status` once the write in flight (if any) is done;
  // events not yet written stay unacknowledged in the portal's queue.
  void Close(const absl::Status& status) {
    if (std::shared_ptr<EventSubscription> sub = subscription()) sub->Stop();
    absl::MutexLock lock(&mu_);
    EndLocked(status);
  }

 private:
  absl::Status OnStart(const pb::SubscribeStart& start) {
    if (absl::Status s = ValidateStart(start); !s.ok()) return s;
    const bool online = start.source() == pb::EVENT_SOURCE_ONLINE;
    if (online && (service_->options_.inbound_url.empty() || service_->online_ == nullptr)) {
      return absl::FailedPreconditionError(
          "start.source: online events need the gateway's inbound endpoint (--events-listen)");
    }
    if (!online && service_->offline_ == nullptr) {
      return absl::FailedPreconditionError(
          "start.source: offline events need the gateway's event store (a writable --events-log, or --redis)");
    }
    absl::StatusOr<std::shared_ptr<Portal>> portal = service_->gateway_->FindPortal(start.portal());
    if (!portal.ok()) return portal.status();
    const std::string name = (*portal)->name();
    std::vector<std::string> events(start.events().begin(), start.events().end());
    std::shared_ptr<EventEnricher> enricher =
        start.enrich() ? std::make_shared<EventEnricher>(ReaderFor(name), this) : nullptr;
    EventSink* sink = enricher ? static_cast<EventSink*>(enricher.get()) : this;
    absl::StatusOr<std::shared_ptr<EventSubscription>> made =
        online ? MakeOnline(name, start.consumer(), events, sink)
               : MakeOffline(name, start, std::move(events), sink);
    if (!made.ok()) return made.status();
    std::shared_ptr<EventSubscription> sub = *std::move(made);
    if (enricher) sub = EventEnricher::Enriched(sub, enricher);
    started_ = true;
    key_ = {name, start.consumer()};
    {
      absl::MutexLock lock(&mu_);
      sub_ = sub;
    }
    if (!service_->Register(key_, this)) {
      return absl::UnavailableError("the gateway is shutting down");
    }
    sub->Start();
    // The portal's reader reads now that the group is known (in Redis, once
    // the stream has made it: else at its next poll).
    if (!online) service_->PollNow(name);
    return absl::OkStatus();
  }

  // A member of the consumer's group in the offline store. Its binds go
  // as this client, the portal's offline source reads and clears for every
  // group: so the client must be allowed those calls too.
  absl::StatusOr<std::shared_ptr<EventSubscription>> MakeOffline(const std::string& portal,
                                                                 const pb::SubscribeStart& start,
                                                                 std::vector<std::string> events,
                                                                 EventSink* sink) {
    if (service_->access_ != nullptr) {
      for (const char* method : {"event.offline.get", "event.offline.clear"}) {
        absl::Status allowed = service_->access_->AuthorizeCommand(client_, portal, method);
        if (!allowed.ok()) return allowed;
      }
    }
    EventBinder::Binding binding{events, /*handler=*/"", start.auth_connector()};
    // With the inbound endpoint, the portal says when its queue fills.
    const std::string notify = service_->HandlerUrl(portal);
    return service_->offline_->Subscribe(
        portal, start.consumer(), events, sink,
        [caller = CallerFor(portal), binding, notify](std::function<void(absl::Status)> done) {
          EventBinder::Run(caller, binding, [caller, notify, done](absl::Status status) {
            if (!status.ok() || notify.empty()) return done(status);
            EventBinder::Run(caller, EventBinder::Binding{{"ONOFFLINEEVENT"}, notify, ""}, done);
          });
        });
  }

  // Bound with the handler URL before the first delivery.
  absl::StatusOr<std::shared_ptr<EventSubscription>> MakeOnline(const std::string& portal,
                                                                const std::string& consumer,
                                                                const std::vector<std::string>& events,
                                                                EventSink* sink) {
    EventBinder::Binding binding{events, service_->HandlerUrl(portal), /*auth_connector=*/""};
    return service_->online_->Subscribe(
        portal, consumer, events, sink,
        [caller = CallerFor(portal), binding](std::function<void(absl::Status)> done) {
          EventBinder::Run(caller, binding, std::move(done));
        });
  }

  // The stream's binds: through the gateway as this client, never from the
  // read cache; all but event.bind are safe to repeat.
  EventBinder::Caller CallerFor(const std::string& portal) {
    return [gateway = service_->gateway_, portal, client = client_](
               const std::string& method, nlohmann::ordered_json params, CallCallback done) {
      CallSpec spec;
      spec.portal = portal;
      spec.method = method;
      spec.params = std::move(params);
      spec.cache = CacheMode::kBypass;
      CallOptions options;
      options.client_id = client;
      options.idempotent = method != "event.bind";
      gateway->Call(std::move(spec), std::move(options), std::move(done));
    };
  }

  // The enricher's reads: one CallBatch (batch requests of up to 50) as
  // this client; a command that fails does not stop the others.
  EventEnricher::Reader ReaderFor(const std::string& portal) {
    return [gateway = service_->gateway_, portal, client = client_](
               std::vector<BatchCommandSpec> commands, std::function<void(EventEnricher::Outcomes)> done) {
      CallOptions options;
      options.client_id = client;
      const size_t n = commands.size();
      gateway->CallBatch(portal, std::move(commands), /*halt=*/false, std::move(options),
                         [n, done = std::move(done)](absl::StatusOr<std::vector<KeyedOutcome>> run) {
                           EventEnricher::Outcomes outcomes;
                           for (size_t i = 0; i < n; ++i) {
                             if (!run.ok() || i >= run->size()) {
                               outcomes.push_back(run.ok() ? absl::InternalError("no outcome") : run.status());
                             } else {
                               outcomes.push_back(std::move((*run)[i].outcome));
                             }
                           }
                           done(std::move(outcomes));
                         });
    };
  }

  std::shared_ptr<EventSubscription> subscription() {
    absl::MutexLock lock(&mu_);
    return sub_;
  }


  void EndLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_) return;
    ending_ = true;
    final_ = status;
    pending_.clear();
    WriteNext();
  }

  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (ending_) {
      finished_ = true;
      Finish(ToGrpcStatus(final_));
      return;
    }
    if (pending_.empty()) return;
    current_ = std::move(pending_.front());
    pending_.pop_front();
    writing_ = true;
    StartWrite(&current_);
  }

  EventService* const service_;
  std::string client_;
  // Touched only by the read callbacks, which gRPC runs one at a time.
  pb::SubscribeRequest request_;
  bool started_ = false;
  EventService::Key key_;

  absl::Mutex mu_;
  std::shared_ptr<EventSubscription> sub_ ABSL_GUARDED_BY(mu_);
  std::deque<pb::SubscribeResponse> pending_ ABSL_GUARDED_BY(mu_);
  pb::SubscribeResponse current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_ ABSL_GUARDED_BY(mu_);
};

EventService::EventService(Gateway* gateway, const AccessControl* access, EventLedger* ledger,
                           PollTimer* timer, OnlineEventStore* online, OnlineEventStore* offline,
                           Options options)
    : gateway_(gateway),
      access_(access),
      ledger_(ledger),
      timer_(timer),
      online_(online),
      offline_(offline),
      options_(std::move(options)) {}

EventService::~EventService() {
  absl::MutexLock lock(&mu_);
  for (auto& [portal, source] : sources_) source->Stop();
}

std::string EventService::HandlerUrl(const std::string& portal) const {
  if (options_.inbound_url.empty()) return "";
  return absl::StrCat(options_.inbound_url, "/events/", portal);
}

void EventService::PollNow(const std::string& portal) {
  if (std::shared_ptr<OfflineSource> source = SourceFor(portal)) source->PollNow();
}

std::shared_ptr<OfflineSource> EventService::SourceFor(const std::string& portal) {
  if (offline_ == nullptr) return nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return nullptr;
    auto it = sources_.find(portal);
    if (it != sources_.end()) return it->second;
  }
  absl::StatusOr<std::shared_ptr<Portal>> found = gateway_->FindPortal(portal);
  if (!found.ok()) return nullptr;
  OfflineSource::Options options;
  options.portal = portal;
  options.poll_interval = options_.poll_interval;
  OfflineSource::Listener listener;
  listener.stored = [ledger = ledger_, portal](int fresh) { ledger->ReceivedOffline(portal, fresh); };
  listener.failed = [report = options_.on_source_failed, portal](const absl::Status& status) {
    if (report) report(portal, status);
  };
  // The gateway's own work, like the binding passes: the portal's queue
  // (its throttle), no client's permissions.
  auto caller = [target = *std::move(found)](const std::string& method, nlohmann::ordered_json params,
                                             CallCallback done) {
    CallOptions call;
    call.idempotent = true;  // a get with the process_id reads the same rows; a clear deletes once
    target->Call(method, std::move(params), /*as_json=*/false, std::move(call), std::move(done));
  };
  auto made = std::make_shared<OfflineSource>(
      options, offline_, std::move(caller),
      [timer = timer_](absl::Duration delay, std::function<void()> fire) { timer->After(delay, std::move(fire)); },
      [pool = options_.blocking](std::function<void()> job) { return pool->Submit(std::move(job)); },
      std::move(listener));
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return nullptr;
  return sources_.try_emplace(portal, std::move(made)).first->second;
}

grpc::ServerBidiReactor<pb::SubscribeRequest, pb::SubscribeResponse>* EventService::Subscribe(
    grpc::CallbackServerContext* context) {
  return new SubscribeReactor(this, AdmittedClientName(access_, *context));
}

bool EventService::Register(const Key& key, SubscribeReactor* reactor) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  active_.emplace(key, reactor);
  return true;
}

void EventService::Unregister(const Key& key, SubscribeReactor* reactor) {
  absl::MutexLock lock(&mu_);
  auto [begin, end] = active_.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    if (it->second == reactor) {
      active_.erase(it);
      return;
    }
  }
}

void EventService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (auto& [portal, source] : sources_) source->Stop();
  for (auto& [key, reactor] : active_) {
    reactor->Close(absl::UnavailableError("the gateway is shutting down; reconnect to another"));
  }
}

}  // namespace b24gate
