// The gRPC side as Prometheus series: RPCs started and handled by service,
// method and code, handling time (histogram), open server streams and items
// streamed. Fed by RpcInterceptor (service/rpc_interceptor.h).
//
// Families are registered once; the series of each (service, method[, code])
// are created on first use and kept, so an event is one cached lookup.
// Methods are the server's own (a fixed set: RpcInterceptor passes any
// other path as "unknown"), so no cap is needed.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_METRICS_GRPC_METRICS_H_
#define B24GATE_SERVICE_METRICS_GRPC_METRICS_H_

#include <map>
#include <string>
#include <tuple>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

class GrpcMetrics {
 public:
  // `registry` must outlive this object.
  explicit GrpcMetrics(prometheus::Registry& registry);

  void Started(const std::string& service, const std::string& method, bool server_stream);
  // `items` counts what a streamed message carried (GetAll items, GetById results).
  void Streamed(const std::string& method, int items);
  void Handled(const std::string& service, const std::string& method, bool server_stream,
               const std::string& code, double seconds);

 private:
  struct MethodSeries {
    prometheus::Counter* started = nullptr;
    prometheus::Histogram* seconds = nullptr;
    prometheus::Gauge* open_streams = nullptr;
    prometheus::Counter* items = nullptr;
    std::map<std::string, prometheus::Counter*> handled;  // by code
  };
  MethodSeries& SeriesOf(const std::string& service, const std::string& method)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  prometheus::Family<prometheus::Gauge>& open_streams_;
  prometheus::Family<prometheus::Counter>& items_;

  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, MethodSeries> series_ ABSL_GUARDED_BY(mu_);
  // Streams are keyed by method name alone (grpc_method label only).
  std::map<std::string, MethodSeries*> by_method_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_GRPC_METRICS_H_
