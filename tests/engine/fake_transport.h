// A transport the test answers by hand: Send() queues the request, the test
// takes it with Next() and answers it with Reply() on the test thread.
#ifndef B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_
#define B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_

#include <deque>
#include <optional>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "engine/http/http_transport.h"

namespace b24gate {

class FakeTransport : public HttpTransport {
 public:
  struct Exchange {
    HttpRequest request;
    Callback done;
  };

  void Send(HttpRequest request, Callback done) override {
    absl::MutexLock lock(&mu_);
    pending_.push_back({std::move(request), std::move(done)});
    sent_++;
  }

  // The next request sent, waiting up to `timeout`.
  std::optional<Exchange> Next(absl::Duration timeout = absl::Seconds(5)) {
    absl::MutexLock lock(&mu_);
    auto has = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !pending_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has), timeout)) return std::nullopt;
    Exchange e = std::move(pending_.front());
    pending_.pop_front();
    return e;
  }

  int sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

  static HttpResponse Json(int status, const std::string& body) {
    HttpResponse r;
    r.status = status;
    r.headers["content-type"] = "application/json";
    r.body = body;
    return r;
  }
  static HttpResponse Failure(TransportFailure failure) {
    HttpResponse r;
    r.failure = failure;
    r.failure_message = "simulated";
    return r;
  }

 private:
  absl::Mutex mu_;
  std::deque<Exchange> pending_ ABSL_GUARDED_BY(mu_);
  int sent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_
