// Helpers of the EventService e2e tests: a stack with online events, a
// synchronous Subscribe stream, a consumer group's member on a thread of its
// own, and the gateway's metrics (header-only; not a test).
#ifndef B24GATE_TESTS_E2E_EVENT_HELPERS_H_
#define B24GATE_TESTS_E2E_EVENT_HELPERS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bitrix24/gateway/v1/events.grpc.pb.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e {

constexpr char kAdd[] = "ONCRMDEALADD";
constexpr char kUpdate[] = "ONCRMDEALUPDATE";
// The application token the emulator signs its event posts with.
constexpr char kApplicationToken[] = "e2e-application-token-7f3a";

struct OnlineEventsOptions {
  // Emulator threads posting events: with one, the posts arrive in the
  // order of the changes.
  int event_senders = 1;
  // More gateway flags, e.g. {"--events-visibility-timeout", "5s"}.
  std::vector<std::string> gateway_args;
  // The event log's directory; "": a fresh one.
  std::string events_log;
};

// The emulator (no limits, posting each online event at once after its
// change, signed with kApplicationToken) and a gateway with the inbound
// endpoint, an on-disk event log in a fresh directory (a replica the stack
// starts reads the same one) and /metrics. Neither side throttles.
inline std::unique_ptr<Stack> OnlineEventsStack(const OnlineEventsOptions& options = {}) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero", "--application-token", kApplicationToken,
                         "--event-delay", "0", "--event-senders", std::to_string(options.event_senders)};
  GatewaySpec gateway;
  gateway.portal = {{"application_token", kApplicationToken}, {"burst", 1000}, {"drain_per_second", 1000}};
  gateway.extra_args = {"--events-listen", "127.0.0.1:0", "--events-log",
                        options.events_log.empty() ? testing::TempDir() : options.events_log,
                        "--metrics-listen", "127.0.0.1:0"};
  for (const std::string& arg : options.gateway_args) gateway.extra_args.push_back(arg);
  return Up(emulator, gateway);
}

// One Subscribe stream, driven synchronously.
class Subscriber {
 public:
  Subscriber(std::shared_ptr<grpc::Channel> channel, const std::string& consumer,
             std::vector<std::string> events = {kAdd, kUpdate},
             const std::string& auth_connector = "",
             pb::EventSource source = pb::EVENT_SOURCE_UNSPECIFIED, bool enrich = false)
      : stub_(pb::EventService::NewStub(channel)), ctx_(Ctx(120)) {
    stream_ = stub_->Subscribe(ctx_.get());
    pb::SubscribeRequest start;
    start.mutable_start()->set_consumer(consumer);
    start.mutable_start()->set_auth_connector(auth_connector);
    start.mutable_start()->set_source(source);
    start.mutable_start()->set_enrich(enrich);
    for (const std::string& e : events) start.mutable_start()->add_events(e);
    written_ = stream_->Write(start);
  }
  ~Subscriber() {
    if (!finished_) Drop();
  }

  // The next event; nullopt when the stream ended (see Finish()).
  std::optional<pb::QueuedEvent> Next() {
    pb::SubscribeResponse response;
    if (!written_ || !stream_->Read(&response)) return std::nullopt;
    return response.event();
  }
  std::vector<pb::QueuedEvent> Take(size_t n) {
    std::vector<pb::QueuedEvent> out;
    while (out.size() < n) {
      std::optional<pb::QueuedEvent> e = Next();
      if (!e) break;
      out.push_back(*e);
    }
    return out;
  }
  bool Ack(const std::vector<std::string>& ids) {
    pb::SubscribeRequest ack;
    for (const std::string& id : ids) ack.mutable_ack()->add_delivery_ids(id);
    return stream_->Write(ack);
  }
  // Ends our side of the stream (a half-close): the gateway reads every
  // acknowledgement written before it, then ends the stream. May be called
  // from another thread than the one reading, not with a concurrent Ack.
  void CloseWrites() {
    writes_done_ = true;
    stream_->WritesDone();
  }
  // Ends the stream from any thread, also while another one waits in Next()
  // (which then returns nullopt). Unlike Drop(), leaves Finish() to the
  // reading thread's owner.
  void Cancel() { ctx_->TryCancel(); }
  // The client goes away without a word (like a crash).
  void Drop() {
    ctx_->TryCancel();
    Finish();
  }
  grpc::Status Finish() {
    finished_ = true;
    if (!writes_done_) stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<pb::EventService::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::SubscribeRequest, pb::SubscribeResponse>> stream_;
  bool written_ = false;
  bool finished_ = false;
  bool writes_done_ = false;
};

// Makes `consumer` known to the gateway (online events are kept for a
// consumer from its first stream on) with a stream that sends its start,
// ends its side and awaits the gateway's OK: the gateway reads the
// half-close only after the start, so the consumer is known when this
// returns. A stream that is merely opened, or cancelled, gives no such
// guarantee: its start may still be on its way when the test writes.
inline grpc::Status Introduce(std::shared_ptr<grpc::Channel> channel, const std::string& consumer,
                              std::vector<std::string> events = {kAdd}) {
  Subscriber sub(std::move(channel), consumer, std::move(events), "", pb::EVENT_SOURCE_ONLINE);
  return sub.Finish();
}

// One member of a consumer group (online by default): a stream read on its
// own thread, which
// acknowledges each event after `hold` (never when `ack` is false) and
// records what it received.
class GroupMember {
 public:
  struct Received {
    std::string delivery_id;
    std::string event;
    std::string record;
    int attempt = 0;
    int64_t received_tick = 0;  // GroupMember::Tick() when it arrived ...
    int64_t acked_tick = 0;     // ... and when it was acknowledged (0: not)
  };

  GroupMember(Stack& stack, const std::string& group, std::vector<std::string> events, bool ack,
              std::chrono::milliseconds hold = std::chrono::milliseconds(0),
              pb::EventSource source = pb::EVENT_SOURCE_ONLINE)
      : GroupMember(stack.channel(), group, std::move(events), ack, hold, source) {}
  // The same on `channel` (a replica's).
  GroupMember(std::shared_ptr<grpc::Channel> channel, const std::string& group, std::vector<std::string> events,
              bool ack, std::chrono::milliseconds hold, pb::EventSource source)
      : stub_(pb::EventService::NewStub(channel)), ctx_(Ctx(300)), ack_(ack), hold_(hold) {
    stream_ = stub_->Subscribe(ctx_.get());
    pb::SubscribeRequest start;
    start.mutable_start()->set_consumer(group);
    start.mutable_start()->set_source(source);
    for (const std::string& e : events) start.mutable_start()->add_events(e);
    if (stream_->Write(start)) thread_ = std::thread([this] { Run(); });
  }
  ~GroupMember() { Stop(); }

  // Ends the stream from our side unless the gateway has ended it; returns
  // how it ended.
  grpc::Status Stop() {
    if (stopped_) return ended_;
    stopped_ = true;
    if (running()) ctx_->TryCancel();
    if (thread_.joinable()) thread_.join();
    ended_ = stream_->Finish();
    return ended_;
  }
  bool running() {
    absl::MutexLock lock(&mu_);
    return !done_;
  }
  std::vector<Received> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return received_.size();
  }

 private:
  static int64_t Tick() {
    static std::atomic<int64_t> ticks{0};
    return ++ticks;
  }

  void Run() {
    pb::SubscribeResponse response;
    while (stream_->Read(&response)) {
      const pb::QueuedEvent& e = response.event();
      size_t index = 0;
      {
        absl::MutexLock lock(&mu_);
        received_.push_back({e.delivery_id(), e.event(), e.record_id(), e.attempt(), Tick(), 0});
        index = received_.size() - 1;
      }
      if (!ack_) continue;
      std::this_thread::sleep_for(hold_);
      {
        // Before the ack is sent: no other member can have the record's next
        // event before this tick.
        absl::MutexLock lock(&mu_);
        received_[index].acked_tick = Tick();
      }
      pb::SubscribeRequest request;
      request.mutable_ack()->add_delivery_ids(e.delivery_id());
      if (!stream_->Write(request)) break;
    }
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  std::unique_ptr<pb::EventService::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::SubscribeRequest, pb::SubscribeResponse>> stream_;
  const bool ack_;
  const std::chrono::milliseconds hold_;
  std::thread thread_;
  bool stopped_ = false;
  grpc::Status ended_;
  absl::Mutex mu_;
  std::vector<Received> received_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// What `members` received, member after member.
inline std::vector<GroupMember::Received> All(const std::vector<GroupMember*>& members) {
  std::vector<GroupMember::Received> all;
  for (GroupMember* m : members) {
    for (const GroupMember::Received& r : m->received()) all.push_back(r);
  }
  return all;
}

// The rows left in the emulator's offline queue.
inline size_t QueueLength(Stack& stack) {
  json list = stack.Rest("event.offline.list", json::object());
  return list.is_object() && list.contains("total") ? list["total"].get<size_t>() : 999999;
}

// A deal added through the gateway; its id (-1 on failure).
inline int64_t AddDeal(Stack& stack, const std::string& title, const std::string& auth_connector = "") {
  json params = {{"fields", {{"TITLE", title}}}};
  if (!auth_connector.empty()) params["auth_connector"] = auth_connector;
  CallOut out = Call1(stack, "crm.deal.add", params);
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();
  return out.status.ok() ? out.result().get<int64_t>() : -1;
}

// `n` deals added through the gateway, 1,000 to a CallMany; their ids.
inline std::set<std::string> AddDeals(Stack& stack, int n, const std::string& title) {
  std::set<std::string> ids;
  for (int done = 0; done < n; done += 1000) {
    std::vector<json> sets;
    for (int i = done; i < std::min(n, done + 1000); ++i) {
      sets.push_back({{"fields", {{"TITLE", title + std::to_string(i)}}}});
    }
    CallManyOut out = CallMany(stack, "crm.deal.add", sets);
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
    for (const pb::CallResult& r : out.results) {
      if (r.has_result()) ids.insert(std::to_string(static_cast<int64_t>(r.result().number_value())));
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(n));
  return ids;
}

// Waits until the portal has offline bindings for `events`.
inline bool Bound(Stack& stack, const std::vector<std::string>& events) {
  return testing::WaitFor([&] {
    json bound = stack.Rest("event.get", json::object());
    if (!bound.is_object() || !bound["result"].is_array()) return false;
    size_t found = 0;
    for (const std::string& e : events) {
      for (const json& b : bound["result"]) found += b["event"] == e ? 1 : 0;
    }
    return found == events.size();
  });
}

// The portal's online bindings to a gateway of the stack: how many of each
// event (offline bindings have no handler and are not counted).
inline std::map<std::string, size_t> OnlineBindings(Stack& stack) {
  std::map<std::string, size_t> found;
  json bound = stack.Rest("event.get", json::object());
  if (!bound.is_object() || !bound["result"].is_array()) return found;
  for (const json& b : bound["result"]) {
    if (b.value("handler", "").find("/events/main") != std::string::npos) ++found[b.value("event", "")];
  }
  return found;
}

// Waits until the online bindings are exactly `want`.
inline bool BoundOnline(Stack& stack, const std::map<std::string, size_t>& want) {
  return testing::WaitFor([&] { return OnlineBindings(stack) == want; });
}

// The HOST:PORT a gateway printed as "WHAT on HOST:PORT" ("events" for the
// inbound endpoint); waits up to 5 s for it, "" when none comes.
inline std::string PrintedAddress(Process& gateway, const std::string& what) {
  const std::string prefix = what + " on ";
  std::string address;
  testing::WaitFor(
      [&] {
        for (const std::string& line : gateway.lines()) {
          if (line.rfind(prefix, 0) == 0) address = line.substr(prefix.size());
        }
        return !address.empty();
      },
      5);
  return address;
}

inline std::vector<std::string> IdsOf(const std::vector<pb::QueuedEvent>& events) {
  std::vector<std::string> ids;
  for (const pb::QueuedEvent& e : events) ids.push_back(e.delivery_id());
  return ids;
}

// An online event's form as Bitrix24 posts it to the inbound endpoint, the
// token first (so that a body cut short still carries it) and the record
// last.
inline std::string InboundForm(const std::string& record, const std::string& token = kApplicationToken) {
  return absl::StrCat("auth%5Bapplication_token%5D=", token,
                      "&event=ONCRMDEALADD&event_handler_id=1&ts=1700000000",
                      "&auth%5Bdomain%5D=b24-emulator.test&auth%5Bmember_id%5D=m",
                      "&data%5BFIELDS%5D%5BID%5D=", record);
}

// A metric's value on the gateway's /metrics page (-1 when absent).
inline double Metric(Process& gateway, const std::string& series) {
  const std::string page = ScrapeMetrics(gateway);
  const size_t at = page.find(series + " ");
  return at == std::string::npos ? -1 : std::stod(page.substr(at + series.size() + 1));
}

// The offline queue is empty, and `members` (the streams of one offline
// group) have received and acknowledged every row the gateway stored from
// it (b24gate_events_received_total{source="offline"}, with /metrics).
inline bool Drained(Stack& stack, const std::vector<GroupMember*>& members) {
  std::set<std::string> acked;
  for (const GroupMember::Received& r : All(members)) {
    if (r.acked_tick == 0) return false;
    acked.insert(r.delivery_id);
  }
  if (QueueLength(stack) != 0) return false;
  return static_cast<double>(acked.size()) ==
         Metric(stack.gateway(), "b24gate_events_received_total{portal=\"main\",source=\"offline\"}");
}

// The number at the end of a delivery id ("offline-17": 17): the order in
// which the gateway stored the events.
inline int64_t SeqOf(const std::string& delivery_id) {
  return std::stoll(delivery_id.substr(delivery_id.rfind('-') + 1));
}

// Expects each delivery id once in `group` (the streams of one group), all
// at the first attempt; returns them.
inline std::set<std::string> ExpectEachOnce(const std::vector<GroupMember::Received>& group,
                                            const std::string& name) {
  std::map<std::string, int> times;
  for (const GroupMember::Received& r : group) {
    ++times[r.delivery_id];
    EXPECT_EQ(r.attempt, 1) << name << " " << r.delivery_id;
  }
  std::set<std::string> ids;
  for (const auto& [id, n] : times) {
    EXPECT_EQ(n, 1) << name << ": " << id << " delivered " << n << " times";
    ids.insert(id);
  }
  return ids;
}

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_EVENT_HELPERS_H_
