// The schedule of a short list read in parallel, in simulated time
// (timed_list_server.h): which requests go when, against the portal's
// connections and its costs per page. The figures are the simulation's
// seconds, the same on every run; each test prints its timeline.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/engine/lists/timed_list_server.h"

namespace b24gate::short_list_schedule_test {
namespace {

ListRequest Leads() {
  ListRequest r;
  r.method = "crm.lead.list";
  r.params = {{"select", {"ID", "TITLE"}}};
  return r;
}

// The policy's shortest read of `items` on 8 connections (getall_bench's
// ceiling for a list of one wave): every page in batches of 50, the pages
// shared evenly by the connections, nothing else sent.
double Ceiling(int64_t items, const SimulatedPortal& portal) {
  double pages = static_cast<double>((items + 49) / 50);
  return pages * portal.PageSeconds() / portal.connections;
}

struct Outcome {
  ReadOutcome out;
  double seconds = 0;
  int requests = 0;
};

Outcome Read(int64_t items, const SimulatedPortal& portal, const char* name) {
  TimedListServer server(Ids(items), portal);
  Outcome run;
  run.out = ReadList(&server, Leads());
  run.seconds = server.elapsed();
  run.requests = server.server().requests();
  std::printf("%s, %lld leads: %.3f s simulated, %.0f%% of the ceiling, %d requests\n%s", name,
              static_cast<long long>(items), run.seconds,
              100 * Ceiling(items, portal) / run.seconds, run.requests, server.Timeline().c_str());
  return run;
}

void ExpectEveryLeadOnceInOrder(const Outcome& run, int64_t items) {
  ASSERT_TRUE(run.out.status.ok()) << run.out.status;
  EXPECT_EQ(run.out.Ids(), Ids(items));
  EXPECT_EQ(run.out.summary.total, items);
}

TEST(ShortListSchedule, TheCountsBatchEndsWithTheOthers) {
  // 20,000 leads of the huge profile: counting them takes the portal as
  // long as 4 more pages. The batch that carries the count holds that many
  // pages less than the others, so the read does not wait for it.
  const SimulatedPortal portal = SimulatedPortal::Huge();
  TimedListServer server(Ids(20000), portal);
  Outcome run;
  run.out = ReadList(&server, Leads());
  ExpectEveryLeadOnceInOrder(run, 20000);
  std::printf("%s", server.Timeline().c_str());
  double count_end = 0, others_end = 0;
  for (const TimedListServer::Span& s : server.timeline()) {
    if (s.counted) count_end = s.end;
    if (!s.counted && s.commands == kMaxPages) others_end = std::max(others_end, s.end);
  }
  ASSERT_GT(count_end, 0);
  EXPECT_LE(count_end, others_end + portal.PageSeconds());
}

TEST(ShortListSchedule, HugeTwentyThousandAtNinetyPercentOfTheCeiling) {
  Outcome run = Read(20000, SimulatedPortal::Huge(), "huge");
  ExpectEveryLeadOnceInOrder(run, 20000);
  EXPECT_GE(Ceiling(20000, SimulatedPortal::Huge()) / run.seconds, 0.9);
}

TEST(ShortListSchedule, SmallTwentyThousandAtNinetyPercentOfTheCeiling) {
  Outcome run = Read(20000, SimulatedPortal::Small(), "small");
  ExpectEveryLeadOnceInOrder(run, 20000);
  EXPECT_GE(Ceiling(20000, SimulatedPortal::Small()) / run.seconds, 0.9);
}

}  // namespace
}  // namespace b24gate::short_list_schedule_test
