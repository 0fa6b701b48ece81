// A few threads for the gateway's blocking work (a disk sync, a Redis round
// trip), so that the threads every portal shares (the dispatch pool, the
// HTTP completions, the poll timer, gRPC's callback threads) never wait on
// I/O: one slow disk or Redis would otherwise hold up every portal's timers
// and answers. Jobs run in the order they were handed in, on whichever
// thread is free; the pool is one per gateway, never one per portal.
//
// Bounded: at most Options::max_queued jobs wait; Submit refuses more
// (the caller answers UNAVAILABLE or tries again later) rather than letting
// a stalled Redis pile up work without end.
//
// Thread-safety: thread-safe. Jobs run holding no lock of the pool.
#ifndef B24GATE_ENGINE_COMMON_BLOCKING_POOL_H_
#define B24GATE_ENGINE_COMMON_BLOCKING_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

class BlockingPool {
 public:
  struct Options {
    int threads = 2;            // REQUIRES: >= 1
    size_t max_queued = 4096;   // jobs waiting for a thread
  };

  explicit BlockingPool(Options options);
  // Runs the jobs already handed in, then joins the threads: a job may be
  // what finishes an RPC or ends a pass, so none is dropped.
  ~BlockingPool();

  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `job`. Returns false (and drops it) when max_queued jobs wait
  // already or the pool is being destroyed.
  bool Submit(std::function<void()> job);

  // Jobs waiting for a thread (for tests and metrics).
  size_t queued() const;

 private:
  void Work();

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_BLOCKING_POOL_H_
