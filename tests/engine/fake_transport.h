// A transport the test answers by hand: Send() queues the request, the test
// takes it with Next() and answers it with `exchange.done(response)` on the
// test thread, so the engine's reaction runs before done() returns.
//
// Nothing is left hanging when a test fails half-way: an exchange dropped
// without an answer goes back to the transport, and Close() answers every
// such request (and every later one) as "not sent", so the engine's
// in-flight count drains and its destructor returns.
//
// Answers are built with the helpers at the bottom (Json, Failure, and
// BatchAnswer for `batch` requests), not typed as JSON strings.
#ifndef B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_
#define B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_

#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/http/http_transport.h"

namespace b24gate {

class FakeTransport : public HttpTransport {
 public:
  // One request waiting for the test's answer.
  class Exchange {
   public:
    // Answers the request; call at most once.
    class Done {
     public:
      void operator()(HttpResponse response) {
        Callback callback = std::move(callback_);
        callback_ = nullptr;
        if (callback) callback(std::move(response));
      }

     private:
      friend class Exchange;
      Callback callback_;
    };

    Exchange(HttpRequest r, Callback callback, FakeTransport* owner)
        : request(std::move(r)), owner_(owner) {
      done.callback_ = std::move(callback);
    }
    Exchange(Exchange&& other) noexcept
        : request(std::move(other.request)), owner_(other.owner_) {
      done.callback_ = std::move(other.done.callback_);
      other.done.callback_ = nullptr;
    }
    Exchange& operator=(Exchange&&) = delete;
    ~Exchange() {
      if (done.callback_) owner_->Abandon(std::move(done.callback_));
    }

    HttpRequest request;
    Done done;

   private:
    FakeTransport* owner_;
  };

  void Send(HttpRequest request, Callback done) override {
    {
      absl::MutexLock lock(&mu_);
      sent_++;
      if (!closed_) {
        pending_.emplace_back(std::move(request), std::move(done));
        return;
      }
    }
    done(Closed());
  }

  // The next request sent, waiting up to `timeout` (real time: the engine
  // sends from its own thread). Taking it is what puts it on the wire: its
  // HttpRequest::starting runs here, and a request its sender withdrew
  // meanwhile is answered kNotSent and skipped.
  std::optional<Exchange> Next(absl::Duration timeout = absl::Seconds(5)) {
    for (;;) {
      std::optional<std::pair<HttpRequest, Callback>> next;
      {
        absl::MutexLock lock(&mu_);
        auto has = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !pending_.empty(); };
        if (!mu_.AwaitWithTimeout(absl::Condition(&has), timeout)) return std::nullopt;
        next = std::move(pending_.front());
        pending_.pop_front();
      }
      auto& [request, callback] = *next;
      if (!request.starting || request.starting()) {
        return Exchange(std::move(request), std::move(callback), this);
      }
      HttpResponse withdrawn = Failure(TransportFailure::kNotSent);
      withdrawn.failure_message = "withdrawn before it was sent";
      callback(std::move(withdrawn));
    }
  }

  // Waits, up to `timeout` of real time, until `n` requests sent by the
  // engine wait to be taken with Next() (still "waiting for a connection").
  bool AwaitWaiting(int n, absl::Duration timeout = absl::Seconds(5)) {
    absl::MutexLock lock(&mu_);
    auto has = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(pending_.size()) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&has), timeout);
  }

  // Warm() hints so far: (url, connections).
  void Warm(const std::string& url, int connections, const TlsOptions&) override {
    absl::MutexLock lock(&mu_);
    warms_.emplace_back(url, connections);
    sent_before_warms_.push_back(sent_);
  }
  std::vector<std::pair<std::string, int>> warms() {
    absl::MutexLock lock(&mu_);
    return warms_;
  }
  // For each Warm() hint, how many requests had been sent before it.
  std::vector<int> sent_before_warms() {
    absl::MutexLock lock(&mu_);
    return sent_before_warms_;
  }

  // Requests sent so far, answered or not.
  int sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

  // Answers every unanswered request, and every later one at once, as not
  // sent. Call before destroying the engine that uses this transport.
  void Close() {
    std::vector<Callback> left;
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      for (auto& [request, callback] : pending_) left.push_back(std::move(callback));
      pending_.clear();
      for (auto& callback : abandoned_) left.push_back(std::move(callback));
      abandoned_.clear();
    }
    for (auto& callback : left) callback(Closed());
  }

  static HttpResponse Json(int status, const std::string& body) {
    HttpResponse r;
    r.status = status;
    r.headers["content-type"] = "application/json";
    r.body = body;
    return r;
  }
  static HttpResponse Json(int status, const char* body) { return Json(status, std::string(body)); }
  static HttpResponse Json(int status, const nlohmann::ordered_json& body) {
    return Json(status, body.dump());
  }
  static HttpResponse Failure(TransportFailure failure) {
    HttpResponse r;
    r.failure = failure;
    r.failure_message = "simulated";
    return r;
  }
  // A `batch` answer as Bitrix24 writes it: `results` maps command keys to
  // their results, `errors` to their error objects (see Error); PHP writes
  // an empty map as []. (BatchAnswerBuilder below also sets per-command times.)
  static HttpResponse BatchAnswer(
      const nlohmann::ordered_json& results,
      const nlohmann::ordered_json& errors = nlohmann::ordered_json::object());
  // A Bitrix24 error object.
  static nlohmann::ordered_json Error(const std::string& code, const std::string& description) {
    return {{"error", code}, {"error_description", description}};
  }

 private:
  static HttpResponse Closed() {
    HttpResponse r = Failure(TransportFailure::kNotSent);
    r.failure_message = "the test closed the transport";
    return r;
  }
  void Abandon(Callback callback) {
    absl::MutexLock lock(&mu_);
    abandoned_.push_back(std::move(callback));
  }

  absl::Mutex mu_;
  std::deque<std::pair<HttpRequest, Callback>> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<Callback> abandoned_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int sent_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<std::string, int>> warms_ ABSL_GUARDED_BY(mu_);
  std::vector<int> sent_before_warms_ ABSL_GUARDED_BY(mu_);
};

// Answers in the shapes Bitrix24 sends.

// {"result": …, "time": …}: a single call's answer.
inline HttpResponse ResultAnswer(nlohmann::ordered_json result,
                                 nlohmann::ordered_json time = nlohmann::ordered_json::object()) {
  return FakeTransport::Json(200, nlohmann::ordered_json{{"result", std::move(result)},
                                                         {"time", std::move(time)}});
}

// {"error": code, "error_description": …} with an HTTP status.
inline HttpResponse ErrorAnswer(int status, const std::string& code,
                                const std::string& description = "simulated") {
  return FakeTransport::Json(
      status, nlohmann::ordered_json{{"error", code}, {"error_description", description}});
}

// A `time` object reporting `operating` seconds used, released at `reset_at`.
inline nlohmann::ordered_json OperatingTime(double operating, absl::Time reset_at) {
  return {{"operating", operating}, {"operating_reset_at", absl::ToUnixMicros(reset_at) / 1e6}};
}

// A `batch` answer, built entry by entry:
//   BatchAnswerBuilder().Result("c0", {{"ID", "1"}}).Error("c1", "", "Not found").Response()
class BatchAnswerBuilder {
 public:
  BatchAnswerBuilder& Result(const std::string& key, nlohmann::ordered_json result,
                      nlohmann::ordered_json time = nullptr) {
    result_[key] = std::move(result);
    if (!time.is_null()) time_[key] = std::move(time);
    return *this;
  }
  BatchAnswerBuilder& Error(const std::string& key, const std::string& code,
                     const std::string& description = "simulated") {
    error_[key] = {{"error", code}, {"error_description", description}};
    return *this;
  }
  // The whole request's `time` (charged to `batch`).
  BatchAnswerBuilder& Time(nlohmann::ordered_json time) {
    batch_time_ = std::move(time);
    return *this;
  }
  HttpResponse Response() const {
    // PHP encodes an empty map as [].
    auto map = [](const nlohmann::ordered_json& m) {
      return m.empty() ? nlohmann::ordered_json::array() : m;
    };
    return FakeTransport::Json(200, nlohmann::ordered_json{
                                        {"result",
                                         {{"result", map(result_)},
                                          {"result_error", map(error_)},
                                          {"result_total", nlohmann::ordered_json::array()},
                                          {"result_next", nlohmann::ordered_json::array()},
                                          {"result_time", map(time_)}}},
                                        {"time", batch_time_}});
  }

 private:
  nlohmann::ordered_json result_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json error_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json time_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json batch_time_ = nlohmann::ordered_json::object();
};

inline HttpResponse FakeTransport::BatchAnswer(const nlohmann::ordered_json& results,
                                              const nlohmann::ordered_json& errors) {
  BatchAnswerBuilder builder;
  for (const auto& [key, result] : results.items()) builder.Result(key, result);
  for (const auto& [key, error] : errors.items()) {
    builder.Error(key, error.value("error", ""), error.value("error_description", ""));
  }
  return builder.Response();
}

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_FAKE_TRANSPORT_H_
