#include "engine/events/online_hub.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

constexpr char kIdPrefix[] = "online-";

using OJson = nlohmann::ordered_json;

bool ParseId(const std::string& id, int64_t* n) {
  return absl::StartsWith(id, kIdPrefix) && absl::SimpleAtoi(id.substr(sizeof kIdPrefix - 1), n);
}

int64_t UnixMs(absl::Time t) { return absl::ToUnixMillis(t); }

OJson EventRecord(int64_t seq, int64_t at_ms, const std::string& portal, const QueuedEvent& e) {
  return OJson{{"t", "e"}, {"s", seq},          {"at", at_ms},      {"p", portal},
               {"n", e.event}, {"r", e.record_id}, {"ts", e.timestamp}, {"d", e.data}};
}

QueuedEvent FromRecord(const OJson& record) {
  QueuedEvent e;
  e.delivery_id = absl::StrCat(kIdPrefix, record.value("s", int64_t{0}));
  e.event = record.value("n", "");
  e.record_id = record.value("r", "");
  e.timestamp = record.value("ts", "");
  e.data = record.value("d", OJson::object());
  return e;
}

}  // namespace

class OnlineEventHub::Stream : public EventSubscription,
                               public std::enable_shared_from_this<Stream> {
 public:
  Stream(OnlineEventHub* hub, Key key, EventSink* sink, Prepare prepare)
      : hub_(hub), key_(std::move(key)), prepare_(std::move(prepare)), sink_(sink) {}
  ~Stream() override { hub_->Detach(this); }

  void Start() override {
    std::shared_ptr<Stream> self = shared_from_this();
    prepare_([self](absl::Status status) {
      absl::MutexLock lock(&self->sink_mu_);
      if (self->sink_ == nullptr) return;
      if (!status.ok()) {
        self->sink_->End(status);
        self->sink_ = nullptr;
        return;
      }
      self->started_ = true;
      self->hub_->Pump(self.get());
    });
  }
  absl::Status Ack(const std::vector<std::string>& ids, const std::string& where) override {
    if (absl::Status s = hub_->Ack(this, ids, where); !s.ok()) return s;
    absl::MutexLock lock(&sink_mu_);
    if (started_) hub_->Pump(this);
    return absl::OkStatus();
  }
  void Stop() override {
    {
      absl::MutexLock lock(&sink_mu_);
      sink_ = nullptr;
    }
    hub_->Detach(this);
  }
  // Starts after prepare; the hub pumps it only then.
  void PumpIfStarted() {
    absl::MutexLock lock(&sink_mu_);
    if (started_) hub_->Pump(this);
  }

  const Key& key() const { return key_; }
  // REQUIRES: sink_mu_ held (Pump's contract).
  EventSink* sink() ABSL_NO_THREAD_SAFETY_ANALYSIS { return sink_; }
  absl::Mutex sink_mu_;

 private:
  OnlineEventHub* const hub_;
  const Key key_;
  const Prepare prepare_;
  EventSink* sink_ ABSL_GUARDED_BY(sink_mu_);
  bool started_ ABSL_GUARDED_BY(sink_mu_) = false;
};

absl::StatusOr<std::unique_ptr<OnlineEventHub>> OnlineEventHub::Open(
    EventLedger* ledger, Clock* clock, EventLog::Options log_options, Options options,
    EventLog::OnDrop on_drop) {
  std::unique_ptr<OnlineEventHub> hub(new OnlineEventHub(ledger, clock, options));
  absl::StatusOr<std::unique_ptr<EventLog>> log = EventLog::Open(
      std::move(log_options), clock, [&hub](const OJson& record) { hub->Restore(record); });
  if (!log.ok()) return log.status();
  hub->log_ = *std::move(log);
  hub->log_->Start(hub.get(), std::move(on_drop));
  return hub;
}

OnlineEventHub::Published OnlineEventHub::Publish(const std::string& portal, QueuedEvent event) {
  const std::string name = absl::AsciiStrToUpper(event.event);
  std::vector<std::shared_ptr<Stream>> to_pump;
  Published published;
  {
    absl::MutexLock lock(&mu_);
    const int64_t seq = next_id_;
    event.delivery_id = absl::StrCat(kIdPrefix, seq);
    event.attempt = 1;
    for (auto it = consumers_.lower_bound({portal, ""}); it != consumers_.end() && it->first.first == portal;
         ++it) {
      Consumer& c = it->second;
      if (c.events.count(name) == 0) continue;
      c.ready.emplace(seq, event);
      ++published.taken;
      if (std::shared_ptr<Stream> s = c.stream_ref.lock()) to_pump.push_back(std::move(s));
    }
    if (published.taken > 0) {
      ++next_id_;
      // Under the lock: the log's order is the order the consumers saw.
      published.ticket = log_->Append(EventRecord(seq, UnixMs(clock_->Now()), portal, event), nullptr);
    }
  }
  for (const std::shared_ptr<Stream>& s : to_pump) s->PumpIfStarted();
  return published;
}

absl::Status OnlineEventHub::WaitStored(int64_t ticket) {
  return ticket == 0 ? absl::OkStatus() : log_->WaitDurable(ticket);
}

absl::Status OnlineEventHub::Store(const std::string& portal, QueuedEvent event) {
  return WaitStored(Publish(portal, std::move(event)).ticket);
}

absl::StatusOr<std::shared_ptr<EventSubscription>> OnlineEventHub::Subscribe(
    const std::string& portal, const std::string& consumer, const std::vector<std::string>& events,
    EventSink* sink, Prepare prepare) {
  Key key{portal, consumer};
  auto stream = std::make_shared<Stream>(this, key, sink, std::move(prepare));
  absl::MutexLock lock(&mu_);
  auto it = consumers_.find(key);
  if (it == consumers_.end()) {
    size_t others = 0;
    for (auto c = consumers_.lower_bound({portal, ""}); c != consumers_.end() && c->first.first == portal;
         ++c) {
      ++others;
    }
    if (others >= options_.max_consumers) {
      return absl::ResourceExhaustedError(absl::StrCat("portal \"", portal, "\" has ", others,
                                                       " online consumers already (the most)"));
    }
    it = consumers_.emplace(key, Consumer{}).first;
  }
  Consumer& c = it->second;
  const size_t named = c.events.size();
  for (const std::string& e : events) c.events.insert(absl::AsciiStrToUpper(e));
  if (c.events.size() != named) log_->Append(GroupRecord(key, c), nullptr);
  Requeue(c);  // the older stream's unacknowledged events go to this one
  c.stream = stream.get();
  c.stream_ref = stream;
  return stream;
}

void OnlineEventHub::Pump(Stream* stream) {
  EventSink* sink = stream->sink();
  if (sink == nullptr) return;
  std::vector<QueuedEvent> batch;
  {
    absl::MutexLock lock(&mu_);
    auto it = consumers_.find(stream->key());
    if (it == consumers_.end() || it->second.stream != stream) return;
    Consumer& c = it->second;
    while (!c.ready.empty() && c.in_flight.size() < options_.window) {
      const int64_t n = c.ready.begin()->first;
      QueuedEvent e = std::move(c.ready.begin()->second);
      c.ready.erase(c.ready.begin());
      e.attempt = ledger_->Delivered(stream->key().first, stream->key().second, e.delivery_id);
      batch.push_back(e);
      c.in_flight.emplace(n, std::move(e));
    }
  }
  if (!batch.empty()) sink->Deliver(std::move(batch));
}

absl::Status OnlineEventHub::Ack(Stream* stream, const std::vector<std::string>& ids,
                                 const std::string& where) {
  std::vector<std::string> taken;
  OJson seqs = OJson::array();
  {
    absl::MutexLock lock(&mu_);
    auto it = consumers_.find(stream->key());
    Consumer* c = it != consumers_.end() && it->second.stream == stream ? &it->second : nullptr;
    for (size_t i = 0; i < ids.size(); ++i) {
      int64_t n = 0;
      if (c == nullptr || !ParseId(ids[i], &n) || c->in_flight.count(n) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "[", i, "]: \"", ids[i], "\" is not an unacknowledged delivery of this stream"));
      }
    }
    for (const std::string& id : ids) {
      int64_t n = 0;
      (void)ParseId(id, &n);
      if (c->in_flight.erase(n) > 0) {
        taken.push_back(id);
        seqs.push_back(n);
      }
    }
    if (!taken.empty()) {
      const std::string portal = stream->key().first;
      const int64_t count = static_cast<int64_t>(taken.size());
      OJson record = {{"t", "a"}, {"p", portal}, {"c", stream->key().second}, {"ids", seqs}};
      // Counted once on disk: a crash before that delivers them again.
      log_->Append(record, [ledger = ledger_, portal, count](const absl::Status& s) {
        if (s.ok()) ledger->Acknowledged(portal, count);
      });
    }
  }
  ledger_->Cleared(stream->key().first, stream->key().second, taken);
  return absl::OkStatus();
}

void OnlineEventHub::Detach(Stream* stream) {
  absl::MutexLock lock(&mu_);
  auto it = consumers_.find(stream->key());
  if (it == consumers_.end() || it->second.stream != stream) return;
  Requeue(it->second);
  it->second.stream = nullptr;
  it->second.stream_ref.reset();
}

void OnlineEventHub::Requeue(Consumer& c) {
  c.ready.merge(c.in_flight);
  c.in_flight.clear();
}

OJson OnlineEventHub::GroupRecord(const Key& key, const Consumer& c) {
  return OJson{{"t", "g"}, {"p", key.first}, {"c", key.second}, {"n", c.events}};
}

void OnlineEventHub::Restore(const OJson& record) {
  absl::MutexLock lock(&mu_);
  const std::string type = record.value("t", "");
  const std::string portal = record.value("p", "");
  if (type == "g") {
    Consumer& c = consumers_[{portal, record.value("c", "")}];
    for (const OJson& name : record.value("n", OJson::array())) {
      if (name.is_string()) c.events.insert(name.get<std::string>());
    }
  } else if (type == "e") {
    const int64_t seq = record.value("s", int64_t{0});
    next_id_ = std::max(next_id_, seq + 1);
    QueuedEvent e = FromRecord(record);
    const std::string name = absl::AsciiStrToUpper(e.event);
    for (auto it = consumers_.lower_bound({portal, ""}); it != consumers_.end() && it->first.first == portal;
         ++it) {
      if (it->second.events.count(name) > 0) it->second.ready.emplace(seq, e);
    }
  } else if (type == "a") {
    auto it = consumers_.find({portal, record.value("c", "")});
    if (it == consumers_.end()) return;
    for (const OJson& seq : record.value("ids", OJson::array())) {
      if (seq.is_number_integer()) it->second.ready.erase(seq.get<int64_t>());
    }
  }
}

std::vector<OJson> OnlineEventHub::Snapshot() {
  absl::MutexLock lock(&mu_);
  std::vector<OJson> records;
  for (const auto& [key, c] : consumers_) records.push_back(GroupRecord(key, c));
  return records;
}

int64_t OnlineEventHub::OldestNeeded() {
  absl::MutexLock lock(&mu_);
  int64_t oldest = std::numeric_limits<int64_t>::max();
  for (const auto& [key, c] : consumers_) {
    if (!c.ready.empty()) oldest = std::min(oldest, c.ready.begin()->first);
    if (!c.in_flight.empty()) oldest = std::min(oldest, c.in_flight.begin()->first);
  }
  return oldest;
}

int64_t OnlineEventHub::DropThrough(int64_t seq) {
  std::map<std::string, int64_t> dropped;  // by portal
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, c] : consumers_) {
      for (auto* held : {&c.ready, &c.in_flight}) {
        while (!held->empty() && held->begin()->first <= seq) {
          held->erase(held->begin());
          ++dropped[key.first];
        }
      }
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
