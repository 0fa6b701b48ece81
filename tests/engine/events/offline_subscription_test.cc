// Offline streams (OfflineSubscription) and their consumer's one reader
// (OfflineReader, OfflineReaders) against a scripted portal and a fake
// clock: what they ask Bitrix24 for, in which order, and what they deliver,
// clear and redeliver; how the streams of one consumer share its events
// (each to one stream, a record's events one after another, what a stream
// leaves or lets time out to another with attempt + 1).
#include "engine/events/offline_subscription.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/common/clock.h"
#include "engine/events/event_ledger.h"
#include "engine/events/event_pattern.h"
#include "engine/events/offline_readers.h"

namespace b24gate::offline_subscription_test {
namespace {

using OJson = nlohmann::ordered_json;

struct PendingCall {
  std::string method;
  OJson params;
  CallCallback done;
};

class RecordingSink : public OfflineSubscription::Sink {
 public:
  void Deliver(std::vector<QueuedEvent> events) override {
    for (QueuedEvent& e : events) delivered.push_back(std::move(e));
  }
  void End(const absl::Status& status) override { ended = status; }

  std::vector<QueuedEvent> delivered;
  absl::Status ended = absl::OkStatus();
};

OJson Row(int id, const std::string& event, int record) {
  return {{"ID", std::to_string(id)},
          {"TIMESTAMP_X", "2026-12-05T02:00:00+03:00"},
          {"EVENT_NAME", event},
          {"EVENT_DATA", {{"FIELDS", {{"ID", record}}}}},
          {"MESSAGE_ID", "m" + std::to_string(id)}};
}

OJson Rows(const std::vector<OJson>& rows) { return {{"process_id", "b24gate.billing"}, {"events", rows}}; }

std::vector<std::string> Ids(const std::vector<QueuedEvent>& events) {
  std::vector<std::string> ids;
  for (const QueuedEvent& e : events) ids.push_back(e.delivery_id);
  return ids;
}

class OfflineSubscriptionTest : public ::testing::Test {
 protected:
  static constexpr absl::Duration kVisibility = absl::Seconds(30);

  std::shared_ptr<OfflineSubscription> Subscribe(RecordingSink* sink,
                                                 std::vector<std::string> events = {},
                                                 std::string auth_connector = "") {
    OfflineSubscription::Options options;
    options.auth_connector = std::move(auth_connector);
    options.portal = "p";
    options.consumer = "billing";
    options.events = std::move(events);
    absl::StatusOr<OfflineReaders::Attached> attached = readers_.Attach("p", "billing");
    EXPECT_TRUE(attached.ok()) << attached.status();
    auto sub = std::make_shared<OfflineSubscription>(
        options,
        [this](const std::string& method, OJson params, CallCallback done) {
          calls_.push_back({method, std::move(params), std::move(done)});
        },
        *std::move(attached), sink);
    sub->Start();
    return sub;
  }
  // The oldest unanswered call; REQUIRES one.
  PendingCall Next() {
    EXPECT_FALSE(calls_.empty());
    if (calls_.empty()) return {};
    PendingCall call = std::move(calls_.front());
    calls_.pop_front();
    return call;
  }
  static void Answer(PendingCall& call, OJson result) {
    CallReply reply;
    reply.result = std::move(result);
    call.done(std::move(reply));
  }
  // Answers the stream's event.get with no bindings.
  void Bound() {
    PendingCall get = Next();
    EXPECT_EQ(get.method, "event.get");
    Answer(get, OJson::array());
  }
  // Answers the event.get of each of `streams` with no bindings, then
  // expects the first poll.
  PendingCall StartedPoll(int streams = 1) {
    for (int i = 0; i < streams; ++i) Bound();
    PendingCall poll = Next();
    EXPECT_EQ(poll.method, "event.offline.get");
    return poll;
  }
  // Answers the next call, a clear, and returns the ids it cleared.
  OJson AnswerClear() {
    PendingCall clear = Next();
    EXPECT_EQ(clear.method, "event.offline.clear");
    Answer(clear, true);
    return clear.params["id"];
  }
  // Two streams of the consumer, both members, whose first read brought
  // `rows`; stopped when it goes.
  struct TwoStreams {
    RecordingSink a, b;
    std::shared_ptr<OfflineSubscription> first, second;
    ~TwoStreams() {
      first->Stop();
      second->Stop();
    }
  };
  std::unique_ptr<TwoStreams> StartTwo(const std::vector<OJson>& rows) {
    auto two = std::make_unique<TwoStreams>();
    two->first = Subscribe(&two->a);
    two->second = Subscribe(&two->b);
    PendingCall poll = StartedPoll(2);
    Answer(poll, Rows(rows));
    return two;
  }
  // Fires the timers due by now; returns how many fired.
  int FireDue() {
    int fired = 0;
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->first > clock_.Now()) {
        ++it;
        continue;
      }
      std::function<void()> fire = std::move(it->second);
      timers_.erase(it);
      fire();
      ++fired;
      it = timers_.begin();
    }
    return fired;
  }

  FakeClock clock_;
  EventLedger ledger_{&clock_};
  std::deque<PendingCall> calls_;
  std::multimap<absl::Time, std::function<void()>> timers_;
  OfflineReaders readers_{&ledger_, &clock_,
                          [this](absl::Duration delay, std::function<void()> fire) {
                            timers_.emplace(clock_.Now() + delay, std::move(fire));
                          },
                          [] {
                            OfflineReader::Options options;
                            options.batch_size = 4;
                            options.poll_interval = absl::Seconds(5);
                            options.visibility_timeout = kVisibility;
                            return options;
                          }(),
                          /*max_members=*/3};
};

TEST_F(OfflineSubscriptionTest, BindsWhatIsMissingThenReadsWithItsProcessIdWithoutClearing) {
  RecordingSink sink;
  auto sub = Subscribe(&sink, {"ONCRMDEALADD", "onCrmDealUpdate"}, "billing-writes");
  PendingCall get = Next();
  ASSERT_EQ(get.method, "event.get");
  Answer(get, OJson::array({{{"event", "ONCRMDEALUPDATE"}, {"offline", 1}}}));
  PendingCall bind = Next();
  EXPECT_EQ(bind.method, "event.bind");
  EXPECT_EQ(bind.params, (OJson{{"event", "ONCRMDEALADD"},
                                {"event_type", "offline"},
                                {"auth_connector", "billing-writes"}}));
  Answer(bind, true);
  PendingCall poll = Next();
  EXPECT_EQ(poll.method, "event.offline.get");
  EXPECT_EQ(poll.params["process_id"], "b24gate.billing");
  EXPECT_EQ(poll.params["clear"], 0);
  EXPECT_EQ(poll.params["limit"], 4);
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, ClearsExactlyTheAcknowledgedRowsAndReadsOnlyAfterTheWholeBatch) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, Rows({Row(7, "ONCRMDEALADD", 70), Row(8, "ONCRMDEALUPDATE", 71)}));
  ASSERT_EQ(Ids(sink.delivered), (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(sink.delivered[1].event, "ONCRMDEALUPDATE");
  EXPECT_EQ(sink.delivered[1].record_id, "71");
  EXPECT_EQ(sink.delivered[1].attempt, 1);

  ASSERT_TRUE(sub->Ack({"8"}, "ack").ok());
  PendingCall clear = Next();
  EXPECT_EQ(clear.method, "event.offline.clear");
  EXPECT_EQ(clear.params, (OJson{{"process_id", "b24gate.billing"}, {"id", {"8"}}}));
  Answer(clear, true);
  EXPECT_TRUE(calls_.empty()) << "row 7 is not acknowledged: no next read yet";
  ASSERT_TRUE(sub->Ack({"7"}, "ack").ok());
  EXPECT_EQ(AnswerClear(), OJson::array({"7"}));
  EXPECT_EQ(Next().method, "event.offline.get");
  EXPECT_EQ(ledger_.Snapshot()["p"].acknowledged, 2);
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, OneCallAtATimeTheAcknowledgementsMeanwhileGoInTheNextClear) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, Rows({Row(1, "ONCRMDEALADD", 5), Row(2, "ONCRMDEALADD", 6), Row(3, "ONCRMDEALADD", 7)}));
  ASSERT_TRUE(sub->Ack({"1"}, "ack").ok());
  PendingCall first = Next();
  ASSERT_EQ(first.method, "event.offline.clear");
  ASSERT_TRUE(sub->Ack({"3"}, "ack").ok());
  ASSERT_TRUE(sub->Ack({"2"}, "ack").ok());
  EXPECT_TRUE(calls_.empty()) << "the next clear waits for the one in flight";
  Answer(first, true);
  EXPECT_EQ(AnswerClear(), OJson::array({"3", "2"}));
  EXPECT_EQ(Next().method, "event.offline.get") << "the batch is done: the next one";
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, UnknownOrRepeatedAcknowledgementIsRefusedAndTakesNothing) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, Rows({Row(1, "ONCRMDEALADD", 5), Row(3, "ONCRMDEALADD", 7), Row(4, "ONCRMDEALADD", 8)}));
  absl::Status bad = sub->Ack({"1", "2"}, "ack.delivery_ids");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("ack.delivery_ids[1]"), std::string::npos) << bad.message();
  EXPECT_TRUE(calls_.empty()) << "nothing cleared";
  ASSERT_TRUE(sub->Ack({"1"}, "ack").ok());
  EXPECT_EQ(AnswerClear(), OJson::array({"1"}));
  EXPECT_EQ(sub->Ack({"1"}, "ack").code(), absl::StatusCode::kInvalidArgument);
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, UnacknowledgedRowsComeBackToTheNextStreamAsRedeliveries) {
  RecordingSink first;
  auto sub = Subscribe(&first);
  PendingCall poll = StartedPoll();
  Answer(poll, Rows({Row(1, "ONCRMDEALADD", 5), Row(2, "ONCRMDEALADD", 6), Row(3, "ONCRMDEALADD", 7)}));
  ASSERT_TRUE(sub->Ack({"1"}, "ack").ok());
  sub->Stop();  // before the clear of row 1 has answered
  EXPECT_EQ(AnswerClear(), OJson::array({"1"}));
  EXPECT_TRUE(calls_.empty()) << "a reader without streams reads nothing more";

  // A new reader: the portal returns the consumer's marked rows 2 and 3 again.
  RecordingSink second;
  auto again = Subscribe(&second);
  PendingCall reread = StartedPoll();
  Answer(reread, Rows({Row(2, "ONCRMDEALADD", 6), Row(3, "ONCRMDEALADD", 7)}));
  ASSERT_EQ(second.delivered.size(), 2u);
  EXPECT_EQ(second.delivered[0].attempt, 2);
  EXPECT_EQ(ledger_.Snapshot()["p"].redelivered, 2);
  EXPECT_EQ(ledger_.Snapshot()["p"].delivered, 5);
  again->Stop();
}

TEST_F(OfflineSubscriptionTest, AnEmptyQueueIsReadAgainOnlyWhenTheTimerFires) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, Rows({}));
  EXPECT_TRUE(calls_.empty());
  ASSERT_EQ(timers_.size(), 1u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(FireDue(), 1);
  PendingCall again = Next();
  EXPECT_EQ(again.method, "event.offline.get");
  Answer(again, Rows({}));
  // ONOFFLINEEVENT: the waiting reader reads at once.
  readers_.PollNow("p");
  EXPECT_EQ(Next().method, "event.offline.get");
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, AFailedReadEndsEveryStreamAndAStoppedOneIsNotCalledBack) {
  RecordingSink sink;
  RecordingSink other;
  auto sub = Subscribe(&sink);
  auto second = Subscribe(&other);
  PendingCall poll = StartedPoll(2);
  poll.done(absl::UnavailableError("portal down"));
  EXPECT_EQ(sink.ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(other.ended.code(), absl::StatusCode::kUnavailable);
  sub->Stop();
  second->Stop();

  RecordingSink quiet;
  auto stopped = Subscribe(&quiet);
  PendingCall late = StartedPoll();
  stopped->Stop();
  Answer(late, Rows({Row(1, "ONCRMDEALADD", 5)}));
  EXPECT_TRUE(quiet.delivered.empty());
}

TEST_F(OfflineSubscriptionTest, StreamsOfAConsumerShareOneReaderEachEventToOne) {
  auto two = StartTwo({Row(1, "ONCRMDEALADD", 10), Row(2, "ONCRMDEALADD", 11), Row(3, "ONCRMDEALADD", 12),
                       Row(4, "ONCRMDEALADD", 13)});
  auto& [a, b, first, second] = *two;
  EXPECT_TRUE(calls_.empty()) << "one reader: one read, and its batch shared";
  EXPECT_EQ(a.delivered.size(), 2u);
  EXPECT_EQ(b.delivered.size(), 2u);
  std::set<std::string> all;
  for (const std::string& id : Ids(a.delivered)) all.insert(id);
  for (const std::string& id : Ids(b.delivered)) all.insert(id);
  EXPECT_EQ(all, (std::set<std::string>{"1", "2", "3", "4"}));
  // Each acknowledges its own; another's id is not its to acknowledge.
  EXPECT_EQ(first->Ack({b.delivered[0].delivery_id}, "ack").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(first->Ack(Ids(a.delivered), "ack").ok());
  ASSERT_TRUE(second->Ack(Ids(b.delivered), "ack").ok());
  OJson cleared = AnswerClear();
  for (const OJson& id : AnswerClear()) cleared.push_back(id);
  EXPECT_EQ(cleared.size(), 4u);
}

TEST_F(OfflineSubscriptionTest, ARecordsNextEventWaitsForTheAcknowledgementOfItsPrevious) {
  auto two = StartTwo({Row(1, "ONCRMDEALADD", 5), Row(2, "ONCRMDEALUPDATE", 5), Row(3, "ONCRMDEALADD", 6)});
  auto& [a, b, first, second] = *two;
  ASSERT_EQ(Ids(a.delivered), (std::vector<std::string>{"1"}));
  ASSERT_EQ(Ids(b.delivered), (std::vector<std::string>{"3"}));
  ASSERT_TRUE(second->Ack({"3"}, "ack").ok());
  EXPECT_EQ(Ids(b.delivered), (std::vector<std::string>{"3"})) << "row 2 waits for row 1 of record 5";
  ASSERT_TRUE(first->Ack({"1"}, "ack").ok());
  std::vector<std::string> all = Ids(a.delivered);
  for (const std::string& id : Ids(b.delivered)) all.push_back(id);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), (std::set<std::string>{"1", "2", "3"}))
      << "then it goes out";
  EXPECT_EQ(all.size(), 3u);
}

TEST_F(OfflineSubscriptionTest, WhatAStreamLeavesGoesToAnotherWithTheNextAttemptUncleared) {
  auto two = StartTwo({Row(1, "ONCRMDEALADD", 5), Row(2, "ONCRMDEALADD", 6)});
  auto& [a, b, first, second] = *two;
  ASSERT_EQ(Ids(a.delivered), (std::vector<std::string>{"1"}));
  ASSERT_EQ(Ids(b.delivered), (std::vector<std::string>{"2"}));
  first->Stop();
  ASSERT_EQ(Ids(b.delivered), (std::vector<std::string>{"2", "1"}));
  EXPECT_EQ(b.delivered[1].attempt, 2);
  EXPECT_EQ(ledger_.Snapshot()["p"].redelivered, 1);
  ASSERT_TRUE(second->Ack({"1"}, "ack").ok());
  EXPECT_EQ(AnswerClear(), OJson::array({"1"}));
}

TEST_F(OfflineSubscriptionTest, AnUnacknowledgedEventGoesToAnotherStreamAfterTheVisibilityTimeout) {
  auto two = StartTwo({Row(1, "ONCRMDEALADD", 5), Row(2, "ONCRMDEALADD", 6)});
  auto& [a, b, first, second] = *two;
  ASSERT_EQ(Ids(a.delivered), (std::vector<std::string>{"1"}));
  ASSERT_TRUE(second->Ack({"2"}, "ack").ok());
  EXPECT_EQ(AnswerClear(), OJson::array({"2"}));
  clock_.Advance(kVisibility - absl::Seconds(1));
  FireDue();
  EXPECT_EQ(b.delivered.size(), 1u) << "not yet";
  clock_.Advance(absl::Seconds(1));
  FireDue();
  ASSERT_EQ(Ids(b.delivered), (std::vector<std::string>{"2", "1"}));
  EXPECT_EQ(b.delivered[1].attempt, 2);
  // The first stream's late acknowledgement is taken without effect: the
  // row is the second's now.
  ASSERT_TRUE(first->Ack({"1"}, "ack").ok());
  ASSERT_TRUE(second->Ack({"1"}, "ack").ok());
  EXPECT_EQ(ledger_.Snapshot()["p"].acknowledged, 2);
}

TEST_F(OfflineSubscriptionTest, AConsumerHasAtMostMaxMembersStreams) {
  RecordingSink sinks[3];
  std::vector<std::shared_ptr<OfflineSubscription>> subs;
  for (RecordingSink& sink : sinks) subs.push_back(Subscribe(&sink));
  absl::StatusOr<OfflineReaders::Attached> fourth = readers_.Attach("p", "billing");
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(readers_.Attach("p", "another").ok()) << "per consumer";
  for (auto& sub : subs) sub->Stop();
}

TEST_F(OfflineSubscriptionTest, ConsumerNamesAreChecked) {
  EXPECT_TRUE(ValidateConsumerName("billing-v2.eu_1", "start.consumer").ok());
  for (const std::string& bad : std::vector<std::string>{"", "a b", std::string(65, 'a'), "x/y"}) {
    absl::Status s = ValidateConsumerName(bad, "start.consumer");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("start.consumer"), std::string::npos);
  }
}

}  // namespace
}  // namespace b24gate::offline_subscription_test
