// Online events in Redis Streams (--redis), end to end: three gateway
// replicas behind one inbound URL (a relay playing the load balancer), a
// redis-server with an append-only file, the emulator in its retrying
// variant. Consumers of two groups read on different replicas while deals
// are written; one replica is killed with SIGKILL, then Redis. Nothing is
// lost, and an event comes twice only as a redelivery (same delivery id,
// higher attempt) of what the killed replica's streams held unacknowledged,
// or as a second copy of a post a replica could not confirm (the sender
// resent it). With Redis away the endpoint answers 503 and keeps nothing.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "engine/redis/redis_client.h"
#include "tests/e2e/event_helpers.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::redis_events_test {
namespace {

using testing::RedisServer;

constexpr char kToken[] = "e2e-redis-events-token-3d1e";
constexpr char kRecordField[] = "data%5BFIELDS%5D%5BID%5D=";

std::string RecordOf(const std::string& form) {
  const size_t at = form.find(kRecordField);
  if (at == std::string::npos) return "";
  const size_t from = at + sizeof kRecordField - 1;
  return form.substr(from, form.find('&', from) - from);
}

// What a Kubernetes Service and ingress do in front of the replicas' inbound
// endpoints: one URL; each post goes to the next replica, and to the one
// after it when that one cannot be reached or answers 5xx. It remembers the
// records of posts a replica may have stored without answering 200 (the
// connection broke after the request, or a 5xx): resent, those may be
// stored twice.
class Relay {
 public:
  Relay() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    server_.Post(R"(/events/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      Forward(req, res);
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Relay() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void SetBackends(std::vector<std::string> backends) {
    std::lock_guard<std::mutex> lock(mu_);
    backends_ = std::move(backends);
  }
  std::set<std::string> unsure() {
    std::lock_guard<std::mutex> lock(mu_);
    return unsure_;
  }

 private:
  void Forward(const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> backends;
    size_t first = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      backends = backends_;
      first = next_++;
    }
    res.status = 502;
    for (size_t i = 0; i < backends.size(); ++i) {
      httplib::Client client("http://" + backends[(first + i) % backends.size()]);
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(5, 0);
      httplib::Result r = client.Post(req.path, req.body, "application/x-www-form-urlencoded");
      if (r && r->status < 500) {
        res.status = r->status;
        res.set_content(r->body, "text/plain");
        return;
      }
      if (r) res.status = r->status;
      if (r || r.error() != httplib::Error::Connection) {
        std::lock_guard<std::mutex> lock(mu_);
        unsure_.insert(RecordOf(req.body));
      }
    }
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> backends_;
  size_t next_ = 0;
  std::set<std::string> unsure_;
};

struct Delivery {
  std::string id;
  std::string record;
  int attempt = 0;
  std::string replica;
};

// Every delivery to one consumer group, from all its members.
class Group {
 public:
  void Add(Delivery d) {
    std::lock_guard<std::mutex> lock(mu_);
    deliveries_.push_back(std::move(d));
  }
  std::vector<Delivery> deliveries() {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }
  std::set<std::string> records() {
    std::set<std::string> out;
    for (const Delivery& d : deliveries()) out.insert(d.record);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Delivery> deliveries_;
};

// A member of a group on one replica: acknowledges each event at once, until
// its stream ends (the replica died, or after the half-close of Stop()).
class Member {
 public:
  Member(Process& replica, const std::string& name, const std::string& group, Group* tally)
      : sub_(grpc::CreateChannel(replica.address(), grpc::InsecureChannelCredentials()), group, {kAdd}, "",
             pb::EVENT_SOURCE_ONLINE),
        thread_([this, name, tally] {
          while (std::optional<pb::QueuedEvent> e = sub_.Next()) {
            tally->Add({e->delivery_id(), e->record_id(), e->attempt(), name});
            std::lock_guard<std::mutex> lock(write_mu_);
            if (!closed_) sub_.Ack({e->delivery_id()});
          }
        }) {}
  ~Member() {
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      closed_ = true;
      sub_.CloseWrites();
    }
    thread_.join();
    sub_.Finish();
  }

 private:
  Subscriber sub_;
  std::mutex write_mu_;  // one writer at a time: the acks or the half-close
  bool closed_ = false;
  std::thread thread_;
};

struct Cluster {
  std::unique_ptr<RedisServer> redis;
  std::unique_ptr<Relay> relay;
  std::unique_ptr<Stack> stack;                     // replica "a"
  std::map<std::string, std::unique_ptr<Process>> more;  // "b", "c"
  Process& replica(const std::string& name) { return name == "a" ? stack->gateway() : *more[name]; }
};

// Redis with an append-only file, the relay, and three replicas bound to
// the relay's URL; every replica's endpoint behind the relay.
std::unique_ptr<Cluster> StartCluster() {
  auto c = std::make_unique<Cluster>();
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start(testing::TempDir());
  EXPECT_TRUE(redis.ok()) << redis.status();
  if (!redis.ok()) return nullptr;
  c->redis = std::move(*redis);
  c->relay = std::make_unique<Relay>();
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits",     "--cost-zero", "--application-token", kToken, "--event-delay", "0",
                         "--event-senders", "4",           "--event-retries",     "200"};
  GatewaySpec gateway;
  gateway.portal = {{"application_token", kToken}, {"burst", 1000}, {"drain_per_second", 1000}};
  gateway.extra_args = {"--redis", c->redis->url(), "--replicas", "3", "--events-listen", "127.0.0.1:0",
                        "--events-public-url", c->relay->url(), "--events-visibility-timeout", "5s",
                        "--metrics-listen", "127.0.0.1:0"};
  c->stack = Up(emulator, gateway);
  if (!c->stack) return nullptr;
  std::vector<std::string> endpoints = {PrintedAddress(c->stack->gateway(), "events")};
  for (const char* name : {"b", "c"}) {
    absl::StatusOr<std::unique_ptr<Process>> replica = c->stack->StartReplica();
    EXPECT_TRUE(replica.ok()) << replica.status();
    if (!replica.ok()) return nullptr;
    endpoints.push_back(PrintedAddress(**replica, "events"));
    c->more[name] = std::move(*replica);
  }
  c->relay->SetBackends(endpoints);
  return c;
}

RedisClient Client(RedisServer& redis) {
  RedisOptions options;
  options.address = *ParseRedisUrl(redis.url());
  options.command_timeout = absl::Seconds(2);
  return RedisClient(options, Clock::Real());
}

// The Redis consumer groups of the portal's stream.
std::set<std::string> GroupsIn(RedisServer& redis) {
  RedisClient client = Client(redis);
  absl::StatusOr<RedisReply> groups = client.Command({"XINFO", "GROUPS", "b24gate:events:{main}"});
  std::set<std::string> names;
  if (!groups.ok()) return names;
  for (const RedisReply& g : groups->elements) {
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      if (g.elements[i].str == "name") names.insert(g.elements[i + 1].str);
    }
  }
  return names;
}

int64_t PendingIn(RedisServer& redis, const std::string& group) {
  RedisClient client = Client(redis);
  absl::StatusOr<RedisReply> pending = client.Command({"XPENDING", "b24gate:events:{main}", group});
  return pending.ok() && !pending->elements.empty() ? pending->elements[0].AsInt(-1) : -1;
}

// Waits until ONCRMDEALADD is bound exactly once, to `handler`'s URLs.
bool BoundOnce(Stack& stack, const std::string& handler) {
  return testing::WaitFor([&] {
    json bound = stack.Rest("event.get", json::object());
    if (!bound.is_object() || !bound["result"].is_array()) return false;
    size_t found = 0, ours = 0;
    for (const json& b : bound["result"]) {
      if (b["event"] != kAdd) continue;
      ++found;
      ours += b.value("handler", "").rfind(handler, 0) == 0 ? 1 : 0;
    }
    return found == 1 && ours == 1;
  });
}

// A genuine post of ONCRMDEALADD for deal `record`.
std::string Form(const std::string& record) {
  return "event=ONCRMDEALADD&event_handler_id=1&" + std::string(kRecordField) + record +
         "&ts=1700000000&auth%5Bmember_id%5D=m&auth%5Bapplication_token%5D=" + kToken;
}

// `n` deals written straight to the portal; their ids.
std::set<std::string> Write(Stack& stack, int n, const std::string& title) {
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    json added = stack.Rest("crm.deal.add", {{"fields", {{"TITLE", title + std::to_string(i)}}}});
    EXPECT_TRUE(added.is_object() && added.contains("result")) << added.dump();
    if (added.is_object() && added.contains("result")) ids.insert(added["result"].dump());
  }
  return ids;
}

// Checks one group's deliveries: every record arrived; a record under two
// delivery ids only when its post was unsure; a delivery id twice only as a
// redelivery (attempt above the first) of one first held by `killed`.
void ExpectNothingLostNoStrayDuplicates(const std::string& group, Group& tally,
                                        const std::set<std::string>& written,
                                        const std::set<std::string>& unsure, const std::string& killed) {
  std::map<std::string, std::set<std::string>> ids_of_record;
  std::map<std::string, std::vector<Delivery>> by_id;
  for (const Delivery& d : tally.deliveries()) {
    ids_of_record[d.record].insert(d.id);
    by_id[d.id].push_back(d);
  }
  for (const std::string& record : written) {
    EXPECT_EQ(ids_of_record.count(record), 1u) << group << ": record " << record << " never delivered";
  }
  for (const auto& [record, ids] : ids_of_record) {
    if (ids.size() > 1) EXPECT_EQ(unsure.count(record), 1u) << group << ": record " << record << " stored twice";
  }
  int redelivered = 0;
  for (const auto& [id, ds] : by_id) {
    for (size_t i = 1; i < ds.size(); ++i) {
      ++redelivered;
      EXPECT_EQ(ds[0].replica, killed) << group << ": " << id << " delivered again though acknowledged";
      EXPECT_GT(ds[i].attempt, ds[i - 1].attempt) << group << ": " << id;
    }
  }
  std::printf("%s: %zu deliveries of %zu records, %d redelivered\n", group.c_str(), tally.deliveries().size(),
              ids_of_record.size(), redelivered);
}

TEST(RedisEvents, ThreeReplicasLoseNothingWhenAReplicaAndThenRedisAreKilled) {
  constexpr int kPhase = 300;
  std::unique_ptr<Cluster> c = StartCluster();
  ASSERT_TRUE(c);
  std::map<std::string, Group> groups;
  std::vector<std::unique_ptr<Member>> members;
  for (const char* g : {"billing", "search"}) {
    for (const char* r : {"b", "c"}) {
      members.push_back(std::make_unique<Member>(c->replica(r), r, g, &groups[g]));
    }
  }
  ASSERT_TRUE(BoundOnce(*c->stack, c->relay->url())) << "one binding, the relay's, for every replica";
  ASSERT_TRUE(testing::WaitFor([&] { return GroupsIn(*c->redis) == std::set<std::string>{"billing", "search"}; }));

  std::set<std::string> written = Write(*c->stack, kPhase, "before");
  ASSERT_EQ(c->more["b"]->StopWith(SIGKILL), 128 + SIGKILL);
  // Its members' clients fail over to replica a, as a client would.
  for (const char* g : {"billing", "search"}) {
    members.push_back(std::make_unique<Member>(c->replica("a"), "a", g, &groups[g]));
  }
  std::set<std::string> more = Write(*c->stack, kPhase, "after-replica");
  written.insert(more.begin(), more.end());
  ASSERT_TRUE(c->redis->Restart().ok());
  more = Write(*c->stack, kPhase, "after-redis");
  written.insert(more.begin(), more.end());
  ASSERT_EQ(written.size(), static_cast<size_t>(3 * kPhase));

  // The members still read: what the killed replica held comes back to
  // them after the visibility timeout, and is acknowledged.
  for (auto& [name, tally] : groups) {
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          std::set<std::string> seen = tally.records();
          return std::includes(seen.begin(), seen.end(), written.begin(), written.end());
        },
        90))
        << name << ": " << tally.records().size() << " of " << written.size() << " records";
    EXPECT_TRUE(testing::WaitFor([&] { return PendingIn(*c->redis, name) == 0; }))
        << name << ": " << PendingIn(*c->redis, name) << " deliveries never acknowledged in Redis";
  }
  members.clear();
  for (auto& [name, tally] : groups) {
    ExpectNothingLostNoStrayDuplicates(name, tally, written, c->relay->unsure(), "b");
  }
}

TEST(RedisEvents, WithRedisAwayAPostIsAnswered503AndKeptNowhere) {
  std::unique_ptr<Cluster> c = StartCluster();
  ASSERT_TRUE(c);
  Group billing;
  {
    Member member(c->replica("c"), "c", "billing", &billing);
    ASSERT_TRUE(BoundOnce(*c->stack, c->relay->url()));
    ASSERT_TRUE(testing::WaitFor([&] { return GroupsIn(*c->redis).count("billing") == 1; }));
  }
  httplib::Client client("http://" + PrintedAddress(c->stack->gateway(), "events"));
  c->redis->Kill();
  httplib::Result refused = client.Post("/events/main", Form("777001"), "application/x-www-form-urlencoded");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  // Redis back with its file (the group), and the next post taken.
  ASSERT_TRUE(c->redis->Restart().ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    httplib::Result res = client.Post("/events/main", Form("777002"), "application/x-www-form-urlencoded");
    return res && res->status == 200;
  }));
  Member again(c->replica("a"), "a", "billing", &billing);
  ASSERT_TRUE(testing::WaitFor([&] { return !billing.deliveries().empty(); }));
  EXPECT_EQ(billing.records(), std::set<std::string>{"777002"}) << "the refused post was kept";
}

}  // namespace
}  // namespace b24gate::e2e::redis_events_test
