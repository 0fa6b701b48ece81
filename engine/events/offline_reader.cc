#include "engine/events/offline_reader.h"

#include <algorithm>
#include <set>
#include <utility>

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

// For a queue row: delivery_id is its ID, timestamp its TIMESTAMP_X, data
// its EVENT_DATA, record_id its EVENT_DATA.FIELDS.ID.
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

OfflineReader::OfflineReader(Options options, EventLedger* ledger, Clock* clock, Timer timer)
    : options_(std::move(options)),
      ledger_(ledger),
      clock_(clock),
      timer_(std::move(timer)),
      group_(ConsumerGroup::Options{options_.window, options_.visibility_timeout}) {}

OfflineReader::MemberId OfflineReader::Attach() {
  absl::MutexLock lock(&mu_);
  ++attached_;
  return next_member_++;
}

void OfflineReader::Join(MemberId id, std::weak_ptr<Member> member, Caller caller) {
  std::shared_ptr<Member> joining = member.lock();
  if (joining == nullptr) return;
  Work work;
  absl::Status failed;
  {
    absl::MutexLock lock(&mu_);
    // Stop() sets Stopped before its Leave: a member stopped meanwhile
    // does not join.
    if (joining->Stopped()) return;
    failed = failed_;
    if (failed.ok()) {
      group_.Join(id);
      members_[id] = std::move(member);
      callers_[id] = std::move(caller);
      AssignLocked(&work);
      work.call = NextCallLocked();
    }
  }
  if (!failed.ok()) return joining->End(failed);
  Do(std::move(work));
}

void OfflineReader::Leave(MemberId id) {
  Work work;
  {
    absl::MutexLock lock(&mu_);
    --attached_;
    if (!group_.HasMember(id)) return;
    group_.Leave(id);
    outbox_.erase(id);
    members_.erase(id);
    auto caller = callers_.find(id);
    last_caller_ = std::move(caller->second);
    callers_.erase(caller);
    AssignLocked(&work);
    // The clears of what it acknowledged go on without it.
    work.call = NextCallLocked();
  }
  Do(std::move(work));
}

absl::Status OfflineReader::Ack(MemberId id, const std::vector<std::string>& delivery_ids,
                                const std::string& where) {
  Work work;
  int64_t taken = 0;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < delivery_ids.size(); ++i) {
      auto row = rows_.find(delivery_ids[i]);
      if (row == rows_.end() || group_.CheckAck(id, row->second) == ConsumerGroup::AckResult::kUnknown) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "[", i, "]: \"", delivery_ids[i], "\" is not an unacknowledged delivery of this stream"));
      }
    }
    for (const std::string& row_id : delivery_ids) {
      // A repeated id within one message is taken once.
      auto row = rows_.find(row_id);
      if (row == rows_.end() || group_.Ack(id, row->second) != ConsumerGroup::AckResult::kAcknowledged) {
        continue;
      }
      auto out = outbox_.find(id);
      if (out != outbox_.end()) out->second.erase(row->second);
      rows_.erase(row);
      to_clear_.push_back(row_id);
      ++taken;
    }
    AssignLocked(&work);
    work.call = NextCallLocked();
  }
  ledger_->Acknowledged(options_.portal, taken);
  Do(std::move(work));
  return absl::OkStatus();
}

std::vector<QueuedEvent> OfflineReader::TakeOutbox(MemberId id) {
  std::vector<QueuedEvent> events;
  absl::MutexLock lock(&mu_);
  auto out = outbox_.find(id);
  if (out == outbox_.end()) return events;
  for (auto& [seq, e] : out->second) events.push_back(std::move(e));
  outbox_.erase(out);
  return events;
}

void OfflineReader::PollNow() {
  Work work;
  {
    absl::MutexLock lock(&mu_);
    waiting_ = false;
    work.call = NextCallLocked();
  }
  Do(std::move(work));
}

bool OfflineReader::Disposable() const {
  absl::MutexLock lock(&mu_);
  return !failed_.ok() || (attached_ == 0 && !busy_);
}

size_t OfflineReader::attached() const {
  absl::MutexLock lock(&mu_);
  return attached_;
}

std::optional<OfflineReader::Call> OfflineReader::NextCallLocked() {
  if (busy_ || !failed_.ok()) return std::nullopt;
  const Caller& caller = callers_.empty() ? last_caller_ : callers_.begin()->second;
  if (!caller) return std::nullopt;
  const std::string process_id = ProcessId(options_.consumer);
  if (!to_clear_.empty()) {
    busy_ = true;
    Call clear{"event.offline.clear", OJson{{"process_id", process_id}, {"id", to_clear_}}, caller,
               std::move(to_clear_)};
    to_clear_.clear();
    return clear;
  }
  if (waiting_ || callers_.empty() || !rows_.empty()) return std::nullopt;
  busy_ = true;
  OJson params = {{"process_id", process_id},
                  {"clear", 0},
                  {"limit", options_.batch_size},
                  {"order", {{"ID", "ASC"}}}};
  return Call{"event.offline.get", std::move(params), caller, {}};
}

void OfflineReader::AssignLocked(Work* work) {
  std::set<MemberId> served;
  for (ConsumerGroup::Delivery& d : group_.Assign(clock_->Now())) {
    // The ledger's count, not the group's: it goes on across readers.
    d.event.attempt = ledger_->Delivered(options_.portal, options_.consumer, d.event.delivery_id);
    served.insert(d.member);
    outbox_[d.member][d.seq] = std::move(d.event);
  }
  for (MemberId m : served) {
    if (std::shared_ptr<Member> member = members_[m].lock()) work->pump.push_back(std::move(member));
  }
  ArmVisibilityLocked();
}

void OfflineReader::ArmVisibilityLocked() {
  const absl::Time next = group_.NextDeadline();
  if (next == absl::InfiniteFuture() || armed_at_ <= next) return;
  armed_at_ = next;
  timer_(std::max(next - clock_->Now(), absl::ZeroDuration()),
         [weak = weak_from_this()] {
           if (std::shared_ptr<OfflineReader> self = weak.lock()) self->OnVisibilityTimer();
         });
}

void OfflineReader::Do(Work work) {
  for (const std::shared_ptr<Member>& member : work.pump) member->Pump();
  if (work.call) Run(*std::move(work.call));
}

void OfflineReader::Run(Call call) {
  std::shared_ptr<OfflineReader> self = shared_from_this();
  if (call.clearing.empty()) {
    call.caller(call.method, std::move(call.params),
                [self](absl::StatusOr<CallReply> reply) { self->OnRead(std::move(reply)); });
    return;
  }
  call.caller(call.method, std::move(call.params),
              [self, ids = std::move(call.clearing)](absl::StatusOr<CallReply> reply) mutable {
                self->OnCleared(std::move(ids), reply.status());
              });
}

void OfflineReader::OnRead(absl::StatusOr<CallReply> reply) {
  absl::StatusOr<std::vector<QueuedEvent>> events =
      reply.ok() ? ParseBatch(reply->result) : absl::StatusOr<std::vector<QueuedEvent>>(reply.status());
  if (!events.ok()) return Fail(events.status());
  Work work;
  bool arm_poll = false;
  {
    absl::MutexLock lock(&mu_);
    busy_ = false;
    for (QueuedEvent& e : *events) {
      rows_[e.delivery_id] = next_seq_;
      group_.Add(next_seq_++, std::move(e));
    }
    if (events->empty()) {
      waiting_ = true;
      arm_poll = !poll_armed_;
      poll_armed_ = true;
    }
    AssignLocked(&work);
    work.call = NextCallLocked();
  }
  if (arm_poll) {
    timer_(options_.poll_interval, [weak = weak_from_this()] {
      if (std::shared_ptr<OfflineReader> self = weak.lock()) self->OnPollTimer();
    });
  }
  Do(std::move(work));
}

void OfflineReader::OnCleared(std::vector<std::string> ids, const absl::Status& status) {
  // A failed clear leaves the rows marked: the consumer's next read
  // receives them again (a redelivery, never a loss).
  if (!status.ok()) return Fail(status);
  ledger_->Cleared(options_.portal, options_.consumer, ids);
  Work work;
  {
    absl::MutexLock lock(&mu_);
    busy_ = false;
    work.call = NextCallLocked();
  }
  Do(std::move(work));
}

void OfflineReader::OnPollTimer() {
  {
    absl::MutexLock lock(&mu_);
    poll_armed_ = false;
  }
  PollNow();
}

void OfflineReader::OnVisibilityTimer() {
  Work work;
  {
    absl::MutexLock lock(&mu_);
    armed_at_ = absl::InfiniteFuture();
    for (const auto& [member, seq] : group_.Expire(clock_->Now())) {
      // Not taken by its member yet: it goes to whoever receives it next.
      auto out = outbox_.find(member);
      if (out != outbox_.end()) out->second.erase(seq);
    }
    AssignLocked(&work);
  }
  Do(std::move(work));
}

void OfflineReader::Fail(const absl::Status& status) {
  std::vector<std::shared_ptr<Member>> ending;
  {
    absl::MutexLock lock(&mu_);
    busy_ = false;
    if (!failed_.ok()) return;
    failed_ = status;
    for (const auto& [id, member] : members_) {
      if (std::shared_ptr<Member> m = member.lock()) ending.push_back(std::move(m));
    }
  }
  for (const std::shared_ptr<Member>& m : ending) m->End(status);
}

}  // namespace b24gate
