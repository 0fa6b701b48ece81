#include "engine/events/online_hub.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

constexpr char kIdPrefix[] = "online-";

bool ParseId(const std::string& id, int64_t* n) {
  return absl::StartsWith(id, kIdPrefix) && absl::SimpleAtoi(id.substr(sizeof kIdPrefix - 1), n);
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

int OnlineEventHub::Publish(const std::string& portal, QueuedEvent event) {
  const std::string name = absl::AsciiStrToUpper(event.event);
  std::vector<std::shared_ptr<Stream>> to_pump;
  int taken = 0;
  {
    absl::MutexLock lock(&mu_);
    event.delivery_id = absl::StrCat(kIdPrefix, next_id_++);
    event.attempt = 1;
    for (auto it = consumers_.lower_bound({portal, ""}); it != consumers_.end() && it->first.first == portal;
         ++it) {
      Consumer& c = it->second;
      if (c.events.count(name) == 0) continue;
      if (c.ready.size() + c.in_flight.size() >= options_.max_queued) {
        ++dropped_;
        continue;
      }
      c.ready.push_back(event);
      ++taken;
      if (std::shared_ptr<Stream> s = c.stream_ref.lock()) to_pump.push_back(std::move(s));
    }
  }
  for (const std::shared_ptr<Stream>& s : to_pump) s->PumpIfStarted();
  return taken;
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
  for (const std::string& e : events) c.events.insert(absl::AsciiStrToUpper(e));
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
      QueuedEvent e = std::move(c.ready.front());
      c.ready.pop_front();
      int64_t n = 0;
      (void)ParseId(e.delivery_id, &n);
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
      if (c->in_flight.erase(n) > 0) taken.push_back(id);
    }
  }
  ledger_->Acknowledged(stream->key().first, static_cast<int64_t>(taken.size()));
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
  for (auto it = c.in_flight.rbegin(); it != c.in_flight.rend(); ++it) {
    c.ready.push_front(std::move(it->second));
  }
  c.in_flight.clear();
}

int64_t OnlineEventHub::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace b24gate
