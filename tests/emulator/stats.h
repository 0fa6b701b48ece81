// Counters served by GET /_emulator/stats and cleared by POST
// /_emulator/reset. The bucket and operating figures live in their own
// components; the portal merges them into the JSON.
//
// Thread-safety: safe for concurrent use; counters are atomics, the keyed maps
// share one mutex (they are touched once per command, not per byte).
#ifndef B24EMU_STATS_H_
#define B24EMU_STATS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace b24emu {

class Stats {
 public:
  void CountRequest() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void CountBatch() { batches_.fetch_add(1, std::memory_order_relaxed); }
  void CountCommand() { commands_.fetch_add(1, std::memory_order_relaxed); }
  void CountError(const std::string& code);
  void CountCreated(const std::string& entity);
  void CountFault(const std::string& kind);
  // One classic REST request that reached its methods: a single call
  // counts for its method, a batch once for each distinct method of its
  // commands (so a test can count the requests that read deals).
  void CountRequestFor(const std::set<std::string>& methods);
  // REST 3.0: a write answered from the idempotency store without running;
  // a write whose key was still running under an earlier request.
  void CountReplay() { idempotent_replays_.fetch_add(1, std::memory_order_relaxed); }
  void CountOverlap() { idempotency_overlaps_.fetch_add(1, std::memory_order_relaxed); }
  // One /oauth/token/ request; `granted` when a token was issued.
  void CountTokenRequest(bool granted) {
    (granted ? token_refreshes_ : token_refusals_).fetch_add(1, std::memory_order_relaxed);
  }

  // Keeps the last kRecordedCommands commands as the portal read them
  // (method and decoded params), so tests can check what arrived as data.
  void RecordCommand(const std::string& method, const nlohmann::json& params);
  // {"commands": [{"method": ..., "params": ...}, ...]}, oldest first.
  nlohmann::json CommandsJson() const;
  static constexpr size_t kRecordedCommands = 1000;

  // One request the web server refused as over --max-request-size (413):
  // never seen by the portal, so in no other count.
  void CountTooLarge() { too_large_.fetch_add(1, std::memory_order_relaxed); }

  // One REST reply written out (its last byte handed to the kernel) `late`
  // after it was due: arrival + modelled processing. Zero or less is on
  // time; more is time a real portal would not have added (the emulator's
  // own work unfinished, or its thread not yet run on a busy machine).
  void RecordReplyWritten(absl::Duration late);

  // Brackets one in-flight REST request (for peak_concurrency).
  void Enter();
  void Exit() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

  int64_t requests() const { return requests_.load(); }
  int64_t commands() const { return commands_.load(); }

  // requests, batches, commands, errors, created, peak_concurrency,
  // in_flight, faults_injected, token_refreshes, token_refusals,
  // idempotent_replays, idempotency_overlaps, too_large, requests_by_method,
  // replies_written, replies_late (over 1 ms past due), reply_lateness_max_ms,
  // reply_lateness_total_ms.
  nlohmann::json ToJson() const;

  // Clears everything except the in-flight count (requests may be running).
  void Reset();

 private:
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> commands_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> peak_concurrency_{0};
  std::atomic<int64_t> token_refreshes_{0};
  std::atomic<int64_t> token_refusals_{0};
  std::atomic<int64_t> idempotent_replays_{0};
  std::atomic<int64_t> idempotency_overlaps_{0};
  std::atomic<int64_t> too_large_{0};
  std::atomic<int64_t> replies_written_{0};
  std::atomic<int64_t> replies_late_{0};
  std::atomic<int64_t> lateness_max_us_{0};
  std::atomic<int64_t> lateness_total_us_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> created_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> faults_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> requests_by_method_ ABSL_GUARDED_BY(mu_);
  std::deque<nlohmann::json> commands_seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_STATS_H_
