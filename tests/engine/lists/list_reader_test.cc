// The list reader's hand-over to its sink: pages are handed over in order,
// once each, by one thread at a time, and holding none of the reader's
// locks, so a sink busy with a page (converting thousands of items) holds up
// no thread that brings the portal's answers.
#include "engine/lists/list_reader.h"

#include <gtest/gtest.h>

#include <utility>
#include <string>
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

// Answers and acknowledges on this thread until the read ends. `Sink` has
// pages() (handed over so far) and done().
template <typename Sink>
void ReadToTheEnd(FakeListServer* server, ListReader* reader, const Sink& sink) {
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

// A page made ahead: its items' ids.
class IdsPage : public PreparedPage {
 public:
  explicit IdsPage(std::vector<int64_t> ids) : ids_(std::move(ids)) {}
  int64_t bytes() const override { return static_cast<int64_t>(ids_.size() * sizeof(int64_t)); }
  const std::vector<int64_t>& ids() const { return ids_; }

 private:
  std::vector<int64_t> ids_;
};

// Makes pages into their ids, recording on which thread each item was made.
class IdsPreparer : public PagePreparer {
 public:
  std::unique_ptr<PreparedPage> Prepare(std::vector<Json> items) const override {
    std::vector<int64_t> ids;
    for (const Json& item : items) ids.push_back(std::stoll(item.at("ID").get<std::string>()));
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < ids.size(); ++i) threads_.push_back(std::this_thread::get_id());
    return std::make_unique<IdsPage>(std::move(ids));
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

// Takes pages as they come (made ahead or not) on the thread that hands
// them over.
class PreparingSink : public ListSink {
 public:
  std::shared_ptr<const PagePreparer> Preparer() override { return preparer_; }
  void OnPage(ListPage page) override {
    absl::MutexLock lock(&mu_);
    if (page.prepared) {
      const auto& made = static_cast<const IdsPage&>(*page.prepared).ids();
      EXPECT_TRUE(page.items.empty());
      EXPECT_LE(made.size(), 50u);
      ids_.insert(ids_.end(), made.begin(), made.end());
      came_made_.insert(came_made_.end(), made.size(), true);
    }
    for (auto& item : page.items) {
      ids_.push_back(std::stoll(item.at("ID").get<std::string>()));
      came_made_.push_back(false);
    }
    if (!ids_.empty()) ends_.push_back({page.resume_cursor, ids_.back()});
    pages_++;
  }
  void OnDone(absl::Status status, ListSummary /*summary*/) override {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    done_ = true;
  }

  const IdsPreparer& preparer() const { return *preparer_; }
  int pages() const {
    absl::MutexLock lock(&mu_);
    return pages_;
  }
  // For each item handed over, in order: whether it came made ahead.
  std::vector<bool> came_made() const {
    absl::MutexLock lock(&mu_);
    return came_made_;
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  std::vector<int64_t> ids() const {
    absl::MutexLock lock(&mu_);
    return ids_;
  }
  // Each page's cursor and the last id handed over with it.
  std::vector<std::pair<std::string, int64_t>> ends() const {
    absl::MutexLock lock(&mu_);
    return ends_;
  }
  absl::Status status() const {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  const std::shared_ptr<IdsPreparer> preparer_ = std::make_shared<IdsPreparer>();
  mutable absl::Mutex mu_;
  int pages_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<bool> came_made_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, int64_t>> ends_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

TEST(ListReader, PagesWaitingForTheFirstRangeAreMadeBeforeItIsAnswered) {
  // An ordered read whose first range is answered last: the other ranges'
  // items wait for it, and are made into the sink's form meanwhile, on the
  // portal's threads (the fake's: the one that answered), so that the first
  // range's answer leaves nothing to convert (30 ms after the last answer
  // of a 20,000-item read).
  std::vector<int64_t> ids = Ids(5000);
  FakeListServer server(ids);
  PreparingSink sink;
  auto reader = ListReader::Create(server.dispatcher(), server.clock(), LeadList(), &sink);
  ASSERT_TRUE(reader.ok()) << reader.status();
  (*reader)->Run();
  server.AnswerWaiting();  // the bounds probe: its page, then the ranges' batches
  std::vector<FakeDispatcher::Request> batches = server.dispatcher()->TakeAll();
  ASSERT_GE(batches.size(), 3u);
  ASSERT_EQ(sink.pages(), 1);  // the probe's page
  // The probe's top (its descending page) is made at once, on the thread
  // that answered it, to wait at the list's end.
  const size_t probe = sink.preparer().threads().size();
  EXPECT_EQ(probe, 50u);
  // Every batch but the first range's (the first sent), on another thread.
  std::thread::id reader_thread;
  std::thread other([&] {
    reader_thread = std::this_thread::get_id();
    for (size_t i = batches.size() - 1; i >= 1; --i) {
      FakeListServer::Complete(batches[i], server.Prepare(batches[i]));
    }
  });
  other.join();
  EXPECT_EQ(sink.ids().size(), 50u);  // all of it waits for the first range
  std::vector<std::thread::id> made = sink.preparer().threads();
  EXPECT_GE(made.size(), 2000u);  // most of the list
  for (size_t i = probe; i < made.size(); ++i) ASSERT_EQ(made[i], reader_thread);
  // The first range's answer hands everything over; nothing more is made.
  FakeListServer::Complete(batches[0], server.Prepare(batches[0]));
  ReadToTheEnd(&server, reader->get(), sink);
  ASSERT_TRUE(sink.status().ok()) << sink.status();
  EXPECT_EQ(sink.ids(), ids);  // every item once, in order
  // What waited came made, and was made once: all but the probe's first
  // page and the first range, which came as read.
  EXPECT_EQ(sink.preparer().threads().size(), made.size());
  std::vector<bool> came_made = sink.came_made();
  std::vector<bool> expected(ids.size() - made.size(), false);
  expected.resize(ids.size(), true);
  EXPECT_EQ(came_made, expected);
  // A page made ahead carries the cursor that continues right after it.
  auto [cursor, last] = sink.ends()[sink.ends().size() - 10];
  ASSERT_GT(last, static_cast<int64_t>(ids.size() - made.size()));
  ListRequest again = LeadList();
  again.resume_cursor = cursor;
  HoldingSink rest;
  auto resumed = ListReader::Create(server.dispatcher(), server.clock(), again, &rest);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  (*resumed)->Run();
  ReadToTheEnd(&server, resumed->get(), rest);
  ASSERT_TRUE(rest.status().ok()) << rest.status();
  EXPECT_EQ(rest.ids(), std::vector<int64_t>(ids.begin() + last, ids.end()));
}

}  // namespace
}  // namespace b24gate::list_reader_test
