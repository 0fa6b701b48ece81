#include "engine/lists/ordered_fanout.h"

#include <algorithm>
#include <utility>

#include "engine/common/errors.h"

namespace b24gate {

std::shared_ptr<OrderedFanout> OrderedFanout::Create(Dispatcher* portal, std::string method,
                                                    std::vector<nlohmann::ordered_json> params,
                                                    bool as_json, CallOptions options,
                                                    FanoutSink* sink, FanoutOptions fanout) {
  std::shared_ptr<OrderedFanout> f(new OrderedFanout(portal, std::move(method), std::move(params),
                                                     as_json, std::move(options), sink, fanout));
  return f;
}

void OrderedFanout::Run() {
  absl::MutexLock lock(&mu_);
  Pump();
}

OrderedFanout::OrderedFanout(Dispatcher* portal, std::string method, std::vector<nlohmann::ordered_json> params,
                             bool as_json, CallOptions options, FanoutSink* sink,
                             FanoutOptions fanout)
    : portal_(portal),
      method_(std::move(method)),
      params_(std::move(params)),
      as_json_(as_json),
      options_(std::move(options)),
      sink_(sink),
      fanout_(fanout) {
  if (!options_.cancel) options_.cancel = std::make_shared<CancelToken>();
  // Any answer may complete a prefix and hand the sink a chunk of hundreds
  // of results: never on the transport's thread.
  options_.heavy_callback = true;
}

void OrderedFanout::Ack() {
  absl::MutexLock lock(&mu_);
  unacked_--;
  Pump();
}

void OrderedFanout::Cancel() {
  options_.cancel->Cancel();
  absl::MutexLock lock(&mu_);
  if (!finished_) {
    finished_ = true;
    // Writes may have run before the cancellation.
    if (fanout_.cache != nullptr) fanout_.cache->Invalidate(portal_->name(), method_);
    sink_->OnDone(GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "cancelled"));
  }
}

void OrderedFanout::Pump() {
  if (finished_) return;
  while (!Deliver() && Submit()) {
  }
}

bool OrderedFanout::Deliver() {
  while (unacked_ < fanout_.max_unacked_chunks) {
    std::vector<absl::StatusOr<CallReply>> chunk;
    size_t first = next_deliver_;
    for (auto it = done_.find(next_deliver_); it != done_.end() && chunk.size() < fanout_.chunk;
         it = done_.find(next_deliver_)) {
      chunk.push_back(std::move(it->second));
      done_.erase(it);
      next_deliver_++;
    }
    if (chunk.empty()) break;
    unacked_++;
    // A caller that reads after its write's result must not get a cached
    // answer from before the write.
    if (fanout_.cache != nullptr) fanout_.cache->Invalidate(portal_->name(), method_);
    sink_->OnResults(first, std::move(chunk));
  }
  if (next_deliver_ == params_.size()) {
    finished_ = true;
    sink_->OnDone(absl::OkStatus());
    return true;
  }
  return false;
}

bool OrderedFanout::Submit() {
  const size_t left = params_.size() - next_submit_;
  const size_t room = fanout_.window - (next_submit_ - next_deliver_);
  if (left == 0 || room < std::min({left, fanout_.refill, fanout_.window})) return false;
  bool hits = false;
  auto self = shared_from_this();
  // Handed over as one group, so the portal packs them into full batches.
  std::vector<GroupedCall> calls;
  while (next_submit_ < params_.size() && next_submit_ - next_deliver_ < fanout_.window) {
    size_t index = next_submit_++;
    nlohmann::ordered_json params = std::move(params_[index]);
    CacheTicket ticket;
    if (fanout_.cache != nullptr) {
      CacheLookup lookup =
          fanout_.cache->Find(portal_->name(), method_, params, fanout_.cache_mode);
      if (lookup.hit) {
        done_.emplace(index, std::move(*lookup.hit));
        hits = true;
        continue;
      }
      ticket = std::move(lookup.ticket);
    }
    calls.push_back({std::move(params),
                     [self, index, ticket = std::move(ticket)](absl::StatusOr<CallReply> reply) {
                       if (self->fanout_.cache != nullptr) {
                         self->fanout_.cache->Store(ticket, reply);
                       }
                       self->OnResult(index, std::move(reply));
                     },
                     index < fanout_.idempotency_keys.size() ? fanout_.idempotency_keys[index]
                                                             : std::string()});
  }
  if (!calls.empty()) portal_->Calls(method_, std::move(calls), as_json_, options_);
  return hits;
}

void OrderedFanout::OnResult(size_t index, absl::StatusOr<CallReply> reply) {
  absl::MutexLock lock(&mu_);
  done_.emplace(index, std::move(reply));
  Pump();
}

}  // namespace b24gate
