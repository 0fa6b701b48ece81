// Keeps gRPC's callback threads reading the sockets while the gateway is idle.
//
// The gateway's services use gRPC's callback API. With the gRPC this builds
// against (1.51, iomgr's epoll1 poller on Linux, which cannot poll in the
// background), the callback API's completions go to one process-wide
// completion queue that a few "nexting" threads (half the cores, at least 2)
// take from; those threads are also the ones that read the sockets. Each
// waits for work at most 1 s, and when that second passes with nothing to
// do it sleeps 100 ms without polling (CallbackAlternativeCQ in gRPC's
// src/cpp/common/completion_queue_cc.cc). Threads that went idle together
// time out together and stay in step, so an idle gateway read none of its
// sockets for 100 ms in every 1.1 s: a call that arrived then waited for the
// end of the nap. getall_bench --reads 3 showed it on most later reads, 13
// of the 15 traced (the bench's wait for the bucket to drain puts its call
// at about the same point of that cycle each time): the GetAll reached its
// handler 39-92 ms after the client's call, against 1-4 ms when the call
// missed the nap. A client calling after any idle second has a 1 in 11
// chance of up to 100 ms more; one calling every 1.05 s paid ~50 ms each
// time (single_calls_bench --pause-ms 1050).
//
// One completion on that queue every `period` (well under the 1 s wait)
// keeps the thread that took the last one inside its wait, and so polling,
// while the others nap. The completion is that of a call on a lame channel:
// it fails at once, in this process, with no I/O.
#ifndef B24GATE_SERVICE_CALLBACK_QUEUE_WAKER_H_
#define B24GATE_SERVICE_CALLBACK_QUEUE_WAKER_H_

#include <cstdint>
#include <memory>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace b24gate {

class CallbackQueueWaker {
 public:
  // Starts the thread that places a completion every `period` (real time:
  // gRPC's wait is).
  explicit CallbackQueueWaker(absl::Duration period = absl::Milliseconds(250));
  // Stops the thread; returns once the last call has completed.
  ~CallbackQueueWaker();

  // Calls whose completion the queue delivered so far (for tests).
  int64_t completions() const;

 private:
  struct Flight;
  // Every period: a new call, unless the last one is still in flight.
  void Loop();
  void Start(Flight* flight) ABSL_LOCKS_EXCLUDED(mu_);

  const absl::Duration period_;
  const std::shared_ptr<grpc::Channel> lame_;
  grpc::GenericStub stub_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<Flight> flight_ ABSL_GUARDED_BY(mu_);  // null: none in flight
  int64_t completions_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_CALLBACK_QUEUE_WAKER_H_
