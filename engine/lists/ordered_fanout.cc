#include "engine/lists/ordered_fanout.h"

#include <utility>

#include "engine/common/errors.h"

namespace b24gate {

std::shared_ptr<OrderedFanout> OrderedFanout::Create(Portal* portal, std::string method,
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

OrderedFanout::OrderedFanout(Portal* portal, std::string method, std::vector<nlohmann::ordered_json> params,
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
    sink_->OnDone(GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "cancelled"));
  }
}

void OrderedFanout::Pump() {
  if (finished_) return;
  // Deliver the complete prefix.
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
    sink_->OnResults(first, std::move(chunk));
  }
  if (next_deliver_ == params_.size()) {
    finished_ = true;
    sink_->OnDone(absl::OkStatus());
    return;
  }
  // Keep the window full.
  auto self = shared_from_this();
  while (next_submit_ < params_.size() && next_submit_ - next_deliver_ < fanout_.window) {
    size_t index = next_submit_++;
    nlohmann::ordered_json params = std::move(params_[index]);
    portal_->Call(method_, std::move(params), as_json_, options_,
                  [self, index](absl::StatusOr<CallReply> reply) {
                    self->OnResult(index, std::move(reply));
                  });
  }
}

void OrderedFanout::OnResult(size_t index, absl::StatusOr<CallReply> reply) {
  absl::MutexLock lock(&mu_);
  done_.emplace(index, std::move(reply));
  Pump();
}

}  // namespace b24gate
