#include "engine/events/offline_subscription.h"

#include <utility>

namespace b24gate {

OfflineSubscription::OfflineSubscription(Options options, Caller caller,
                                         OfflineReaders::Attached attached, Sink* sink)
    : options_(std::move(options)),
      caller_(std::move(caller)),
      reader_(std::move(attached.reader)),
      member_(attached.member),
      sink_(sink) {}

void OfflineSubscription::Start() {
  std::shared_ptr<OfflineSubscription> self = shared_from_this();
  auto join = [self] { self->reader_->Join(self->member_, self, self->caller_); };
  EventBinder::Binding binding{options_.events, /*handler=*/"", options_.auth_connector};
  EventBinder::Run(caller_, std::move(binding), [self, join](absl::Status status) {
    if (!status.ok()) return self->End(status);
    if (self->options_.notify_handler.empty()) return join();
    EventBinder::Binding notify{{"ONOFFLINEEVENT"}, self->options_.notify_handler, ""};
    EventBinder::Run(self->caller_, std::move(notify), [self, join](absl::Status status) {
      if (!status.ok()) return self->End(status);
      join();
    });
  });
}

absl::Status OfflineSubscription::Ack(const std::vector<std::string>& delivery_ids,
                                      const std::string& where) {
  return reader_->Ack(member_, delivery_ids, where);
}

void OfflineSubscription::Stop() {
  {
    absl::MutexLock lock(&sink_mu_);
    sink_ = nullptr;
  }
  Leave();
}

void OfflineSubscription::Leave() {
  stopped_ = true;
  if (!left_.exchange(true)) reader_->Leave(member_);
}

void OfflineSubscription::Pump() {
  absl::MutexLock lock(&sink_mu_);
  if (sink_ == nullptr) return;
  std::vector<QueuedEvent> events = reader_->TakeOutbox(member_);
  if (!events.empty()) sink_->Deliver(std::move(events));
}

void OfflineSubscription::End(const absl::Status& status) {
  absl::MutexLock lock(&sink_mu_);
  if (sink_ != nullptr) sink_->End(status);
  sink_ = nullptr;
}

}  // namespace b24gate
