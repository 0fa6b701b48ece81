// A small pool of threads that runs the dispatchers of every portal of a
// gateway, so that a portal costs memory, not a thread.
//
// Each portal is a Task: it runs in turns (RunTurn), never two at once, and
// each turn says when it wants the next one if nothing wakes it before
// (Wake: work queued, an answer in). Waits for the request budget or for an
// operating-time window are timers here, not sleeping threads. Ready tasks
// take their turns in the order they became ready, and a task that still
// has work after a turn goes to the back of the line: a saturated portal
// sends one request per turn and cannot hold up another's calls.
//
// Time is the injected Clock's: on a FakeClock, idle workers block on the
// clock (FakeClock::AwaitBlocked counts them) and timers fire when the test
// moves it.
//
// Thread-safety: thread-safe. RunTurn is called without any pool lock held.
#ifndef B24GATE_ENGINE_PORTAL_DISPATCH_POOL_H_
#define B24GATE_ENGINE_PORTAL_DISPATCH_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"

namespace b24gate {

class DispatchPool {
 public:
  class Task {
   public:
    virtual ~Task() = default;
    // One turn. Returns when to run again unless woken first
    // (InfiniteFuture: only when woken; <= now: as soon as others have had
    // theirs).
    virtual absl::Time RunTurn() = 0;
  };

  // `clock` must outlive the pool. REQUIRES: threads >= 1. With
  // `warm_bytes`, each thread first touches that much of its heap
  // (WarmThreadHeap: its first answers are parsed into memory that does not
  // fault), and the constructor returns once every thread has.
  DispatchPool(Clock* clock, int threads, size_t warm_bytes = 0);
  // REQUIRES: every task removed.
  ~DispatchPool();

  DispatchPool(const DispatchPool&) = delete;
  DispatchPool& operator=(const DispatchPool&) = delete;

  // Registers `task` and gives it a first turn.
  void Add(Task* task);
  // Unregisters `task`, waiting for a turn in progress to end; it gets no
  // turn after this returns. Wake() on it afterwards is ignored.
  void Remove(Task* task);
  // Gives `task` a turn soon (after its current one, if it is running).
  void Wake(Task* task);
  // As Wake, but when `task` is idle (no turn running or waiting for a
  // thread) its turn runs now on the calling thread, sparing the hand-off
  // to a pool thread (a futex wake and a context switch; on a loaded
  // machine, a wait for a core). It is still one turn of the task: never two
  // at once, Remove waits for it. REQUIRES: the caller holds no lock the
  // turn takes.
  void TurnHere(Task* task);

  // Runs `job` once on a pool thread: for work too long for the thread that
  // has it (a large answer's parse would hold up the HTTP transport's single
  // thread, and with it every other transfer's reading and sending), spread
  // over the pool's threads. While turns and jobs both wait, a thread takes
  // them in turn, one of each: a turn sends a request in well under a
  // millisecond, a job may take ten (a 170 KB answer), and a send waiting
  // behind every queued parse would delay the read it belongs to. Every job
  // handed in before the destructor runs.
  // A `quick` job (a small answer's: a parse well under a millisecond,
  // after which its caller may send the next request) goes ahead of the
  // others waiting, behind earlier quick ones: behind every queued 170 KB
  // parse it would wait tens of milliseconds.
  void Run(std::function<void()> job, bool quick = false);
  // Runs `job` once on a pool thread when no turn and no job waits: work
  // that may wait, and must hold up nothing (a read's pages made ahead of
  // their turn). Keep it short (a fraction of a millisecond): a thread
  // busy with it takes no turn until it ends. Every job handed in before
  // the destructor runs.
  void RunWhenIdle(std::function<void()> job);

  int threads() const { return static_cast<int>(threads_.size()); }
  // Turns pool threads have run so far, of every task (TurnHere's are not
  // counted). Each is a pool thread taking up work (when asleep, woken: a
  // futex wake and a context switch), so tests count them to keep the
  // hand-offs an idle portal's call costs from growing.
  int64_t turns() const { return turns_.load(); }

 private:
  struct Entry {
    absl::Time due = absl::InfiniteFuture();  // its timer, if not ready
    bool ready = false;     // in ready_
    bool running = false;   // a worker runs its turn
    bool woken = false;     // woken while running: another turn follows
  };
  void Work();
  // Runs the first job, the lock released meanwhile. REQUIRES: mu_ held, a job waiting.
  void RunJob() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same for the first idle job. REQUIRES: mu_ held, an idle job waiting.
  void RunIdleJob() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: mu_ held.
  void MakeReady(Task* task, Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Schedule(Task* task, Entry& e, absl::Time at, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves tasks whose timer is due to ready_; returns the next timer.
  absl::Time FireTimers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a turn: another soon if woken meanwhile, else at its `again`.
  void AfterTurn(Task* task, Entry& e, absl::Time again) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* const clock_;
  absl::Mutex mu_;
  std::map<Task*, Entry> tasks_ ABSL_GUARDED_BY(mu_);
  std::deque<Task*> ready_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  // Quick jobs at the front of jobs_.
  size_t quick_jobs_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::function<void()>> idle_jobs_ ABSL_GUARDED_BY(mu_);  // RunWhenIdle
  // (due, task); stale pairs (the task's due moved) are skipped.
  std::multimap<absl::Time, Task*> timers_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Bumped when a turn run by TurnHere sets a timer: idle workers sleep
  // until the earliest timer they saw, and this one may be earlier.
  uint64_t timers_set_here_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> turns_{0};
  std::vector<std::thread> threads_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_DISPATCH_POOL_H_
