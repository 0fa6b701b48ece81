// EventEnricher against a scripted reader: which records it reads, how many
// reads a run of events costs, what each event says of its record, and the
// order and the end of deliveries.
#include "engine/events/event_enricher.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace b24gate::event_enricher_test {
namespace {

using OJson = nlohmann::ordered_json;

struct PendingRead {
  std::vector<BatchCommandSpec> commands;
  std::function<void(EventEnricher::Outcomes)> done;
};

class RecordingSink : public EventSink {
 public:
  void Deliver(std::vector<QueuedEvent> events) override {
    ++deliveries;
    for (QueuedEvent& e : events) delivered.push_back(std::move(e));
  }
  void End(const absl::Status& status) override { ended = status; }

  int deliveries = 0;
  std::vector<QueuedEvent> delivered;
  absl::Status ended = absl::OkStatus();
};

QueuedEvent Event(const std::string& id, const std::string& event, const std::string& record) {
  QueuedEvent e;
  e.delivery_id = id;
  e.event = event;
  e.record_id = record;
  return e;
}

// A reply that gives each command the record it asked for, as crm.*.get
// does: {"ID": "<id>", "TITLE": "deal <id>"}.
EventEnricher::Outcomes Found(const std::vector<BatchCommandSpec>& commands) {
  EventEnricher::Outcomes outcomes;
  for (const BatchCommandSpec& c : commands) {
    CallReply reply;
    const std::string id = c.params.begin().value().dump();
    reply.result = {{"ID", id}, {"TITLE", "deal " + id}};
    outcomes.push_back(std::move(reply));
  }
  return outcomes;
}

class EventEnricherTest : public ::testing::Test {
 protected:
  std::shared_ptr<EventEnricher> Make() {
    return std::make_shared<EventEnricher>(
        [this](std::vector<BatchCommandSpec> commands, std::function<void(EventEnricher::Outcomes)> done) {
          reads_.push_back({std::move(commands), std::move(done)});
        },
        &sink_);
  }
  PendingRead NextRead() {
    EXPECT_FALSE(reads_.empty());
    PendingRead read = std::move(reads_.front());
    reads_.pop_front();
    return read;
  }

  RecordingSink sink_;
  std::deque<PendingRead> reads_;
};

TEST_F(EventEnricherTest, ReadsEachDistinctRecordOfTheWaitingEventsInOneRead) {
  auto enricher = Make();
  std::vector<QueuedEvent> events;
  for (int i = 1; i <= 50; ++i) events.push_back(Event("d" + std::to_string(i), "ONCRMDEALUPDATE", std::to_string(i)));
  events.push_back(Event("again", "ONCRMDEALADD", "7"));
  events.push_back(Event("lead", "onCrmLeadAdd", "7"));
  events.push_back(Event("task", "ONTASKUPDATE", "9"));
  enricher->Deliver(events);
  ASSERT_EQ(reads_.size(), 1u);
  PendingRead read = NextRead();
  ASSERT_EQ(read.commands.size(), 52u) << "deal 7 read once, for both of its events";
  EXPECT_EQ(read.commands[6].method, "crm.deal.get");
  EXPECT_EQ(read.commands[6].params, (OJson{{"id", 7}}));
  EXPECT_EQ(read.commands[50].method, "crm.lead.get");
  EXPECT_EQ(read.commands[51].method, "tasks.task.get");
  EXPECT_EQ(read.commands[51].params, (OJson{{"taskId", 9}}));
  EXPECT_TRUE(sink_.delivered.empty()) << "nothing passes on before its record is read";
  EventEnricher::Outcomes outcomes = Found(read.commands);
  outcomes[51] = CallReply{};
  outcomes[51]->result = {{"task", {{"id", "9"}, {"title", "call back"}}}};
  read.done(std::move(outcomes));
  ASSERT_EQ(sink_.delivered.size(), 53u);
  for (size_t i = 0; i < 53; ++i) {
    EXPECT_EQ(sink_.delivered[i].delivery_id, events[i].delivery_id) << "in the order delivered";
    EXPECT_EQ(sink_.delivered[i].record_state, RecordState::kPresent) << i;
  }
  EXPECT_EQ(sink_.delivered[50].record["TITLE"], "deal 7");
  EXPECT_EQ(sink_.delivered[52].record["title"], "call back") << "a task's fields are under `task`";
}

TEST_F(EventEnricherTest, ARecordGoneMeanwhileIsSaidDeletedAndAFailedReadUnreadableNeitherEndsTheStream) {
  auto enricher = Make();
  enricher->Deliver({Event("gone", "ONCRMDEALUPDATE", "1"), Event("denied", "ONCRMCONTACTADD", "2"),
                     Event("deleted", "ONCRMDEALDELETE", "3"), Event("other", "ONAPPINSTALL", "4"),
                     Event("noid", "ONCRMDEALADD", "")});
  PendingRead read = NextRead();
  ASSERT_EQ(read.commands.size(), 2u) << "a delete event, an unknown one and one without an id are not read";
  read.done({absl::NotFoundError("Not found"), absl::PermissionDeniedError("Access denied.")});
  ASSERT_EQ(sink_.delivered.size(), 5u);
  EXPECT_EQ(sink_.delivered[0].record_state, RecordState::kDeleted);
  EXPECT_EQ(sink_.delivered[1].record_state, RecordState::kUnreadable);
  EXPECT_EQ(sink_.delivered[1].record_error, "PERMISSION_DENIED: Access denied.");
  EXPECT_EQ(sink_.delivered[2].record_state, RecordState::kDeleted);
  EXPECT_EQ(sink_.delivered[3].record_state, RecordState::kNotRead);
  EXPECT_EQ(sink_.delivered[4].record_state, RecordState::kNotRead);
  EXPECT_TRUE(sink_.ended.ok());
}

TEST_F(EventEnricherTest, EventsThatComeDuringAReadGoTogetherInTheNextInOrder) {
  auto enricher = Make();
  enricher->Deliver({Event("a", "ONCRMDEALADD", "1")});
  for (int i = 2; i <= 40; ++i) enricher->Deliver({Event(std::to_string(i), "ONCRMDEALADD", std::to_string(i))});
  ASSERT_EQ(reads_.size(), 1u) << "one read in flight";
  PendingRead first = NextRead();
  first.done(Found(first.commands));
  ASSERT_EQ(reads_.size(), 1u);
  PendingRead second = NextRead();
  EXPECT_EQ(second.commands.size(), 39u) << "the 39 that waited, in one read";
  EXPECT_EQ(sink_.delivered.size(), 1u);
  second.done(Found(second.commands));
  ASSERT_EQ(sink_.delivered.size(), 40u);
  EXPECT_EQ(sink_.deliveries, 2);
  for (int i = 2; i <= 40; ++i) EXPECT_EQ(sink_.delivered[i - 1].delivery_id, std::to_string(i));
  EXPECT_TRUE(reads_.empty());
}

TEST_F(EventEnricherTest, EventsWithNothingToReadPassAtOnce) {
  auto enricher = Make();
  enricher->Deliver({Event("x", "ONAPPTEST", "1"), Event("y", "ONCRMLEADDELETE", "2")});
  EXPECT_TRUE(reads_.empty());
  ASSERT_EQ(sink_.delivered.size(), 2u);
}

TEST_F(EventEnricherTest, AfterStopAReadsAnswerReachesNoSink) {
  auto enricher = Make();
  enricher->Deliver({Event("a", "ONCRMDEALADD", "1")});
  enricher->Deliver({Event("b", "ONCRMDEALADD", "2")});
  PendingRead read = NextRead();
  enricher->Stop();
  read.done(Found(read.commands));
  EXPECT_TRUE(sink_.delivered.empty());
  EXPECT_TRUE(reads_.empty()) << "what waited is not read";
  enricher->Deliver({Event("c", "ONCRMDEALADD", "3")});
  EXPECT_TRUE(reads_.empty());
}

TEST_F(EventEnricherTest, TheSubscriptionsEndPassesAtOnceAndNothingFollowsIt) {
  auto enricher = Make();
  enricher->Deliver({Event("a", "ONCRMDEALADD", "1")});
  PendingRead read = NextRead();
  enricher->End(absl::UnavailableError("portal down"));
  EXPECT_EQ(sink_.ended.code(), absl::StatusCode::kUnavailable);
  read.done(Found(read.commands));
  EXPECT_TRUE(sink_.delivered.empty());
}

}  // namespace
}  // namespace b24gate::event_enricher_test
