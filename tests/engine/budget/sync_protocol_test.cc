// The sync protocol's encoding: what goes to the script and how its answers
// read (the script itself runs against a real Redis in
// redis_budget_store_test).
#include "engine/budget/sync_protocol.h"

#include <gtest/gtest.h>

namespace b24gate::sync_protocol_test {
namespace {

RedisReply Text(std::string s) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = std::move(s);
  return r;
}
RedisReply Int(int64_t v) {
  RedisReply r;
  r.type = RedisReply::Type::kInteger;
  r.integer = v;
  return r;
}
RedisReply List(std::vector<RedisReply> elements) {
  RedisReply r;
  r.type = RedisReply::Type::kArray;
  r.elements = std::move(elements);
  return r;
}

TEST(SyncProtocolTest, EncodesTheBucketThenTheNewsInTheScriptsOrder) {
  SyncRequest r;
  r.key_prefix = "b24gate:{main}:";
  r.replica_id = "r1";
  r.burst = 50;
  r.drain_per_second = 2;
  r.usable = 47;
  r.take = 3;
  r.add = 2;
  r.full = true;
  r.reservation_ttl = absl::Seconds(3);
  r.window = absl::Minutes(10);
  OperatingTracker::Shared report;
  report.reported = true;
  report.operating = 12.5;
  report.reset_at = absl::FromUnixMicros(1700000000000000);
  OperatingTracker::Shared pause;  // a 429 before any report
  pause.paused_until = absl::FromUnixMicros(1700000001000000);
  r.reports = {{"crm.deal.list", report}, {"batch", pause}};
  OperatingTracker::Shared flight;
  flight.reserved = absl::Milliseconds(1500);
  flight.in_flight = 2;
  r.reservations = {{"crm.deal.list", flight}};

  SyncCall call = EncodeSync(r);
  EXPECT_EQ(call.keys, (std::vector<std::string>{"b24gate:{main}:bucket", "b24gate:{main}:ops",
                                                 "b24gate:{main}:replicas",
                                                 "b24gate:{main}:res:r1"}));
  EXPECT_EQ(call.args,
            (std::vector<std::string>{"50", "2", "47", "3", "2", "1", "r1", "3000",
                                      "b24gate:{main}:res:", "600000", "2", "crm.deal.list",
                                      "12.5", "1700000000000000", "0", "batch", "-", "0",
                                      "1700000001000000", "1", "crm.deal.list", "1500000",
                                      "2"}));
}

TEST(SyncProtocolTest, KeepsTheCountsInRange) {
  SyncRequest r;
  r.take = kMaxTake + 5;
  r.add = -3;
  r.usable = 0.2;
  SyncCall call = EncodeSync(r);
  EXPECT_EQ(call.args[2], "1");  // usable
  EXPECT_EQ(call.args[3], "1000");
  EXPECT_EQ(call.args[4], "0");
}

TEST(SyncProtocolTest, DecodesSlotsLevelWaitAndEveryMethod) {
  absl::StatusOr<SyncAnswer> a = DecodeSync(
      List({Int(2), Text("48.5"), Int(250000), Text("crm.deal.list"),
            Text("430 1700000030000000 0"), Text("4000000 1"), Text("tasks.task.list"), Text(""),
            Text("0 0")}),
      3);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->granted, 2);
  EXPECT_DOUBLE_EQ(a->level, 48.5);
  EXPECT_EQ(a->wait, absl::Milliseconds(250));
  ASSERT_EQ(a->methods.size(), 2u);
  const auto& [deal, shared] = a->methods[0];
  EXPECT_EQ(deal, "crm.deal.list");
  EXPECT_TRUE(shared.reported);
  EXPECT_EQ(shared.operating, 430);
  EXPECT_EQ(shared.reset_at, absl::FromUnixMicros(1700000030000000));
  EXPECT_EQ(shared.paused_until, absl::InfinitePast());
  EXPECT_EQ(shared.reserved, absl::Seconds(4));
  EXPECT_EQ(shared.in_flight, 1);
  EXPECT_FALSE(a->methods[1].second.reported);  // in flight elsewhere, never reported
}

TEST(SyncProtocolTest, APauseAloneIsNotAReport) {
  absl::StatusOr<SyncAnswer> a =
      DecodeSync(List({Int(0), Text("0"), Int(0), Text("batch"), Text("- 0 1700000001000000"),
                       Text("0 0")}),
                 0);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->methods[0].second.reported);
  EXPECT_EQ(a->methods[0].second.paused_until, absl::FromUnixMicros(1700000001000000));
}

TEST(SyncProtocolTest, RefusesAnswersNotOfTheScriptsShape) {
  const RedisReply method_entry[] = {Text("m"), Text(""), Text("0 0")};
  struct Case {
    const char* what;
    RedisReply reply;
    int take;
  };
  for (const Case& c : {
           Case{"not a list", Text("OK"), 1},
           Case{"too short", List({Int(1), Text("1")}), 1},
           Case{"half a method", List({Int(1), Text("1"), Int(0), Text("m")}), 1},
           Case{"more granted than asked", List({Int(2), Text("1"), Int(0)}), 1},
           Case{"negative grant", List({Int(-1), Text("1"), Int(0)}), 1},
           Case{"level not a number", List({Int(0), Text("full"), Int(0)}), 1},
           Case{"negative level", List({Int(0), Text("-1"), Int(0)}), 1},
           Case{"infinite level", List({Int(0), Text("inf"), Int(0)}), 1},
           Case{"negative wait", List({Int(0), Text("1"), Int(-5)}), 1},
           Case{"method not text",
                List({Int(0), Text("1"), Int(0), Int(7), method_entry[1], method_entry[2]}), 1},
       }) {
    EXPECT_FALSE(DecodeSync(c.reply, c.take).ok()) << c.what;
  }
}

TEST(SyncProtocolTest, LeavesOutAMethodsUnreadableParts) {
  absl::StatusOr<SyncAnswer> a = DecodeSync(
      List({Int(0), Text("0"), Int(0), Text("m"), Text("nan 1 2"), Text("-5 1")}), 0);
  ASSERT_TRUE(a.ok()) << a.status();
  const OperatingTracker::Shared& s = a->methods[0].second;
  EXPECT_FALSE(s.reported);
  EXPECT_EQ(s.paused_until, absl::FromUnixMicros(2));
  EXPECT_EQ(s.reserved, absl::ZeroDuration());
  EXPECT_EQ(s.in_flight, 0);
}

}  // namespace
}  // namespace b24gate::sync_protocol_test
