#include "engine/events/event_enricher.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

// What one read asks of the portal: command i reads the record that
// events[readers[i][...]] name (one command per distinct record).
struct ReadPlan {
  std::vector<BatchCommandSpec> commands;
  std::vector<std::vector<size_t>> readers;
  std::vector<std::string> result_keys;
};

// Marks delete events and plans a command per record the others name.
ReadPlan PlanReads(std::vector<QueuedEvent>& events) {
  ReadPlan plan;
  std::map<std::string, size_t> by_record;  // "method id" -> command
  for (size_t i = 0; i < events.size(); ++i) {
    QueuedEvent& e = events[i];
    std::optional<EventEnricher::RecordRead> read = EventEnricher::ReadFor(e.event);
    if (!read) continue;
    if (read->deleted) {
      e.record_state = RecordState::kDeleted;
      continue;
    }
    int64_t id = 0;
    if (!absl::SimpleAtoi(e.record_id, &id) || id <= 0) continue;
    auto [it, added] = by_record.emplace(absl::StrCat(read->method, " ", id), plan.commands.size());
    if (added) {
      plan.commands.push_back({absl::StrCat("r", it->second), read->method, OJson{{read->id_param, id}}});
      plan.readers.emplace_back();
      plan.result_keys.push_back(read->result_key);
    }
    plan.readers[it->second].push_back(i);
  }
  return plan;
}

void Fill(QueuedEvent& e, const absl::StatusOr<CallReply>& outcome, const std::string& result_key) {
  if (!outcome.ok()) {
    if (outcome.status().code() == absl::StatusCode::kNotFound) {
      e.record_state = RecordState::kDeleted;
      return;
    }
    e.record_state = RecordState::kUnreadable;
    e.record_error = absl::StrCat(absl::StatusCodeToString(outcome.status().code()), ": ",
                                  outcome.status().message());
    return;
  }
  const OJson& result = outcome->result;
  const OJson* fields = &result;
  if (!result_key.empty()) fields = result.is_object() && result.contains(result_key) ? &result[result_key] : nullptr;
  if (fields == nullptr || !fields->is_object()) {
    e.record_state = RecordState::kUnreadable;
    e.record_error = "the portal answered the read without the record's fields";
    return;
  }
  e.record_state = RecordState::kPresent;
  e.record = *fields;
}

class EnrichedSubscription : public EventSubscription {
 public:
  EnrichedSubscription(std::shared_ptr<EventSubscription> inner, std::shared_ptr<EventEnricher> enricher)
      : inner_(std::move(inner)), enricher_(std::move(enricher)) {}
  void Start() override { inner_->Start(); }
  absl::Status Ack(const std::vector<std::string>& delivery_ids, const std::string& where) override {
    return inner_->Ack(delivery_ids, where);
  }
  void Stop() override {
    inner_->Stop();
    enricher_->Stop();
  }

 private:
  const std::shared_ptr<EventSubscription> inner_;
  const std::shared_ptr<EventEnricher> enricher_;
};

}  // namespace

std::shared_ptr<EventSubscription> EventEnricher::Enriched(std::shared_ptr<EventSubscription> inner,
                                                           std::shared_ptr<EventEnricher> enricher) {
  return std::make_shared<EnrichedSubscription>(std::move(inner), std::move(enricher));
}

std::optional<EventEnricher::RecordRead> EventEnricher::ReadFor(const std::string& event) {
  static const std::pair<const char*, const char*> kCrm[] = {{"LEAD", "crm.lead.get"},
                                                             {"DEAL", "crm.deal.get"},
                                                             {"CONTACT", "crm.contact.get"},
                                                             {"COMPANY", "crm.company.get"}};
  const std::string name = absl::AsciiStrToUpper(event);
  for (const char* action : {"ADD", "UPDATE", "DELETE"}) {
    const bool deleted = std::string(action) == "DELETE";
    for (const auto& [entity, method] : kCrm) {
      if (name == absl::StrCat("ONCRM", entity, action)) return RecordRead{method, "id", "", deleted};
    }
    if (name == absl::StrCat("ONTASK", action)) return RecordRead{"tasks.task.get", "taskId", "task", deleted};
  }
  return std::nullopt;
}

void EventEnricher::Deliver(std::vector<QueuedEvent> events) {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    if (reading_) {
      for (QueuedEvent& e : events) waiting_.push_back(std::move(e));
      return;
    }
    reading_ = true;
  }
  Read(std::move(events));
}

void EventEnricher::Read(std::vector<QueuedEvent> events) {
  while (true) {
    ReadPlan plan = PlanReads(events);
    if (!plan.commands.empty()) {
      std::shared_ptr<EventEnricher> self = shared_from_this();
      std::vector<BatchCommandSpec> commands = std::move(plan.commands);
      reader_(std::move(commands), [self, events = std::move(events), plan = std::move(plan)](
                                       Outcomes outcomes) mutable {
        for (size_t c = 0; c < plan.readers.size(); ++c) {
          const absl::StatusOr<CallReply> missing = absl::InternalError("the read gave no outcome");
          const absl::StatusOr<CallReply>& outcome = c < outcomes.size() ? outcomes[c] : missing;
          for (size_t i : plan.readers[c]) Fill(events[i], outcome, plan.result_keys[c]);
        }
        self->PassOn(std::move(events));
        if (self->TakeWaiting(&events)) self->Read(std::move(events));
      });
      return;
    }
    PassOn(std::move(events));
    if (!TakeWaiting(&events)) return;
  }
}

void EventEnricher::PassOn(std::vector<QueuedEvent> events) {
  absl::MutexLock lock(&sink_mu_);
  if (sink_ != nullptr) sink_->Deliver(std::move(events));
}

bool EventEnricher::TakeWaiting(std::vector<QueuedEvent>* events) {
  absl::MutexLock lock(&mu_);
  events->clear();
  if (stopped_ || waiting_.empty()) {
    reading_ = false;
    waiting_.clear();
    return false;
  }
  events->swap(waiting_);
  return true;
}

void EventEnricher::End(const absl::Status& status) {
  {
    absl::MutexLock lock(&sink_mu_);
    if (sink_ != nullptr) sink_->End(status);
    sink_ = nullptr;
  }
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  waiting_.clear();
}

void EventEnricher::Stop() {
  {
    absl::MutexLock lock(&sink_mu_);
    sink_ = nullptr;
  }
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  waiting_.clear();
}

}  // namespace b24gate
