// KeepWarmSet keeps the watched sockets right one change at a time: after
// every event the list holds every counted socket of the origins kept warm
// with no transfer running, no socket of an origin not kept warm, and of a
// busy kept origin's sockets only those not found readable while it was
// busy; and it never adds a socket twice nor removes one it does not hold.
// A model that works the sets out from scratch (as the transport did at
// every loop turn) is the oracle.
#include "engine/http/keep_warm_set.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/http/epoll_watch_list.h"

namespace b24gate::keep_warm_set_test {
namespace {

// Records the set; counts calls the contract rules out.
class FakeList : public WatchList {
 public:
  void Add(int fd) override {
    if (!fds.insert(fd).second) ++misuse;
  }
  void Remove(int fd) override {
    if (fds.erase(fd) == 0) ++misuse;
  }
  std::set<int> fds;
  int misuse = 0;
};

constexpr absl::Duration kWindow = absl::Minutes(5);
const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

// The whole state, and the watched set worked out from it.
struct Model {
  std::map<int, std::string> sockets;       // counted, by fd
  std::map<std::string, int> running;       // transfers by origin
  std::map<std::string, absl::Time> used;   // last caller's request
  absl::Time now = kStart;

  // Sockets taken out while their origin was busy (readable, or opened
  // then): not in the list until it is idle.
  std::set<int> waiting;

  bool Kept(const std::string& origin) const {
    auto use = used.find(origin);
    return use != used.end() && now - use->second <= kWindow;
  }
  bool Idle(const std::string& origin) const {
    auto run = running.find(origin);
    return run == running.end() || run->second == 0;
  }
  // What the list must hold: the kept origins' sockets but those waiting.
  std::set<int> Watched() const {
    std::set<int> fds;
    for (const auto& [fd, origin] : sockets) {
      if (Kept(origin) && !waiting.count(fd)) fds.insert(fd);
    }
    return fds;
  }
};

class KeepWarmSetTest : public ::testing::Test {
 protected:
  void Use(const std::string& origin) {
    const bool was_kept = model_.Kept(origin);
    set_.Used(origin, model_.now, {});
    model_.used[origin] = model_.now;
    if (!was_kept && !model_.Idle(origin)) WaitAll(origin);
  }
  void Start(const std::string& origin) {
    set_.Started(origin);
    ++model_.running[origin];
  }
  void Finish(const std::string& origin) {
    set_.Finished(origin, model_.now);
    if (--model_.running[origin] > 0) return;
    for (const auto& [fd, o] : model_.sockets) {
      if (o == origin) model_.waiting.erase(fd);
    }
  }
  void Open(int fd, const std::string& origin) {
    set_.Counted(fd, origin);
    model_.waiting.erase(fd);
    model_.sockets[fd] = origin;
    if (!model_.Idle(origin)) model_.waiting.insert(fd);
  }
  void Close(int fd) {
    set_.Uncounted(fd);
    model_.sockets.erase(fd);
    model_.waiting.erase(fd);
  }
  void Pass(absl::Duration d) {
    model_.now += d;
    set_.Expire(model_.now);
    for (const auto& [fd, origin] : model_.sockets) {
      if (!model_.Kept(origin)) model_.waiting.erase(fd);
    }
  }
  // A listed socket turns readable: a close to look at only if its origin
  // is idle; else it waits for the origin to be idle.
  void Readable(int fd) {
    const std::string origin = model_.sockets.at(fd);
    EXPECT_EQ(set_.Readable(fd), model_.Idle(origin)) << fd;
    if (!model_.Idle(origin)) model_.waiting.insert(fd);
  }
  void WaitAll(const std::string& origin) {
    for (const auto& [fd, o] : model_.sockets) {
      if (o == origin) model_.waiting.insert(fd);
    }
  }
  // The list holds exactly what the model says, reached by legal calls.
  void ExpectRight(const std::string& after) {
    EXPECT_EQ(list_.fds, model_.Watched()) << "after " << after;
    // Every kept origin with no transfer running has all its sockets in.
    for (const auto& [fd, origin] : model_.sockets) {
      if (model_.Kept(origin) && model_.Idle(origin)) {
        EXPECT_TRUE(list_.fds.count(fd)) << fd << " of idle " << origin << " after " << after;
      }
    }
    EXPECT_EQ(set_.watched(), list_.fds.size()) << "after " << after;
    EXPECT_EQ(list_.misuse, 0) << "after " << after;
  }

  FakeList list_;
  KeepWarmSet set_{kWindow, &list_};
  Model model_;
};

// One portal's life: a request opens a socket (watched once it ends), a
// second request makes the origin busy (nothing watched) and idle again,
// the server closes a socket, and the origin ages out of the window.
TEST_F(KeepWarmSetTest, OnePortalThroughOpenBusyIdleCloseAndAgeOut) {
  Start("a");
  Use("a");
  Open(10, "a");
  ExpectRight("a request opened a socket");
  EXPECT_TRUE(list_.fds.empty());
  Finish("a");
  ExpectRight("the request ended");
  EXPECT_EQ(list_.fds, (std::set<int>{10}));
  Start("a");
  Open(11, "a");
  ExpectRight("a second request opened a second socket");
  EXPECT_EQ(list_.fds, (std::set<int>{10}));  // 10 stays until it shows data
  Readable(10);
  ExpectRight("the request's answer came on 10");
  EXPECT_TRUE(list_.fds.empty());
  Finish("a");
  ExpectRight("it ended");
  EXPECT_EQ(list_.fds, (std::set<int>{10, 11}));
  Close(10);
  ExpectRight("the server closed one");
  Pass(kWindow);
  ExpectRight("exactly the window later");
  EXPECT_EQ(list_.fds, (std::set<int>{11}));
  Pass(absl::Seconds(1));
  ExpectRight("past the window");
  EXPECT_TRUE(list_.fds.empty());
  EXPECT_EQ(set_.kept(), 0u);
  EXPECT_EQ(set_.Kept("a"), nullptr);
}

// Aging out follows the last use of each origin, not the first: an origin
// used again stays, one not used goes.
TEST_F(KeepWarmSetTest, AnOriginUsedAgainStaysWhileAnotherAgesOut) {
  for (const std::string origin : {"a", "b"}) {
    Start(origin);
    Use(origin);
    Open(origin == "a" ? 20 : 21, origin);
    Finish(origin);
  }
  Pass(absl::Minutes(4));
  Start("a");
  Use("a");
  Finish("a");
  Pass(absl::Minutes(2));
  ExpectRight("b's window passed, a's not");
  EXPECT_EQ(list_.fds, (std::set<int>{20}));
  EXPECT_NE(set_.Kept("a"), nullptr);
  EXPECT_EQ(set_.Kept("b"), nullptr);
  // b used again: its socket, still open, is watched again.
  Start("b");
  Use("b");
  Finish("b");
  ExpectRight("b used again");
  EXPECT_EQ(list_.fds, (std::set<int>{20, 21}));
}

// Sockets opened ahead (Warm) to an origin no caller asked for are not
// watched, and a number the kernel hands out again moves to its new origin.
TEST_F(KeepWarmSetTest, WarmOnlyOriginsAndReusedNumbers) {
  Start("cold");
  Open(30, "cold");
  Finish("cold");
  ExpectRight("a HEAD to an origin never used");
  EXPECT_TRUE(list_.fds.empty());
  Start("a");
  Use("a");
  Finish("a");
  Open(31, "a");  // opened while idle (e.g. by a HEAD that then ended)
  ExpectRight("opened while idle");
  Open(31, "cold");  // closed unseen and handed out again
  ExpectRight("the number reused for another origin");
  EXPECT_TRUE(list_.fds.empty());
}

// Forty origins through thousands of random events: after each, the list is
// exactly the model's set.
TEST_F(KeepWarmSetTest, RandomEventsKeepTheSetExact) {
  std::mt19937 random(7);
  const int kOrigins = 40;
  int next_fd = 100;
  for (int step = 0; step < 5000; ++step) {
    std::string origin = absl::StrCat("o", random() % kOrigins);
    switch (random() % 8) {
      case 0: Start(origin); Use(origin); break;
      case 1: Start(origin); break;  // a HEAD
      case 2:
      case 7: {  // as many ends as starts: origins go idle again
        std::vector<std::string> busy;
        for (const auto& [o, n] : model_.running) {
          if (n > 0) busy.push_back(o);
        }
        if (!busy.empty()) Finish(busy[random() % busy.size()]);
        break;
      }
      case 3: Open(next_fd++, origin); break;
      case 4:
        if (!model_.sockets.empty()) {
          auto it = model_.sockets.begin();
          std::advance(it, random() % model_.sockets.size());
          Close(it->first);
        }
        break;
      case 5: Pass(absl::Seconds(random() % 40)); break;
      case 6:
        if (!list_.fds.empty()) {
          auto it = list_.fds.begin();
          std::advance(it, random() % list_.fds.size());
          Readable(*it);
        }
        break;
    }
    ExpectRight(absl::StrCat("step ", step));
    if (HasFailure()) return;
  }
}

// Taken off the schedule: the origins due by `now`, as names and sockets.
std::vector<KeepWarmSet::Due> TakeDue(KeepWarmSet& set, absl::Time now) {
  std::vector<KeepWarmSet::Due> due;
  set.TakeDue(now, &due);
  return due;
}

// With the server's idle limit known (5 s), a kept origin's connections are
// due 2 s before it, counted from when the origin last went idle; a
// transfer in between puts the time off; libcurl may reuse a connection
// idle up to 3 whole seconds (so not from 4 s on).
TEST_F(KeepWarmSetTest, ConnectionsAreDueTwoSecondsBeforeTheAnnouncedLimit) {
  Start("a");
  Use("a");
  Open(10, "a");
  Open(11, "a");
  EXPECT_EQ(set_.MaxAgeSeconds("a"), std::nullopt);
  set_.Limit("a", absl::Seconds(5));
  EXPECT_EQ(set_.MaxAgeSeconds("a"), 3);
  EXPECT_EQ(set_.NextDue(), absl::InfiniteFuture()) << "due while busy";
  Finish("a");
  EXPECT_EQ(set_.NextDue(), kStart + absl::Seconds(3));
  Pass(absl::Seconds(2));
  EXPECT_TRUE(TakeDue(set_, model_.now).empty());
  Start("a");
  EXPECT_EQ(set_.NextDue(), absl::InfiniteFuture()) << "due while busy";
  Finish("a");
  EXPECT_EQ(set_.NextDue(), model_.now + absl::Seconds(3));
  Pass(absl::Seconds(3) - absl::Milliseconds(1));
  EXPECT_TRUE(TakeDue(set_, model_.now).empty());
  Pass(absl::Milliseconds(1));
  std::vector<KeepWarmSet::Due> due = TakeDue(set_, model_.now);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].origin, "a");
  EXPECT_EQ(std::set<int>(due[0].fds.begin(), due[0].fds.end()), (std::set<int>{10, 11}));
  EXPECT_EQ(set_.NextDue(), absl::InfiniteFuture()) << "taken off until the next idle spell";
  ExpectRight("taken due");
}

// Nothing is due for an origin whose server announced no limit, one under
// 3 s (replaced after the server's close instead), one not kept warm, or
// one aged out while scheduled; the soonest of several comes first.
TEST_F(KeepWarmSetTest, WhatIsNeverDueAndTheOrderOfTheRest) {
  int fd = 40;
  for (const std::string origin : {"none", "short", "cold", "aged", "late", "soon"}) {
    Start(origin);
    if (origin != "cold") Use(origin);
    Open(fd++, origin);  // an origin with no connection is forgotten, limit and all
  }
  set_.Limit("short", absl::Seconds(2));
  set_.Limit("cold", absl::Seconds(10));
  set_.Limit("aged", absl::Seconds(600));
  set_.Limit("late", absl::Seconds(20));
  set_.Limit("soon", absl::Seconds(10));
  for (const std::string origin : {"none", "short", "cold", "aged", "late", "soon"}) Finish(origin);
  EXPECT_EQ(set_.MaxAgeSeconds("short"), 0);
  EXPECT_EQ(set_.NextDue(), kStart + absl::Seconds(8));
  Pass(kWindow + absl::Seconds(1));  // all age out
  EXPECT_EQ(set_.NextDue(), absl::InfiniteFuture());
  for (const std::string origin : {"late", "soon"}) {
    Start(origin);
    Use(origin);
    Finish(origin);
  }
  std::vector<KeepWarmSet::Due> due = TakeDue(set_, model_.now + absl::Seconds(20));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].origin, "soon");
  EXPECT_EQ(due[1].origin, "late");
}

// The epoll list names the watched sockets that turn readable, and only
// while they are in it.
TEST(EpollWatchListTest, NamesReadableSocketsInTheList) {
  EpollWatchList list;
  ASSERT_GE(list.fd(), 0);
  int quiet = ::eventfd(0, EFD_NONBLOCK);
  int loud = ::eventfd(0, EFD_NONBLOCK);
  list.Add(quiet);
  list.Add(loud);
  EXPECT_EQ(list.size(), 2u);
  std::vector<int> ready;
  list.Ready(&ready);
  EXPECT_TRUE(ready.empty());
  uint64_t one = 1;
  ASSERT_EQ(::write(loud, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  list.Ready(&ready);
  EXPECT_EQ(ready, std::vector<int>{loud});
  list.Ready(&ready);  // level-triggered: still readable, named again
  EXPECT_EQ(ready, std::vector<int>{loud});
  list.Remove(loud);
  list.Ready(&ready);
  EXPECT_TRUE(ready.empty());
  EXPECT_EQ(list.size(), 1u);
  ::close(quiet);
  ::close(loud);
}

}  // namespace
}  // namespace b24gate::keep_warm_set_test
