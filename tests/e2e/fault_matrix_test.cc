// The fault matrix: every emulator fault kind x reads (Call get and
// list, GetAll, GetById) and writes (single and bulk crm.lead.add, CallMany, CallBatch
// with adds), a seeded mixed run, and token expiry in the middle of a GetAll
// stream. Every RPC must end with exactly one outcome; reads complete (every
// row once, in order, as a direct read shows it); writes are never sent twice
// by the gateway on its own, and the emulator's `created` count equals the
// successful adds, plus at most the adds reported OUTCOME_UNKNOWN.
//
// Faults that pre-empt execution (502, redirect, overload) must leave
// `created` exactly equal to the successful adds. A 502 page is non-JSON, so
// the gateway cannot know it was not executed: writes report OUTCOME_UNKNOWN
// there too (conservative), reads are repeated.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::fault_matrix_test {
namespace {

// The `delay` fault holds the answer past the gateway's request timeout.
constexpr double kShortRequestTimeout = 2;
constexpr char kFaultDelay[] = "5";

struct Kind {
  const char* name;
  bool executes;   // the emulator runs the call before failing it
  bool final;      // never repeated, not even for reads (overload)
  bool transparent;  // the gateway recovers writes too (redirect)
};

const Kind kKinds[] = {
    {"500", true, false, false},        {"502", false, false, false},
    {"504", true, false, false},        {"reset", true, false, false},
    {"delay", true, false, false},      {"redirect", false, false, true},
    {"overload", false, true, false},
};

std::unique_ptr<Stack> UpWithFaults(bool short_timeout, const std::string& seed_random = "1",
                          const std::string& seed = "") {
  EmulatorSpec emulator;
  if (!seed.empty()) emulator.seed = seed;
  emulator.extra_args = {"--no-limits", "--seed-random", seed_random, "--fault-delay", kFaultDelay};
  GatewaySpec gateway;
  // Limits are not under test here: the emulator does not enforce them and
  // the gateway's model does not pace these few requests.
  gateway.portal = {{"burst", 10000}, {"drain_per_second", 10000}};
  if (short_timeout) gateway.portal["request_timeout_seconds"] = kShortRequestTimeout;
  // The redirect fault sends the request to the emulator's other name
  // (127.0.0.1 <-> localhost): the operator lists it, as redirects to another
  // host are followed only when listed.
  gateway.customize = [](json* portal, const std::string& address) {
    const std::string port = address.substr(address.rfind(':'));
    (*portal)["redirect_to"] = {"http://localhost" + port, "http://127.0.0.1" + port};
  };
  return Up(std::move(emulator), std::move(gateway));
}

bool IsOutcomeUnknown(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE && ReasonOf(s) == "OUTCOME_UNKNOWN";
}
bool IsOverload(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && ReasonOf(s) == "OVERLOAD_LIMIT";
}

// Outcomes of add commands, as the caller saw them.
struct WriteTally {
  int64_t requested = 0;  // add commands handed to the gateway
  int64_t ok = 0;
  int64_t unknown = 0;    // UNAVAILABLE / OUTCOME_UNKNOWN
  int64_t overload = 0;   // RESOURCE_EXHAUSTED / OVERLOAD_LIMIT
  std::vector<std::string> unexpected;

  void Add(const WriteTally& o) {
    requested += o.requested;
    ok += o.ok;
    unknown += o.unknown;
    overload += o.overload;
    unexpected.insert(unexpected.end(), o.unexpected.begin(), o.unexpected.end());
  }
  void Whole(const grpc::Status& s, int64_t commands, const std::string& what) {
    requested += commands;
    if (s.ok()) {
      ok += commands;
    } else if (IsOutcomeUnknown(s)) {
      unknown += commands;
    } else if (IsOverload(s)) {
      overload += commands;
    } else {
      unexpected.push_back(absl::StrCat(what, ": ", s.error_code(), " ", ReasonOf(s), " ",
                                        s.error_message()));
    }
  }
  // One command's result inside a successful bulk Call / CallBatch.
  void Item(const pb::CallResult& r, const std::string& what) {
    requested++;
    if (r.has_error() == r.has_result()) {
      unexpected.push_back(absl::StrCat(what, ": not exactly one of result/error"));
    } else if (!r.has_error()) {
      if (IdOf({{"ID", J(r.result())}}) <= 0) unexpected.push_back(what + ": no new ID");
      ok++;
    } else if (r.error().code() == "OUTCOME_UNKNOWN" &&
               r.error().grpc_code() == static_cast<int>(grpc::StatusCode::UNAVAILABLE)) {
      unknown++;
    } else if (r.error().code() == "OVERLOAD_LIMIT" &&
               r.error().grpc_code() == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED)) {
      overload++;
    } else {
      unexpected.push_back(absl::StrCat(what, ": ", r.error().code(), " ", r.error().description()));
    }
  }
};

WriteTally SingleAdd(Stack& stack, const std::string& title) {
  WriteTally t;
  CallOut out = Call1(stack, "crm.lead.add", {{"fields", {{"TITLE", title}}}});
  t.Whole(out.status, 1, "single add " + title);
  if (out.status.ok() && IdOf({{"ID", out.result()}}) <= 0) t.unexpected.push_back("no new ID");
  return t;
}

WriteTally BulkAdd(Stack& stack, const std::string& title, int n) {
  std::vector<json> params;
  for (int i = 0; i < n; ++i) params.push_back({{"fields", {{"TITLE", absl::StrCat(title, "-", i)}}}});
  CallOut out = CallBulk(stack, "crm.lead.add", params);
  WriteTally t;
  if (!out.status.ok()) {
    t.Whole(out.status, n, "bulk add " + title);
    return t;
  }
  if (out.response.results_size() != n) {
    t.unexpected.push_back(absl::StrCat("bulk add ", title, ": ", out.response.results_size(),
                                        " results for ", n, " commands"));
    return t;
  }
  for (const auto& r : out.response.results()) t.Item(r, "bulk add " + title);
  return t;
}

WriteTally ManyAdd(Stack& stack, const std::string& title, int n) {
  std::vector<json> params;
  for (int i = 0; i < n; ++i) params.push_back({{"fields", {{"TITLE", absl::StrCat(title, "-", i)}}}});
  CallManyOut out = CallMany(stack, "crm.lead.add", params);
  WriteTally t;
  if (!out.status.ok()) {
    t.Whole(out.status, n, "CallMany add " + title);
    return t;
  }
  if (static_cast<int>(out.results.size()) != n || !out.indexes_consecutive) {
    t.unexpected.push_back(absl::StrCat("CallMany add ", title, ": ", out.results.size(),
                                        " results for ", n, " commands"));
    return t;
  }
  for (const auto& r : out.results) t.Item(r, "CallMany add " + title);
  return t;
}

WriteTally BatchAdd(Stack& stack, const std::string& title, int n) {
  std::vector<Cmd> cmds;
  for (int i = 0; i < n; ++i) {
    cmds.push_back({absl::StrCat("k", i), "crm.lead.add",
                    {{"fields", {{"TITLE", absl::StrCat(title, "-", i)}}}}});
  }
  BatchOut out = CallBatch(stack, cmds);
  WriteTally t;
  if (!out.status.ok()) {
    t.Whole(out.status, n, "CallBatch " + title);
    return t;
  }
  auto by_key = out.by_key();
  if (out.response.results_size() != n || static_cast<int>(by_key.size()) != n) {
    t.unexpected.push_back(absl::StrCat("CallBatch ", title, ": ", out.response.results_size(),
                                        " results for ", n, " commands"));
    return t;
  }
  for (const auto& [key, r] : by_key) t.Item(r, "CallBatch " + title + " " + key);
  return t;
}

// The write invariants against emulator stats counted from a reset on, with
// only crm.lead.add commands executed meanwhile.
void ExpectWritesAccounted(const WriteTally& t, const json& stats, bool exact_pre_execution,
                           const std::string& label) {
  SCOPED_TRACE(label);
  for (const auto& u : t.unexpected) ADD_FAILURE() << "unexpected outcome: " << u;
  EXPECT_EQ(t.ok + t.unknown + t.overload + static_cast<int64_t>(t.unexpected.size()), t.requested)
      << "every add must have exactly one outcome";
  const int64_t created = StatIn(stats, "created", "crm.lead");
  const int64_t commands = StatInt(stats, "commands");
  EXPECT_GE(created, t.ok) << "a successful add is missing";
  EXPECT_LE(created, t.ok + t.unknown) << "an add ran that the caller was not told about";
  // Only adds ran: every execution reached the data layer once and created a
  // lead. More executions than adds reported ok/unknown = a duplicate send.
  EXPECT_EQ(commands, created) << stats.dump();
  EXPECT_LE(commands, t.ok + t.unknown) << "a write was sent twice";
  if (exact_pre_execution) EXPECT_EQ(created, t.ok) << stats.dump();
}

// Reads with the faults off, to compare the gateway's reads with.
struct Reference {
  std::vector<json> leads;  // ID, TITLE in ID order
  json list_page;           // crm.lead.list first page (ID, TITLE)
};

const json kSelect = {"ID", "TITLE"};

Reference ReadReference(Stack& stack) {
  stack.SetFaults("none");
  Reference r;
  r.leads = RestAll(stack, "crm.lead.list", {{"select", kSelect}});
  r.list_page = stack.Rest("crm.lead.list", {{"select", kSelect}, {"order", {{"ID", "ASC"}}}})["result"];
  return r;
}

std::vector<json> Projected(const std::vector<json>& items) {
  std::vector<json> out;
  for (const auto& i : items) out.push_back({{"ID", IdOf(i)}, {"TITLE", i.value("TITLE", json())}});
  return out;
}

// ---------------------------------------------------------------------------
// One fault kind, deterministic (@1) placements.

class FaultMatrix : public ::testing::TestWithParam<Kind> {};

TEST_P(FaultMatrix, ReadsRecoverOrFailClearly) {
  const Kind kind = GetParam();
  auto stack = UpWithFaults(std::string(kind.name) == "delay");
  ASSERT_TRUE(stack);
  Reference ref = ReadReference(*stack);
  ASSERT_EQ(ref.leads.size(), 300u);
  const std::string k = kind.name;

  // Arms exactly one fault for the next request of `method`; returns the
  // emulator's request count before the RPC.
  auto arm = [&](const std::string& method) {
    stack->SetFaults(absl::StrCat(k, "=@1,method=", method));
    return Requests(*stack);
  };
  // `baseline`: requests the same RPC makes without a fault (-1: not exact,
  // e.g. GetById's grouping into batches depends on timing); with an
  // overload the RPC stops after the faulted request, `overload_sent` in all.
  // An overload answer is never repeated, so the RPC's outcome shows it too.
  auto expect_consumed = [&](int64_t before, const std::string& method, const std::string& what,
                             int64_t baseline, int64_t overload_sent) {
    json stats = stack->EmulatorStats();
    EXPECT_EQ(stats["faults"], absl::StrCat(k, "=@0,method=", method))
        << what << ": the fault was not hit";
    int64_t sent = StatInt(stats, "requests") - before;
    if (baseline >= 0 && kind.final) {
      EXPECT_EQ(sent, overload_sent) << what << ": an overload answer must not be repeated";
    } else if (baseline >= 0) {
      // The faulted request is repeated (a spurious timeout could add more
      // only with the short timeout of `delay`).
      EXPECT_GE(sent, baseline + 1) << what;
    }
    stack->SetFaults("none");
  };

  // Call crm.lead.get.
  {
    const int64_t id = IdOf(ref.leads[7]);
    int64_t before = arm("crm.lead.get");
    CallOut out = Call1(*stack, "crm.lead.get", {{"id", id}});
    if (kind.final) {
      EXPECT_TRUE(IsOverload(out.status)) << out.status.error_code() << " " << out.status.error_message();
    } else {
      ASSERT_TRUE(out.status.ok()) << out.status.error_message();
      EXPECT_EQ(IdOf(out.result()), id);
      EXPECT_EQ(out.result()["TITLE"], ref.leads[7]["TITLE"]);
    }
    expect_consumed(before, "crm.lead.get", "Call crm.lead.get", 1, 1);
  }
  // Call crm.lead.list.
  {
    int64_t before = arm("crm.lead.list");
    CallOut out = Call1(*stack, "crm.lead.list", {{"select", kSelect}, {"order", {{"ID", "ASC"}}}});
    if (kind.final) {
      EXPECT_TRUE(IsOverload(out.status)) << out.status.error_message();
    } else {
      ASSERT_TRUE(out.status.ok()) << out.status.error_message();
      EXPECT_EQ(out.result(), ref.list_page);
      EXPECT_EQ(out.response.total(), 300);
    }
    expect_consumed(before, "crm.lead.list", "Call crm.lead.list", 1, 1);
  }
  // GetAll, once per keyset strategy. The single chain's requests are fixed
  // (a first page, then chained batches), so the count of repeats is exact;
  // the parallel reader's depend on timing (chains share batches, the count
  // runs beside them), so there only the outcome is checked.
  for (const auto strategy : {pb::LIST_STRATEGY_KEYSET, pb::LIST_STRATEGY_PARALLEL_KEYSET}) {
    const bool exact = strategy == pb::LIST_STRATEGY_KEYSET;
    pb::GetAllRequest request;
    request.set_method("crm.lead.list");
    *request.mutable_params() = S({{"select", kSelect}});
    request.set_strategy(strategy);
    int64_t getall_baseline = Requests(*stack);
    {
      GetAllOut clean = GetAllWith(*stack, request);
      ASSERT_TRUE(clean.status.ok()) << clean.status.error_message();
      getall_baseline = Requests(*stack) - getall_baseline;
      ASSERT_GE(getall_baseline, 2) << "a first request and at least one batch";
    }
    // The chain reads the list in batches and then counts it with a lone
    // crm.lead.list (300 leads fit in the chain's first batch), so an
    // overload on the batch stops the read after 1 request, and one on the
    // count after all of them. The parallel reader sends everything, its id
    // probes and the count included, inside batches: only "batch" can fail.
    const std::vector<std::string> fault_methods =
        exact ? std::vector<std::string>{"crm.lead.list", "batch"} : std::vector<std::string>{"batch"};
    for (const std::string& method : fault_methods) {
      SCOPED_TRACE(absl::StrCat("GetAll ", pb::ListStrategy_Name(strategy), ", fault on ", method));
      int64_t before = arm(method);
      GetAllOut out = GetAllWith(*stack, request);
      std::vector<json> got = Projected(out.items);
      std::vector<json> want = Projected(ref.leads);
      if (kind.final) {
        EXPECT_TRUE(IsOverload(out.status)) << out.status.error_message();
        EXPECT_FALSE(out.has_summary);
        // What was delivered before the failure is an exact prefix.
        ASSERT_LE(got.size(), want.size());
        EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin()));
      } else {
        ASSERT_TRUE(out.status.ok()) << out.status.error_message();
        EXPECT_EQ(got, want) << "every row exactly once, in order";
        ASSERT_TRUE(out.has_summary);
        EXPECT_EQ(out.summary.count(), 300);
      }
      expect_consumed(before, method, "GetAll", exact ? getall_baseline : -1,
                      method == "batch" ? 1 : getall_baseline);
    }
  }
  // GetById: 60 ids, the fault on a batch.
  {
    std::vector<json> ids;
    for (size_t i = 0; i < 60; ++i) ids.push_back(IdOf(ref.leads[i * 5]));
    int64_t before = arm("batch");
    GetByIdOut out = GetById(*stack, "crm.lead.get", ids);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    ASSERT_EQ(out.results.size(), ids.size());
    int errors = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const pb::IdResult& r = out.results[i];
      EXPECT_EQ(J(r.id()), ids[i]);
      ASSERT_NE(r.has_error(), r.has_result()) << "exactly one outcome per id";
      if (r.has_error()) {
        ++errors;
        EXPECT_TRUE(kind.final) << r.error().code() << " " << r.error().description();
        EXPECT_EQ(r.error().code(), "OVERLOAD_LIMIT");
        EXPECT_EQ(r.error().grpc_code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
      } else {
        EXPECT_EQ(IdOf(J(r.result())), ids[i].get<int64_t>());
      }
    }
    if (kind.final) EXPECT_GT(errors, 0);
    expect_consumed(before, "batch", "GetById", -1, -1);
  }
}

TEST_P(FaultMatrix, WritesAreNeverRepeatedAndAlwaysAccounted) {
  const Kind kind = GetParam();
  auto stack = UpWithFaults(std::string(kind.name) == "delay");
  ASSERT_TRUE(stack);
  const std::string k = kind.name;
  stack->ResetEmulator();
  WriteTally all;

  struct Step {
    const char* what;
    const char* method;  // the request the fault hits
    std::function<WriteTally()> run;
  };
  std::vector<Step> steps = {
      {"single add", "crm.lead.add", [&] { return SingleAdd(*stack, "fm-" + k + "-single"); }},
      {"bulk add", "batch", [&] { return BulkAdd(*stack, "fm-" + k + "-bulk", 5); }},
      {"CallBatch add", "batch", [&] { return BatchAdd(*stack, "fm-" + k + "-batch", 3); }},
      {"CallMany add", "batch", [&] { return ManyAdd(*stack, "fm-" + k + "-many", 5); }},
  };
  for (auto& step : steps) {
    SCOPED_TRACE(step.what);
    // A clean add first, so the faulted request travels on a kept-alive
    // connection, as most requests do (an HTTP client may silently re-send
    // on a reused connection that dies without an answer).
    WriteTally warm = SingleAdd(*stack, "fm-" + k + "-warm");
    EXPECT_EQ(warm.ok, 1);
    all.Add(warm);
    stack->SetFaults(absl::StrCat(k, "=@1,method=", step.method));
    int64_t before = Requests(*stack);
    WriteTally t = step.run();
    json stats = stack->EmulatorStats();
    EXPECT_EQ(StatIn(stats, "faults_injected", k), static_cast<int64_t>(&step - &steps[0]) + 1)
        << "the fault was not hit";
    int64_t sent = StatInt(stats, "requests") - before;
    if (kind.transparent) {
      EXPECT_EQ(t.ok, t.requested) << "a redirect is followed: nothing was executed";
      EXPECT_GE(sent, 2);
    } else if (kind.final) {
      EXPECT_EQ(t.overload, t.requested);
      EXPECT_EQ(sent, 1) << "an overload answer must not be repeated";
    } else {
      // The faulted request carried every command (lingering callers share
      // one batch); none is repeated on the gateway's own initiative.
      EXPECT_GT(t.unknown, 0);
      EXPECT_EQ(t.overload, 0);
    }
    all.Add(t);
  }
  stack->SetFaults("none");
  ExpectWritesAccounted(all, stack->EmulatorStats(), /*exact_pre_execution=*/!kind.executes,
                        "kind " + k);
  if (kind.executes) {
    // Each faulted request ran: what was reported unknown did happen.
    EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), all.ok + all.unknown);
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultMatrix, ::testing::ValuesIn(kKinds),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           std::string n = info.param.name;
                           return std::isdigit(static_cast<unsigned char>(n[0])) ? "http" + n : n;
                         });

// ---------------------------------------------------------------------------
// A seeded mixed run: about a quarter of all requests fail in some way,
// several clients at once.

constexpr char kMixedSpec[] = "500=0.05,502=0.05,504=0.04,reset=0.05,redirect=0.04,delay=0.02";

TEST(FaultMatrixMixed, ConcurrentReadsCompleteUnderRandomFaults) {
  auto stack = UpWithFaults(/*short_timeout=*/true, "20240611");
  ASSERT_TRUE(stack);
  const std::vector<json> deals =
      Projected(RestAll(*stack, "crm.deal.list", {{"select", kSelect}}));
  ASSERT_EQ(deals.size(), 120u);
  stack->SetFaults(kMixedSpec);
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& f) {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back(f);
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < 3; ++c) {
    threads.emplace_back([&, c] {
      for (int round = 0; round < 3; ++round) {
        std::string where = absl::StrCat("client ", c, " round ", round, ": ");
        GetAllOut all = GetAll(*stack, "crm.deal.list", {{"select", kSelect}});
        if (!all.status.ok()) {
          fail(where + "GetAll: " + all.status.error_message());
        } else if (Projected(all.items) != deals) {
          fail(where + "GetAll: rows differ from the direct read");
        }
        const json& d = deals[(c * 31 + round * 7) % deals.size()];
        CallOut get = Call1(*stack, "crm.deal.get", {{"id", d["ID"]}});
        if (!get.status.ok()) {
          fail(where + "get: " + get.status.error_message());
        } else if (IdOf(get.result()) != d["ID"].get<int64_t>()) {
          fail(where + "get: wrong deal");
        }
        std::vector<json> ids;
        for (int i = 0; i < 30; ++i) ids.push_back(deals[(c * 13 + round * 5 + i * 3) % deals.size()]["ID"]);
        GetByIdOut by_id = GetById(*stack, "crm.deal.get", ids);
        if (!by_id.status.ok() || by_id.results.size() != ids.size()) {
          fail(where + "GetById: " + by_id.status.error_message());
          continue;
        }
        for (size_t i = 0; i < ids.size(); ++i) {
          const pb::IdResult& r = by_id.results[i];
          if (r.has_error() || !r.has_result() || IdOf(J(r.result())) != ids[i].get<int64_t>()) {
            fail(where + "GetById item " + std::to_string(i) + ": " + r.error().code());
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  stack->SetFaults("none");
  for (const auto& f : failures) ADD_FAILURE() << f;
  json stats = stack->EmulatorStats();
  int64_t injected = 0;
  for (const auto& [kind, n] : stats["faults_injected"].items()) injected += n.get<int64_t>();
  EXPECT_GT(injected, 5) << "the mixed run hardly hit any fault: " << stats["faults_injected"];
}

TEST(FaultMatrixMixed, ConcurrentWritesAreAccountedUnderRandomFaults) {
  auto stack = UpWithFaults(/*short_timeout=*/true, "977");
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  stack->SetFaults(absl::StrCat(kMixedSpec, ",overload=0.03"));
  std::mutex mu;
  WriteTally all;
  std::vector<std::thread> threads;
  for (int c = 0; c < 3; ++c) {
    threads.emplace_back([&, c] {
      WriteTally mine;
      for (int round = 0; round < 5; ++round) {
        std::string tag = absl::StrCat("mixed-", c, "-", round);
        mine.Add(SingleAdd(*stack, tag + "-single"));
        mine.Add(BulkAdd(*stack, tag + "-bulk", 4));
        mine.Add(BatchAdd(*stack, tag + "-batch", 3));
      }
      std::lock_guard<std::mutex> lock(mu);
      all.Add(mine);
    });
  }
  for (auto& t : threads) t.join();
  stack->SetFaults("none");
  json stats = stack->EmulatorStats();
  ExpectWritesAccounted(all, stats, /*exact_pre_execution=*/false, "mixed");
  EXPECT_EQ(all.requested, 3 * 5 * 8);
  EXPECT_GT(all.ok, 0);
  EXPECT_GT(all.unknown + all.overload, 0) << "the mixed run hardly hit any fault: "
                                           << stats["faults_injected"];
}

// ---------------------------------------------------------------------------
// Token expiry in the middle of a GetAll stream (OAuth application).

TEST(FaultMatrixOAuth, TokenExpiryMidStreamIsRefreshedOnceAndTheReadCompletes) {
  EmulatorSpec emulator;
  emulator.seed = "crm.lead=3000";
  emulator.extra_args = {"--no-limits", "--oauth", "app.test:app-secret", "--oauth-refresh-token",
                         "fm-initial-refresh"};
  GatewaySpec gateway;
  // One request per second: the stream's later pages go out well after its
  // first message has arrived, so the expiry lands mid-stream.
  gateway.portal = {{"burst", 1}, {"headroom", 0}, {"drain_per_second", 1}};
  gateway.customize = [](json* portal, const std::string& address) {
    portal->erase("webhook");
    (*portal)["oauth"] = {{"client_id", "app.test"},
                          {"client_secret", "app-secret"},
                          {"refresh_token", "fm-initial-refresh"},
                          {"oauth_url", "http://" + address + "/oauth/token/"},
                          {"portal_url", "http://" + address + "/rest/"}};
  };
  auto started = Up(emulator, gateway);
  ASSERT_TRUE(started);
  Stack& stack = *started;
  const std::vector<json> want = Projected(RestAll(stack, "crm.lead.list", {{"select", kSelect}}));
  ASSERT_EQ(want.size(), 3000u);
  // Warm up: the first call gets the first access token.
  ASSERT_TRUE(Call1(stack, "crm.lead.get", {{"id", want[0]["ID"]}}).status.ok());
  ASSERT_EQ(stack.EmulatorStats()["token_refreshes"], 1);

  pb::GetAllRequest request;
  request.set_method("crm.lead.list");
  *request.mutable_params() = S({{"select", kSelect}});
  auto ctx = Ctx(300);
  auto reader = stack.stub().GetAll(ctx.get(), request);
  std::vector<json> items;
  pb::GetAllResponse message;
  int messages = 0;
  int summaries = 0;
  while (reader->Read(&message)) {
    if (++messages == 1) stack.ExpireTokens();
    for (const auto& item : message.items()) items.push_back(J(item));
    if (message.has_summary()) ++summaries;
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summaries, 1);
  EXPECT_GT(messages, 2);
  EXPECT_EQ(Projected(items), want) << "every row exactly once, in order";
  json stats = stack.EmulatorStats();
  EXPECT_EQ(stats["token_refreshes"], 2) << "exactly one refresh mid-stream";
  EXPECT_EQ(stats["token_refusals"], 0);
  EXPECT_GE(StatIn(stats, "errors", "expired_token"), 1) << "the expiry did not land mid-stream";
}

}  // namespace
}  // namespace b24gate::e2e::fault_matrix_test
