// The inbound endpoint against slow, idle and oversized requests, end to
// end, over raw sockets to a real gateway's --events-listen:
//
//   - kSlow connections are opened and held (a third idle, a third sending
//     their headers a byte at a time, a third their body) while good posts
//     are sent, each on a connection of its own: every good post is answered
//     200 and delivered exactly once, and every slow connection is cut by
//     the gateway (its headers' or its body's time ran out) and counted
//     under `slow`;
//   - with the gateway's 512 connections open, one more is answered 503 and
//     counted under `busy`, and posts are taken again once they close;
//   - a request line or headers over 8 KiB, or over 64 headers, are answered
//     431 and counted under `headers_too_large`; a post with headers within
//     the bound is taken.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/event_helpers.h"
#include "tests/e2e/raw_http.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::inbound_slow_test {
namespace {

constexpr int kSlow = 200;
constexpr int kGood = 60;
constexpr int kSenders = 6;
// The gateway's bound on open connections.
constexpr int kMaxConnections = 512;
// A good post not answered in this long never will be: the slow ones hold
// the endpoint. (A failure detector, not a speed: the gateway answers at
// once.)
constexpr int kGiveUpSeconds = 60;

// A connection held open: it sends `start` at once, then `trickle` a byte
// at a time until the gateway cuts it.
struct Slow {
  int fd = -1;
  std::string trickle;
  size_t sent = 0;
  bool cut = false;
};

std::vector<Slow> OpenSlow(const std::string& address) {
  const std::string form = InboundForm("slow");
  std::vector<Slow> slow(kSlow);
  for (int i = 0; i < kSlow; ++i) {
    Slow& s = slow[i];
    s.fd = Connect(address);
    std::string start;
    if (i % 3 == 1) {  // headers, a byte at a time
      start = "POST /events/main HTTP/1.1\r\nHost: gateway\r\n";
      s.trickle = "X-Slow: " + std::string(4000, 'x');
    } else if (i % 3 == 2) {  // the body, a byte at a time
      start =
          absl::StrCat("POST /events/main HTTP/1.1\r\nHost: gateway\r\n",
                       "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 8000\r\n\r\n", form);
      s.trickle = "&pad=" + std::string(8000, 'x');
    }
    if (s.fd >= 0 && !start.empty()) send(s.fd, start.data(), start.size(), MSG_NOSIGNAL);
  }
  return slow;
}

// Reads what the gateway sent `s`; whether it has closed the connection.
bool Closed(Slow& s) {
  char buf[512];
  for (;;) {
    const ssize_t n = recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
}

// One byte to each slow connection every 200 ms, until the gateway has cut
// them all or `stop` is set.
void Trickle(std::vector<Slow>& slow, std::atomic<int>& cut, const std::atomic<bool>& stop) {
  while (!stop && cut < kSlow) {
    for (Slow& s : slow) {
      if (s.cut) continue;
      bool closed = Closed(s);
      if (!closed && s.sent < s.trickle.size()) {
        closed = send(s.fd, s.trickle.data() + s.sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN;
        ++s.sent;
      }
      if (closed) {
        s.cut = true;
        ++cut;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// kGood posts, records 1..kGood, from kSenders threads; their statuses.
// The senders stop at the first post not answered 200.
std::map<int, int> SendGood(const std::string& address) {
  std::map<int, int> statuses;
  std::mutex mu;
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&] {
      for (int i; !failed && (i = next++) < kGood;) {
        const int status = Exchange(address, Post("/events/main", InboundForm(std::to_string(i + 1))),
                                    /*hang_up=*/false, kGiveUpSeconds);
        if (status != 200) failed = true;
        std::lock_guard<std::mutex> lock(mu);
        ++statuses[status];
      }
    });
  }
  for (std::thread& t : senders) t.join();
  return statuses;
}

double Refused(Process& gw, const std::string& reason) {
  return std::max(0.0, Metric(gw, absl::StrCat("b24gate_events_refused_total{reason=\"", reason, "\"}")));
}

TEST(InboundSlow, GoodPostsAreTakenWhileSlowConnectionsAreHeldAndTheSlowOnesAreCutAndCounted) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  ASSERT_TRUE(Introduce(stack->channel(), "billing").ok());
  const std::string address = PrintedAddress(stack->gateway(), "events");
  ASSERT_FALSE(address.empty());
  Subscriber member(stack->channel(), "billing", {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
  std::map<std::string, int> deliveries;  // by record
  std::thread reader([&] {
    while (std::optional<pb::QueuedEvent> e = member.Next()) {
      ++deliveries[e->record_id()];
      if (!member.Ack({e->delivery_id()})) break;
    }
  });

  std::vector<Slow> slow = OpenSlow(address);
  for (const Slow& s : slow) ASSERT_GE(s.fd, 0);
  std::atomic<int> cut{0};
  std::atomic<bool> stop{false};
  std::thread trickler([&] { Trickle(slow, cut, stop); });
  const std::map<int, int> statuses = SendGood(address);
  std::printf("%d good posts answered with %d slow connections open (%d of them cut by then)\n", kGood, kSlow,
              cut.load());
  EXPECT_EQ(statuses, (std::map<int, int>{{200, kGood}}))
      << "status -1: no answer within " << kGiveUpSeconds << " s";

  // The slow ones end: the gateway cuts each (nothing the test does ends
  // them before `stop`).
  EXPECT_TRUE(testing::WaitFor([&] { return cut == kSlow; }, 120)) << cut << " of " << kSlow << " cut";
  stop = true;
  trickler.join();
  for (const Slow& s : slow) close(s.fd);

  Process& gw = stack->gateway();
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Metric(gw, "b24gate_events_acknowledged_total{portal=\"main\"}") >= kGood; }, 60));
  member.Cancel();
  reader.join();
  EXPECT_EQ(deliveries.size(), static_cast<size_t>(kGood)) << "every good post, no slow one";
  for (const auto& [record, n] : deliveries) EXPECT_EQ(n, 1) << "record " << record;
  EXPECT_EQ(Metric(gw, "b24gate_events_delivered_total{portal=\"main\"}"), kGood) << "nothing delivered twice";
  EXPECT_EQ(Refused(gw, "slow"), kSlow);
}

TEST(InboundSlow, AConnectionOverTheBoundIsRefusedBusyAndPostsAreTakenOnceTheOthersClose) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  const std::string address = PrintedAddress(stack->gateway(), "events");
  ASSERT_FALSE(address.empty());
  Process& gw = stack->gateway();
  std::vector<int> idle;
  for (int i = 0; i < kMaxConnections; ++i) idle.push_back(Connect(address));
  for (int fd : idle) ASSERT_GE(fd, 0);
  // Accepted connections are counted as the gateway takes them: wait until
  // it has taken all of them, by its answer to one more.
  int busy = -1;
  EXPECT_TRUE(testing::WaitFor(
      [&] { return (busy = Exchange(address, Raw{}, /*hang_up=*/false, /*give_up_seconds=*/5)) == 503; }, 30))
      << "one more connection answered " << busy;
  EXPECT_GE(Refused(gw, "busy"), 1);
  for (int fd : idle) close(fd);
  int status = -1;
  EXPECT_TRUE(testing::WaitFor(
      [&] { return (status = Exchange(address, Post("/events/main", InboundForm("1")))) == 200; }, 30))
      << "answered " << status;
  EXPECT_EQ(Refused(gw, "slow"), 0) << "a connection closed by its peer is not cut";
}

TEST(InboundSlow, OversizedRequestLinesAndHeadersAreRefusedAndCounted) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  const std::string address = PrintedAddress(stack->gateway(), "events");
  ASSERT_FALSE(address.empty());
  Process& gw = stack->gateway();
  const std::string form = InboundForm("1");
  // A post with `more` headers between the request line and the rest.
  auto with = [&](const std::string& more, const std::string& target = "/events/main") {
    return Raw{absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: gateway\r\n", more,
                            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ", form.size(),
                            "\r\n\r\n", form)};
  };
  std::string many;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&many, "X-Header-", i, ": ", i, "\r\n");
  EXPECT_EQ(Exchange(address, with("X-Big: " + std::string(9000, 'x') + "\r\n")), 431) << "one header of 9 KB";
  EXPECT_EQ(Exchange(address, with(many)), 431) << "100 headers";
  EXPECT_EQ(Exchange(address, with("", "/events/main?" + std::string(9000, 'q'))), 431) << "a 9 KB request line";
  EXPECT_EQ(Refused(gw, "headers_too_large"), 3);
  EXPECT_EQ(Exchange(address, with("X-Big: " + std::string(4000, 'x') + "\r\n")), 200) << "headers within 8 KiB";
  EXPECT_EQ(Metric(gw, "b24gate_events_received_total{portal=\"main\",source=\"inbound\"}"), 1);
}

}  // namespace
}  // namespace b24gate::e2e::inbound_slow_test
