#include "engine/events/offline_subscription.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

// A scalar as text: strings as they are, numbers as written.
std::string TextOf(const OJson& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return value.dump();
  return "";
}

absl::StatusOr<std::vector<QueuedEvent>> ParseBatch(const OJson& result) {
  const OJson* rows = result.is_object() && result.contains("events") ? &result["events"] : nullptr;
  if (rows == nullptr || !(rows->is_array() || rows->is_object())) {
    return absl::UnavailableError("event.offline.get answered without an events list");
  }
  std::vector<QueuedEvent> events;
  for (const OJson& row : *rows) {
    QueuedEvent e;
    e.delivery_id = row.is_object() && row.contains("ID") ? TextOf(row["ID"]) : "";
    if (e.delivery_id.empty()) {
      return absl::UnavailableError("event.offline.get answered an event without an ID");
    }
    e.event = TextOf(row.value("EVENT_NAME", OJson()));
    e.timestamp = TextOf(row.value("TIMESTAMP_X", OJson()));
    e.data = row.value("EVENT_DATA", OJson::object());
    if (e.data.is_object() && e.data.contains("FIELDS") && e.data["FIELDS"].is_object()) {
      e.record_id = TextOf(e.data["FIELDS"].value("ID", OJson()));
    }
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace

absl::Status OfflineSubscription::ValidateName(const std::string& name, const std::string& where) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": must be 1 to 64 of A-Z a-z 0-9 _ . - (got ", name.size(), " characters)"));
}

OfflineSubscription::OfflineSubscription(Options options, Caller caller, Timer timer,
                                         EventLedger* ledger, Sink* sink)
    : options_(std::move(options)),
      caller_(std::move(caller)),
      timer_(std::move(timer)),
      ledger_(ledger),
      sink_(sink) {}

void OfflineSubscription::Start() {
  std::shared_ptr<OfflineSubscription> self = shared_from_this();
  EventBinder::Binding binding{options_.events, /*handler=*/"", options_.auth_connector};
  EventBinder::Run(caller_, std::move(binding), [self](absl::Status status) {
    if (!status.ok()) return self->Fail(status);
    if (self->options_.notify_handler.empty()) return self->Poll();
    EventBinder::Binding notify{{"ONOFFLINEEVENT"}, self->options_.notify_handler, ""};
    EventBinder::Run(self->caller_, std::move(notify), [self](absl::Status status) {
      if (!status.ok()) return self->Fail(status);
      self->Poll();
    });
  });
}

void OfflineSubscription::Poll() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
  }
  OJson params = {{"process_id", ProcessId(options_.consumer)},
                  {"clear", 0},
                  {"limit", options_.batch_size},
                  {"order", {{"ID", "ASC"}}}};
  std::shared_ptr<OfflineSubscription> self = shared_from_this();
  caller_("event.offline.get", std::move(params),
          [self](absl::StatusOr<CallReply> reply) { self->OnBatch(std::move(reply)); });
}

void OfflineSubscription::PollNow() { PollIfWaiting(); }

void OfflineSubscription::PollIfWaiting() {
  {
    absl::MutexLock lock(&mu_);
    if (!waiting_) return;
    waiting_ = false;
  }
  Poll();
}

void OfflineSubscription::OnBatch(absl::StatusOr<CallReply> reply) {
  absl::StatusOr<std::vector<QueuedEvent>> events =
      reply.ok() ? ParseBatch(reply->result) : absl::StatusOr<std::vector<QueuedEvent>>(reply.status());
  if (!events.ok()) return Fail(events.status());
  std::shared_ptr<OfflineSubscription> self = shared_from_this();
  if (events->empty()) {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      waiting_ = true;
    }
    timer_(options_.poll_interval, [self] { self->PollIfWaiting(); });
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    for (QueuedEvent& e : *events) {
      unacked_.insert(e.delivery_id);
      e.attempt = ledger_->Delivered(options_.portal, options_.consumer, e.delivery_id);
    }
  }
  DeliverToSink(*std::move(events));
}

absl::Status OfflineSubscription::Ack(const std::vector<std::string>& delivery_ids,
                                      const std::string& where) {
  std::vector<std::string> start_clearing;
  int64_t taken = 0;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < delivery_ids.size(); ++i) {
      if (unacked_.count(delivery_ids[i]) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "[", i, "]: \"", delivery_ids[i],
            "\" is not an unacknowledged delivery of this stream"));
      }
    }
    for (const std::string& id : delivery_ids) {
      // A repeated id within one message is taken once.
      if (unacked_.erase(id) > 0) {
        to_clear_.push_back(id);
        ++taken;
      }
    }
    if (!clearing_ && !to_clear_.empty()) {
      clearing_ = true;
      start_clearing.swap(to_clear_);
    }
  }
  ledger_->Acknowledged(options_.portal, taken);
  if (!start_clearing.empty()) Clear(std::move(start_clearing));
  return absl::OkStatus();
}

void OfflineSubscription::Clear(std::vector<std::string> ids) {
  OJson params = {{"process_id", ProcessId(options_.consumer)}, {"id", ids}};
  std::shared_ptr<OfflineSubscription> self = shared_from_this();
  caller_("event.offline.clear", std::move(params),
          [self, ids = std::move(ids)](absl::StatusOr<CallReply> reply) mutable {
            self->OnCleared(std::move(ids), reply.status());
          });
}

void OfflineSubscription::OnCleared(std::vector<std::string> ids, absl::Status status) {
  // A failed clear leaves the rows marked: the next stream of the consumer
  // receives them again (a redelivery, never a loss).
  if (!status.ok()) return Fail(status);
  ledger_->Cleared(options_.portal, options_.consumer, ids);
  std::vector<std::string> next;
  bool poll = false;
  {
    absl::MutexLock lock(&mu_);
    if (!to_clear_.empty()) {
      next.swap(to_clear_);
    } else {
      clearing_ = false;
      poll = unacked_.empty() && !stopped_;
    }
  }
  if (!next.empty()) return Clear(std::move(next));
  if (poll) Poll();
}

void OfflineSubscription::Stop() {
  {
    absl::MutexLock lock(&sink_mu_);
    sink_ = nullptr;
  }
  std::vector<std::string> last;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    if (!clearing_ && !to_clear_.empty()) {
      clearing_ = true;
      last.swap(to_clear_);
    }
  }
  if (!last.empty()) Clear(std::move(last));
}

void OfflineSubscription::Fail(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  absl::MutexLock lock(&sink_mu_);
  if (sink_ != nullptr) sink_->End(status);
  sink_ = nullptr;
}

void OfflineSubscription::DeliverToSink(std::vector<QueuedEvent> events) {
  absl::MutexLock lock(&sink_mu_);
  if (sink_ != nullptr) sink_->Deliver(std::move(events));
}

}  // namespace b24gate
