// OfflineSubscription against a scripted portal: what it asks Bitrix24 for,
// in which order, and what it delivers, clears and redelivers.
#include "engine/events/offline_subscription.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/clock.h"
#include "engine/events/event_ledger.h"

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

class OfflineSubscriptionTest : public ::testing::Test {
 protected:
  std::shared_ptr<OfflineSubscription> Subscribe(RecordingSink* sink,
                                                 std::vector<std::string> events = {},
                                                 std::string auth_connector = "") {
    OfflineSubscription::Options options;
    options.auth_connector = std::move(auth_connector);
    options.portal = "p";
    options.consumer = "billing";
    options.events = std::move(events);
    options.batch_size = 3;
    auto sub = std::make_shared<OfflineSubscription>(
        options,
        [this](const std::string& method, OJson params, CallCallback done) {
          calls_.push_back({method, std::move(params), std::move(done)});
        },
        [this](absl::Duration, std::function<void()> fire) { timers_.push_back(std::move(fire)); },
        &ledger_, sink);
    sub->Start();
    return sub;
  }
  // The oldest unanswered call; REQUIRES one.
  PendingCall Next() {
    EXPECT_FALSE(calls_.empty());
    PendingCall call = std::move(calls_.front());
    calls_.pop_front();
    return call;
  }
  static void Answer(PendingCall& call, OJson result) {
    CallReply reply;
    reply.result = std::move(result);
    call.done(std::move(reply));
  }
  // Answers event.get with no bindings, then expects the first poll.
  PendingCall StartedPoll() {
    PendingCall get = Next();
    EXPECT_EQ(get.method, "event.get");
    Answer(get, OJson::array());
    PendingCall poll = Next();
    EXPECT_EQ(poll.method, "event.offline.get");
    return poll;
  }
  static std::vector<std::string> Ids(const std::vector<QueuedEvent>& events) {
    std::vector<std::string> ids;
    for (const QueuedEvent& e : events) ids.push_back(e.delivery_id);
    return ids;
  }

  FakeClock clock_;
  EventLedger ledger_{&clock_};
  std::deque<PendingCall> calls_;
  std::vector<std::function<void()>> timers_;
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
  EXPECT_EQ(poll.params["limit"], 3);
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, ClearsExactlyTheAcknowledgedRowsAndReadsOnlyAfterTheWholeBatch) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, {{"process_id", "b24gate.billing"},
                {"events", {Row(7, "ONCRMDEALADD", 70), Row(8, "ONCRMDEALUPDATE", 70)}}});
  ASSERT_EQ(Ids(sink.delivered), (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(sink.delivered[1].event, "ONCRMDEALUPDATE");
  EXPECT_EQ(sink.delivered[1].record_id, "70");
  EXPECT_EQ(sink.delivered[1].attempt, 1);

  ASSERT_TRUE(sub->Ack({"8"}, "ack").ok());
  PendingCall clear = Next();
  EXPECT_EQ(clear.method, "event.offline.clear");
  EXPECT_EQ(clear.params, (OJson{{"process_id", "b24gate.billing"}, {"id", {"8"}}}));
  Answer(clear, true);
  EXPECT_TRUE(calls_.empty()) << "row 7 is not acknowledged: no next read yet";
  ASSERT_TRUE(sub->Ack({"7"}, "ack").ok());
  PendingCall clear7 = Next();
  EXPECT_EQ(clear7.params["id"], OJson::array({"7"}));
  Answer(clear7, true);
  EXPECT_EQ(Next().method, "event.offline.get");
  EXPECT_EQ(ledger_.Snapshot()["p"].acknowledged, 2);
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, UnknownOrRepeatedAcknowledgementIsRefusedAndTakesNothing) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, {{"events", {Row(1, "ONCRMDEALADD", 5)}}});
  absl::Status bad = sub->Ack({"1", "2"}, "ack.delivery_ids");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("ack.delivery_ids[1]"), std::string::npos) << bad.message();
  EXPECT_TRUE(calls_.empty()) << "nothing cleared";
  ASSERT_TRUE(sub->Ack({"1"}, "ack").ok());
  Answer(calls_.front(), true);
  calls_.pop_front();
  EXPECT_EQ(sub->Ack({"1"}, "ack").code(), absl::StatusCode::kInvalidArgument);
  sub->Stop();
}

TEST_F(OfflineSubscriptionTest, UnacknowledgedRowsComeBackToTheNextStreamAsRedeliveries) {
  RecordingSink first;
  auto sub = Subscribe(&first);
  PendingCall poll = StartedPoll();
  Answer(poll, {{"events", {Row(1, "ONCRMDEALADD", 5), Row(2, "ONCRMDEALADD", 6)}}});
  ASSERT_TRUE(sub->Ack({"1"}, "ack").ok());
  sub->Stop();  // before the clear of row 1 has answered
  PendingCall clear = Next();
  Answer(clear, true);
  EXPECT_TRUE(calls_.empty()) << "a stopped subscription reads nothing more";

  // The portal returns the consumer's marked row 2 again.
  RecordingSink second;
  auto again = Subscribe(&second);
  PendingCall reread = StartedPoll();
  Answer(reread, {{"events", {Row(2, "ONCRMDEALADD", 6)}}});
  ASSERT_EQ(second.delivered.size(), 1u);
  EXPECT_EQ(second.delivered[0].attempt, 2);
  EXPECT_EQ(ledger_.Snapshot()["p"].redelivered, 1);
  EXPECT_EQ(ledger_.Snapshot()["p"].delivered, 3);
  again->Stop();
}

TEST_F(OfflineSubscriptionTest, AnEmptyQueueIsReadAgainOnlyWhenTheTimerFires) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  Answer(poll, {{"process_id", "b24gate.billing"}, {"events", OJson::array()}});
  EXPECT_TRUE(calls_.empty());
  ASSERT_EQ(timers_.size(), 1u);
  timers_[0]();
  EXPECT_EQ(Next().method, "event.offline.get");
  sub->Stop();
  timers_.clear();
}

TEST_F(OfflineSubscriptionTest, AFailedReadEndsTheStreamAndAStoppedOneIsNotCalledBack) {
  RecordingSink sink;
  auto sub = Subscribe(&sink);
  PendingCall poll = StartedPoll();
  poll.done(absl::UnavailableError("portal down"));
  EXPECT_EQ(sink.ended.code(), absl::StatusCode::kUnavailable);

  RecordingSink quiet;
  auto stopped = Subscribe(&quiet);
  PendingCall late = StartedPoll();
  stopped->Stop();
  Answer(late, {{"events", {Row(1, "ONCRMDEALADD", 5)}}});
  EXPECT_TRUE(quiet.delivered.empty());
}

TEST_F(OfflineSubscriptionTest, ConsumerNamesAreChecked) {
  EXPECT_TRUE(OfflineSubscription::ValidateName("billing-v2.eu_1", "start.consumer").ok());
  for (const std::string& bad : std::vector<std::string>{"", "a b", std::string(65, 'a'), "x/y"}) {
    absl::Status s = OfflineSubscription::ValidateName(bad, "start.consumer");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("start.consumer"), std::string::npos);
  }
}

}  // namespace
}  // namespace b24gate::offline_subscription_test
