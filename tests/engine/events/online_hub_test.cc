// The online events held for consumers (online_hub.h): every consumer group
// that named an event (or a pattern matching it) receives it, the streams
// of one group share it, a stream's window, what a stream left
// unacknowledged going to the consumer's next stream in order, what a
// stream does not acknowledge in time going to another, what a hub opened
// again on the same log delivers (the unacknowledged, not the acknowledged,
// with the attempts counted on), and the log's bounds (nothing dropped
// within them, the oldest dropped and counted beyond).
#include "engine/events/online_hub.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/common/clock.h"
#include "tests/engine/events/offline_rows.h"
#include "tests/support/temp_file.h"

namespace b24gate::online_hub_test {
namespace {

class RecordingSink : public EventSink {
 public:
  void Deliver(std::vector<QueuedEvent> events) override {
    ++deliveries;
    for (QueuedEvent& e : events) delivered.push_back(std::move(e));
  }
  void End(const absl::Status& status) override { ended = status; }
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids;
    for (const QueuedEvent& e : delivered) ids.push_back(e.delivery_id);
    return ids;
  }
  std::vector<QueuedEvent> delivered;
  int deliveries = 0;  // Deliver calls
  absl::Status ended = absl::OkStatus();
};

QueuedEvent Event(const std::string& name, const std::string& record) {
  QueuedEvent e;
  e.event = name;
  e.record_id = record;
  return e;
}

class OnlineHubTest : public ::testing::Test {
 protected:
  OnlineHubTest() { Reopen(); }

  // A hub on the same log, as after a restart (the old one is gone first).
  void Reopen(int64_t max_bytes = int64_t{1} << 30, int window = 2) {
    hub_.reset();
    EventLog::Options log;
    log.dir = dir_;
    log.max_bytes = max_bytes;
    log.segment_bytes = 1024;
    OnlineEventHub::Options options;
    options.window = window;
    options.max_consumers = 2;
    options.visibility_timeout = absl::Seconds(30);
    auto hub = OnlineEventHub::Open(&ledger_, &clock_,
                                    [this](absl::Duration delay, std::function<void()> fire) {
                                      absl::MutexLock lock(&timer_mu_);
                                      timers_.emplace(clock_.Now() + delay, std::move(fire));
                                    },
                                    log, options,
                                    [this](int64_t n, int64_t, const std::string&) { dropped_ += n; });
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
  }

  std::shared_ptr<EventSubscription> Open(const std::string& consumer, RecordingSink* sink,
                                          std::vector<std::string> events = {"ONCRMDEALADD"}) {
    auto sub = hub_->Subscribe("main", consumer, events, sink,
                               [](std::function<void(absl::Status)> done) { done(absl::OkStatus()); });
    EXPECT_TRUE(sub.ok()) << sub.status();
    (*sub)->Start();
    return *sub;
  }

  // Moves the clock and runs the timers due by then.
  void Advance(absl::Duration d) {
    clock_.Advance(d);
    std::vector<std::function<void()>> due;
    {
      absl::MutexLock lock(&timer_mu_);
      while (!timers_.empty() && timers_.begin()->first <= clock_.Now()) {
        due.push_back(std::move(timers_.begin()->second));
        timers_.erase(timers_.begin());
      }
    }
    for (auto& fire : due) fire();
  }

  // Publishes and waits until the event is on disk, as the inbound endpoint does.
  int Stored(const std::string& portal, QueuedEvent e) {
    OnlineEventHub::Published p = hub_->Publish(portal, std::move(e));
    EXPECT_TRUE(hub_->WaitStored(p.ticket).ok());
    return p.taken;
  }

  const std::string dir_ = testing::TempDir();
  FakeClock clock_;
  EventLedger ledger_{&clock_};
  std::atomic<int64_t> dropped_{0};
  absl::Mutex timer_mu_;
  std::multimap<absl::Time, std::function<void()>> timers_ ABSL_GUARDED_BY(timer_mu_);
  std::unique_ptr<OnlineEventHub> hub_;
};

TEST_F(OnlineHubTest, EveryConsumerThatNamedTheEventReceivesIt) {
  RecordingSink billing, search, tasks;
  auto a = Open("billing", &billing);
  auto b = Open("search", &search);
  EXPECT_EQ(Stored("main", Event("ONCRMDEALADD", "7")), 2);
  EXPECT_EQ(Stored("main", Event("ONCRMDEALUPDATE", "7")), 0) << "named by nobody";
  EXPECT_EQ(Stored("other", Event("ONCRMDEALADD", "7")), 0) << "another portal's";
  ASSERT_EQ(billing.delivered.size(), 1u);
  ASSERT_EQ(search.delivered.size(), 1u);
  EXPECT_EQ(billing.delivered[0].record_id, "7");
  EXPECT_EQ(billing.delivered[0].attempt, 1);
  EXPECT_TRUE(hub_->Subscribe("main", "third", {"ONCRMDEALADD"}, &tasks, nullptr).status().code() ==
              absl::StatusCode::kResourceExhausted)
      << "at most max_consumers per portal";
}

TEST_F(OnlineHubTest, AStreamHoldsAtMostItsWindowUnacknowledged) {
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  for (int i = 0; i < 3; ++i) Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
  ASSERT_EQ(sink.delivered.size(), 2u);
  ASSERT_TRUE(sub->Ack({sink.delivered[0].delivery_id}, "ack").ok());
  ASSERT_EQ(sink.delivered.size(), 3u);
  EXPECT_EQ(sink.delivered[2].record_id, "2");
  EXPECT_EQ(sub->Ack({sink.delivered[0].delivery_id}, "ack").code(), absl::StatusCode::kInvalidArgument)
      << "acknowledged already";
  EXPECT_EQ(sub->Ack({"online-999"}, "ack").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OnlineHubTest, WhatAStreamLeftGoesToTheNextStreamFirstAndInOrder) {
  RecordingSink first;
  auto sub = Open("billing", &first);
  for (int i = 0; i < 3; ++i) Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
  ASSERT_TRUE(sub->Ack({first.delivered[0].delivery_id}, "ack").ok());
  sub->Stop();
  Stored("main", Event("ONCRMDEALADD", "3"));  // queued while no stream is open
  EXPECT_EQ(first.delivered.size(), 3u) << "nothing after Stop";
  RecordingSink second;
  auto again = Open("billing", &second);
  ASSERT_EQ(second.delivered.size(), 2u);
  EXPECT_EQ(second.delivered[0].delivery_id, first.delivered[1].delivery_id);
  EXPECT_EQ(second.delivered[0].attempt, 2);
  EXPECT_EQ(second.delivered[1].delivery_id, first.delivered[2].delivery_id);
  ASSERT_TRUE(again->Ack({second.delivered[0].delivery_id, second.delivered[1].delivery_id}, "ack").ok());
  ASSERT_EQ(second.delivered.size(), 3u);
  EXPECT_EQ(second.delivered[2].record_id, "3");
  EXPECT_EQ(second.delivered[2].attempt, 1);
}

TEST_F(OnlineHubTest, AfterARestartWhatWasNotAcknowledgedComesBackAndWhatWasNeverDoes) {
  std::vector<std::string> ids;
  {
    RecordingSink sink;
    auto sub = Open("billing", &sink);
    for (int i = 0; i < 2; ++i) Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
    ASSERT_EQ(sink.delivered.size(), 2u);
    ids = sink.Ids();
    ASSERT_TRUE(sub->Ack({ids[0]}, "ack").ok());
    sub->Stop();
  }
  Reopen();
  // Known from the log: events for it are kept although no stream is open.
  EXPECT_EQ(Stored("main", Event("ONCRMDEALADD", "2")), 1);
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  ASSERT_EQ(sink.Ids(), (std::vector<std::string>{ids[1], "online-3"}));
  EXPECT_EQ(sink.delivered[0].record_id, "1");
  EXPECT_EQ(sink.delivered[1].record_id, "2");
}

TEST_F(OnlineHubTest, AnAcknowledgedEventIsCountedOnDiskAndNotDeliveredAfterARestart) {
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  Stored("main", Event("ONCRMDEALADD", "1"));
  ASSERT_TRUE(sub->Ack(sink.Ids(), "ack").ok());
  sub.reset();  // a stream does not outlive its hub
  Reopen();     // flushes what is queued
  EXPECT_EQ(ledger_.Snapshot()["main"].acknowledged, 1);
  RecordingSink again;
  auto next = Open("billing", &again);
  EXPECT_TRUE(again.delivered.empty());
}

TEST_F(OnlineHubTest, WithinTheBoundsNothingIsDropped) {
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  // Many segments of 1 KiB, every event acknowledged: the log stays small
  // by deleting what is done, never by dropping.
  for (int i = 0; i < 300; ++i) {
    Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
    ASSERT_TRUE(sub->Ack({sink.delivered.back().delivery_id}, "ack").ok());
  }
  EXPECT_EQ(sink.delivered.size(), 300u);
  EXPECT_EQ(dropped_.load(), 0);
  EXPECT_EQ(ledger_.Snapshot()["main"].dropped, 0);
  EXPECT_LT(hub_->log_bytes().value(), 8 * 1024) << "acknowledged segments are deleted";
}

TEST_F(OnlineHubTest, BeyondTheSizeBoundTheOldestAreDroppedAndCounted) {
  Reopen(/*max_bytes=*/4 * 1024);
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  sub.reset();  // nobody acknowledges: the log fills
  for (int i = 0; i < 200; ++i) Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
  Reopen(4 * 1024);  // flushes; every drop is counted by then
  EXPECT_GT(dropped_.load(), 0);
  EXPECT_EQ(ledger_.Snapshot()["main"].dropped, dropped_.load());
  EXPECT_LE(hub_->log_bytes().value(), 6 * 1024);
  const int64_t dropped = dropped_.load();
  // Read what is left under a wide bound: under the narrow one each
  // acknowledgement, itself a record, can push the log past 4 KiB again and
  // drop what was just delivered, depending on when the writer thread runs.
  Reopen();
  RecordingSink again;
  auto next = Open("billing", &again);
  // What is left is the newest, in order, with nothing missing in between.
  std::vector<int> records;
  while (records.size() < again.delivered.size()) {
    const QueuedEvent& e = again.delivered[records.size()];
    records.push_back(std::stoi(e.record_id));
    ASSERT_TRUE(next->Ack({e.delivery_id}, "ack").ok());
  }
  EXPECT_EQ(dropped_.load(), dropped) << "nothing dropped under the wide bound";
  ASSERT_EQ(static_cast<int64_t>(records.size()) + dropped, 200);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i], 200 - static_cast<int>(records.size() - i));
  }
}

TEST_F(OnlineHubTest, AFailedPrepareEndsTheStreamWithoutDeliveries) {
  RecordingSink sink;
  auto sub = hub_->Subscribe("main", "billing", {"ONCRMDEALADD"}, &sink,
                            [](std::function<void(absl::Status)> done) {
                              done(absl::UnavailableError("event.bind failed"));
                            });
  ASSERT_TRUE(sub.ok());
  (*sub)->Start();
  Stored("main", Event("ONCRMDEALADD", "1"));
  EXPECT_EQ(sink.ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sink.delivered.empty());
}

TEST_F(OnlineHubTest, TheStreamsOfOneGroupShareItsEventsAndAnotherGroupGetsEveryOne) {
  RecordingSink first, second, other;
  auto a = Open("billing", &first);
  auto b = Open("billing", &second);
  auto c = Open("search", &other);
  // Window 2 per stream: four events fill both billing streams.
  for (int i = 0; i < 4; ++i) Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
  EXPECT_EQ(first.delivered.size(), 2u);
  EXPECT_EQ(second.delivered.size(), 2u);
  std::set<std::string> records;
  for (auto* sink : {&first, &second}) {
    for (const QueuedEvent& e : sink->delivered) EXPECT_TRUE(records.insert(e.record_id).second) << e.record_id;
  }
  EXPECT_EQ(records.size(), 4u) << "each event to one of them";
  EXPECT_EQ(other.delivered.size(), 2u) << "search's own window";
  EXPECT_EQ(b->Ack({first.delivered[0].delivery_id}, "ack").code(), absl::StatusCode::kInvalidArgument)
      << "a delivery of the other stream";
}

TEST_F(OnlineHubTest, WhatAStreamLeavesGoesToTheOtherStreamsOfItsGroup) {
  RecordingSink first, second;
  auto a = Open("billing", &first);
  auto b = Open("billing", &second);
  for (int i = 0; i < 2; ++i) Stored("main", Event("ONCRMDEALADD", std::to_string(i)));
  ASSERT_EQ(first.delivered.size(), 1u);
  ASSERT_EQ(second.delivered.size(), 1u);
  a->Stop();
  ASSERT_EQ(second.delivered.size(), 2u);
  EXPECT_EQ(second.delivered[1].delivery_id, first.delivered[0].delivery_id);
  EXPECT_EQ(second.delivered[1].attempt, 2);
}

TEST_F(OnlineHubTest, AnEventNotAcknowledgedInTimeGoesToAnotherStreamOfTheGroup) {
  RecordingSink slow, quick;
  auto a = Open("billing", &slow);
  Stored("main", Event("ONCRMDEALADD", "1"));
  ASSERT_EQ(slow.delivered.size(), 1u);
  auto b = Open("billing", &quick);
  Advance(absl::Seconds(29));
  EXPECT_TRUE(quick.delivered.empty()) << "not before the visibility timeout";
  Advance(absl::Seconds(1));
  ASSERT_EQ(quick.delivered.size(), 1u) << "the open but silent stream's event";
  EXPECT_EQ(quick.delivered[0].delivery_id, slow.delivered[0].delivery_id);
  EXPECT_EQ(quick.delivered[0].attempt, 2);
  ASSERT_TRUE(a->Ack({slow.delivered[0].delivery_id}, "ack").ok()) << "late, ignored";
  ASSERT_TRUE(b->Ack({quick.delivered[0].delivery_id}, "ack").ok());
  a.reset();
  b.reset();
  Reopen();
  EXPECT_EQ(ledger_.Snapshot()["main"].acknowledged, 1) << "acknowledged once";
}

TEST_F(OnlineHubTest, AttemptsCountOnAfterARestart) {
  {
    RecordingSink sink;
    auto sub = Open("billing", &sink);
    Stored("main", Event("ONCRMDEALADD", "1"));
    ASSERT_EQ(sink.delivered.size(), 1u);
    sub->Stop();
    RecordingSink again;
    auto next = Open("billing", &again);
    ASSERT_EQ(again.delivered.size(), 1u);
    EXPECT_EQ(again.delivered[0].attempt, 2);
    next->Stop();
  }
  Reopen();
  RecordingSink after;
  auto sub = Open("billing", &after);
  ASSERT_EQ(after.delivered.size(), 1u);
  EXPECT_EQ(after.delivered[0].attempt, 3);
}

TEST_F(OnlineHubTest, APatternNamesEveryEventItMatches) {
  RecordingSink sink;
  auto sub = Open("billing", &sink, {"oncrmdeal*"});
  EXPECT_EQ(Stored("main", Event("ONCRMDEALADD", "1")), 1);
  EXPECT_EQ(Stored("main", Event("ONCRMDEALUPDATE", "1")), 1);
  EXPECT_EQ(Stored("main", Event("ONCRMLEADADD", "1")), 0);
  sub.reset();
  Reopen();  // the pattern is kept in the log
  EXPECT_EQ(Stored("main", Event("ONCRMDEALDELETE", "1")), 1);
}

// What an offline source hands again (a pass that died before its clear)
// is not delivered twice, neither before a restart nor after one; the
// group that makes the source read is durable.
TEST_F(OnlineHubTest, StoreOnceSkipsWhatItTookBeforeAcrossARestart) {
  RecordingSink billing;
  auto a = Open("billing", &billing, {"ONCRMDEALADD"});
  absl::StatusOr<int> fresh = hub_->StoreOnce("main", testing::OfflineRows(1, 3));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(*fresh, 3);
  EXPECT_EQ(*hub_->StoreOnce("main", testing::OfflineRows(2, 4)), 1) << "2 and 3 again, 4 new";
  ASSERT_EQ(billing.delivered.size(), 2u) << "the window";
  ASSERT_TRUE(a->Ack({billing.delivered[0].delivery_id, billing.delivered[1].delivery_id}, "ack").ok());
  a->Stop();
  Reopen();
  EXPECT_EQ(*hub_->StoreOnce("main", testing::OfflineRows(1, 4)), 0) << "remembered after the restart";
  EXPECT_TRUE(*hub_->HasGroups("main")) << "the group is durable";
  EXPECT_FALSE(*hub_->HasGroups("nobody"));
  RecordingSink after;
  auto c = Open("billing", &after, {"ONCRMDEALADD"});
  std::set<std::string> records;
  for (const QueuedEvent& e : after.delivered) records.insert(e.record_id);
  EXPECT_EQ(records, (std::set<std::string>{"3", "4"})) << "only what was never acknowledged";
}

// An offline pass reaches a stream that keeps up with the source in one
// delivery (an enriching stream reads its records in one request), not its
// first row alone and the rest after it.
TEST_F(OnlineHubTest, StoreOnceHandsAStreamThePassInOneDelivery) {
  Reopen(int64_t{1} << 30, /*window=*/10);
  RecordingSink billing;
  auto a = Open("billing", &billing, {"ONCRMDEALADD"});
  ASSERT_EQ(*hub_->StoreOnce("main", testing::OfflineRows(1, 10)), 10);
  EXPECT_EQ(billing.delivered.size(), 10u);
  EXPECT_EQ(billing.deliveries, 1);
  a->Stop();
}

}  // namespace
}  // namespace b24gate::online_hub_test
