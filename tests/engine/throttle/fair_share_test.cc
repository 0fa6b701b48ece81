// FairShare's places: weighted shares, no credit for idle time, arrival order
// within a client, arrival order for everyone when switched off.
#include "engine/throttle/fair_share.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace b24gate::fair_share_test {
namespace {

// Queues `n` commands of cost 1 per client, then takes `take` of them in
// fair order; returns how many each client got.
std::map<std::string, int> Shares(FairShare& fair, const std::vector<std::string>& clients, int n,
                                  int take) {
  std::vector<std::pair<double, std::string>> queue;
  for (const auto& client : clients) {
    for (int i = 0; i < n; ++i) queue.emplace_back(fair.Arrive(client, 1).finish, client);
  }
  std::stable_sort(queue.begin(), queue.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<std::string, int> got;
  for (int i = 0; i < take; ++i) got[queue[i].second]++;
  return got;
}

TEST(FairShare, SharesFollowWeights) {
  FairShare fair({true, {{"a", 3}, {"b", 1}}});
  auto got = Shares(fair, {"b", "a"}, 100, 40);
  EXPECT_EQ(got["a"], 30);
  EXPECT_EQ(got["b"], 10);
}

TEST(FairShare, UnknownClientsAreOneAnonymousClassOfWeightOne) {
  FairShare fair({true, {{"a", 2}}});
  EXPECT_EQ(fair.ClassOf("a"), "a");
  EXPECT_EQ(fair.ClassOf(""), "anonymous");
  EXPECT_EQ(fair.ClassOf("someone"), "anonymous");
  EXPECT_EQ(fair.Classes(), (std::vector<std::string>{"a", "anonymous"}));
  auto got = Shares(fair, {"anonymous", "a"}, 100, 30);
  EXPECT_EQ(got["a"], 20);
  EXPECT_EQ(got["anonymous"], 10);
}

TEST(FairShare, AClientsCommandsKeepTheirOrderAndCostCounts) {
  FairShare fair({true, {{"a", 2}}});
  FairShare::Place first = fair.Arrive("a", 50);  // a pre-formed batch of 50
  FairShare::Place second = fair.Arrive("a", 1);
  EXPECT_DOUBLE_EQ(first.finish, 25);
  EXPECT_DOUBLE_EQ(second.start, 25);
  EXPECT_GT(second.finish, first.finish);
}

TEST(FairShare, AnIdleClientStartsFromTheWorkTakenNotFromItsOldPlace) {
  FairShare fair({true, {{"a", 1}, {"b", 1}}});
  for (int i = 0; i < 100; ++i) fair.Taken(fair.Arrive("a", 1));
  // b was idle while a was served: it starts where a is now, with no credit.
  FairShare::Place b = fair.Arrive("b", 1);
  EXPECT_DOUBLE_EQ(b.start, 99);
  FairShare::Place a = fair.Arrive("a", 1);
  EXPECT_DOUBLE_EQ(a.start, 100);
  EXPECT_LE(b.finish, a.finish);
}

TEST(FairShare, SwitchedOffPlacesFollowArrival) {
  FairShare fair({false, {{"a", 10}, {"b", 1}}});
  double last = -1;
  for (const char* client : {"b", "a", "b", "anonymous", "a"}) {
    FairShare::Place p = fair.Arrive(client, 1);
    EXPECT_GT(p.finish, last);
    last = p.finish;
  }
  EXPECT_EQ(fair.ClassOf("a"), "a") << "clients are still told apart for metrics";
}

}  // namespace
}  // namespace b24gate::fair_share_test
