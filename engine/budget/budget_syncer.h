// One thread that runs the sync rounds of every shared-budget store of a
// gateway, so that a gateway's threads do not grow with its portals: each
// store (a Task) says when its next round is due, and the syncer runs the
// due rounds one after another. A store with news calls Wake() and is asked
// again at once; the others are not asked until their round is due.
//
// A round's only wait is its Redis call, and the stores of a gateway share
// one RedisClient, whose commands are serialised on one connection anyway.
// So a stalled round holds up the rounds behind it for at most the client's
// timeouts (connect_timeout + command_timeout): after that the
// client fails fast until its reconnect backoff has passed, and the rounds
// behind it run (and fail, or are skipped) at once. The dispatchers never
// wait for a round at all (see RedisBudgetStore).
//
// Thread-safety: thread-safe. Tasks are called on the syncer's thread only,
// never with the syncer's lock held, so a task may call Wake() while holding
// its own lock.
#ifndef B24GATE_ENGINE_BUDGET_BUDGET_SYNCER_H_
#define B24GATE_ENGINE_BUDGET_BUDGET_SYNCER_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"

namespace b24gate {

class BudgetSyncer {
 public:
  // What the syncer runs: one store's rounds.
  class Task {
   public:
    virtual ~Task() = default;
    // When the next round is due, as of `now` (InfiniteFuture: not until
    // woken).
    virtual absl::Time DueAt(absl::Time now) = 0;
    // Runs one round, which may wait on Redis.
    virtual void RunRound() = 0;

   private:
    friend class BudgetSyncer;
    // When the next round is due, as last asked: the syncer's thread only.
    absl::Time due_ = absl::InfinitePast();
    bool woken_ = false;  // guarded by the syncer's mu_
  };

  // Starts the thread. `clock` must outlive this.
  explicit BudgetSyncer(Clock* clock);
  // Stops the thread. REQUIRES: every task removed.
  ~BudgetSyncer();

  BudgetSyncer(const BudgetSyncer&) = delete;
  BudgetSyncer& operator=(const BudgetSyncer&) = delete;

  // REQUIRES: `task` not added yet, and alive until Remove(task) returns.
  void Add(Task* task);
  // Once it returns, `task` is never called again; waits for the round it
  // is running, if any. REQUIRES: `task` added; not called from a task.
  void Remove(Task* task);
  // `task`'s next round may be due earlier than it said.
  // REQUIRES: `task` added.
  void Wake(Task* task);

 private:
  void Loop();
  // A task, and whether it was woken since the last pass.
  struct Entry {
    Task* task;
    bool woken;
  };
  // Waits until `next`, a Wake() or stopping; false when stopping. Starts a
  // pass: copies the tasks and takes their wake-ups. REQUIRES: mu_ held.
  bool AwaitPass(absl::Time next, std::vector<Entry>* tasks) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the rounds of `tasks` that are due; returns when the next is due.
  // REQUIRES: mu_ not held.
  absl::Time RunDue(const std::vector<Entry>& tasks) ABSL_LOCKS_EXCLUDED(mu_);

  Clock* const clock_;
  absl::Mutex mu_;
  std::vector<Task*> tasks_ ABSL_GUARDED_BY(mu_);
  bool woken_ ABSL_GUARDED_BY(mu_) = false;  // some task was
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // A pass (RunDue) is under way with the tasks as they were when it began,
  // the passes_-th.
  bool in_pass_ ABSL_GUARDED_BY(mu_) = false;
  int64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_BUDGET_SYNCER_H_
