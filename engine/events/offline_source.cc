#include "engine/events/offline_source.h"

#include <utility>

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

// For a queue row: source_id is its ID, timestamp its TIMESTAMP_X, data its
// EVENT_DATA, record_id its EVENT_DATA.FIELDS.ID.
absl::StatusOr<std::vector<QueuedEvent>> ParseBatch(const OJson& result) {
  const OJson* rows = result.is_object() && result.contains("events") ? &result["events"] : nullptr;
  if (rows == nullptr || !(rows->is_array() || rows->is_object())) {
    return absl::UnavailableError("event.offline.get answered without an events list");
  }
  std::vector<QueuedEvent> events;
  for (const OJson& row : *rows) {
    QueuedEvent e;
    e.source_id = row.is_object() && row.contains("ID") ? ScalarText(row["ID"]) : "";
    if (e.source_id.empty()) return absl::UnavailableError("event.offline.get answered an event without an ID");
    e.event = ScalarText(row.value("EVENT_NAME", OJson()));
    e.timestamp = ScalarText(row.value("TIMESTAMP_X", OJson()));
    e.data = row.value("EVENT_DATA", OJson::object());
    e.record_id = RecordIdOf(e.data);
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace

OfflineSource::OfflineSource(Options options, OnlineEventStore* store, Caller caller, Timer timer,
                             Executor blocking, Listener listener)
    : options_(std::move(options)),
      store_(store),
      caller_(std::move(caller)),
      timer_(std::move(timer)),
      blocking_(std::move(blocking)),
      listener_(std::move(listener)) {}

void OfflineSource::PollNow() { Begin(); }

void OfflineSource::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

void OfflineSource::Begin() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    if (running_) {
      again_ = true;
      return;
    }
    running_ = true;
  }
  OffThread([self = shared_from_this()] { self->CheckGroups(); });
}

void OfflineSource::OffThread(std::function<void()> job) {
  bool stopped = false, taken = false;
  {
    // Handed in under the lock (a queue push, no I/O) so that no job
    // arrives after Stop returns: the executor may be gone soon after.
    absl::MutexLock lock(&mu_);
    stopped = stopped_;
    taken = !stopped && blocking_(std::move(job));
  }
  if (taken) return;
  // Stopped: the rows read stay marked for the next start's pass.
  End(/*more=*/false, stopped ? absl::OkStatus()
                              : absl::UnavailableError("offline events: the pool for blocking work is full"));
}

void OfflineSource::CheckGroups() {
  absl::StatusOr<bool> wanted = store_->HasGroups(options_.portal);
  if (!wanted.ok() || !*wanted) return End(/*more=*/false, wanted.status());
  Read();
}

void OfflineSource::Read() {
  OJson params = {{"process_id", options_.process_id},
                  {"clear", 0},
                  {"limit", options_.batch_size},
                  {"order", {{"ID", "ASC"}}}};
  caller_("event.offline.get", std::move(params),
          [self = shared_from_this()](absl::StatusOr<CallReply> reply) { self->OnRead(std::move(reply)); });
}

void OfflineSource::OnRead(absl::StatusOr<CallReply> reply) {
  absl::StatusOr<std::vector<QueuedEvent>> events =
      reply.ok() ? ParseBatch(reply->result) : absl::StatusOr<std::vector<QueuedEvent>>(reply.status());
  if (!events.ok()) return End(false, events.status());
  if (events->empty()) return End(false, absl::OkStatus());
  OJson ids = OJson::array();
  for (const QueuedEvent& e : *events) ids.push_back(e.source_id);
  OffThread([self = shared_from_this(), events = *std::move(events), ids = std::move(ids)]() mutable {
    self->StoreAndClear(std::move(events), std::move(ids));
  });
}

void OfflineSource::StoreAndClear(std::vector<QueuedEvent> events, OJson ids) {
  // Durable before the clear: a crash in between leaves the rows marked
  // for the next pass, whose StoreOnce skips them.
  absl::StatusOr<int> fresh = store_->StoreOnce(options_.portal, std::move(events));
  if (!fresh.ok()) return End(false, fresh.status());
  if (listener_.stored) listener_.stored(*fresh);
  const bool full = ids.size() >= static_cast<size_t>(options_.batch_size);
  caller_("event.offline.clear", OJson{{"process_id", options_.process_id}, {"id", std::move(ids)}},
          [self = shared_from_this(), full](absl::StatusOr<CallReply> reply) {
            if (!reply.ok()) return self->End(false, reply.status());
            self->End(full, absl::OkStatus());
          });
}

void OfflineSource::End(bool more, const absl::Status& status) {
  if (!status.ok() && listener_.failed) listener_.failed(status);
  bool now = false, arm = false;
  {
    absl::MutexLock lock(&mu_);
    running_ = false;
    now = (more || again_) && !stopped_;
    again_ = false;
    arm = !now && !armed_ && !stopped_;
    if (arm) armed_ = true;
  }
  if (now) return Begin();
  if (arm) {
    timer_(options_.poll_interval, [weak = weak_from_this()] {
      if (std::shared_ptr<OfflineSource> self = weak.lock()) self->OnTimer();
    });
  }
}

void OfflineSource::OnTimer() {
  {
    absl::MutexLock lock(&mu_);
    armed_ = false;
  }
  Begin();
}

}  // namespace b24gate
