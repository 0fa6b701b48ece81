// A tiny in-test MethodTable so protocol tests do not depend on the data
// layer. Methods:
//   echo              result = params (records the call)
//   crm.lead.get      {"ID": id}; unknown id (>= 1000) -> 400 "" "Not found"
//   crm.lead.add      returns the next id; created_entity "crm.lead"
//   crm.lead.list     pages of 50 {"ID": "n"} over ids 1..1000 honouring
//                     filter[>ID] and start (-1: no count); total/next
//   crm.item.list     same rows wrapped as {"items": [{"id": n}]}
//   work              work.rows_returned = params.rows (cost tests)
//   slow              sleeps params.ms milliseconds of the emulator's own time
//                     (or moves the work clock that long, when one is set)
//   task.commentitem.add  result = params (positional list)
//   tasks.task.get    {"task": {"id": n}} for taskId 1..99, else 400 ERROR_CORE
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_TEST_FAKE_METHODS_H_
#define B24EMU_TEST_FAKE_METHODS_H_

#include <atomic>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/emulator/method_api.h"
#include "tests/emulator/test/fake_clock.h"

namespace b24emu {

class FakeMethods : public MethodTable {
 public:
  bool HasMethod(const std::string& method) const override {
    static const std::set<std::string> kMethods = {
        "echo", "crm.lead.get", "crm.lead.add", "crm.lead.list", "crm.item.list",
        "work", "task.commentitem.add", "tasks.task.get", "slow"};
    return kMethods.count(method) > 0;
  }

  MethodResult Invoke(const MethodCall& call) override {
    {
      absl::MutexLock lock(&mu_);
      last_ = call;
      ++calls_;
    }
    MethodResult r;
    const nlohmann::json& p = call.params;
    if (call.method == "echo" || call.method == "task.commentitem.add") {
      r.result = p;
      r.work.rows_returned = 1;
    } else if (call.method == "tasks.task.get") {
      const long id = Int(p, "taskId", -1);
      if (id < 1 || id >= 100) return Err(400, "ERROR_CORE", "Task not found");
      r.result = {{"task", {{"id", id}}}};
    } else if (call.method == "crm.lead.get") {
      const long id = Int(p, "id", -1);
      if (id < 1 || id >= 1000) return Err(400, "", "Not found");
      r.result = {{"ID", std::to_string(id)}, {"TITLE", "Lead #" + std::to_string(id)}};
      r.work.rows_returned = 1;
    } else if (call.method == "crm.lead.add") {
      r.result = next_id_++;
      r.created_entity = "crm.lead";
      r.work.rows_returned = 1;
    } else if (call.method == "crm.lead.list" || call.method == "crm.item.list") {
      const bool item = call.method == "crm.item.list";
      long after = 0;
      if (p.contains("filter") && p["filter"].is_object()) after = Int(p["filter"], item ? ">id" : ">ID", 0);
      const long start = Int(p, "start", 0);
      const long first = after + 1 + (start > 0 ? start : 0);
      nlohmann::json rows = nlohmann::json::array();
      for (long id = first; id < first + 50 && id <= 1000; ++id) {
        if (item) {
          rows.push_back({{"id", id}});
        } else {
          rows.push_back({{"ID", std::to_string(id)}});
        }
      }
      r.work.rows_returned = static_cast<int64_t>(rows.size());
      if (start >= 0) {
        const long matching = 1000 - after;
        r.total = matching;
        r.work.rows_counted = matching;
        r.work.rows_skipped = start;
        if (start + 50 < matching) r.next = start + 50;
      }
      r.result = item ? nlohmann::json{{"items", rows}} : rows;
    } else if (call.method == "slow") {
      const absl::Duration ms = absl::Milliseconds(Int(p, "ms", 0));
      if (FakeClock* clock = work_clock_.load()) {
        clock->Advance(ms);
      } else {
        absl::SleepFor(ms);
      }
      r.result = true;
    } else if (call.method == "work") {
      r.result = true;
      r.work.rows_returned = Int(p, "rows", 0);
    }
    return r;
  }

  MethodCall last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // "slow" spends its time on `clock` (must outlive its calls) instead of
  // sleeping.
  void set_work_clock(FakeClock* clock) { work_clock_ = clock; }

 private:
  static long Int(const nlohmann::json& p, const char* key, long fallback) {
    if (!p.is_object() || !p.contains(key)) return fallback;
    const nlohmann::json& v = p[key];
    if (v.is_number()) return v.get<long>();
    if (v.is_string()) return std::strtol(v.get<std::string>().c_str(), nullptr, 10);
    return fallback;
  }
  static MethodResult Err(int status, const char* code, const char* description) {
    MethodResult r;
    r.http_status = status;
    r.is_error = true;
    r.error = code;
    r.error_description = description;
    r.work.rows_returned = 0;
    return r;
  }

  absl::Mutex mu_;
  MethodCall last_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> next_id_{1001};
  std::atomic<FakeClock*> work_clock_{nullptr};
};

}  // namespace b24emu

#endif  // B24EMU_TEST_FAKE_METHODS_H_
