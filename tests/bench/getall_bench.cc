// GetAll speed and memory against a real b24-emulator and b24gate: one table
// row per run. Prints figures only; never asserts timing.
//
//   getall_bench list   --profile small|huge --leads N
//                       --strategy offset|keyset|parallel|v3|v3-keyset
//                       [--time-scale F] [--max-seconds S] [--unordered] [--header]
//                       [--offset-by-order] [--reads N]
//   getall_bench relay  --leads N [--calls N]      (emulator --no-limits --cost-zero)
//   getall_bench slow   --leads N [--time-scale F] [--reader-items-per-second R]
//                       [--full-rows]
//
// `list` reads the leads with `select ID,TITLE` on the standard plan and
// prints: simulated seconds (real seconds / F), items/s, HTTP requests, the
// emulator's peak bucket level and peak operating seconds of crm.lead.list,
// its 503 and 429 counts, the policy ceiling for the list and the fraction of
// it reached, the gateway's peak RSS during the run and the CPU (user plus
// system) it and the emulator used for the read (the emulator's includes
// answering the bench's stats polls, 10 a second), and the emulator's
// replies written more than 1 ms after they were due (arrival + modelled
// processing: time a real portal would not add) with the latest one's delay.
//
// The policy ceiling is the shortest time the portal's policy allows for the
// list, read as keyset pages (50 items, start=-1) chained 50 to a batch, the
// fewest requests there can be (no id-bounds probe, no count):
//   requests: ceil(pages / 50); the first 50 (the plan's burst) go at once,
//             the rest at the plan's drain rate (2/s), and the list is read
//             when the last one's pages have been processed: (requests - 50)
//             / 2 s + one batch's processing. The gateway's own headroom in
//             the bucket is its choice, not the policy's, so it is not
//             subtracted;
//   operating: pages x page cost; each window of 600 s allows the method
//             480 s (the policy's limit, again without the gateway's margin);
//   connections: at most max_concurrency requests (the gateway's setting, 8;
//             the policy sets none) are processed at once, and one batch of
//             50 pages runs back to back on the server: pages x page cost / 8.
// The slowest of the three is the ceiling; page cost is the profile's
// (small 10 ms + 50 x 100 us, huge 77 ms + 50 x 400 us).
//
// `--full-rows` reads every field (`select: ["*", "UF_*"]`) instead of
// ID and TITLE: rows about a hundred times wider, for the read-ahead's
// memory.
//
// `--strategy v3` reads N tasks instead, as a REST 3.0 list (tasks.task.list
// at /rest/api/, `select id,title`, pages of 1,000) the gateway's default way
// (v3_parallel_keyset: pieces of the id range side by side, their pages in
// REST 3.0 batches); `--strategy v3-keyset` as one chain of pages, one after
// another. Their ceiling is reckoned the same way for pages of 1,000 items,
// 50 to a request, except that the pages need not run back to back: the
// connections bind at their processing over 8, a page at least.
//
// `--reads N` reads the list N times with the same two processes, one row
// each ("first read", "read 2", ...). A fresh emulator and gateway make the
// first read pay for both processes' start (first-touch page faults, cold
// allocator and caches: a list batch costs a fresh emulator about four times
// a warm one's CPU), which a deployed gateway in front of a long-running
// portal does not; the later reads show the warm figure. Each later read
// starts idle like the first: the gateway's bucket model has drained what
// the last read spent (b24gate_bucket_level 0 on its /metrics) and the
// emulator's counters, bucket and operating time are reset. The gateway's
// other state (its record of the method's operating time, its connections
// and caches) is what the last read left, as on a deployed gateway. A later
// read's call thus comes after seconds with no call, as a deployed client's
// first call after a pause: it measures what such a call pays (gRPC's
// callback threads napped through it until service/callback_queue_waker.h;
// the emulator has closed the gateway's idle connections, which are opened
// again). The first read stays the headline figure.
//
// `--offset-by-order` reads the offset row with `order: {ID: DESC}`, which
// makes a gateway that predates the `strategy` field choose offset reading.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/percentile.h"

namespace b24gate::e2e {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Args {
  std::string mode;
  std::string profile = "small";
  int64_t leads = 20000;
  std::string strategy = "parallel";
  double time_scale = 1;
  double max_seconds = 600;
  bool unordered = false;
  bool header = false;
  bool offset_by_order = false;
  bool full_rows = false;
  int calls = 1000;
  double reader_items_per_second = 20000;
  int max_concurrency = 8;
  int reads = 1;
};

int Usage() {
  std::cerr << "usage: getall_bench list|relay|slow [--profile small|huge] [--leads N]\n"
               "  [--strategy offset|keyset|parallel|v3|v3-keyset] [--time-scale F] [--max-seconds S]\n"
               "  [--unordered] [--header] [--offset-by-order] [--calls N]\n"
               "  [--reader-items-per-second R] [--full-rows] [--reads N]\n";
  return 2;
}

// Peak resident set of `pid` since the last ResetPeakRss, in MiB.
double PeakRssMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

double RssMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
// User plus system CPU `pid` has used so far, in milliseconds (fields 14
// and 15 of /proc/<pid>/stat, after the parenthesised command name).
double CpuMs(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::atof(field.c_str());
  }
  return 1000.0 * ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void ResetPeakRss(pid_t pid) {
  std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5";
}

struct Profile {
  double base;
  double per_row;
};

Profile ProfileCost(const std::string& name) {
  if (name == "huge") return {0.077, 0.0004};
  return {0.010, 0.0001};
}

// The policy ceiling for `items` (see the file comment), in simulated seconds:
// classic pages of 50 items, or (`v3`) REST 3.0 pages of 1,000 items, 50 to
// a request.
double CeilingSeconds(int64_t items, const std::string& profile, int max_concurrency, bool v3) {
  const double burst = 50, drain = 2, operating_limit = 480, window = 600;
  const double page_items = v3 ? 1000 : 50, pages_per_request = 50;
  Profile p = ProfileCost(profile);
  double pages = std::ceil(items / page_items);
  double requests = std::ceil(pages / pages_per_request);
  double page_cost = p.base + page_items * p.per_row;
  double operating = pages * page_cost;
  // Classic pages chain 50 to a request, back to back; REST 3.0 pages of
  // pieces side by side need not share one, so the last may end a page in.
  double batch_seconds = v3 ? page_cost : std::min(pages, pages_per_request) * page_cost;
  double t_bucket = std::max(0.0, requests - burst) / drain + batch_seconds;
  double t_conn = std::max(batch_seconds, operating / max_concurrency);
  double t_operating = operating <= operating_limit
                           ? 0
                           : (std::ceil(operating / operating_limit) - 1) * window;
  return std::max({t_bucket, t_conn, t_operating});
}

GatewaySpec ScaledGateway(const Args& a) {
  const double f = a.time_scale;
  GatewaySpec g;
  g.portal = {{"burst", 50},
              {"drain_per_second", 2 / f},
              {"headroom", 1},
              {"operating_limit_seconds", 480 * f},
              {"operating_window_seconds", 600 * f},
              {"operating_margin_seconds", 60 * f},
              {"max_concurrency", a.max_concurrency},
              {"request_timeout_seconds", std::max(5.0, 70 * f)}};
  return g;
}

pb::ListStrategy StrategyOf(const std::string& name) {
  if (name == "offset") return pb::LIST_STRATEGY_OFFSET;
  if (name == "keyset" || name == "v3-keyset") return pb::LIST_STRATEGY_KEYSET;
  return pb::LIST_STRATEGY_PARALLEL_KEYSET;
}

struct ReadResult {
  grpc::Status status;
  int64_t items = 0;
  int64_t ordered_violations = 0;
  double seconds = 0;
  std::string summary_strategy;
};

// Reads the whole list through the gateway; `per_item_delay` slows the reader.
ReadResult ReadAll(Stack& stack, const Args& a, double max_seconds, double items_per_second = 0) {
  const bool v3 = absl::StartsWith(a.strategy, "v3");
  pb::GetAllRequest request;
  request.set_method(v3 ? "tasks.task.list" : "crm.lead.list");
  json params = {{"select", v3 ? json{"id", "title"} : json{"ID", "TITLE"}}};
  if (v3) request.set_api_version(pb::API_VERSION_V3);
  if (a.full_rows) params["select"] = {"*", "UF_*"};
  if (a.strategy == "offset" && a.offset_by_order) params["order"] = {{"ID", "DESC"}};
  *request.mutable_params() = S(params);
  request.set_strategy(StrategyOf(a.strategy));
  request.set_unordered(a.unordered);
  auto ctx = Ctx(max_seconds);
  ReadResult out;
  auto start = SteadyClock::now();
  auto reader = stack.stub().GetAll(ctx.get(), request);
  pb::GetAllResponse message;
  int64_t last_id = -1;
  while (reader->Read(&message)) {
    for (const auto& item : message.items()) {
      const auto& fields = item.struct_value().fields();
      int64_t id = v3 ? static_cast<int64_t>(fields.at("id").number_value())
                      : std::atoll(fields.at("ID").string_value().c_str());
      if (id <= last_id) out.ordered_violations++;
      last_id = id;
    }
    out.items += message.items_size();
    if (message.has_summary()) out.summary_strategy = message.summary().strategy();
    if (items_per_second > 0) {
      // A slow consumer: it takes this long to handle what it received.
      double due = out.items / items_per_second;
      auto at = start + std::chrono::duration_cast<SteadyClock::duration>(
                            std::chrono::duration<double>(due));
      std::this_thread::sleep_until(at);
    }
  }
  out.status = reader->Finish();
  out.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return out;
}

std::string Fmt(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One read of the list through `stack` (its emulator just reset): one table
// row, `label` after the strategy.
void ListRow(Stack& stack, const Args& a, const std::string& label) {
  const bool v3 = absl::StartsWith(a.strategy, "v3");
  pid_t gateway_pid = stack.gateway().pid();
  ResetPeakRss(gateway_pid);

  // Sample the emulator's operating seconds while the list is read.
  std::atomic<bool> stop{false};
  std::atomic<double> peak_operating{0};
  std::thread sampler([&] {
    while (!stop.load()) {
      json s = stack.EmulatorStats();
      if (s.is_object() && s["operating"].is_object()) {
        for (auto& [method, seconds] : s["operating"].items()) {
          if (seconds.is_number() && seconds.get<double>() > peak_operating.load()) {
            peak_operating.store(seconds.get<double>());
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const pid_t emulator_pid = stack.emulator().pid();
  const double emulator_cpu_before = CpuMs(emulator_pid);
  const double cpu_before = CpuMs(gateway_pid);
  ReadResult r = ReadAll(stack, a, a.max_seconds);
  const double gateway_cpu_ms = CpuMs(gateway_pid) - cpu_before;
  const double emulator_cpu_ms = CpuMs(emulator_pid) - emulator_cpu_before;
  stop.store(true);
  sampler.join();
  json stats = stack.EmulatorStats();
  double seconds = r.seconds / a.time_scale;
  double ceiling_seconds = CeilingSeconds(a.leads, a.profile, a.max_concurrency, v3);
  double items_per_second = r.items / seconds;
  double ceiling_rate = a.leads / ceiling_seconds;
  std::string result = r.status.ok() ? "ok" : absl::StrCat("stopped: ", r.status.error_message());
  if (r.status.error_code() == grpc::DEADLINE_EXCEEDED) {
    result = absl::StrCat("stopped after ", Fmt(a.max_seconds, 0), " s real, ", r.items, " items");
  }
  if (r.ordered_violations > 0 && !a.unordered) {
    result += absl::StrCat(", ", r.ordered_violations, " out of order");
  }
  if (r.status.ok() && r.items != a.leads) result += absl::StrCat(", ", r.items, " items!");
  const std::string strategy =
      absl::StrCat(a.strategy, v3 ? " (tasks)" : "", a.unordered ? " (unordered)" : "", label);
  std::printf("| %s | %lld | %s | %s | %s | %.0f | %lld | %.0f | %s | %lld | %lld | %.0f | %.0f%% | %.0f | %.0f | %.0f | %lld (%.1f) | %s |\n",
              a.profile.c_str(), static_cast<long long>(a.leads), strategy.c_str(),
              a.time_scale == 1 ? "real" : Fmt(a.time_scale, 2).c_str(),
              Fmt(seconds, 2).c_str(), items_per_second,
              static_cast<long long>(StatInt(stats, "requests")),
              stats.value("peak_bucket_level", 0.0), Fmt(peak_operating.load() / a.time_scale, 1).c_str(),
              static_cast<long long>(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED")),
              static_cast<long long>(StatIn(stats, "errors", "OPERATION_TIME_LIMIT")), ceiling_rate,
              100 * items_per_second / ceiling_rate, PeakRssMiB(gateway_pid), gateway_cpu_ms,
              emulator_cpu_ms, static_cast<long long>(StatInt(stats, "replies_late")),
              stats.value("reply_lateness_max_ms", 0.0), result.c_str());
  std::fflush(stdout);
}

// Before a later read: the gateway's bucket model has drained what the last
// read spent (b24gate_bucket_level 0 on /metrics), so the read starts idle
// as the first did; the emulator is reset after. At most a full burst at the
// drain rate, and some.
bool WaitIdle(Stack& stack, const Args& a) {
  const double seconds = 10 + 2 * 50 / (2 / a.time_scale);
  return testing::WaitFor(
      [&] {
        const std::string page = ScrapeMetrics(stack.gateway());
        const std::string series = "\nb24gate_bucket_level{portal=\"main\"} ";
        const size_t at = page.find(series);
        return at != std::string::npos && std::atof(page.c_str() + at + series.size()) == 0;
      },
      seconds);
}

int List(const Args& a) {
  if (a.header) {
    std::printf("| profile | leads | strategy | time scale | seconds | items/s | HTTP requests | peak bucket "
                "| peak operating s | 503 | 429 | ceiling items/s | of ceiling | gateway peak RSS MiB | "
                "gateway CPU ms | emulator CPU ms | emulator late replies (max ms) | result |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    return 0;
  }
  const bool v3 = absl::StartsWith(a.strategy, "v3");
  EmulatorSpec emulator;
  emulator.seed = absl::StrCat(v3 ? "tasks.task=" : "crm.lead=", a.leads);
  emulator.extra_args = {"--plan", "standard", "--profile", a.profile};
  if (a.time_scale != 1) {
    emulator.extra_args.push_back("--time-scale");
    emulator.extra_args.push_back(Fmt(a.time_scale, 4));
  }
  GatewaySpec gateway = ScaledGateway(a);
  // Later reads wait for the gateway's bucket model on /metrics.
  if (a.reads > 1) gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Stack::Start(emulator, gateway);
  if (!stack.ok()) {
    std::cerr << "start: " << stack.status() << "\n";
    return 1;
  }
  for (int read = 1; read <= a.reads; ++read) {
    if (read > 1 && !WaitIdle(**stack, a)) {
      std::cerr << "the gateway's bucket did not drain before read " << read << "\n";
      return 1;
    }
    (*stack)->ResetEmulator();
    std::string label;
    if (a.reads > 1) label = read == 1 ? ", first read" : absl::StrCat(", read ", read);
    ListRow(**stack, a, label);
  }
  return 0;
}

using ::b24gate::testing::Percentile;

// Unthrottled relay: items/s through the gateway vs straight from the
// emulator, and the latency the gateway adds to one Call.
int Relay(const Args& a) {
  EmulatorSpec emulator;
  emulator.seed = absl::StrCat("crm.lead=", a.leads);
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 1000000}, {"drain_per_second", 1000000}, {"headroom", 0}};
  auto stack = Stack::Start(emulator, gateway);
  if (!stack.ok()) {
    std::cerr << "start: " << stack.status() << "\n";
    return 1;
  }
  Stack& s = **stack;
  // Straight from the emulator: keyset chains of 50 pages per batch. Keys
  // are zero-padded: `json` sorts them, and the portal runs commands in order.
  auto key = [](int i) { return absl::StrCat("p", i < 10 ? "0" : "", i); };
  auto t0 = SteadyClock::now();
  int64_t direct_items = 0;
  int64_t last = 0;
  for (;;) {
    json cmd = json::object();
    for (int i = 0; i < 50; ++i) {
      std::string after = i == 0 ? std::to_string(last) : absl::StrCat("$result[", key(i - 1), "][49][ID]");
      cmd[key(i)] = absl::StrCat(
          "crm.lead.list?select[]=ID&select[]=TITLE&order[ID]=ASC&start=-1&filter[>ID]=", after);
    }
    json answer = s.Rest("batch", {{"halt", 0}, {"cmd", cmd}});
    bool end = false;
    for (int i = 0; i < 50 && !end; ++i) {
      const json& page = answer["result"]["result"][key(i)];
      if (!page.is_array()) {
        end = true;
        break;
      }
      direct_items += static_cast<int64_t>(page.size());
      if (page.size() < 50) end = true;
      if (!page.empty()) last = IdOf(page.back());
    }
    if (end) break;
  }
  double direct_seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  Args through = a;
  through.strategy = "parallel";
  const pid_t gateway_pid = s.gateway().pid();
  const double cpu_before = CpuMs(gateway_pid);
  ReadResult r = ReadAll(s, through, 600);
  const double cpu_us_per_item = 1000 * (CpuMs(gateway_pid) - cpu_before) / std::max<int64_t>(r.items, 1);
  Args chain = a;
  chain.strategy = "keyset";
  ReadResult rc = ReadAll(s, chain, 600);

  // One Call, one after another: gateway vs direct.
  std::vector<double> direct_ms, gateway_ms;
  for (int i = 0; i < a.calls; ++i) {
    auto c0 = SteadyClock::now();
    s.Rest("crm.lead.get", {{"id", 1}});
    auto c1 = SteadyClock::now();
    Call1(s, "crm.lead.get", {{"id", 1}});
    auto c2 = SteadyClock::now();
    direct_ms.push_back(std::chrono::duration<double, std::milli>(c1 - c0).count());
    gateway_ms.push_back(std::chrono::duration<double, std::milli>(c2 - c1).count());
  }
  std::printf("| reading %lld leads, no limits, zero cost | items/s |\n|---|---|\n",
              static_cast<long long>(a.leads));
  std::printf("| straight from the emulator (one keyset chain, 50 pages per batch) | %.0f |\n",
              direct_items / direct_seconds);
  std::printf("| through the gateway, keyset chain | %.0f (%s) |\n", rc.items / rc.seconds,
              rc.status.ok() ? "ok" : rc.status.error_message().c_str());
  std::printf("| through the gateway, parallel keyset | %.0f (%s; the gateway's CPU %.2f us an item) |\n",
              r.items / r.seconds, r.status.ok() ? "ok" : r.status.error_message().c_str(),
              cpu_us_per_item);
  std::printf("\n| one `crm.lead.get`, %d in a row | p50 ms | p99 ms |\n|---|---|---|\n", a.calls);
  std::printf("| straight from the emulator | %.2f | %.2f |\n", Percentile(direct_ms, 0.5),
              Percentile(direct_ms, 0.99));
  std::printf("| through the gateway | %.2f | %.2f |\n", Percentile(gateway_ms, 0.5),
              Percentile(gateway_ms, 0.99));
  std::printf("| added by the gateway | %.2f | %.2f |\n",
              Percentile(gateway_ms, 0.5) - Percentile(direct_ms, 0.5),
              Percentile(gateway_ms, 0.99) - Percentile(direct_ms, 0.99));
  return 0;
}

// A big list read by a slow consumer: the gateway's RSS must stay flat.
int Slow(const Args& a) {
  EmulatorSpec emulator;
  emulator.seed = absl::StrCat("crm.lead=", a.leads);
  emulator.extra_args = {"--plan", "standard", "--profile", a.profile};
  if (a.time_scale != 1) {
    emulator.extra_args.push_back("--time-scale");
    emulator.extra_args.push_back(Fmt(a.time_scale, 4));
  }
  auto stack = Stack::Start(emulator, ScaledGateway(a));
  if (!stack.ok()) {
    std::cerr << "start: " << stack.status() << "\n";
    return 1;
  }
  pid_t pid = (*stack)->gateway().pid();
  double rss_before = RssMiB(pid);
  ResetPeakRss(pid);
  std::atomic<bool> stop{false};
  std::vector<std::pair<double, double>> samples;  // (seconds, RSS MiB)
  auto t0 = SteadyClock::now();
  std::thread sampler([&] {
    while (!stop.load()) {
      samples.emplace_back(std::chrono::duration<double>(SteadyClock::now() - t0).count(), RssMiB(pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  ReadResult r = ReadAll(**stack, a, a.max_seconds, a.reader_items_per_second);
  stop.store(true);
  sampler.join();
  double mid = -1, late = -1;
  if (!samples.empty()) {
    mid = samples[samples.size() / 2].second;
    late = samples.back().second;
  }
  std::printf("| %lld leads%s, %s, time scale %s, reader %.0f items/s | %lld items in %.1f s real (%s) | "
              "RSS before %.0f MiB, at half-way %.0f MiB, at the end %.0f MiB, peak %.0f MiB |\n",
              static_cast<long long>(a.leads), a.full_rows ? " (every field)" : "", a.strategy.c_str(),
              Fmt(a.time_scale, 2).c_str(),
              a.reader_items_per_second, static_cast<long long>(r.items), r.seconds,
              r.status.ok() ? "ok" : r.status.error_message().c_str(), rss_before, mid, late,
              PeakRssMiB(pid));
  return 0;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << f << ": missing value\n";
        std::exit(Usage());
      }
      return argv[++i];
    };
    if (f == "--profile") {
      a.profile = next();
    } else if (f == "--leads") {
      a.leads = std::atoll(next().c_str());
    } else if (f == "--strategy") {
      a.strategy = next();
    } else if (f == "--time-scale") {
      a.time_scale = std::atof(next().c_str());
    } else if (f == "--max-seconds") {
      a.max_seconds = std::atof(next().c_str());
    } else if (f == "--unordered") {
      a.unordered = true;
    } else if (f == "--header") {
      a.header = true;
    } else if (f == "--offset-by-order") {
      a.offset_by_order = true;
    } else if (f == "--full-rows") {
      a.full_rows = true;
    } else if (f == "--calls") {
      a.calls = std::atoi(next().c_str());
    } else if (f == "--reader-items-per-second") {
      a.reader_items_per_second = std::atof(next().c_str());
    } else if (f == "--reads") {
      a.reads = std::atoi(next().c_str());
    } else if (f == "--max-concurrency") {
      a.max_concurrency = std::atoi(next().c_str());
    } else {
      return Usage();
    }
  }
  if (a.time_scale <= 0 || a.leads <= 0 || a.reads < 1) return Usage();
  if (a.mode == "list") return List(a);
  if (a.mode == "relay") return Relay(a);
  if (a.mode == "slow") return Slow(a);
  return Usage();
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
