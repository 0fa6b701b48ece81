// DispatchQueue: what to send next, given the limits as numbers and a `now`.
#include "engine/portal/dispatch_queue.h"

#include <gtest/gtest.h>

#include "engine/common/errors.h"

namespace b24gate::dispatch_queue_test {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);
const absl::Duration kMs = absl::Milliseconds(1);

// A queued call; linger and hold already over unless given.
struct CallSpec {
  std::string method = "crm.lead.get";
  bool as_json = false;
  absl::Time linger_until = absl::InfinitePast();
  absl::Time hold_until = absl::InfinitePast();
  absl::Time not_before = absl::InfinitePast();
  int attempts = 0;
  absl::Time enqueued = kNow;
};

WorkPtr MakeCall(const CallSpec& spec) {
  auto w = std::make_unique<Work>();
  CallWork call;
  call.method = spec.method;
  call.as_json = spec.as_json;
  w->body = std::move(call);
  w->read = true;
  w->linger_until = spec.linger_until;
  w->hold_until = spec.hold_until;
  w->not_before = spec.not_before;
  w->attempts = spec.attempts;
  w->enqueued = spec.enqueued;
  return w;
}

struct Row {
  const char* name;
  std::vector<CallSpec> queue;
  DispatchLimits limits;
  size_t picked;                   // 0: wait
  std::vector<size_t> positions;   // when picked: which
  absl::Time wait_until = absl::InfiniteFuture();  // when waiting
};

DispatchLimits Limits(int batch_size = 50, bool slot_free = true,
                      absl::Time bucket = absl::InfinitePast(), bool company = false,
                      bool scarce = false) {
  DispatchLimits l;
  l.batch_size = batch_size;
  l.slot_free = slot_free;
  l.bucket_free_at = bucket;
  l.company_expected = company;
  l.budget_scarce = scarce;
  return l;
}

DispatchLimits Scarce() { return Limits(50, true, absl::InfinitePast(), false, true); }

// Company expected from calls in flight due back at `calls_due` and callers
// answered due back by `callers_due`; a company window of 500 ms.
DispatchLimits Awaiting(absl::Time calls_due, absl::Time callers_due = absl::InfinitePast()) {
  DispatchLimits l = Limits(50, true, absl::InfinitePast(), true);
  l.company_window = 500 * kMs;
  l.calls_due = calls_due;
  l.callers_due = callers_due;
  return l;
}

TEST(DispatchQueue, NextTable) {
  const CallSpec plain;
  CallSpec lingering;
  lingering.linger_until = kNow + 50 * kMs;
  CallSpec held;
  held.hold_until = kNow + 200 * kMs;
  CallSpec json;
  json.as_json = true;
  json.linger_until = kNow + 50 * kMs;
  CallSpec later;
  later.not_before = kNow + 30 * kMs;
  CallSpec later_still;
  later_still.not_before = kNow + 70 * kMs;
  CallSpec retry = lingering;
  retry.attempts = 1;
  CallSpec arrived_earlier;
  arrived_earlier.enqueued = kNow - 200 * kMs;
  const std::vector<Row> rows = {
      {"nothing queued", {}, Limits(), 0, {}, absl::InfiniteFuture()},
      {"every slot in flight: an answer brings the next look", {plain, plain},
       Limits(50, false), 0, {}, absl::InfiniteFuture()},
      {"the bucket is full until its next slot", {plain}, Limits(50, true, kNow + 500 * kMs), 0,
       {}, kNow + 500 * kMs},
      {"callers arrived together share one batch", {plain, plain, plain}, Limits(), 3, {0, 1, 2}},
      {"idle, budget to spare: a partial batch goes at once, linger or not",
       {lingering, plain}, Limits(), 2, {0, 1}},
      {"budget scarce: a partial batch waits out the linger", {lingering, plain}, Scarce(), 0,
       {}, kNow + 50 * kMs},
      {"company expected: a partial batch waits out the linger", {lingering, plain},
       Limits(50, true, kNow, true), 0, {}, kNow + 50 * kMs},
      {"budget scarce, nobody expected: the hold does not apply", {held, plain}, Scarce(), 2,
       {0, 1}},
      {"a full batch goes at once, linger or not", {lingering, plain, plain}, Limits(2), 2,
       {0, 1}},
      {"company expected: held for the hold", {held, plain}, Limits(50, true, kNow, true), 0, {},
       kNow + 200 * kMs},
      {"nobody expected: the hold does not apply", {held, plain}, Limits(), 2, {0, 1}},
      {"a JSON call travels alone and does not wait", {json, plain}, Scarce(), 1, {0}},
      {"a JSON call does not join a batch", {plain, json, plain}, Limits(), 2, {0, 2}},
      {"a repeat goes at once", {retry, plain}, Scarce(), 2, {0, 1}},
      {"work in backoff waits without holding up the queue", {later, plain}, Limits(), 1, {1}},
      {"all in backoff: look again at the first end", {later_still, later}, Limits(), 0, {},
       kNow + 30 * kMs},
      {"callers just answered: held until they are due back", {plain, plain},
       Awaiting(absl::InfiniteFuture(), kNow + 30 * kMs), 0, {}, kNow + 30 * kMs},
      {"callers just answered and due back: the batch goes", {plain, plain},
       Awaiting(absl::InfiniteFuture(), kNow), 2, {0, 1}},
      {"calls in flight due within the window: held (their answer ends it) to the window's end",
       {plain, plain}, Awaiting(kNow + 400 * kMs), 0, {}, kNow + 500 * kMs},
      {"calls in flight due past the window: not waited for", {plain, plain},
       Awaiting(kNow + 600 * kMs), 2, {0, 1}},
      {"the window counts from the head's arrival", {arrived_earlier, plain},
       Awaiting(kNow + 250 * kMs), 0, {}, kNow + 300 * kMs},
      {"calls in flight due: a full batch still goes at once", {plain, plain},
       [] { DispatchLimits l = Awaiting(kNow + 400 * kMs); l.batch_size = 2; return l; }(), 2,
       {0, 1}},
  };
  auto store = MakeLocalBudgetStore(BucketPolicy{}, OperatingPolicy{});
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    DispatchQueue queue(FairSharePolicy{});
    std::vector<Work*> pushed;
    for (const CallSpec& spec : row.queue) {
      WorkPtr w = MakeCall(spec);
      pushed.push_back(w.get());
      queue.Push(std::move(w));
    }
    DispatchQueue::Choice choice = queue.Next(kNow, row.limits, store->operating());
    ASSERT_EQ(choice.picked.size(), row.picked);
    if (row.picked == 0) {
      EXPECT_EQ(choice.wait_until, row.wait_until);
      continue;
    }
    std::vector<WorkPtr> group = queue.Take(choice);
    ASSERT_EQ(group.size(), row.positions.size());
    for (size_t i = 0; i < group.size(); ++i) EXPECT_EQ(group[i].get(), pushed[row.positions[i]]);
    EXPECT_EQ(queue.size(), row.queue.size() - row.picked);
  }
}

TEST(DispatchQueue, AMethodPausedForItsOperatingTimeDoesNotHoldUpOthers) {
  auto store = MakeLocalBudgetStore(BucketPolicy{}, OperatingPolicy{});
  store->operating().Blocked("crm.deal.list", nullptr, kNow);
  DispatchQueue queue(FairSharePolicy{});
  CallSpec deals;
  deals.method = "crm.deal.list";
  queue.Push(MakeCall(deals));
  queue.Push(MakeCall(CallSpec{}));
  DispatchQueue::Choice choice = queue.Next(kNow, Limits(), store->operating());
  ASSERT_EQ(choice.picked.size(), 1u);
  std::vector<WorkPtr> group = queue.Take(choice);
  EXPECT_EQ(group[0]->method(), "crm.lead.get");
  choice = queue.Next(kNow, Limits(), store->operating());
  EXPECT_TRUE(choice.picked.empty());
  EXPECT_GT(choice.wait_until, kNow);
}

TEST(DispatchQueue, WorkSentAgainGoesAheadOfNewWork) {
  auto store = MakeLocalBudgetStore(BucketPolicy{}, OperatingPolicy{});
  DispatchQueue queue(FairSharePolicy{});
  CallSpec json;
  json.as_json = true;
  queue.Push(MakeCall(json));
  WorkPtr again = MakeCall(json);
  Work* retry = again.get();
  queue.PushFront(std::move(again));
  std::vector<WorkPtr> group = queue.Take(queue.Next(kNow, Limits(), store->operating()));
  ASSERT_EQ(group.size(), 1u);
  EXPECT_EQ(group[0].get(), retry);
  EXPECT_TRUE(retry->requeued);
}

TEST(DispatchQueue, AbandonedWorkIsTakenOutWithWhy) {
  DispatchQueue queue(FairSharePolicy{});
  auto add = [&](bool read, absl::Time deadline, bool cancelled) {
    WorkPtr w = MakeCall(CallSpec{});
    w->read = read;
    w->options.deadline = deadline;
    if (cancelled) {
      w->options.cancel = std::make_shared<CancelToken>();
      w->options.cancel->Cancel();
    }
    queue.Push(std::move(w));
  };
  const absl::Duration lead = 20 * kMs;
  add(true, kNow + absl::Hours(1), /*cancelled=*/true);
  add(true, kNow, false);                 // deadline reached
  add(false, kNow + 10 * kMs, false);     // a write that cannot finish in time
  add(true, kNow + 10 * kMs, false);      // a read may still try
  add(false, kNow + 100 * kMs, false);    // a write with time to spare
  absl::Time next = absl::InfiniteFuture();
  auto taken = queue.TakeAbandoned(kNow, lead, &next);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(ReasonOf(taken[0].second), "CANCELLED");
  EXPECT_EQ(taken[1].second.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(taken[1].second), "DEADLINE_EXCEEDED");
  EXPECT_EQ(taken[2].second.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(taken[2].second), "NOT_EXECUTED") << taken[2].second;
  EXPECT_EQ(queue.size(), 2u);
  // The read's deadline, and the write's last chance (deadline - lead).
  EXPECT_EQ(next, kNow + 10 * kMs);
  next = absl::InfiniteFuture();
  EXPECT_TRUE(queue.TakeAbandoned(kNow + 79 * kMs, lead, &next).size() == 1);  // the read
  EXPECT_EQ(next, kNow + 80 * kMs);
}

}  // namespace
}  // namespace b24gate::dispatch_queue_test
