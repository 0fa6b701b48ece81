// The list reader's hand-over to its sink: pages are handed over in order,
// once each, by one thread at a time, and holding none of the reader's
// locks, so a sink busy with a page (converting thousands of items) holds up
// no thread that brings the portal's answers.
#include "engine/lists/list_reader.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tests/engine/lists/list_test_util.h"

namespace b24gate::list_reader_test {
namespace {

// Records what it is handed; once Hold() was called, the next OnPage waits
// until Release().
class HoldingSink : public ListSink {
 public:
  void OnPage(ListPage page) override {
    bool hold;
    {
      absl::MutexLock lock(&mu_);
      for (auto& item : page.items) ids_.push_back(std::stoll(item.at("ID").get<std::string>()));
      ++pages_;
      hold = hold_next_;
      hold_next_ = false;
    }
    if (!hold) return;
    entered_.Notify();
    release_.WaitForNotification();
  }
  void OnDone(absl::Status status, ListSummary summary) override {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    summary_ = std::move(summary);
    done_ = true;
  }

  void Hold() {
    absl::MutexLock lock(&mu_);
    hold_next_ = true;
  }
  absl::Notification& entered() { return entered_; }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }
  int pages() const {
    absl::MutexLock lock(&mu_);
    return pages_;
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  std::vector<int64_t> ids() const {
    absl::MutexLock lock(&mu_);
    return ids_;
  }
  absl::Status status() const {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  ListSummary summary() const {
    absl::MutexLock lock(&mu_);
    return summary_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Notification entered_;
  absl::Notification release_;
  bool hold_next_ ABSL_GUARDED_BY(mu_) = false;
  int pages_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> ids_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  ListSummary summary_ ABSL_GUARDED_BY(mu_);
};

ListRequest LeadList() {
  ListRequest r;
  r.method = "crm.lead.list";
  r.params = {{"select", {"ID", "TITLE"}}};
  return r;
}

// Answers and acknowledges on this thread until the read ends.
void ReadToTheEnd(FakeListServer* server, ListReader* reader, const HoldingSink& sink) {
  int acked = 0;
  for (int steps = 0; !sink.done(); ++steps) {
    ASSERT_LT(steps, 100000) << "the read did not end";
    int pages = sink.pages();
    for (; acked < pages; ++acked) reader->Ack();
    if (server->AnswerWaiting() == 0 && sink.pages() == pages && !sink.done()) {
      FAIL() << "the read stalled";
    }
  }
}

TEST(ListReader, AnAnswerIsTakenInWhileTheSinkIsBusyWithAPage) {
  std::vector<int64_t> ids = Ids(5000);
  FakeListServer server(ids);
  HoldingSink sink;
  auto reader = ListReader::Create(server.dispatcher(), server.clock(), LeadList(), &sink);
  ASSERT_TRUE(reader.ok()) << reader.status();
  (*reader)->Run();
  server.AnswerWaiting();  // the bounds probe: its page, then the ranges' batches
  std::vector<FakeDispatcher::Request> batches = server.dispatcher()->TakeAll();
  ASSERT_GE(batches.size(), 2u);
  // All but the last batch answered on one thread, until a page is handed
  // over there and held by the sink (the head range's, answered first).
  const int before = sink.pages();
  sink.Hold();
  std::thread first([&] {
    for (size_t i = 0; i + 1 < batches.size(); ++i) {
      FakeListServer::Complete(batches[i], server.Prepare(batches[i]));
    }
  });
  if (!sink.entered().WaitForNotificationWithTimeout(absl::Seconds(30))) {
    sink.Release();
    first.join();
    FAIL() << "no page was handed over for the first batches";
  }
  // The last batch's answer on another thread: a reader that handed pages
  // over under its lock would keep it out until the sink let go.
  absl::Notification answered;
  std::thread second([&] {
    FakeListServer::Complete(batches.back(), server.Prepare(batches.back()));
    answered.Notify();
  });
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "an answer waited for the sink";
  const int pages_while_held = sink.pages();
  sink.Release();
  first.join();
  second.join();
  // Handed over one at a time: nothing after the held page until released.
  EXPECT_EQ(pages_while_held, before + 1);
  ReadToTheEnd(&server, reader->get(), sink);
  ASSERT_TRUE(sink.status().ok()) << sink.status();
  EXPECT_EQ(sink.ids(), ids);  // every item once, in order
  EXPECT_EQ(sink.summary().count, 5000);
  EXPECT_EQ(sink.summary().total, 5000);
}

TEST(ListReader, EveryRequestAsksForItsAnswerOffTheTransportsThread) {
  // Any answer, however small, may release the pages of every range that
  // waited for it, converted for the stream there (35-70 ms traced on a
  // 20,000-item read): on the transport's single thread that would hold up
  // every portal's transfers.
  std::vector<int64_t> ids = Ids(5000);
  FakeListServer server(ids);
  HoldingSink sink;
  auto reader = ListReader::Create(server.dispatcher(), server.clock(), LeadList(), &sink);
  ASSERT_TRUE(reader.ok()) << reader.status();
  (*reader)->Run();
  int requests = 0;
  int acked = 0;
  for (int steps = 0; !sink.done(); ++steps) {
    ASSERT_LT(steps, 100000) << "the read did not end";
    std::vector<FakeDispatcher::Request> waiting = server.dispatcher()->TakeAll();
    for (auto& r : waiting) {
      EXPECT_TRUE(r.options.heavy_callback) << "request " << requests;
      ++requests;
      FakeListServer::Complete(r, server.Prepare(r));
    }
    const int pages = sink.pages();
    for (; acked < pages; ++acked) (*reader)->Ack();
    if (waiting.empty() && server.dispatcher()->waiting() == 0 && sink.pages() == pages &&
        !sink.done()) {
      FAIL() << "the read stalled";
    }
  }
  EXPECT_GE(requests, 3);  // the probe, the ranges' batches and more
  ASSERT_TRUE(sink.status().ok()) << sink.status();
  EXPECT_EQ(sink.ids(), ids);
}

}  // namespace
}  // namespace b24gate::list_reader_test
