// Fair share between API clients, on a fake clock: commands queued by several
// clients enter batches in weighted fair order. Each test holds the portal's
// one request slot with a first call, queues the clients' commands behind it,
// then answers and looks at what the next requests carry.
#include "engine/portal/portal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::portal_fair_share_test {
namespace {

// Ids tell whose command a batch entry is: bulk 10000+, interactive 20000+.
constexpr int kBulk = 10000;
constexpr int kInteractive = 20000;

PortalOptions Options(std::map<std::string, double> weights, bool enabled = true) {
  PortalOptions o;
  o.webhook_url = "https://portal.example/rest/1/secret/";
  o.bucket = BucketPolicy{1000, 1000, 0};
  o.linger = absl::ZeroDuration();
  o.max_concurrency = 1;
  o.fair_share.enabled = enabled;
  o.fair_share.weights = std::move(weights);
  return o;
}

CallOptions From(const std::string& client) {
  CallOptions o;
  o.client_id = client;
  return o;
}

void Queue(Portal& portal, const std::string& client, int base, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    portal.Call("crm.lead.get", {{"id", base + i}}, false, From(client),
                [](absl::StatusOr<CallReply>) {});
  }
}

// One request: the ids its commands carry, in order.
struct Sent {
  std::vector<int> ids;
  int Count(int base) const {
    int n = 0;
    for (int id : ids) n += id >= base && id < base + 10000 ? 1 : 0;
    return n;
  }
  // The offsets (id - base) of `base`'s commands, in the order carried.
  std::vector<int> Of(int base) const {
    std::vector<int> out;
    for (int id : ids) {
      if (id >= base && id < base + 10000) out.push_back(id - base);
    }
    return out;
  }
};

// Takes the next request and answers every command in it with success,
// after running `before_answer` (while the request is still in flight).
Sent TakeAndAnswer(PortalHarness& h, const std::function<void()>& before_answer = nullptr) {
  Sent sent;
  auto e = h.transport.Next();
  if (before_answer) before_answer();
  EXPECT_TRUE(e) << "no request was sent";
  if (!e) return sent;
  auto body = nlohmann::ordered_json::parse(e->request.body);
  if (!absl::EndsWith(e->request.url, "/batch")) {
    sent.ids.push_back(body["id"].get<int>());
    e->done(ResultAnswer({{"ID", "1"}}));
    return sent;
  }
  BatchAnswerBuilder answer;
  for (const auto& [key, command] : body["cmd"].items()) {
    std::string text = command.get<std::string>();
    int id = 0;
    EXPECT_TRUE(absl::SimpleAtoi(text.substr(text.find("id=") + 3), &id)) << text;
    sent.ids.push_back(id);
    answer.Result(key, {{"ID", std::to_string(id)}});
  }
  e->done(answer.Response());
  return sent;
}

bool Ascending(const std::vector<int>& v) { return std::is_sorted(v.begin(), v.end()); }

// The portal's one request slot is taken by an anonymous call, so what the
// test queues next waits together.
void HoldTheSlot(PortalHarness& h) {
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, [](absl::StatusOr<CallReply>) {});
  ASSERT_TRUE(h.Idle());
  ASSERT_EQ(h.transport.sent(), 1);
}

TEST(FairShare, EqualWeightsShareABatchEvenlyWhateverArrivedFirst) {
  PortalHarness h(Options({{"bulk", 1}, {"interactive", 1}}));
  HoldTheSlot(h);
  Queue(*h.portal, "bulk", kBulk, 0, 200);
  Queue(*h.portal, "interactive", kInteractive, 0, 30);
  TakeAndAnswer(h);  // the slot holder
  Sent batch = TakeAndAnswer(h);
  ASSERT_EQ(batch.ids.size(), 50u) << "the batch is filled while work waits";
  EXPECT_NEAR(batch.Count(kInteractive), 25, 1);
  EXPECT_NEAR(batch.Count(kBulk), 25, 1);
  // FIFO within each client.
  EXPECT_TRUE(Ascending(batch.Of(kBulk)));
  EXPECT_TRUE(Ascending(batch.Of(kInteractive)));
  EXPECT_EQ(batch.Of(kInteractive).front(), 0);
  EXPECT_EQ(batch.Of(kBulk).front(), 0);
  // The interactive client's last 5 calls go in the next batch, with bulk
  // work filling it up.
  Sent next = TakeAndAnswer(h);
  ASSERT_EQ(next.ids.size(), 50u);
  EXPECT_EQ(next.Count(kInteractive), 30 - batch.Count(kInteractive));
  EXPECT_TRUE(Ascending(next.Of(kBulk)));
  EXPECT_GT(next.Of(kBulk).front(), batch.Of(kBulk).back());
}

TEST(FairShare, WeightsThreeToOneGiveThreeQuartersOfABatch) {
  PortalHarness h(Options({{"bulk", 3}, {"interactive", 1}}));
  HoldTheSlot(h);
  Queue(*h.portal, "interactive", kInteractive, 0, 100);
  Queue(*h.portal, "bulk", kBulk, 0, 100);
  TakeAndAnswer(h);
  Sent batch = TakeAndAnswer(h);
  ASSERT_EQ(batch.ids.size(), 50u);
  EXPECT_NEAR(batch.Count(kBulk), 37.5, 1);
  EXPECT_NEAR(batch.Count(kInteractive), 12.5, 1);
  EXPECT_TRUE(Ascending(batch.Of(kBulk)));
  EXPECT_TRUE(Ascending(batch.Of(kInteractive)));
}

TEST(FairShare, SwitchedOffTheQueueIsFirstComeFirstServed) {
  PortalHarness h(Options({{"bulk", 1}, {"interactive", 1}}, /*enabled=*/false));
  HoldTheSlot(h);
  Queue(*h.portal, "bulk", kBulk, 0, 100);
  Queue(*h.portal, "interactive", kInteractive, 0, 10);
  TakeAndAnswer(h);
  Sent first = TakeAndAnswer(h);
  EXPECT_EQ(first.Count(kBulk), 50);
  Sent second = TakeAndAnswer(h);
  EXPECT_EQ(second.Count(kBulk), 50);
  h.clock.Advance(absl::Seconds(1));  // a partial batch may wait for company
  Sent third = TakeAndAnswer(h);
  EXPECT_EQ(third.Count(kInteractive), 10);
}

TEST(FairShare, AnIdleClientsShareGoesToTheOthersWithoutCredit) {
  PortalHarness h(Options({{"bulk", 1}, {"interactive", 1}}));
  HoldTheSlot(h);
  Queue(*h.portal, "bulk", kBulk, 0, 300);
  TakeAndAnswer(h);
  // Alone, the bulk client gets every command of every batch.
  EXPECT_EQ(TakeAndAnswer(h).Count(kBulk), 50);
  // The interactive client arrives late (while the second batch is on the
  // wire): it gets its share from now on, not the share it left unused while
  // idle (which would be whole batches).
  Sent second = TakeAndAnswer(
      h, [&] { Queue(*h.portal, "interactive", kInteractive, 0, 100); });
  EXPECT_EQ(second.Count(kBulk), 50);
  Sent mixed = TakeAndAnswer(h);
  ASSERT_EQ(mixed.ids.size(), 50u);
  EXPECT_NEAR(mixed.Count(kInteractive), 25, 1);
  EXPECT_EQ(mixed.Of(kInteractive).front(), 0);
  EXPECT_EQ(mixed.Of(kBulk).front(), 100);
}

TEST(FairShare, ALoneLightClientGetsFullSpeed) {
  PortalOptions options = Options({{"bulk", 3}, {"interactive", 1}});
  options.autothrottle.enabled = false;
  PortalHarness h(options);
  HoldTheSlot(h);
  Queue(*h.portal, "interactive", kInteractive, 0, 150);
  // Two more request slots: two full batches go at once, and a third when the
  // first slot is free, without the clock moving. The absent heavier client
  // holds nothing back.
  PortalTuning tuning = h.portal->Tuning();
  tuning.max_concurrency = 3;
  ASSERT_TRUE(h.portal->Tune(tuning).ok());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 3);
  std::vector<int> sizes;
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    Sent s = TakeAndAnswer(h);
    sizes.push_back(s.Count(kInteractive));
    for (int offset : s.Of(kInteractive)) order.push_back(offset);
  }
  EXPECT_EQ(sizes, (std::vector<int>{0, 50, 50, 50}));
  EXPECT_TRUE(Ascending(order));
}

TEST(FairShare, PreformedBatchesCountByTheirCommands) {
  PortalHarness h(Options({{"bulk", 1}, {"interactive", 1}}));
  HoldTheSlot(h);
  for (int b = 0; b < 4; ++b) {
    std::vector<BatchCommandSpec> commands;
    for (int i = 0; i < 50; ++i) {
      commands.push_back({"k" + std::to_string(i), "crm.lead.get", {{"id", kBulk + b * 50 + i}}});
    }
    h.portal->Batch(std::move(commands), false, From("bulk"), [](absl::StatusOr<BatchResult>) {});
  }
  Queue(*h.portal, "interactive", kInteractive, 0, 60);
  TakeAndAnswer(h);
  // One bulk batch of 50 weighs as much as 50 calls: the 60 calls are not
  // held behind four batches, nor do they shut the bulk client out.
  std::vector<Sent> requests;
  for (int i = 0; i < 6; ++i) {
    h.clock.Advance(absl::Seconds(1));  // a partial batch may wait for company
    requests.push_back(TakeAndAnswer(h));
  }
  int interactive_before_second_bulk = 0;
  int bulk_batches = 0;
  for (const Sent& s : requests) {
    if (s.Count(kBulk) > 0) ++bulk_batches;
    if (bulk_batches < 2) interactive_before_second_bulk += s.Count(kInteractive);
  }
  EXPECT_EQ(interactive_before_second_bulk, 60);
  EXPECT_EQ(requests[0].Count(kInteractive), 50);
  EXPECT_EQ(requests[1].Count(kBulk), 50);
}

TEST(FairShare, RetriesStillGoFirst) {
  PortalHarness h(Options({{"bulk", 1}, {"interactive", 1}}));
  h.portal->Call("crm.lead.get", {{"id", kInteractive + 99}}, false, From("interactive"),
                 [](absl::StatusOr<CallReply>) {});
  auto first = h.transport.Next();
  ASSERT_TRUE(first);
  Queue(*h.portal, "bulk", kBulk, 0, 100);
  // Not executed: the call goes again, ahead of everything queued since.
  first->done(ErrorAnswer(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
  h.clock.Advance(absl::Seconds(1));
  Sent again = TakeAndAnswer(h);
  ASSERT_FALSE(again.ids.empty());
  EXPECT_EQ(again.ids.front(), kInteractive + 99);
}

TEST(FairShare, StatsCountQueuedAndSentPerClient) {
  PortalHarness h(Options({{"bulk", 1}, {"interactive", 1}}));
  HoldTheSlot(h);
  Queue(*h.portal, "bulk", kBulk, 0, 70);
  Queue(*h.portal, "interactive", kInteractive, 0, 10);
  Queue(*h.portal, "stranger", kInteractive + 5000, 0, 3);  // not configured
  PortalStats queued = h.portal->Stats();
  EXPECT_EQ(queued.client_queued["bulk"], 70);
  EXPECT_EQ(queued.client_queued["interactive"], 10);
  EXPECT_EQ(queued.client_queued["anonymous"], 3);
  EXPECT_EQ(queued.client_queued.count("stranger"), 0u) << "unconfigured ids are not labels";
  TakeAndAnswer(h);
  TakeAndAnswer(h);
  PortalStats sent = h.portal->Stats();
  EXPECT_EQ(sent.client_commands["anonymous"] + sent.client_commands["bulk"] +
                sent.client_commands["interactive"],
            51);
  EXPECT_EQ(sent.client_commands["interactive"], 10);
  EXPECT_EQ(sent.client_queued["bulk"] + sent.client_queued["interactive"] +
                sent.client_queued["anonymous"],
            33);
}

}  // namespace
}  // namespace b24gate::portal_fair_share_test
