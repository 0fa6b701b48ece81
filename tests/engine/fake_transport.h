// A transport the test answers by hand: Send() queues the request, the test
// takes it with Next() and answers it with Reply() on the test thread.
#ifndef B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_
#define B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_

#include <deque>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

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
  // A `batch` answer as Bitrix24 writes it: `results` maps command keys to
  // their results, `errors` to their error objects (see Error); PHP writes
  // an empty map as [].
  static HttpResponse BatchAnswer(const nlohmann::ordered_json& results,
                                  const nlohmann::ordered_json& errors = nlohmann::ordered_json::object()) {
    auto map = [](const nlohmann::ordered_json& m) {
      return m.empty() ? nlohmann::ordered_json::array() : m;
    };
    nlohmann::ordered_json inner = {{"result", map(results)},
                                    {"result_error", map(errors)},
                                    {"result_total", nlohmann::ordered_json::array()},
                                    {"result_next", nlohmann::ordered_json::array()},
                                    {"result_time", nlohmann::ordered_json::array()}};
    return Json(200, nlohmann::ordered_json({{"result", inner}, {"time", nlohmann::ordered_json::object()}}).dump());
  }
  // A Bitrix24 error object.
  static nlohmann::ordered_json Error(const std::string& code, const std::string& description) {
    return {{"error", code}, {"error_description", description}};
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
