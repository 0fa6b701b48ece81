// The online events in Redis Streams (redis_event_hub.h) against a real
// redis-server: each group gets every event it named and its members share
// them, what a stream left unacknowledged goes at once to the group's next
// read with the next attempt, what a member holds too long goes to another,
// the stream's length bound drops the oldest and counts what that cost, and
// each trim counts the entries left, and what a read whose reply was lost
// took goes out at the next read.
// Redis keeps its own time (idle times), so these run on the real clock
// with short intervals.
#include "engine/events/redis_event_hub.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <utility>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/engine/events/offline_rows.h"
#include "tests/support/listening_socket.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace b24gate::redis_event_hub_test {
namespace {

using testing::RedisServer;

class RecordingSink : public EventSink {
 public:
  void Deliver(std::vector<QueuedEvent> events) override {
    absl::MutexLock lock(&mu_);
    for (QueuedEvent& e : events) delivered_.push_back(std::move(e));
  }
  void End(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    ended_ = status;
  }
  std::vector<QueuedEvent> delivered() {
    absl::MutexLock lock(&mu_);
    return delivered_;
  }
  std::vector<std::string> Ids() {
    std::vector<std::string> ids;
    for (const QueuedEvent& e : delivered()) ids.push_back(e.delivery_id);
    return ids;
  }
  std::set<std::string> Records() {
    std::set<std::string> records;
    for (const QueuedEvent& e : delivered()) records.insert(e.record_id);
    return records;
  }
  size_t size() { return delivered().size(); }

 private:
  absl::Mutex mu_;
  std::vector<QueuedEvent> delivered_;
  absl::Status ended_;
};

QueuedEvent Event(const std::string& name, const std::string& record) {
  QueuedEvent e;
  e.event = name;
  e.record_id = record;
  e.data = {{"FIELDS", {{"ID", record}}}};
  return e;
}

// A TCP relay to redis-server that can drop Redis's replies: the commands
// still run, but their callers time out, as when a reply is lost or late.
class ReplyDropper {
 public:
  explicit ReplyDropper(int redis_port) : redis_port_(redis_port), acceptor_([this] { AcceptLoop(); }) {}
  ~ReplyDropper() {
    stop_ = true;
    listener_.Shutdown();
    acceptor_.join();
    absl::MutexLock lock(&mu_);
    for (std::thread& t : pumps_) t.join();
  }
  std::string url() const { return "redis://" + listener_.address(); }
  void set_dropping(bool dropping) { dropping_ = dropping; }

 private:
  void AcceptLoop() {
    for (int client; (client = listener_.Accept()) >= 0;) {
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(redis_port_));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(server);
        close(client);
        continue;
      }
      absl::MutexLock lock(&mu_);
      pumps_.emplace_back([this, client, server] { Pump(client, server); });
    }
  }
  // Copies both ways (Redis's side dropped while dropping) until either
  // side closes or the relay stops.
  void Pump(int client, int server) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    char buf[65536];
    bool open = true;
    while (open && !stop_) {
      if (poll(fds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        open = n > 0;
        if (!open || (i == 1 && dropping_)) continue;
        for (ssize_t sent = 0, w = 0; sent < n && open; sent += w) {
          w = write(fds[1 - i].fd, buf + sent, n - sent);
          open = w > 0;
        }
      }
    }
    close(client);
    close(server);
  }

  const int redis_port_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> dropping_{false};
  testing::ListeningSocket listener_;
  absl::Mutex mu_;
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;  // last: starts once the rest is made
};

OnlineEventStore::Prepare Ready() {
  return [](std::function<void(absl::Status)> done) { done(absl::OkStatus()); };
}

class RedisEventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<RedisEventHub> Hub(absl::Duration visibility = absl::Seconds(30), int64_t max_len = 1000000,
                                     const std::string& url = "") {
    RedisEventHub::Options options;
    options.redis.address = *ParseRedisUrl(url.empty() ? server_->url() : url);
    options.redis.command_timeout = absl::Seconds(1);
    options.window = 3;
    options.visibility_timeout = visibility;
    options.poll_interval = absl::Milliseconds(10);
    options.trim_interval = absl::Milliseconds(50);
    options.max_len = max_len;
    return std::make_unique<RedisEventHub>(&ledger_, Clock::Real(), options,
                                           [this](const std::string&, int64_t n, const std::string& why) {
                                             absl::MutexLock lock(&mu_);
                                             dropped_ += n;
                                             why_ = why;
                                           });
  }

  std::shared_ptr<EventSubscription> Open(RedisEventHub& hub, const std::string& group, RecordingSink* sink,
                                          std::vector<std::string> events = {"ONCRMDEALADD"}) {
    auto sub = hub.Subscribe("main", group, events, sink, Ready());
    EXPECT_TRUE(sub.ok()) << sub.status();
    (*sub)->Start();
    return *sub;
  }

  // Until the group exists in Redis (the hub makes it on the stream's first turn).
  bool GroupMade(const std::string& group) {
    RedisOptions options;
    options.address = *ParseRedisUrl(server_->url());
    RedisClient client(options, Clock::Real());
    return testing::WaitFor([&] {
      absl::StatusOr<RedisReply> groups = client.Command({"XINFO", "GROUPS", "b24gate:events:{main}"});
      if (!groups.ok()) return false;
      for (const RedisReply& g : groups->elements) {
        for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
          if (g.elements[i].str == "name" && g.elements[i + 1].str == group) return true;
        }
      }
      return false;
    });
  }

  int64_t dropped() {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }

  std::unique_ptr<RedisServer> server_;
  EventLedger ledger_{Clock::Real()};
  absl::Mutex mu_;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::string why_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RedisEventHubTest, EachGroupGetsEveryEventItNamedAndItsMembersShareThem) {
  auto hub = Hub();
  RecordingSink a1, a2, b;
  auto s1 = Open(*hub, "billing", &a1);
  auto s2 = Open(*hub, "billing", &a2);
  auto s3 = Open(*hub, "search", &b, {"ONCRMDEALADD", "ONCRMDEALUPDATE"});
  ASSERT_TRUE(GroupMade("billing") && GroupMade("search"));
  std::set<std::string> added;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", std::to_string(i))).ok());
    added.insert(std::to_string(i));
  }
  ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALUPDATE", "u")).ok());
  // A window of 3: the members must acknowledge for the rest to come.
  std::vector<std::pair<RecordingSink*, EventSubscription*>> members = {{&a1, s1.get()}, {&a2, s2.get()},
                                                                         {&b, s3.get()}};
  std::vector<size_t> acked(members.size(), 0);
  auto ack_new = [&] {
    for (size_t i = 0; i < members.size(); ++i) {
      std::vector<std::string> ids = members[i].first->Ids();
      if (ids.size() == acked[i]) continue;
      EXPECT_TRUE(members[i].second->Ack(std::vector<std::string>(ids.begin() + acked[i], ids.end()), "ack").ok());
      acked[i] = ids.size();
    }
  };
  ASSERT_TRUE(testing::WaitFor([&] {
    ack_new();
    return a1.size() + a2.size() == 4 && b.size() == 5;
  }));
  // The last deliveries may have come after the pass above looked.
  ack_new();
  std::set<std::string> billing = a1.Records();
  for (const std::string& r : a2.Records()) EXPECT_TRUE(billing.insert(r).second) << r << " to both members";
  EXPECT_EQ(billing, added) << "billing did not name ONCRMDEALUPDATE";
  std::set<std::string> search = added;
  search.insert("u");
  EXPECT_EQ(b.Records(), search);
  for (const QueuedEvent& e : b.delivered()) EXPECT_EQ(e.attempt, 1);
  EXPECT_TRUE(testing::WaitFor([&] { return ledger_.Snapshot()["main"].acknowledged == 9; }));
}

TEST_F(RedisEventHubTest, WhatAStreamLeftUnacknowledgedGoesToTheNextReadAtOnce) {
  auto hub = Hub();
  RecordingSink first;
  auto s1 = Open(*hub, "billing", &first);
  ASSERT_TRUE(GroupMade("billing"));
  for (const char* r : {"1", "2", "3"}) ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", r)).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return first.size() == 3; }));
  ASSERT_TRUE(s1->Ack({first.Ids()[0]}, "ack").ok());
  EXPECT_EQ(s1->Ack({"1-1"}, "ack.delivery_ids").code(), absl::StatusCode::kInvalidArgument);
  s1->Stop();
  RecordingSink second;
  auto s2 = Open(*hub, "billing", &second);
  ASSERT_TRUE(testing::WaitFor([&] { return second.size() == 2; }));
  EXPECT_EQ(second.Records(), (std::set<std::string>{"2", "3"}));
  for (const QueuedEvent& e : second.delivered()) EXPECT_EQ(e.attempt, 2) << e.record_id;
  EXPECT_EQ(ledger_.Snapshot()["main"].redelivered, 2);
}

TEST_F(RedisEventHubTest, WhatAMemberHoldsPastTheVisibilityTimeoutGoesToAnother) {
  auto hub = Hub(/*visibility=*/absl::Milliseconds(300));
  RecordingSink slow, other;
  auto s1 = Open(*hub, "billing", &slow);
  ASSERT_TRUE(GroupMade("billing"));
  // Its window full, the slow member reads (and claims) nothing more.
  for (const char* r : {"7", "8", "9"}) ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", r)).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return slow.size() == 3; }));
  auto s2 = Open(*hub, "billing", &other);
  ASSERT_TRUE(testing::WaitFor([&] { return other.size() == 3; }));
  EXPECT_EQ(other.Ids(), slow.Ids());
  for (const QueuedEvent& e : other.delivered()) EXPECT_EQ(e.attempt, 2) << e.record_id;
}

TEST_F(RedisEventHubTest, ARecordsNextEventGoesOutOnlyOnceItsPreviousIsAcknowledged) {
  auto hub = Hub();
  RecordingSink m1, m2;
  auto s1 = Open(*hub, "billing", &m1, {"ONCRMDEAL*"});
  auto s2 = Open(*hub, "billing", &m2, {"ONCRMDEAL*"});
  ASSERT_TRUE(GroupMade("billing"));
  const std::vector<std::string> names = {"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"};
  for (const std::string& name : names) ASSERT_TRUE(hub->Store("main", Event(name, "5")).ok());
  ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", "6")).ok());
  // Record 5's deliveries so far, to either member, with the member's stream.
  auto record5 = [&] {
    std::vector<std::pair<QueuedEvent, EventSubscription*>> out;
    for (auto [sink, sub] : {std::pair{&m1, s1.get()}, std::pair{&m2, s2.get()}}) {
      for (const QueuedEvent& e : sink->delivered()) {
        if (e.record_id == "5") out.emplace_back(e, sub);
      }
    }
    return out;
  };
  std::set<std::string> acked;
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(testing::WaitFor([&] { return record5().size() == i + 1; })) << names[i];
    if (i == 0) EXPECT_FALSE(testing::WaitFor([&] { return record5().size() > 1; }, 0.3)) << "held back";
    for (const auto& [e, sub] : record5()) {
      if (!acked.insert(e.delivery_id).second) continue;
      EXPECT_EQ(e.event, names[i]) << "in the order stored";
      EXPECT_EQ(e.attempt, 1);
      ASSERT_TRUE(sub->Ack({e.delivery_id}, "ack").ok());
    }
  }
  EXPECT_EQ(m1.Records().count("6") + m2.Records().count("6"), 1u) << "record 6 not held up";
}

TEST_F(RedisEventHubTest, WhatAReadWhoseReplyWasLostTookGoesOutAtTheNextRead) {
  ReplyDropper relay(server_->port());
  auto hub = Hub(/*visibility=*/absl::Minutes(5), 1000000, relay.url());
  RecordingSink sink;
  auto sub = Open(*hub, "billing", &sink);
  ASSERT_TRUE(GroupMade("billing"));
  RedisOptions direct_options;
  direct_options.address = *ParseRedisUrl(server_->url());
  RedisClient direct(direct_options, Clock::Real());
  const std::string key = "b24gate:events:{main}";
  auto pending = [&] {
    absl::StatusOr<RedisReply> summary = direct.Command({"XPENDING", key, "billing"});
    return summary.ok() && !summary->elements.empty() ? summary->elements[0].AsInt() : -1;
  };
  // One delivered first: the stream is set up and reading (and it holds
  // one entry, which must not go out again).
  ASSERT_TRUE(direct.Command({"XADD", key, "*", "n", "ONCRMDEALADD", "r", "0", "ts", "", "d", "{}"}).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return sink.size() == 1; }));
  // Two entries at once while Redis's replies are dropped: a read script
  // takes them for the stream's consumer, and its caller times out.
  relay.set_dropping(true);
  const RedisScript add(R"lua(
for i = 1, 2 do redis.call('XADD', KEYS[1], '*', 'n', 'ONCRMDEALADD', 'r', tostring(i), 'ts', '', 'd', '{}') end
)lua");
  ASSERT_TRUE(direct.Eval(add, {key}, {}).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return pending() == 3; }));
  relay.set_dropping(false);
  // Well before the visibility timeout (5 min), each once.
  ASSERT_TRUE(testing::WaitFor([&] { return sink.size() == 3; })) << sink.size();
  EXPECT_EQ(sink.Records(), (std::set<std::string>{"0", "1", "2"}));
  for (const QueuedEvent& e : sink.delivered()) {
    if (e.record_id != "0") EXPECT_GE(e.attempt, 2) << e.record_id;
  }
  ASSERT_TRUE(sub->Ack(sink.Ids(), "ack").ok());
  ASSERT_TRUE(direct.Command({"XADD", key, "*", "n", "ONCRMDEALADD", "r", "3", "ts", "", "d", "{}"}).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return sink.Records().count("3") == 1; }));
  EXPECT_EQ(sink.size(), 4u) << "none twice";
  ASSERT_TRUE(testing::WaitFor([&] { return pending() == 1; })) << "the three acknowledged in Redis";
}

TEST_F(RedisEventHubTest, EachTrimCountsTheEntriesNotYetAcknowledged) {
  auto hub = Hub();
  RecordingSink sink;
  auto sub = Open(*hub, "billing", &sink);
  ASSERT_TRUE(GroupMade("billing"));
  for (const char* r : {"1", "2", "3"}) ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", r)).ok());
  auto entries = [&] { return hub->stream_entries()["main"]; };
  ASSERT_TRUE(testing::WaitFor([&] { return sink.size() == 3 && entries() == 3; })) << entries();
  const std::vector<std::string> ids = sink.Ids();
  ASSERT_TRUE(sub->Ack({ids[0], ids[1]}, "ack").ok());
  EXPECT_TRUE(testing::WaitFor([&] { return entries() == 1; })) << entries();
  ASSERT_TRUE(sub->Ack({ids[2]}, "ack").ok());
  EXPECT_TRUE(testing::WaitFor([&] { return entries() == 0; })) << entries();
  EXPECT_FALSE(hub->log_bytes()) << "nothing on this process's disk";
}

TEST_F(RedisEventHubTest, BeyondTheLengthBoundTheOldestAreDroppedAndCounted) {
  auto hub = Hub(absl::Seconds(30), /*max_len=*/5);
  RecordingSink never;
  // Its prepare never ends: the group exists, nothing is read.
  auto sub = hub->Subscribe("main", "billing", {"ONCRMDEALADD"}, &never,
                            [](std::function<void(absl::Status)>) {});
  ASSERT_TRUE(sub.ok());
  (*sub)->Start();
  ASSERT_TRUE(GroupMade("billing"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", std::to_string(i))).ok());
  EXPECT_FALSE(testing::WaitFor([&] { return dropped() > 0; }, 0.5)) << "within the bound nothing goes";
  for (int i = 5; i < 8; ++i) ASSERT_TRUE(hub->Store("main", Event("ONCRMDEALADD", std::to_string(i))).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return dropped() == 3; }));
  EXPECT_EQ(ledger_.Snapshot()["main"].dropped, 3);
  EXPECT_TRUE(testing::WaitFor([&] { return hub->stream_entries()["main"] == 5; }));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(why_, "size");
}

// What offline sources store: a row handed twice (by two replicas, or again
// after a crash before its clear) is added once, also by another hub on the
// same Redis; the portal's groups are what make the sources read.
TEST_F(RedisEventHubTest, StoreOnceAddsARowOnceWhicheverReplicaStoresIt) {
  auto a = Hub();
  auto b = Hub();
  EXPECT_FALSE(*a->HasGroups("main")) << "nobody to keep them for";
  RecordingSink billing;
  auto sub = Open(*a, "billing", &billing);
  ASSERT_TRUE(GroupMade("billing"));
  EXPECT_TRUE(*b->HasGroups("main"));
  EXPECT_EQ(*a->StoreOnce("main", testing::OfflineRows(1, 3)), 3);
  EXPECT_EQ(*b->StoreOnce("main", testing::OfflineRows(2, 5)), 2) << "2 and 3 were added by the other replica";
  EXPECT_EQ(*a->StoreOnce("main", testing::OfflineRows(1, 5)), 0);
  ASSERT_TRUE(testing::WaitFor([&] { return billing.size() == 3; })) << "the window";
  ASSERT_TRUE(sub->Ack(billing.Ids(), "ack").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return billing.size() == 5; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(billing.Records(), (std::set<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(billing.size(), 5u) << "each row once";
}

}  // namespace
}  // namespace b24gate::redis_event_hub_test
