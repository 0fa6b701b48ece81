// A Dispatcher (engine/portal/dispatcher.h) the test answers by hand: Call(),
// Calls() and Batch() only queue what was asked; the test takes each request with
// Take() and answers it through its callback on the test's own thread, so the
// code under test reacts before that call returns. No HTTP, no threads, no
// clock: what happens, and in which order, is the test's to say.
//
// Budget() returns what the test set (a roomy portal by default), with
// `in_flight` the requests not yet taken.
//
// Requests never answered are dropped with the fake: their callbacks are
// destroyed unrun.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_TESTS_SUPPORT_FAKE_DISPATCHER_H_
#define B24GATE_TESTS_SUPPORT_FAKE_DISPATCHER_H_

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/synchronization/mutex.h"
#include "engine/portal/dispatcher.h"

namespace b24gate {

class FakeDispatcher : public Dispatcher {
 public:
  // One call or pre-formed batch, as it was handed over.
  struct Request {
    bool is_batch = false;
    std::string method;  // a call's; "batch" for a batch
    nlohmann::ordered_json params;  // a call's
    bool as_json = false;
    std::vector<BatchCommandSpec> commands;  // a batch's
    bool halt = false;
    CallOptions options;
    CallCallback call_done;    // a call's
    BatchCallback batch_done;  // a batch's

    bool cancelled() const { return options.cancel && options.cancel->cancelled(); }
  };

  // A portal with room for everything: 8 requests in flight, a bucket of
  // 1,000 requests, 480 s of operating time per method.
  static PortalBudget RoomyBudget() {
    PortalBudget b;
    b.bucket_usable = 1000;
    b.drain_per_second = 1000;
    b.requests_free_now = 1000;
    b.max_in_flight = 8;
    b.operating_left = absl::Seconds(480);
    return b;
  }

  explicit FakeDispatcher(std::string name = "main") : name_(std::move(name)) {}

  const std::string& name() const override { return name_; }

  void Call(std::string method, nlohmann::ordered_json params, bool as_json, CallOptions options,
            CallCallback done) override {
    Request r;
    r.method = std::move(method);
    r.params = std::move(params);
    r.as_json = as_json;
    r.options = std::move(options);
    r.call_done = std::move(done);
    Queue(std::move(r));
  }

  // Each call of the group is one Request; groups() counts the handovers.
  void Calls(const std::string& method, std::vector<GroupedCall> calls, bool as_json,
             const CallOptions& options) override {
    {
      absl::MutexLock lock(&mu_);
      groups_++;
    }
    for (GroupedCall& c : calls) {
      Call(method, std::move(c.params), as_json, options, std::move(c.done));
    }
  }

  void Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
             BatchCallback done) override {
    Request r;
    r.is_batch = true;
    r.method = "batch";
    r.commands = std::move(commands);
    r.halt = halt;
    r.options = std::move(options);
    r.batch_done = std::move(done);
    Queue(std::move(r));
  }

  PortalBudget Budget(const std::string& /*method*/) const override {
    absl::MutexLock lock(&mu_);
    PortalBudget b = budget_;
    b.in_flight = static_cast<int>(queue_.size());
    return b;
  }

  void Warm(int requests) override {
    absl::MutexLock lock(&mu_);
    warms_.emplace_back(requests_, requests);
  }
  // Warm() hints since the start: (requests handed over before it, the
  // requests it announced).
  std::vector<std::pair<int, int>> warms() const {
    absl::MutexLock lock(&mu_);
    return warms_;
  }

  void set_budget(const PortalBudget& budget) {
    absl::MutexLock lock(&mu_);
    budget_ = budget;
  }

  // The oldest request not taken yet, or nullopt.
  std::optional<Request> Take() {
    absl::MutexLock lock(&mu_);
    if (queue_.empty()) return std::nullopt;
    Request r = std::move(queue_.front());
    queue_.pop_front();
    return r;
  }
  // Every request not taken yet, oldest first.
  std::vector<Request> TakeAll() {
    absl::MutexLock lock(&mu_);
    std::vector<Request> out(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
  }

  size_t waiting() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }
  // Requests handed over since the start, and the most waiting at once.
  int requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  int max_waiting() const {
    absl::MutexLock lock(&mu_);
    return max_waiting_;
  }
  // Groups handed over with Calls() since the start.
  int groups() const {
    absl::MutexLock lock(&mu_);
    return groups_;
  }

 private:
  void Queue(Request r) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(r));
    requests_++;
    max_waiting_ = std::max(max_waiting_, static_cast<int>(queue_.size()));
  }

  const std::string name_;
  mutable absl::Mutex mu_;
  PortalBudget budget_ ABSL_GUARDED_BY(mu_) = RoomyBudget();
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  int max_waiting_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<int, int>> warms_ ABSL_GUARDED_BY(mu_);
  int groups_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_TESTS_SUPPORT_FAKE_DISPATCHER_H_
