// Enrichment end to end: a Subscribe stream that asks for it receives each
// event with its record's current fields, which the gateway reads in batch
// requests of up to 50 records through the portal's throttle, so 1,000
// events cost about 20 requests; a deal deleted before its event is
// delivered is said deleted and the stream goes on. Offline and online
// streams alike; a stream that does not ask reads nothing.
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/event_helpers.h"
#include "tests/support/temp_file.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::event_enrichment_test {
namespace {

constexpr char kToken[] = "e2e-enrichment-token-3d8e";

// An emulator that answers at once, a throttle that does not hold the reads
// back, an inbound endpoint for the online stream, and /metrics.
std::unique_ptr<Stack> EnrichStack() {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero", "--application-token", kToken, "--event-delay", "0"};
  GatewaySpec gateway;
  gateway.portal = {{"application_token", kToken}, {"burst", 1000}, {"drain_per_second", 1000}};
  gateway.extra_args = {"--events-poll-interval", "100ms", "--events-listen", "127.0.0.1:0",
                        "--events-log", testing::TempDir(), "--metrics-listen", "127.0.0.1:0"};
  return Up(emulator, gateway);
}

// The emulator's requests that carried a crm.deal.get (a batch counts once).
int64_t DealReads(Stack& stack) {
  json stats = stack.EmulatorStats();
  if (!stats.is_object() || !stats["requests_by_method"].is_object()) return -1;
  return stats["requests_by_method"].value("crm.deal.get", int64_t{0});
}

// Binds ONCRMDEALADD and makes the offline group "crm-sync" known with a
// stream ended from our side and its OK awaited: the rows written next wait
// in the gateway's log for the group's next stream.
void BindOnly(Stack& stack) {
  Subscriber binder(stack.channel(), "crm-sync", {kAdd});
  ASSERT_TRUE(Bound(stack, {kAdd}));
  grpc::Status ended = binder.Finish();
  ASSERT_TRUE(ended.ok()) << ended.error_message();
}

std::string Text(const google::protobuf::Struct& record, const std::string& field) {
  auto it = record.fields().find(field);
  return it == record.fields().end() ? "" : it->second.string_value();
}

TEST(EventEnrichment, AThousandEventsCarryTheirDealsInAtMostTwentyFiveRequests) {
  auto stack = EnrichStack();
  ASSERT_TRUE(stack);
  BindOnly(*stack);
  const std::set<std::string> ids = AddDeals(*stack, 1000, "enriched ");
  ASSERT_EQ(ids.size(), 1000u);
  // Between the event and its delivery, ten deals go and one changes: the
  // event carries the record as it is at delivery.
  std::set<std::string> deleted;
  std::string renamed;
  int i = 0;
  for (const std::string& id : ids) {
    if (i++ % 100 == 7) {
      json gone = stack->Rest("crm.deal.delete", {{"id", std::stoll(id)}});
      ASSERT_TRUE(gone.is_object() && gone.contains("result")) << gone.dump();
      deleted.insert(id);
    } else if (renamed.empty()) {
      renamed = id;
      json changed = stack->Rest("crm.deal.update", {{"id", std::stoll(id)}, {"fields", {{"TITLE", "renamed"}}}});
      ASSERT_TRUE(changed.is_object() && changed.contains("result")) << changed.dump();
    }
  }
  // The 1,000 rows all wait in the gateway before the stream starts, which
  // is what this test measures: a window's events handed to the enricher
  // together. The offline source stores a pass of up to 50 rows one event
  // at a time (OnlineEventHub::StoreOnce publishes each and delivers it to a
  // stream with room at once), so a stream that catches up with the source
  // receives the rows as they are stored, the first alone and the rest while
  // its read is out, and reads them in two or more requests. How far the
  // source is behind when the stream starts is up to the machine (20 passes,
  // each a round trip and a disk sync): on a loaded one, it was still
  // storing, and the reads took 28 requests.
  const std::string stored = "b24gate_events_received_total{portal=\"main\",source=\"offline\"}";
  ASSERT_TRUE(testing::WaitFor([&] { return Metric(stack->gateway(), stored) == 1000; }, 120))
      << Metric(stack->gateway(), stored) << " rows stored";
  const int64_t reads_before = DealReads(*stack);
  ASSERT_GE(reads_before, 0);

  Subscriber sub(stack->channel(), "crm-sync", {kAdd}, "", pb::EVENT_SOURCE_UNSPECIFIED, /*enrich=*/true);
  std::map<std::string, pb::QueuedEvent> by_record;
  size_t deliveries = 0;
  // Acknowledged a window (50) at a time: the stream's window then refills
  // whole, and the events waiting for their reads go together. One at a
  // time, it would refill one at a time and the reads would be smaller.
  std::vector<std::string> unacknowledged;
  while (deliveries < ids.size()) {
    std::optional<pb::QueuedEvent> e = sub.Next();
    if (!e) break;
    ++deliveries;
    by_record[e->record_id()] = *e;
    unacknowledged.push_back(e->delivery_id());
    if (unacknowledged.size() == 50 || deliveries == ids.size()) {
      ASSERT_TRUE(sub.Ack(unacknowledged));
      unacknowledged.clear();
    }
  }
  ASSERT_EQ(deliveries, ids.size());
  ASSERT_EQ(by_record.size(), ids.size()) << "each event once";
  for (const auto& [record, e] : by_record) {
    ASSERT_EQ(ids.count(record), 1u) << record;
    if (deleted.count(record) > 0) {
      EXPECT_EQ(e.record_state(), pb::RECORD_STATE_DELETED) << record;
      EXPECT_FALSE(e.has_record());
      continue;
    }
    ASSERT_EQ(e.record_state(), pb::RECORD_STATE_PRESENT) << record << ": " << e.record_error();
    EXPECT_EQ(Text(e.record(), "ID"), record);
    if (record == renamed) {
      EXPECT_EQ(Text(e.record(), "TITLE"), "renamed");
    } else {
      EXPECT_EQ(Text(e.record(), "TITLE").rfind("enriched ", 0), 0u) << Text(e.record(), "TITLE");
    }
  }
  const int64_t reads = DealReads(*stack) - reads_before;
  std::printf("1,000 enriched events: %lld requests read their deals\n", static_cast<long long>(reads));
  EXPECT_LE(reads, 25);
  EXPECT_GE(reads, 20) << "990 records at most 50 to a request";
}

TEST(EventEnrichment, AnOnlineStreamIsEnrichedToo) {
  auto stack = EnrichStack();
  ASSERT_TRUE(stack);
  Subscriber sub(stack->channel(), "billing", {kAdd}, "", pb::EVENT_SOURCE_ONLINE, /*enrich=*/true);
  ASSERT_TRUE(Bound(*stack, {kAdd}));
  const int64_t id = AddDeal(*stack, "online and enriched");
  std::optional<pb::QueuedEvent> e = sub.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record_id(), std::to_string(id));
  ASSERT_EQ(e->record_state(), pb::RECORD_STATE_PRESENT) << e->record_error();
  EXPECT_EQ(Text(e->record(), "TITLE"), "online and enriched");
  ASSERT_TRUE(sub.Ack({e->delivery_id()}));
}

TEST(EventEnrichment, AStreamThatDoesNotAskReadsNoRecords) {
  auto stack = EnrichStack();
  ASSERT_TRUE(stack);
  BindOnly(*stack);
  AddDeals(*stack, 3, "plain ");
  const int64_t reads_before = DealReads(*stack);
  Subscriber sub(stack->channel(), "crm-sync", {kAdd});
  std::vector<pb::QueuedEvent> got = sub.Take(3);
  ASSERT_EQ(got.size(), 3u);
  for (const pb::QueuedEvent& e : got) {
    EXPECT_EQ(e.record_state(), pb::RECORD_STATE_UNSPECIFIED);
    EXPECT_FALSE(e.has_record());
  }
  ASSERT_TRUE(sub.Ack(IdsOf(got)));
  EXPECT_EQ(DealReads(*stack), reads_before);
}

}  // namespace
}  // namespace b24gate::e2e::event_enrichment_test
