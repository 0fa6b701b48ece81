// The inbound endpoint under hostile input, end to end. The test posts to a
// real gateway's --events-listen over raw sockets, a connection per post, at
// about 1,000 posts a second for a few seconds: half of them genuine events,
// the other half, in turn, forged (a wrong or missing application_token),
// addressed to a portal the gateway does not have (by member_id, by domain),
// cut short (the connection closed before the Content-Length or the last
// chunk arrived), cut mid-field, oversized (by Content-Length, chunked, or
// inflating past the limit), or not a form (JSON, multipart). Two streams of
// one consumer group read and acknowledge meanwhile. Every bad post is
// refused (its 4xx, if the sender is still there to hear it), counted under
// its reason, stored nowhere and delivered to nobody; every good one is
// answered 200 and delivered exactly once to the group.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/event_helpers.h"
#include "tests/e2e/raw_http.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::inbound_hostile_test {
namespace {

constexpr double kPostsPerSecond = 1000;
constexpr int kPosts = 4000;
constexpr int kSenders = 8;
// Bad posts name records of this prefix: it must appear neither in a
// delivery nor anywhere in the events log.
constexpr char kBadPrefix[] = "forged-";

// `form` with a field of `n` more bytes.
std::string Padded(const std::string& form, size_t n) {
  return form + "&data%5BPAD%5D=" + std::string(n, 'x');
}

// `body` in chunks of 4 KiB; without the last (empty) chunk when `cut`.
Raw Chunked(const std::string& body, bool cut = false) {
  std::string raw =
      "POST /events/main HTTP/1.1\r\nHost: gateway\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += 4096) {
    const std::string chunk = body.substr(at, 4096);
    std::ostringstream size;
    size << std::hex << chunk.size();
    absl::StrAppend(&raw, size.str(), "\r\n", chunk, "\r\n");
  }
  if (!cut) raw += "0\r\n\r\n";
  return {raw};
}

// `body` compressed (Content-Encoding: deflate, zlib's format).
Raw Deflated(const std::string& body) {
  uLongf size = compressBound(body.size());
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(body.data()),
            body.size(), Z_BEST_COMPRESSION);
  packed.resize(size);
  Raw raw = Post("/events/main", packed);
  raw.bytes.insert(raw.bytes.find("Content-Length"), "Content-Encoding: deflate\r\n");
  return raw;
}

std::string Multipart(const std::string& record) {
  std::string body;
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"auth[application_token]", kApplicationToken}, {"event", "ONCRMDEALADD"}, {"data[FIELDS][ID]", record}};
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&body, "--b0undary\r\nContent-Disposition: form-data; name=\"", name, "\"\r\n\r\n",
                    value, "\r\n");
  }
  return body + "--b0undary--\r\n";
}

// What a post of each kind is, what it must be answered, and the reason it
// must be counted under ("" for the good one). A sender that hangs up
// (closes its side after sending) may get no answer at all.
struct Kind {
  const char* name;
  int status;
  const char* reason;
  Raw (*make)(const std::string& record);
  bool hangs_up = false;
};

const std::vector<Kind>& Kinds() {
  static const auto* kinds = new std::vector<Kind>{
      {"good", 200, "", [](const std::string& r) { return Post("/events/main", InboundForm(r)); }},
      {"wrong token", 403, "bad_token",
       [](const std::string& r) { return Post("/events/main", InboundForm(r, "forged-token")); }},
      {"no token", 403, "bad_token",
       [](const std::string& r) { return Post("/events/main", InboundForm(r, "")); }},
      {"unknown member_id", 404, "unknown_portal",
       [](const std::string& r) { return Post("/events/0123456789abcdef0123456789abcdef", InboundForm(r)); }},
      {"unknown domain", 404, "unknown_portal",
       [](const std::string& r) { return Post("/events/nosuch.bitrix24.com", InboundForm(r)); }},
      {"connection closed before Content-Length", 400, "truncated",
       [](const std::string& r) {
         Raw raw = Post("/events/main", InboundForm(r));
         raw.send = raw.bytes.size() - 20;  // mid-field
         return raw;
       },
       /*hangs_up=*/true},
      {"connection closed before the last chunk", 400, "truncated",
       [](const std::string& r) { return Chunked(InboundForm(r), /*cut=*/true); }, /*hangs_up=*/true},
      {"form cut mid-field", 400, "malformed",
       [](const std::string& r) { return Post("/events/main", InboundForm(r) + "&data%5BFIELDS%5D%5BTITLE%5"); }},
      {"Content-Length over 64 KiB", 413, "too_large",
       [](const std::string& r) { return Post("/events/main", Padded(InboundForm(r), 70000)); }},
      {"chunked over 64 KiB", 413, "too_large",
       [](const std::string& r) { return Chunked(Padded(InboundForm(r), 70000)); }},
      {"1 MiB deflated to 1 KiB", 413, "too_large",
       [](const std::string&) {
         // Compressed once: the record does not matter, the prefix does.
         static const auto* raw = new Raw(Deflated(Padded(InboundForm(kBadPrefix), 1 << 20)));
         return *raw;
       }},
      {"JSON", 415, "malformed",
       [](const std::string& r) {
         const std::string json = absl::StrCat(R"({"event":"ONCRMDEALADD","data":{"FIELDS":{"ID":")", r,
                                               R"("}},"auth":{"application_token":")", kApplicationToken, "\"}}");
         return Post("/events/main", json, "application/json");
       }},
      {"multipart", 415, "malformed",
       [](const std::string& r) {
         return Post("/events/main", Multipart(r), "multipart/form-data; boundary=b0undary");
       }},
  };
  return *kinds;
}

// Post `i`: every other one good, the others each bad kind in turn.
size_t KindOf(int i) { return i % 2 == 0 ? 0 : 1 + (i / 2) % (Kinds().size() - 1); }

std::string RecordOf(int i) { return KindOf(i) == 0 ? std::to_string(i + 1) : absl::StrCat(kBadPrefix, i); }

// The statuses each kind was answered (kind -> status -> posts).
using Answers = std::map<size_t, std::map<int, int>>;

// kPosts posts from kSenders threads, post i due at i / kPostsPerSecond.
Answers SendAll(const std::string& address) {
  Answers answers;
  std::mutex mu;
  std::atomic<int> next{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&] {
      for (int i; (i = next++) < kPosts;) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(
                                                  static_cast<int64_t>(i * 1e6 / kPostsPerSecond)));
        const Kind& kind = Kinds()[KindOf(i)];
        const int status = Exchange(address, kind.make(RecordOf(i)), kind.hangs_up);
        std::lock_guard<std::mutex> lock(mu);
        ++answers[KindOf(i)][status];
      }
    });
  }
  for (std::thread& t : senders) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d posts (%d good) from %d senders in %.2f s: %.0f posts/s (aimed at %.0f)\n", kPosts,
              (kPosts + 1) / 2, kSenders, seconds, kPosts / seconds, kPostsPerSecond);
  return answers;
}

// Every file of the events log, concatenated.
std::string LogText(const std::string& dir) {
  std::string text;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return text;
}

TEST(InboundHostile, BadPostsAreRefusedCountedAndStoredNowhereGoodOnesDeliveredExactlyOnce) {
  OnlineEventsOptions options;
  options.events_log = testing::TempDir();
  auto stack = OnlineEventsStack(options);
  ASSERT_TRUE(stack);
  ASSERT_TRUE(Introduce(stack->channel(), "billing").ok());
  const std::string address = PrintedAddress(stack->gateway(), "events");
  ASSERT_FALSE(address.empty());

  // Two members of the group, each acknowledging what it gets.
  std::mutex mu;
  std::map<std::string, int> deliveries;  // by record
  std::map<std::string, int> by_delivery_id;
  std::vector<std::unique_ptr<Subscriber>> members;
  std::vector<std::thread> readers;
  for (int m = 0; m < 2; ++m) {
    members.push_back(
        std::make_unique<Subscriber>(stack->channel(), "billing", std::vector<std::string>{kAdd}, "",
                                     pb::EVENT_SOURCE_ONLINE));
    readers.emplace_back([&, member = members.back().get()] {
      while (std::optional<pb::QueuedEvent> e = member->Next()) {
        {
          std::lock_guard<std::mutex> lock(mu);
          ++deliveries[e->record_id()];
          ++by_delivery_id[e->delivery_id()];
        }
        if (!member->Ack({e->delivery_id()})) break;
      }
    });
  }

  const Answers answers = SendAll(address);
  std::map<std::string, int> expected_refused;
  int good = 0;
  for (const auto& [kind, statuses] : answers) {
    const Kind& k = Kinds()[kind];
    for (const auto& [status, n] : statuses) {
      EXPECT_TRUE(status == k.status || (k.hangs_up && status == -1))
          << n << " posts of kind \"" << k.name << "\" answered " << status;
      if (kind == 0) {
        good += n;
      } else {
        expected_refused[k.reason] += n;
      }
    }
  }
  ASSERT_EQ(good, (kPosts + 1) / 2);

  Process& gw = stack->gateway();
  const std::string portal = "{portal=\"main\"}";
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Metric(gw, "b24gate_events_acknowledged_total" + portal) >= good; }, 120))
      << "acknowledged: " << Metric(gw, "b24gate_events_acknowledged_total" + portal) << " of " << good;
  for (auto& member : members) member->Cancel();
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(deliveries.size(), static_cast<size_t>(good)) << "every good post, none of the bad";
  for (const auto& [record, n] : deliveries) {
    EXPECT_EQ(record.rfind(kBadPrefix, 0), std::string::npos) << "a bad post was delivered: " << record;
    EXPECT_EQ(n, 1) << "record " << record;
  }
  EXPECT_EQ(by_delivery_id.size(), static_cast<size_t>(good));
  EXPECT_EQ(Metric(gw, "b24gate_events_received_total{portal=\"main\",source=\"inbound\"}"), good);
  EXPECT_EQ(Metric(gw, "b24gate_events_delivered_total" + portal), good) << "nothing delivered twice";
  EXPECT_EQ(Metric(gw, "b24gate_events_acknowledged_total" + portal), good);
  for (const char* reason : {"bad_token", "unknown_portal", "truncated", "malformed", "too_large"}) {
    const std::string series = absl::StrCat("b24gate_events_refused_total{reason=\"", reason, "\"}");
    EXPECT_EQ(std::max(0.0, Metric(gw, series)), expected_refused[reason]) << reason;
  }
  EXPECT_EQ(LogText(options.events_log).find(kBadPrefix), std::string::npos)
      << "a bad post is in the events log";
}

}  // namespace
}  // namespace b24gate::e2e::inbound_hostile_test
