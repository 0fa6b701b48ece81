// A fake portal in simulated time, for the list strategies' schedules: the
// FakeListServer's answers (list_test_util.h), each given when the portal
// would have finished it. The portal processes at most `connections`
// requests at once (the gateway's max_concurrency), the commands of a batch
// one after another, each page for what the emulator's cost profile says
// (tests/emulator/cost_model.h), plus a fixed round trip per request; a
// request starts only while the leaky bucket has room (so none is ever
// refused). With the real stack's costs (SimulatedPortal::Stack) the
// gateway also handles the answers one after another, each for its rows: an
// answer reaches the reader once those that arrived before it have been
// handled, and it has. Nothing waits in real time: the FakeClock jumps from
// one event to the next, so the same read always gives the same timeline.
//
// AnswerWaiting() (what ReadList calls) takes what the reader sent, starts
// what may start now, then moves the clock to the first request to end and
// answers it; 0 when nothing is running or waiting.
//
// Thread-safety: not thread-safe; one test thread drives it.
#ifndef B24GATE_TESTS_ENGINE_LISTS_TIMED_LIST_SERVER_H_
#define B24GATE_TESTS_ENGINE_LISTS_TIMED_LIST_SERVER_H_

#include <algorithm>
#include <cstdio>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "tests/engine/lists/list_test_util.h"

namespace b24gate {

struct SimulatedPortal {
  FakeListServer::PageCosts costs;
  int connections = 8;
  double burst = 50;  // the gateway keeps one request of it in reserve
  double drain_per_second = 2;
  double round_trip_seconds = 0.002;  // HTTP and parsing, per request
  // The gateway's handling of an answer, per item, one answer at a time.
  double handle_seconds_per_row = 0;
  // The `late_request`-th request (from 1; 0: none) answers this much later
  // than its processing and round trip say (a portal that took it in late).
  int late_request = 0;
  double late_seconds = 0;

  // The emulator's profiles (tests/emulator/cost_model.cc).
  static SimulatedPortal Small() { return {{0.010, 0.0001, 0.000002}}; }
  static SimulatedPortal Huge() { return {{0.077, 0.0004, 0.000020858}}; }
  // `p` with what a request costs on the real stack besides the portal's
  // processing, as small 20,000-lead reads traced through the gateway and
  // the emulator measured it (load 4 to 5): from the gateway's send to its
  // handling of the answer, a one-page rest took 1 to 20 ms (median 13)
  // more than the processing the emulator reported, the bounds probe 3 to
  // 27 ms; the gateway handled each 2,500-item answer in about 17 ms on
  // each of two pool threads, about 9 ms one at a time. With 10 ms a round
  // the simulation gives what the real stack does, 0.88 to 0.89 s (it gave
  // 0.92 s with the 22 ms measured in an earlier session, and hid the rests
  // of rests the real stack read).
  static SimulatedPortal Stack(SimulatedPortal p) {
    p.round_trip_seconds = 0.010;
    p.handle_seconds_per_row = 0.0000035;
    return p;
  }
  // One page of 50 rows, uncounted.
  double PageSeconds() const { return costs.base + 50 * costs.per_row_returned; }
};

class TimedListServer {
 public:
  // One request as the portal saw it, in seconds from the start.
  struct Span {
    double start = 0;
    double end = 0;
    int commands = 1;  // a plain call: 1
    bool counted = false;
  };

  TimedListServer(std::vector<int64_t> ids, SimulatedPortal portal, FakeListShape shape = {})
      : server_(std::move(ids), std::move(shape)),
        clock_(server_.fake_clock()),
        portal_(portal),
        start_(clock_->Now()) {
    server_.ChargePages(portal_.costs);
    level_at_ = start_;
    UpdateBudget();
  }

  FakeDispatcher* dispatcher() { return server_.dispatcher(); }
  Clock* clock() { return server_.clock(); }
  absl::Time Now() const { return clock_->Now(); }
  FakeListServer& server() { return server_; }

  int AnswerWaiting() {
    for (auto& r : server_.dispatcher()->TakeAll()) waiting_.push_back(std::move(r));
    for (;;) {
      StartWhatMay();
      if (running_.empty()) return 0;
      auto first =
          std::min_element(running_.begin(), running_.end(),
                           [](const Running& a, const Running& b) { return a.end < b.end; });
      absl::Time bucket_at = BucketRoomAt();
      if (!waiting_.empty() && static_cast<int>(running_.size()) < portal_.connections &&
          bucket_at < first->end) {
        Advance(bucket_at);
        continue;
      }
      Running done = std::move(*first);
      running_.erase(first);
      // Answers are handled in the order they arrive, one at a time.
      absl::Time handled = std::max(done.end, handled_until_) +
                           absl::Seconds(portal_.handle_seconds_per_row *
                                         static_cast<double>(done.answer.rows));
      handled_until_ = handled;
      Advance(handled);
      done.span.end = absl::ToDoubleSeconds(handled - start_);
      timeline_.push_back(done.span);
      UpdateBudget();
      FakeListServer::Complete(done.request, std::move(done.answer));
      return 1;
    }
  }

  // Seconds from the start to now (the last answer).
  double elapsed() const { return absl::ToDoubleSeconds(Now() - start_); }
  // Requests in the order they ended.
  const std::vector<Span>& timeline() const { return timeline_; }
  std::string Timeline() const {
    std::string out;
    for (const Span& s : timeline_) {
      absl::StrAppend(&out, absl::StrFormat("  %7.3f .. %7.3f s  %2d commands%s\n", s.start, s.end,
                                            s.commands, s.counted ? " + count" : ""));
    }
    return out;
  }

 private:
  struct Running {
    FakeDispatcher::Request request;
    FakeListServer::Prepared answer;
    absl::Time end;
    Span span;
  };

  double Level(absl::Time t) const {
    return std::max(0.0, level_ - portal_.drain_per_second * absl::ToDoubleSeconds(t - level_at_));
  }
  // When the bucket has room for one more request (now if it has).
  absl::Time BucketRoomAt() const {
    absl::Time now = Now();
    double over = Level(now) + 1 - (portal_.burst - 1);
    return over <= 0 ? now : now + absl::Seconds(over / portal_.drain_per_second);
  }

  void StartWhatMay() {
    absl::Time now = Now();
    while (!waiting_.empty() && static_cast<int>(running_.size()) < portal_.connections &&
           BucketRoomAt() <= now) {
      level_ = Level(now) + 1;
      level_at_ = now;
      Running r{std::move(waiting_.front()), {}, now, {}};
      waiting_.pop_front();
      r.answer = server_.Prepare(r.request);
      double seconds = r.answer.seconds + portal_.round_trip_seconds;
      if (++started_ == portal_.late_request) seconds += portal_.late_seconds;
      r.end = now + absl::Seconds(seconds);
      r.span.start = absl::ToDoubleSeconds(now - start_);
      r.span.end = r.span.start + seconds;
      r.span.commands = r.request.is_batch ? static_cast<int>(r.request.commands.size()) : 1;
      r.span.counted = r.answer.counted;
      running_.push_back(std::move(r));
    }
    UpdateBudget();
  }

  void Advance(absl::Time t) {
    absl::Time now = Now();
    if (t > now) clock_->Advance(t - now);
  }

  // What the reader reads from Budget(): the bucket and connections as they
  // stand.
  void UpdateBudget() {
    PortalBudget b = FakeDispatcher::RoomyBudget();
    b.bucket_usable = portal_.burst - 1;
    b.drain_per_second = portal_.drain_per_second;
    b.bucket_level = Level(Now());
    b.requests_free_now = std::max(0.0, b.bucket_usable - b.bucket_level);
    b.max_in_flight = portal_.connections;
    server_.dispatcher()->set_budget(b);
  }

  FakeListServer server_;
  FakeClock* const clock_;
  const SimulatedPortal portal_;
  const absl::Time start_;
  std::deque<FakeDispatcher::Request> waiting_;
  std::vector<Running> running_;
  std::vector<Span> timeline_;
  int started_ = 0;
  double level_ = 0;
  absl::Time level_at_;
  absl::Time handled_until_ = absl::InfinitePast();
};

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_LISTS_TIMED_LIST_SERVER_H_
