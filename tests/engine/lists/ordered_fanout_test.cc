// OrderedFanout against a fake portal: how its calls are handed over (in
// groups the portal can pack into full batches), and that every result comes
// back once, in request order.
#include "engine/lists/ordered_fanout.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/support/fake_dispatcher.h"

namespace b24gate::ordered_fanout_test {
namespace {

// Keeps what the fan-out delivers, acknowledging each chunk at once.
class RecordingSink : public FanoutSink {
 public:
  void OnResults(size_t first, std::vector<absl::StatusOr<CallReply>> results) override {
    EXPECT_EQ(first, ids.size()) << "a chunk out of order";
    for (auto& r : results) ids.push_back(r.ok() ? r->result.get<int>() : -1);
    acks++;
  }
  void OnDone(absl::Status status) override {
    done++;
    final_status = status;
  }

  std::vector<int> ids;  // each result's value, in delivery order
  int acks = 0;
  int done = 0;
  absl::Status final_status;
};

std::vector<nlohmann::ordered_json> Params(int n) {
  std::vector<nlohmann::ordered_json> params;
  for (int i = 0; i < n; ++i) params.push_back({{"fields", {{"TITLE", i}}}});
  return params;
}

// Answers the oldest waiting call with its own TITLE as the result.
void AnswerOne(FakeDispatcher& portal) {
  auto r = portal.Take();
  ASSERT_TRUE(r);
  CallReply reply;
  reply.result = r->params["fields"]["TITLE"];
  r->call_done(reply);
}

// A running fan-out of `n` adds, at most `window` of them handed over.
std::shared_ptr<OrderedFanout> Started(FakeDispatcher* portal, RecordingSink* sink, int n,
                                       size_t window) {
  FanoutOptions options;
  options.window = window;
  options.max_unacked_chunks = 1000;
  auto fanout =
      OrderedFanout::Create(portal, "crm.lead.add", Params(n), false, {}, sink, options);
  fanout->Run();
  return fanout;
}

TEST(OrderedFanout, HandsItsWindowOverAsOneGroupAndRefillsInFullBatches) {
  FakeDispatcher portal;
  RecordingSink sink;
  auto fanout = Started(&portal, &sink, 230, 100);
  EXPECT_EQ(portal.groups(), 1) << "the first window was not handed over at once";
  EXPECT_EQ(portal.waiting(), 100u);
  // 49 answers leave room for less than a batch: nothing more is handed over.
  for (int i = 0; i < 49; ++i) AnswerOne(portal);
  EXPECT_EQ(portal.groups(), 1) << "calls handed over before a batch's worth had room";
  EXPECT_EQ(portal.waiting(), 51u);
  AnswerOne(portal);
  EXPECT_EQ(portal.groups(), 2);
  EXPECT_EQ(portal.waiting(), 100u);
  // The rest: 230 calls in groups of 100, 50, 50 and the last 30.
  while (portal.waiting() > 0) AnswerOne(portal);
  EXPECT_EQ(portal.groups(), 4);
  EXPECT_EQ(portal.requests(), 230);
  ASSERT_EQ(sink.done, 1);
  EXPECT_TRUE(sink.final_status.ok()) << sink.final_status;
  ASSERT_EQ(sink.ids.size(), 230u);
  for (int i = 0; i < 230; ++i) EXPECT_EQ(sink.ids[i], i) << "at " << i;
}

TEST(OrderedFanout, EveryCallAsksForItsAnswerOffTheTransportsThread) {
  // Any answer may complete a prefix and hand the sink hundreds of results:
  // on the transport's single thread that would hold up every transfer.
  FakeDispatcher portal;
  RecordingSink sink;
  auto fanout = Started(&portal, &sink, 120, 100);
  int calls = 0;
  while (auto r = portal.Take()) {
    EXPECT_TRUE(r->options.heavy_callback) << "call " << calls;
    ++calls;
    CallReply reply;
    reply.result = r->params["fields"]["TITLE"];
    r->call_done(reply);
  }
  EXPECT_EQ(calls, 120);
  ASSERT_EQ(sink.done, 1);
  EXPECT_EQ(sink.ids.size(), 120u);
}

TEST(OrderedFanout, AWindowSmallerThanABatchStillRefills) {
  FakeDispatcher portal;
  RecordingSink sink;
  auto fanout = Started(&portal, &sink, 10, 3);
  while (portal.waiting() > 0) {
    EXPECT_LE(portal.waiting(), 3u);
    AnswerOne(portal);
  }
  ASSERT_EQ(sink.done, 1);
  ASSERT_EQ(sink.ids.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sink.ids[i], i);
}

}  // namespace
}  // namespace b24gate::ordered_fanout_test
