// EventService.Subscribe for C++: a callback per event, each acknowledged
// when the callback returns true.
//
//   b24gate::client::Subscription sub(channel, {}, "crm-sync", {"ONCRMDEALADD"});
//   auto acked = sub.Run([](const b24gate::client::Event& e) { return SyncDeal(e.record_id); });
//
// An event is deleted from the portal's queue only once acknowledged; what is
// not acknowledged when the stream ends comes back on the consumer's next
// subscription (with a higher `attempt`).
//
// Thread-safety: Run is called once, on the thread that handles the events;
// Stop may be called from any thread, the callback included. The mutex is
// held only around writes to the stream, never while the callback runs.
#ifndef B24GATE_CLIENTS_CPP_B24GATE_EVENTS_H_
#define B24GATE_CLIENTS_CPP_B24GATE_EVENTS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bitrix24/gateway/v1/events.grpc.pb.h"
#include "client.h"

namespace b24gate::client {

struct Event {
  std::string delivery_id;
  std::string event;  // e.g. ONCRMDEALUPDATE
  std::string portal;
  std::string record_id;  // the record's ID as text; "" when the event has none
  std::string timestamp;
  Json data;  // the event's data as Bitrix24 sent it
  int attempt = 1;  // 1 for the first delivery
};

struct SubscribeOptions {
  // The portal does not queue events of writes carrying this auth_connector.
  std::string auth_connector;
  bitrix24::gateway::v1::EventSource source = bitrix24::gateway::v1::EVENT_SOURCE_UNSPECIFIED;
  std::chrono::milliseconds timeout{0};  // deadline of the whole stream; 0 = none
};

// One Subscribe stream of `consumer` to `events` (e.g. ONCRMDEALADD).
class Subscription {
 public:
  Subscription(std::shared_ptr<grpc::Channel> channel, const Options& options, std::string consumer,
               std::vector<std::string> events, SubscribeOptions subscribe = {})
      : stub_(bitrix24::gateway::v1::EventService::NewStub(channel)) {
    internal::Prepare(&context_, subscribe.timeout, options);
    auto* start = start_.mutable_start();
    start->set_portal(options.portal);
    start->set_consumer(std::move(consumer));
    for (auto& e : events) start->add_events(std::move(e));
    start->set_auth_connector(subscribe.auth_connector);
    start->set_source(subscribe.source);
  }

  // Calls `handle` per event, on this thread, until the stream ends or Stop.
  // An event is acknowledged when `handle` returns true; false leaves it
  // unacknowledged and ends the stream (it is delivered again next time).
  // Returns the number of events acknowledged, or the stream's Error
  // (UNAVAILABLE: subscribing again is safe; the other codes are a
  // subscription or acknowledgement the gateway refused).
  // REQUIRES: called once.
  Outcome<int64_t> Run(const std::function<bool(const Event&)>& handle) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      run_thread_ = std::this_thread::get_id();
      stream_ = stub_->Subscribe(&context_);
      if (!stream_->Write(start_)) ended_ = true;
    }
    int64_t acknowledged = 0;
    bitrix24::gateway::v1::SubscribeResponse message;
    while (stream_->Read(&message)) {
      Event e = ToEvent(message.event());
      const bool handled = handle(e);
      std::lock_guard<std::mutex> lock(mu_);
      if (ended_) continue;  // events after the end are not acknowledged
      if (handled) {
        bitrix24::gateway::v1::SubscribeRequest ack;
        ack.mutable_ack()->add_delivery_ids(e.delivery_id);
        if (stream_->Write(ack)) ++acknowledged;
      }
      if (!handled || stop_after_ack_) EndLocked();
    }
    grpc::Status status = stream_->Finish();
    if (!status.ok()) return internal::FromStatus(status);
    return acknowledged;
  }

  // Ends the stream: called from the callback, after that event's
  // acknowledgement; from another thread, at once. Run returns once the
  // gateway has taken the acknowledgements and ended the stream.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::this_thread::get_id() == run_thread_) {
      stop_after_ack_ = true;
    } else if (stream_ != nullptr) {
      EndLocked();
    }
  }

 private:
  // REQUIRES: mu_ held, stream_ set.
  void EndLocked() {
    if (ended_) return;
    ended_ = true;
    stream_->WritesDone();
  }

  static Event ToEvent(const bitrix24::gateway::v1::QueuedEvent& q) {
    google::protobuf::Value data;
    *data.mutable_struct_value() = q.data();
    return Event{q.delivery_id(), q.event(), q.portal(), q.record_id(), q.timestamp(),
                 internal::ToJson(data), q.attempt()};
  }

  std::unique_ptr<bitrix24::gateway::v1::EventService::Stub> stub_;
  grpc::ClientContext context_;
  bitrix24::gateway::v1::SubscribeRequest start_;
  std::mutex mu_;  // one writer at a time: Run's acknowledgements, Stop's WritesDone
  std::unique_ptr<grpc::ClientReaderWriter<bitrix24::gateway::v1::SubscribeRequest,
                                           bitrix24::gateway::v1::SubscribeResponse>>
      stream_;  // set once by Run; guarded by mu_ for writes
  bool ended_ = false;  // guarded by mu_: WritesDone sent or the start failed
  bool stop_after_ack_ = false;  // guarded by mu_: Stop from the callback
  std::thread::id run_thread_;  // guarded by mu_
};

}  // namespace b24gate::client

#endif  // B24GATE_CLIENTS_CPP_B24GATE_EVENTS_H_
