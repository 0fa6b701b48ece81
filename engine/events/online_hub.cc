#include "engine/events/online_hub.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/events/event_pattern.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

OJson EventRecord(int64_t seq, int64_t at_ms, const std::string& portal, const QueuedEvent& e) {
  OJson record = {{"t", "e"}, {"s", seq},          {"at", at_ms},      {"p", portal},
                  {"n", e.event}, {"r", e.record_id}, {"ts", e.timestamp}, {"d", e.data}};
  if (!e.source_id.empty()) record["o"] = e.source_id;
  return record;
}

// delivery_id is left to the caller.
QueuedEvent FromRecord(const OJson& record) {
  QueuedEvent e;
  e.source_id = record.value("o", "");
  e.event = record.value("n", "");
  e.record_id = record.value("r", "");
  e.timestamp = record.value("ts", "");
  e.data = record.value("d", OJson::object());
  return e;
}

bool Names(const std::set<std::string>& patterns, const std::string& event) {
  for (const std::string& p : patterns) {
    if (MatchesEventPattern(p, event)) return true;
  }
  return false;
}

}  // namespace

class OnlineEventHub::Stream : public EventSubscription,
                               public std::enable_shared_from_this<Stream> {
 public:
  Stream(OnlineEventHub* hub, Key key, MemberId member, EventSink* sink, Prepare prepare)
      : hub_(hub), key_(std::move(key)), member_(member), prepare_(std::move(prepare)), sink_(sink) {}
  ~Stream() override { hub_->Detach(this); }

  void Start() override {
    std::shared_ptr<Stream> self = shared_from_this();
    prepare_([self](absl::Status status) {
      {
        absl::MutexLock lock(&self->sink_mu_);
        if (self->sink_ == nullptr) return;
        if (!status.ok()) {
          self->sink_->End(status);
          self->sink_ = nullptr;
          return;
        }
        self->started_ = true;
      }
      PumpAll(self->hub_->Join(self.get()));
    });
  }
  absl::Status Ack(const std::vector<std::string>& ids, const std::string& where) override {
    return hub_->Ack(this, ids, where);
  }
  void Stop() override {
    {
      absl::MutexLock lock(&sink_mu_);
      sink_ = nullptr;
    }
    stopped_ = true;
    hub_->Detach(this);
  }
  // Delivers its outbox once prepared.
  void PumpIfStarted() {
    absl::MutexLock lock(&sink_mu_);
    if (started_) hub_->Pump(this);
  }

  const Key& key() const { return key_; }
  MemberId member() const { return member_; }
  bool stopped() const { return stopped_.load(); }
  // REQUIRES: sink_mu_ held (Pump's contract).
  EventSink* sink() ABSL_NO_THREAD_SAFETY_ANALYSIS { return sink_; }

 private:
  OnlineEventHub* const hub_;
  const Key key_;
  const MemberId member_;
  const Prepare prepare_;
  std::atomic<bool> stopped_{false};
  absl::Mutex sink_mu_;
  EventSink* sink_ ABSL_GUARDED_BY(sink_mu_);
  bool started_ ABSL_GUARDED_BY(sink_mu_) = false;
};

OnlineEventHub::OnlineEventHub(EventLedger* ledger, Clock* clock, Timer timer, Options options)
    : ledger_(ledger), clock_(clock), timer_(std::move(timer)), options_(options) {
  absl::MutexLock lock(&guard_->mu);
  guard_->hub = this;
}

OnlineEventHub::~OnlineEventHub() {
  absl::MutexLock lock(&guard_->mu);  // waits for a timer callback running
  guard_->hub = nullptr;
}

absl::StatusOr<std::unique_ptr<OnlineEventHub>> OnlineEventHub::Open(
    EventLedger* ledger, Clock* clock, Timer timer, EventLog::Options log_options, Options options,
    EventLog::OnDrop on_drop) {
  std::unique_ptr<OnlineEventHub> hub(new OnlineEventHub(ledger, clock, std::move(timer), options));
  absl::StatusOr<std::unique_ptr<EventLog>> log = EventLog::Open(
      std::move(log_options), clock, [&hub](const OJson& record) { hub->Restore(record); });
  if (!log.ok()) return log.status();
  hub->log_ = *std::move(log);
  hub->log_->Start(hub.get(), std::move(on_drop));
  return hub;
}

std::string OnlineEventHub::IdOf(int64_t seq) const { return absl::StrCat(options_.id_prefix, "-", seq); }

bool OnlineEventHub::ParseId(const std::string& id, int64_t* seq) const {
  const std::string prefix = options_.id_prefix + "-";
  return absl::StartsWith(id, prefix) && absl::SimpleAtoi(id.substr(prefix.size()), seq);
}

void OnlineEventHub::RememberLocked(const std::string& portal, const std::string& id) {
  Seen& seen = seen_[portal];
  if (!seen.ids.insert(id).second) return;
  seen.order.push_back(id);
  if (seen.order.size() <= options_.remembered) return;
  seen.ids.erase(seen.order.front());
  seen.order.pop_front();
}

OnlineEventHub::Published OnlineEventHub::Publish(const std::string& portal, QueuedEvent event) {
  StreamRefs to_pump;
  Published published;
  {
    absl::MutexLock lock(&mu_);
    published = PublishLocked(portal, std::move(event), &to_pump);
  }
  PumpAll(to_pump);
  return published;
}

OnlineEventHub::Published OnlineEventHub::PublishLocked(const std::string& portal, QueuedEvent event,
                                                        StreamRefs* to_pump) {
  Published published;
  if (!event.source_id.empty()) {
    auto seen = seen_.find(portal);
    if (seen != seen_.end() && seen->second.ids.count(event.source_id) > 0) {
      published.repeat = true;
      return published;
    }
  }
  const int64_t seq = next_id_;
  event.delivery_id = IdOf(seq);
  event.attempt = 1;
  std::vector<std::map<Key, Group>::iterator> taken;
  for (auto it = groups_.lower_bound({portal, ""}); it != groups_.end() && it->first.first == portal; ++it) {
    if (!Names(it->second.events, event.event)) continue;
    it->second.members.Add(seq, event);
    taken.push_back(it);
  }
  if (taken.empty()) return published;
  ++next_id_;
  published.taken = static_cast<int>(taken.size());
  if (!event.source_id.empty()) RememberLocked(portal, event.source_id);
  // Before the deliveries' records: the log's order is the order the groups saw.
  published.ticket = log_->Append(EventRecord(seq, absl::ToUnixMillis(clock_->Now()), portal, event), nullptr);
  for (auto it : taken) Dispatch(it->first, it->second, to_pump);
  return published;
}

absl::Status OnlineEventHub::WaitStored(int64_t ticket) {
  return ticket == 0 ? absl::OkStatus() : log_->WaitDurable(ticket);
}

absl::Status OnlineEventHub::Store(const std::string& portal, QueuedEvent event) {
  return WaitStored(Publish(portal, std::move(event)).ticket);
}

absl::StatusOr<int> OnlineEventHub::StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) {
  // The whole pass under one lock, its streams pumped once after: a stream
  // that keeps up with the source gets the pass in one delivery (an
  // enriching stream reads its records in one request), not its first row
  // alone and the rest after.
  int64_t last = 0;
  int fresh = 0;
  StreamRefs to_pump;
  {
    absl::MutexLock lock(&mu_);
    for (QueuedEvent& e : events) {
      const Published published = PublishLocked(portal, std::move(e), &to_pump);
      last = std::max(last, published.ticket);
      if (!published.repeat) ++fresh;
    }
  }
  PumpAll(to_pump);
  if (absl::Status s = WaitStored(last); !s.ok()) return s;
  return fresh;
}

absl::StatusOr<bool> OnlineEventHub::HasGroups(const std::string& portal) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.lower_bound({portal, ""});
  return it != groups_.end() && it->first.first == portal;
}

absl::StatusOr<std::shared_ptr<EventSubscription>> OnlineEventHub::Subscribe(
    const std::string& portal, const std::string& consumer, const std::vector<std::string>& events,
    EventSink* sink, Prepare prepare) {
  Key key{portal, consumer};
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    size_t others = 0;
    for (auto g = groups_.lower_bound({portal, ""}); g != groups_.end() && g->first.first == portal; ++g) {
      ++others;
    }
    if (others >= options_.max_consumers) {
      return absl::ResourceExhaustedError(absl::StrCat("portal \"", portal, "\" has ", others,
                                                       " online consumers already (the most)"));
    }
    it = groups_.try_emplace(key, ConsumerGroup::Options{options_.window, options_.visibility_timeout}).first;
  }
  Group& group = it->second;
  if (group.members.member_count() >= options_.max_members) {
    return absl::ResourceExhaustedError(absl::StrCat("consumer \"", consumer, "\" has ",
                                                     group.members.member_count(),
                                                     " streams open already (the most)"));
  }
  const size_t named = group.events.size();
  for (const std::string& e : events) group.events.insert(absl::AsciiStrToUpper(e));
  if (group.events.size() != named) log_->Append(GroupRecord(key, group), nullptr);
  return std::make_shared<Stream>(this, key, next_member_++, sink, std::move(prepare));
}

OnlineEventHub::StreamRefs OnlineEventHub::Join(Stream* stream) {
  StreamRefs to_pump;
  absl::MutexLock lock(&mu_);
  Group* group = FindGroup(stream->key());
  // Stop() sets `stopped` before it detaches: a stream stopped meanwhile
  // does not join.
  if (group == nullptr || stream->stopped()) return to_pump;
  group->members.Join(stream->member());
  group->streams[stream->member()] = stream->weak_from_this();
  Dispatch(stream->key(), *group, &to_pump);
  return to_pump;
}

void OnlineEventHub::Pump(Stream* stream) {
  EventSink* sink = stream->sink();
  if (sink == nullptr) return;
  std::vector<QueuedEvent> batch;
  {
    absl::MutexLock lock(&mu_);
    Group* group = FindGroup(stream->key());
    if (group == nullptr) return;
    auto out = group->outbox.find(stream->member());
    if (out == group->outbox.end()) return;
    for (auto& [seq, e] : out->second) batch.push_back(std::move(e));
    group->outbox.erase(out);
  }
  if (!batch.empty()) sink->Deliver(std::move(batch));
}

void OnlineEventHub::Dispatch(const Key& key, Group& group, StreamRefs* to_pump) {
  std::vector<ConsumerGroup::Delivery> deliveries = group.members.Assign(clock_->Now());
  if (deliveries.empty()) return;
  OJson seqs = OJson::array();
  std::set<MemberId> served;
  for (ConsumerGroup::Delivery& d : deliveries) {
    ledger_->CountDelivery(key.first, key.second, d.event.delivery_id, d.event.attempt);
    seqs.push_back(d.seq);
    served.insert(d.member);
    group.outbox[d.member][d.seq] = std::move(d.event);
  }
  // Attempts count on after a restart; a crash before this is on disk
  // repeats the attempt number, never an event.
  log_->Append(OJson{{"t", "d"}, {"p", key.first}, {"c", key.second}, {"ids", seqs}}, nullptr);
  for (MemberId m : served) {
    if (std::shared_ptr<Stream> s = group.streams[m].lock()) to_pump->push_back(std::move(s));
  }
  ArmTimer();
}

void OnlineEventHub::ArmTimer() {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [key, group] : groups_) next = std::min(next, group.members.NextDeadline());
  if (next == absl::InfiniteFuture() || armed_at_ <= next) return;
  armed_at_ = next;
  timer_(std::max(next - clock_->Now(), absl::ZeroDuration()), [guard = guard_] {
    absl::MutexLock lock(&guard->mu);
    if (guard->hub != nullptr) guard->hub->OnTimer();
  });
}

void OnlineEventHub::OnTimer() {
  StreamRefs to_pump;
  {
    absl::MutexLock lock(&mu_);
    armed_at_ = absl::InfiniteFuture();
    const absl::Time now = clock_->Now();
    for (auto& [key, group] : groups_) {
      std::vector<std::pair<MemberId, int64_t>> expired = group.members.Expire(now);
      // Not given to its sink yet: it goes to whoever receives it next.
      for (const auto& [member, seq] : expired) group.outbox[member].erase(seq);
      if (!expired.empty()) Dispatch(key, group, &to_pump);
    }
    ArmTimer();
  }
  PumpAll(to_pump);
}

absl::Status OnlineEventHub::Ack(Stream* stream, const std::vector<std::string>& ids,
                                 const std::string& where) {
  std::vector<std::string> taken;
  StreamRefs to_pump;
  const std::string& portal = stream->key().first;
  {
    absl::MutexLock lock(&mu_);
    Group* group = FindGroup(stream->key());
    for (size_t i = 0; i < ids.size(); ++i) {
      int64_t n = 0;
      if (group == nullptr || !ParseId(ids[i], &n) ||
          group->members.CheckAck(stream->member(), n) == ConsumerGroup::AckResult::kUnknown) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "[", i, "]: \"", ids[i], "\" is not an unacknowledged delivery of this stream"));
      }
    }
    OJson seqs = OJson::array();
    for (const std::string& id : ids) {
      int64_t n = 0;
      (void)ParseId(id, &n);
      if (group->members.Ack(stream->member(), n) != ConsumerGroup::AckResult::kAcknowledged) continue;
      group->outbox[stream->member()].erase(n);
      taken.push_back(id);
      seqs.push_back(n);
    }
    if (!taken.empty()) {
      const int64_t count = static_cast<int64_t>(taken.size());
      OJson record = {{"t", "a"}, {"p", portal}, {"c", stream->key().second}, {"ids", seqs}};
      // Counted once on disk: a crash before that delivers them again.
      log_->Append(record, [ledger = ledger_, portal, count](const absl::Status& s) {
        if (s.ok()) ledger->Acknowledged(portal, count);
      });
      Dispatch(stream->key(), *group, &to_pump);
    }
  }
  ledger_->Cleared(portal, stream->key().second, taken);
  PumpAll(to_pump);
  return absl::OkStatus();
}

void OnlineEventHub::Detach(Stream* stream) {
  StreamRefs to_pump;
  {
    absl::MutexLock lock(&mu_);
    Group* group = FindGroup(stream->key());
    if (group == nullptr || !group->members.HasMember(stream->member())) return;
    group->members.Leave(stream->member());
    group->outbox.erase(stream->member());
    group->streams.erase(stream->member());
    Dispatch(stream->key(), *group, &to_pump);
  }
  PumpAll(to_pump);
}

OnlineEventHub::Group* OnlineEventHub::FindGroup(const Key& key) {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : &it->second;
}

void OnlineEventHub::PumpAll(const StreamRefs& streams) {
  for (const std::shared_ptr<Stream>& s : streams) s->PumpIfStarted();
}

OJson OnlineEventHub::GroupRecord(const Key& key, const Group& group) {
  return OJson{{"t", "g"}, {"p", key.first}, {"c", key.second}, {"n", group.events}};
}

void OnlineEventHub::Restore(const OJson& record) {
  absl::MutexLock lock(&mu_);
  const std::string type = record.value("t", "");
  const std::string portal = record.value("p", "");
  if (type == "g") {
    Group& group = groups_.try_emplace(Key{portal, record.value("c", "")},
                                       ConsumerGroup::Options{options_.window, options_.visibility_timeout})
                       .first->second;
    for (const OJson& name : record.value("n", OJson::array())) {
      if (name.is_string()) group.events.insert(name.get<std::string>());
    }
  } else if (type == "o") {
    for (const OJson& id : record.value("ids", OJson::array())) {
      if (id.is_string()) RememberLocked(portal, id.get<std::string>());
    }
  } else if (type == "e") {
    const int64_t seq = record.value("s", int64_t{0});
    next_id_ = std::max(next_id_, seq + 1);
    QueuedEvent e = FromRecord(record);
    e.delivery_id = IdOf(seq);
    if (!e.source_id.empty()) RememberLocked(portal, e.source_id);
    for (auto it = groups_.lower_bound({portal, ""}); it != groups_.end() && it->first.first == portal; ++it) {
      if (Names(it->second.events, e.event)) it->second.members.Add(seq, e);
    }
  } else if (type == "a" || type == "d") {
    Group* group = FindGroup({portal, record.value("c", "")});
    if (group == nullptr) return;
    for (const OJson& seq : record.value("ids", OJson::array())) {
      if (!seq.is_number_integer()) continue;
      if (type == "a") group->members.Forget(seq.get<int64_t>());
      if (type == "d") group->members.CountDelivery(seq.get<int64_t>());
    }
  }
}

std::vector<OJson> OnlineEventHub::Snapshot() {
  absl::MutexLock lock(&mu_);
  std::vector<OJson> records;
  for (const auto& [key, group] : groups_) records.push_back(GroupRecord(key, group));
  for (const auto& [portal, seen] : seen_) {
    records.push_back(OJson{{"t", "o"}, {"p", portal}, {"ids", seen.order}});
  }
  return records;
}

int64_t OnlineEventHub::OldestNeeded() {
  absl::MutexLock lock(&mu_);
  int64_t oldest = std::numeric_limits<int64_t>::max();
  for (const auto& [key, group] : groups_) oldest = std::min(oldest, group.members.OldestSeq());
  return oldest;
}

int64_t OnlineEventHub::DropThrough(int64_t seq) {
  std::map<std::string, int64_t> dropped;  // by portal
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, group] : groups_) {
      const int64_t n = group.members.DropThrough(seq);
      if (n == 0) continue;
      dropped[key.first] += n;
      for (auto& [member, out] : group.outbox) out.erase(out.begin(), out.upper_bound(seq));
    }
  }
  int64_t total = 0;
  for (const auto& [portal, n] : dropped) {
    ledger_->Dropped(portal, n);
    total += n;
  }
  return total;
}

}  // namespace b24gate
