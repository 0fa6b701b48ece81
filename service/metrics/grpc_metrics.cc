#include "service/metrics/grpc_metrics.h"

namespace b24gate {

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("b24gate_grpc_started_total")
                   .Help("RPCs started")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("b24gate_grpc_handled_total")
                   .Help("RPCs finished, by gRPC status code")
                   .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("b24gate_grpc_handling_seconds")
                   .Help("time from an RPC's start to its status")
                   .Register(registry)),
      open_streams_(prometheus::BuildGauge()
                        .Name("b24gate_grpc_open_streams")
                        .Help("server-streaming RPCs open now")
                        .Register(registry)),
      items_(prometheus::BuildCounter()
                 .Name("b24gate_grpc_stream_items_total")
                 .Help("items sent on server streams (list items, per-id results)")
                 .Register(registry)) {}

GrpcMetrics::MethodSeries& GrpcMetrics::SeriesOf(const std::string& service,
                                                 const std::string& method) {
  auto [it, inserted] = series_.try_emplace({service, method});
  MethodSeries& s = it->second;
  if (inserted) {
    s.started = &started_.Add({{"grpc_service", service}, {"grpc_method", method}});
    s.seconds = &seconds_.Add({{"grpc_service", service}, {"grpc_method", method}},
                              prometheus::Histogram::BucketBoundaries{
                                  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                  300});
  }
  return s;
}

void GrpcMetrics::Started(const std::string& service, const std::string& method,
                          bool server_stream) {
  absl::MutexLock lock(&mu_);
  MethodSeries& s = SeriesOf(service, method);
  s.started->Increment();
  if (server_stream) {
    if (s.open_streams == nullptr) {
      s.open_streams = &open_streams_.Add({{"grpc_method", method}});
      s.items = &items_.Add({{"grpc_method", method}});
      by_method_[method] = &s;
    }
    s.open_streams->Increment();
  }
}

void GrpcMetrics::Streamed(const std::string& method, int items) {
  absl::MutexLock lock(&mu_);
  auto it = by_method_.find(method);
  if (it != by_method_.end()) it->second->items->Increment(items);
}

void GrpcMetrics::Handled(const std::string& service, const std::string& method,
                          bool server_stream, const std::string& code, double seconds) {
  absl::MutexLock lock(&mu_);
  MethodSeries& s = SeriesOf(service, method);
  auto it = s.handled.find(code);
  if (it == s.handled.end()) {
    it = s.handled
             .emplace(code, &handled_.Add({{"grpc_service", service},
                                           {"grpc_method", method},
                                           {"grpc_code", code}}))
             .first;
  }
  it->second->Increment();
  s.seconds->Observe(seconds);
  if (server_stream && s.open_streams != nullptr) s.open_streams->Decrement();
}

}  // namespace b24gate
