// The online events held for consumers (online_hub.h): every consumer group
// that named an event receives it, a stream's window, what a stream left
// unacknowledged going to the consumer's next stream in order, and the
// bound on what one consumer may hold.
#include "engine/events/online_hub.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/common/clock.h"

namespace b24gate::online_hub_test {
namespace {

class RecordingSink : public EventSink {
 public:
  void Deliver(std::vector<QueuedEvent> events) override {
    for (QueuedEvent& e : events) delivered.push_back(std::move(e));
  }
  void End(const absl::Status& status) override { ended = status; }
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids;
    for (const QueuedEvent& e : delivered) ids.push_back(e.delivery_id);
    return ids;
  }
  std::vector<QueuedEvent> delivered;
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
  std::shared_ptr<EventSubscription> Open(const std::string& consumer, RecordingSink* sink,
                                          std::vector<std::string> events = {"ONCRMDEALADD"}) {
    auto sub = hub_.Subscribe("main", consumer, events, sink,
                              [](std::function<void(absl::Status)> done) { done(absl::OkStatus()); });
    EXPECT_TRUE(sub.ok()) << sub.status();
    (*sub)->Start();
    return *sub;
  }

  FakeClock clock_;
  EventLedger ledger_{&clock_};
  OnlineEventHub hub_{&ledger_, OnlineEventHub::Options{/*max_queued=*/4, /*window=*/2,
                                                        /*max_consumers=*/2}};
};

TEST_F(OnlineHubTest, EveryConsumerThatNamedTheEventReceivesIt) {
  RecordingSink billing, search, tasks;
  auto a = Open("billing", &billing);
  auto b = Open("search", &search);
  EXPECT_EQ(hub_.Publish("main", Event("ONCRMDEALADD", "7")), 2);
  EXPECT_EQ(hub_.Publish("main", Event("ONCRMDEALUPDATE", "7")), 0) << "named by nobody";
  EXPECT_EQ(hub_.Publish("other", Event("ONCRMDEALADD", "7")), 0) << "another portal's";
  ASSERT_EQ(billing.delivered.size(), 1u);
  ASSERT_EQ(search.delivered.size(), 1u);
  EXPECT_EQ(billing.delivered[0].record_id, "7");
  EXPECT_EQ(billing.delivered[0].attempt, 1);
  EXPECT_TRUE(hub_.Subscribe("main", "third", {"ONCRMDEALADD"}, &tasks, nullptr).status().code() ==
              absl::StatusCode::kResourceExhausted)
      << "at most max_consumers per portal";
}

TEST_F(OnlineHubTest, AStreamHoldsAtMostItsWindowUnacknowledged) {
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  for (int i = 0; i < 3; ++i) hub_.Publish("main", Event("ONCRMDEALADD", std::to_string(i)));
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
  for (int i = 0; i < 3; ++i) hub_.Publish("main", Event("ONCRMDEALADD", std::to_string(i)));
  ASSERT_TRUE(sub->Ack({first.delivered[0].delivery_id}, "ack").ok());
  sub->Stop();
  hub_.Publish("main", Event("ONCRMDEALADD", "3"));  // queued while no stream is open
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

TEST_F(OnlineHubTest, AConsumerHoldsAtMostMaxQueuedAndTheRestIsCountedAsDropped) {
  RecordingSink sink;
  auto sub = Open("billing", &sink);
  sub->Stop();
  for (int i = 0; i < 6; ++i) hub_.Publish("main", Event("ONCRMDEALADD", std::to_string(i)));
  EXPECT_EQ(hub_.dropped(), 2);
}

TEST_F(OnlineHubTest, AFailedPrepareEndsTheStreamWithoutDeliveries) {
  RecordingSink sink;
  auto sub = hub_.Subscribe("main", "billing", {"ONCRMDEALADD"}, &sink,
                            [](std::function<void(absl::Status)> done) {
                              done(absl::UnavailableError("event.bind failed"));
                            });
  ASSERT_TRUE(sub.ok());
  (*sub)->Start();
  hub_.Publish("main", Event("ONCRMDEALADD", "1"));
  EXPECT_EQ(sink.ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sink.delivered.empty());
}

}  // namespace
}  // namespace b24gate::online_hub_test
