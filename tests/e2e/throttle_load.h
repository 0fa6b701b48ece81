// Saturated load against a time-scaled emulator, shared by
// throttle_load_test.cc (asserts the portal's limits are never tripped) and
// tests/bench/throttle_bench.cc (prints the achieved rate). Header-only; not a
// test itself.
//
// The emulator runs a plan (burst X, drain Y per simulated second) with every
// duration multiplied by `time_scale` F; the gateway gets the same policy in
// real seconds: drain Y/F, operating limit L·F per window 600·F, margin
// 60·F. Client threads each run one RPC after another until the simulated
// duration is over: keyset GetAll, offset list pages that count a large
// table (the operating-time hog), keyset list pages, lead adds and deal
// updates. A sampler polls /_emulator/stats to record the highest operating
// time any method reached.
#ifndef B24GATE_TESTS_E2E_THROTTLE_LOAD_H_
#define B24GATE_TESTS_E2E_THROTTLE_LOAD_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e {

struct LoadConfig {
  std::string plan = "standard";
  double burst = 50;                 // must match the plan
  double drain_per_second = 2;       // per simulated second; must match the plan
  double time_scale = 0.01;          // F
  double simulated_seconds = 1200;   // 20 simulated minutes
  double operating_limit = 480;      // simulated seconds per window (emulator --operating-limit)
  std::string batch_accounting = "per-method";
  std::string profile = "small";
  bool cost_zero = false;
  int clients = 24;
  // Rows of the offset-paged table: each counted page costs ~2 µs per row
  // (small profile), which makes crm.deal.list reach its operating limit.
  int deals = 400000;
  int leads = 500;  // small, so keyset GetAll is cheap and requests are many
  // Kinds of work, cycled over the client threads.
  std::vector<std::string> kinds = {"deal_page", "lead_getall", "deal_page", "lead_add",
                                    "lead_page", "deal_update", "deal_page", "lead_getall_deals"};
  // Gateway's bucket headroom; < 0: 0.1 s worth of requests at the scaled
  // drain rate. Time scaling shrinks the gap between requests (5 ms at
  // 200/s) but not the scheduling jitter of a loaded machine, which can bunch
  // arrivals at the emulator; headroom 1 (500 ms at 2/s) absorbs it in real
  // time but only 5 ms here. At most 0.8% of a 20-minute run's budget.
  double headroom = -1;
  int max_concurrency = 8;
  double rpc_deadline_seconds = 60;
};

struct KindResult {
  int64_t rpcs = 0;                          // RPCs started
  int64_t outcomes = 0;                      // RPCs that ended (exactly once each)
  std::map<std::string, int64_t> by_code;    // grpc status code name -> count
  int64_t items = 0;                         // list items received
  int64_t commands = 0;                      // Bitrix24 commands the RPCs stood for (estimate)
};

struct LoadResult {
  std::map<std::string, KindResult> kinds;
  int64_t adds_ok = 0;
  double window_seconds = 0;        // real seconds the clients were pushing
  json stats_start;                 // emulator stats when the load began
  json stats_window_end;            // when the clients stopped starting RPCs
  json stats_end;                   // after every RPC ended
  std::map<std::string, double> peak_operating;  // method -> highest sampled seconds
  double peak_bucket_sampled = 0;
  std::vector<std::pair<double, int64_t>> request_samples;  // (seconds since start, requests)

  int64_t Rpcs() const {
    int64_t n = 0;
    for (const auto& [k, r] : kinds) n += r.rpcs;
    return n;
  }
  int64_t Outcomes() const {
    int64_t n = 0;
    for (const auto& [k, r] : kinds) n += r.outcomes;
    return n;
  }
  int64_t NotOk() const {
    int64_t n = 0;
    for (const auto& [k, r] : kinds) {
      for (const auto& [code, c] : r.by_code) n += code == "OK" ? 0 : c;
    }
    return n;
  }
  int64_t Items() const {
    int64_t n = 0;
    for (const auto& [k, r] : kinds) n += r.items;
    return n;
  }
};

inline std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

inline std::string FormatNumber(double x) {
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

inline EmulatorSpec LoadEmulatorSpec(const LoadConfig& c) {
  EmulatorSpec e;
  e.seed = absl::StrCat("crm.lead=", c.leads, ",crm.deal=", c.deals);
  e.extra_args = {"--plan",           c.plan,
                  "--time-scale",     FormatNumber(c.time_scale),
                  "--operating-limit", FormatNumber(c.operating_limit),
                  "--batch-accounting", c.batch_accounting,
                  "--profile",        c.profile};
  if (c.cost_zero) e.extra_args.push_back("--cost-zero");
  return e;
}

// The gateway's portal policy, scaled like the emulator.
inline GatewaySpec LoadGatewaySpec(const LoadConfig& c) {
  const double f = c.time_scale;
  GatewaySpec g;
  g.portal = {{"burst", c.burst},
              {"drain_per_second", c.drain_per_second / f},
              {"headroom", c.headroom >= 0 ? c.headroom
                                           : std::max(1.0, std::ceil(0.1 * c.drain_per_second / f))},
              {"operating_limit_seconds", c.operating_limit * f},
              {"operating_window_seconds", 600 * f},
              {"operating_margin_seconds", 60 * f},
              {"max_concurrency", c.max_concurrency},
              {"request_timeout_seconds", std::max(2.0, 70 * f)}};
  return g;
}

// Runs the load on a started stack. Setup reads go straight to the emulator;
// its counters are reset before the clients start.
inline LoadResult RunLoad(Stack& stack, const LoadConfig& c) {
  using Clock = std::chrono::steady_clock;
  LoadResult out;
  // Deal ids to update: one keyset page.
  std::vector<int64_t> deal_ids;
  {
    json page = stack.Rest("crm.deal.list", {{"select", {"ID"}}, {"order", {{"ID", "ASC"}}},
                                             {"start", -1}});
    if (page.is_object() && page["result"].is_array()) {
      for (const auto& item : page["result"]) deal_ids.push_back(IdOf(item));
    }
  }
  if (deal_ids.empty()) {
    ADD_FAILURE() << "no deals to update";
    return out;
  }
  stack.ResetEmulator();

  std::mutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> adds_ok{0};
  const auto start = Clock::now();
  const auto window = std::chrono::duration<double>(c.simulated_seconds * c.time_scale);
  const auto end = start + std::chrono::duration_cast<Clock::duration>(window);
  out.stats_start = stack.EmulatorStats();

  auto record = [&](const std::string& kind, const grpc::Status& status, int64_t items,
                    int64_t commands) {
    std::lock_guard<std::mutex> lock(mu);
    KindResult& r = out.kinds[kind];
    r.outcomes++;
    r.by_code[CodeName(status.error_code())]++;
    r.items += items;
    r.commands += commands;
  };
  auto started = [&](const std::string& kind) {
    std::lock_guard<std::mutex> lock(mu);
    out.kinds[kind].rpcs++;
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < c.clients; ++t) {
    const std::string kind = c.kinds[t % c.kinds.size()];
    threads.emplace_back([&, t, kind] {
      std::mt19937 rng(1000 + t);
      int64_t n = 0;
      while (Clock::now() < end) {
        ++n;
        started(kind);
        if (kind == "deal_page") {
          // An offset page that counts the whole table: the operating-time hog.
          int64_t pages = std::max(1, c.deals / 50);
          int64_t start_at = 50 * std::uniform_int_distribution<int64_t>(0, pages - 1)(rng);
          pb::CallRequest request;
          request.set_method("crm.deal.list");
          *request.mutable_params() = V({{"select", {"ID", "TITLE"}}, {"start", start_at}});
          CallOut r = DoCall(stack, request, c.rpc_deadline_seconds);
          int64_t items = r.status.ok() && r.result().is_array() ? r.result().size() : 0;
          record(kind, r.status, items, 1);
        } else if (kind == "lead_page") {
          int64_t after = std::uniform_int_distribution<int64_t>(0, c.leads)(rng);
          pb::CallRequest request;
          request.set_method("crm.lead.list");
          *request.mutable_params() = V({{"select", {"ID", "TITLE"}},
                                         {"filter", {{">ID", after}}},
                                         {"order", {{"ID", "ASC"}}},
                                         {"start", -1}});
          CallOut r = DoCall(stack, request, c.rpc_deadline_seconds);
          int64_t items = r.status.ok() && r.result().is_array() ? r.result().size() : 0;
          record(kind, r.status, items, 1);
        } else if (kind == "lead_getall" || kind == "lead_getall_deals") {
          // Keyset GetAll over the leads, or an offset GetAll (ordered by
          // title, each page counted) over a slice of the deals.
          pb::GetAllRequest request;
          json params = {{"select", {"ID", "TITLE"}}};
          if (kind == "lead_getall") {
            request.set_method("crm.lead.list");
          } else {
            request.set_method("crm.deal.list");
            params["order"] = {{"TITLE", "ASC"}};
            params["filter"] = {{"<ID", 1000}};
          }
          *request.mutable_params() = S(params);
          auto ctx = Ctx(c.rpc_deadline_seconds);
          auto reader = stack.stub().GetAll(ctx.get(), request);
          pb::GetAllResponse message;
          int64_t items = 0;
          bool summary = false;
          int64_t summary_count = -1;
          while (reader->Read(&message)) {
            items += message.items_size();
            if (message.has_summary()) {
              summary = true;
              summary_count = message.summary().count();
            }
          }
          grpc::Status status = reader->Finish();
          if (status.ok() && (!summary || summary_count != items)) {
            status = grpc::Status(grpc::INTERNAL, absl::StrCat("GetAll: summary ", summary,
                                                                " count ", summary_count,
                                                                " != items ", items));
          }
          record(kind, status, items, (items + 49) / 50);
        } else if (kind == "lead_add") {
          CallOut r = Call1(stack, "crm.lead.add",
                            {{"fields", {{"TITLE", absl::StrCat("load ", t, " ", n)}}}});
          if (r.status.ok()) adds_ok++;
          record(kind, r.status, 0, 1);
        } else if (kind == "deal_update") {
          int64_t id = deal_ids[std::uniform_int_distribution<size_t>(0, deal_ids.size() - 1)(rng)];
          CallOut r = Call1(stack, "crm.deal.update",
                            {{"id", id}, {"fields", {{"COMMENTS", absl::StrCat("upd ", t, " ", n)}}}});
          record(kind, r.status, 0, 1);
        }
      }
    });
  }

  // Sampler: highest operating time per method and the bucket level.
  std::thread sampler([&] {
    while (!stop.load()) {
      json s = stack.EmulatorStats();
      double since = std::chrono::duration<double>(Clock::now() - start).count();
      if (s.is_object()) {
        std::lock_guard<std::mutex> lock(mu);
        if (s.contains("operating") && s["operating"].is_object()) {
          for (const auto& [method, seconds] : s["operating"].items()) {
            if (!seconds.is_number()) continue;
            double& peak = out.peak_operating[method];
            peak = std::max(peak, seconds.get<double>());
          }
        }
        if (s.contains("bucket_level") && s["bucket_level"].is_number()) {
          out.peak_bucket_sampled = std::max(out.peak_bucket_sampled, s["bucket_level"].get<double>());
        }
        out.request_samples.emplace_back(since, StatInt(s, "requests"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  std::this_thread::sleep_until(end);
  out.stats_window_end = stack.EmulatorStats();
  out.window_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& th : threads) th.join();
  stop = true;
  sampler.join();
  out.stats_end = stack.EmulatorStats();
  out.adds_ok = adds_ok.load();
  return out;
}

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_THROTTLE_LOAD_H_
