#include "service/callback_queue_waker.h"

#include <utility>

namespace b24gate {

// One call's state, kept until the call completes: gRPC holds the context
// and both buffers until then.
struct CallbackQueueWaker::Flight {
  grpc::ClientContext context;
  grpc::Slice empty;
  grpc::ByteBuffer request{&empty, 1};  // an empty message (a null buffer is refused)
  grpc::ByteBuffer response;
  bool done = false;
};

CallbackQueueWaker::CallbackQueueWaker(absl::Duration period)
    : period_(period),
      // Null credentials make a lame channel: every call fails at once.
      lame_(grpc::CreateChannel("", nullptr)),
      stub_(lame_) {
  thread_ = std::thread([this] { Loop(); });
}

CallbackQueueWaker::~CallbackQueueWaker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::unique_ptr<Flight>* f) { return *f == nullptr || (*f)->done; }, &flight_));
}

int64_t CallbackQueueWaker::completions() const {
  absl::MutexLock lock(&mu_);
  return completions_;
}

void CallbackQueueWaker::Loop() {
  while (true) {
    Flight* start = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      // A call still in flight (the callback threads are busy) is enough.
      if (flight_ == nullptr || flight_->done) {
        flight_ = std::make_unique<Flight>();
        start = flight_.get();
      }
    }
    if (start != nullptr) Start(start);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), period_);
  }
}

void CallbackQueueWaker::Start(Flight* flight) {
  // Returns at once; the completion runs on one of gRPC's callback threads.
  stub_.UnaryCall(&flight->context, "/b24gate.internal.Waker/Wake", grpc::StubOptions(),
                  &flight->request, &flight->response, [this, flight](const grpc::Status&) {
                    absl::MutexLock lock(&mu_);
                    flight->done = true;
                    completions_++;
                  });
}

}  // namespace b24gate
