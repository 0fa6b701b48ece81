// The events log (event_log.h): records read back in order after a reopen,
// a torn last record (a crash mid-write) cut off so only durable records
// come back, and one process at a time.
#include "engine/events/event_log.h"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/common/clock.h"
#include "tests/support/temp_file.h"

namespace b24gate::event_log_test {
namespace {

using OJson = nlohmann::ordered_json;

class NoOwner : public EventLog::Owner {
 public:
  std::vector<OJson> Snapshot() override { return {}; }
  int64_t OldestNeeded() override { return 0; }
  int64_t DropThrough(int64_t) override { return 0; }
};

OJson Event(int seq, const Clock& clock) {
  return OJson{{"s", seq}, {"at", absl::ToUnixMillis(clock.Now())}};
}

std::vector<OJson> ReadBack(const std::string& dir, FakeClock* clock) {
  std::vector<OJson> records;
  auto log = EventLog::Open({dir}, clock, [&](const OJson& r) { records.push_back(r); });
  EXPECT_TRUE(log.ok()) << log.status();
  return records;
}

TEST(EventLog, DurableRecordsComeBackInOrderAndATornLastOneIsCutOff) {
  const std::string dir = testing::TempDir();
  FakeClock clock;
  NoOwner owner;
  {
    auto log = EventLog::Open({dir}, &clock, [](const OJson&) {});
    ASSERT_TRUE(log.ok()) << log.status();
    (*log)->Start(&owner, nullptr);
    int64_t last = 0;
    for (int i = 1; i <= 3; ++i) last = (*log)->Append(Event(i, clock), nullptr);
    ASSERT_TRUE((*log)->WaitDurable(last).ok());
  }
  {
    // What a process killed in the middle of write() leaves behind.
    std::ofstream out(dir + "/events-00000000000000000001.log", std::ios::app);
    out << "{\"s\":4,\"at\":17";
  }
  std::vector<OJson> records = ReadBack(dir, &clock);
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(records[i]["s"], i + 1);
  // Cut off for good: a record appended after it reads back whole.
  {
    auto log = EventLog::Open({dir}, &clock, [](const OJson&) {});
    ASSERT_TRUE(log.ok());
    (*log)->Start(&owner, nullptr);
    ASSERT_TRUE((*log)->WaitDurable((*log)->Append(Event(5, clock), nullptr)).ok());
  }
  records = ReadBack(dir, &clock);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[3]["s"], 5);
}

TEST(EventLog, OneProcessAtATime) {
  const std::string dir = testing::TempDir();
  FakeClock clock;
  auto first = EventLog::Open({dir}, &clock, [](const OJson&) {});
  ASSERT_TRUE(first.ok());
  auto second = EventLog::Open({dir}, &clock, [](const OJson&) {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace b24gate::event_log_test
