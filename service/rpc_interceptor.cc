#include "service/rpc_interceptor.h"

#include <chrono>
#include <cmath>
#include <random>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace b24gate {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr char kRequestIdHeader[] = "x-request-id";
// Our own services' messages: their `portal` and `method` fields are logged.
constexpr char kOwnPackage[] = "/bitrix24.gateway.v1.";

const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

constexpr char kUnknown[] = "unknown";

// "/pkg.Service/Method" names a method of a service compiled into this
// binary (ours, health, reflection: a fixed set). Calls of others are
// answered UNIMPLEMENTED by gRPC, and counted and logged under "unknown".
bool IsKnownMethod(const std::string& path) {
  size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == 0 || slash == std::string::npos) return false;
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(path.substr(1, slash - 1));
  return service != nullptr && service->FindMethodByName(path.substr(slash + 1)) != nullptr;
}

// A string field of `message` by name, or "".
std::string StringField(const google::protobuf::Message& message, const char* name) {
  const google::protobuf::FieldDescriptor* f = message.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() ||
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    return "";
  }
  return message.GetReflection()->GetString(message, f);
}

// What a streamed message carries: the size of its `items` or `results`
// list, or 1.
int ItemsIn(const google::protobuf::Message& message) {
  for (const char* name : {"items", "results"}) {
    const google::protobuf::FieldDescriptor* f = message.GetDescriptor()->FindFieldByName(name);
    if (f != nullptr && f->is_repeated()) return message.GetReflection()->FieldSize(message, f);
  }
  return 1;
}

class RpcInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(grpc::experimental::ServerRpcInfo* info, GrpcMetrics* metrics, Logger* logger,
                 const Authenticator* authenticator, LiveCalls* live)
      : info_(info),
        live_(live),
        metrics_(metrics),
        logger_(logger),
        authenticator_(authenticator),
        full_method_(info->method() == nullptr ? "" : info->method()),
        known_(IsKnownMethod(full_method_)),
        own_(known_ && full_method_.rfind(kOwnPackage, 0) == 0),
        server_stream_(info->type() ==
                           grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING ||
                       info->type() == grpc::experimental::ServerRpcInfo::Type::BIDI_STREAMING),
        start_(absl::Now()) {
    // "/pkg.Service/Method"; any other path is one "unknown" label value,
    // so that callers inventing paths cannot add series without bound.
    size_t slash = full_method_.rfind('/');
    service_ = known_ ? full_method_.substr(1, slash - 1) : kUnknown;
    method_ = known_ ? full_method_.substr(slash + 1) : kUnknown;
    if (metrics_) metrics_->Started(service_, method_, server_stream_);
    if (live_ && own_) live_->Started();
  }

  // A call gRPC ended without sending a status: the client went away, or
  // its deadline passed (then gRPC drops the late status).
  ~RpcInterceptor() override {
    if (!finished_) {
      Finish(DeadlinePassed() ? "DEADLINE_EXCEEDED" : "CANCELLED");
    }
    if (live_ && own_) live_->Ended();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      OnInitialMetadata(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) && own_ &&
        !have_request_) {
      // gRPC hands the deserialized request as void*; our services' messages
      // are all protobuf messages.
      if (void* m = methods->GetRecvMessage(); m != nullptr) {
        const auto* message = static_cast<const google::protobuf::Message*>(m);
        portal_ = StringField(*message, "portal");
        method_param_ = StringField(*message, "method");
        have_request_ = true;
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (request_id_.empty()) request_id_ = RequestIdFor("");
      // An error answered at once (status, no message) can go as a
      // "Trailers-Only" response, which clients may retry under their retry
      // policy; headers would commit the call and stop that. So such
      // answers carry the id in the trailers.
      bool status_only =
          methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
          !methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE);
      if (status_only) {
        methods->GetSendTrailingMetadata()->emplace(kRequestIdHeader, request_id_);
      } else {
        methods->GetSendInitialMetadata()->emplace(kRequestIdHeader, request_id_);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE) &&
        server_stream_ && metrics_) {
      const void* m = methods->GetSendMessage();
      int items = 1;
      if (own_ && m != nullptr) items = ItemsIn(*static_cast<const google::protobuf::Message*>(m));
      metrics_->Streamed(method_, items);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      std::string code = OutcomeOf(status);
      if (!code.empty()) Finish(code, status.error_message());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_CLOSE) && !finished_) {
      Finish(UnreadOutcome());
    }
    methods->Proceed();
  }

 private:
  void OnInitialMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& md) {
    std::string given;
    auto it = md.find(kRequestIdHeader);
    if (it != md.end()) given.assign(it->second.data(), it->second.size());
    request_id_ = RequestIdFor(given);
    deadline_ = info_->server_context()->deadline();
    // The same identification the service enforces, repeated here (a hash
    // and a few comparisons) only to name the client in the log line.
    if (authenticator_ != nullptr && authenticator_->enabled() && own_) {
      std::shared_ptr<const grpc::AuthContext> auth = info_->server_context()->auth_context();
      AuthOutcome who = authenticator_->Identify(md, auth.get());
      if (who.client != nullptr) client_ = who.client->name;
    }
  }

  // The code the client sees: a call "cancelled" because its deadline
  // passed is DEADLINE_EXCEEDED. "" when it is not known yet: gRPC answers
  // UNIMPLEMENTED for a method of ours when it could not read the request,
  // which mostly means the call ended (deadline, cancel) before its message
  // arrived; whether it did shows at POST_RECV_CLOSE.
  std::string OutcomeOf(const grpc::Status& status) const {
    const grpc::StatusCode code = status.error_code();
    const bool unread = known_ && code == grpc::StatusCode::UNIMPLEMENTED;
    if (code != grpc::StatusCode::CANCELLED && !unread) return CodeName(code);
    if (DeadlinePassed()) return "DEADLINE_EXCEEDED";
    return unread ? "" : CodeName(code);
  }

  // The client's deadline timer fires first: the server reckons the deadline
  // from when the call arrived, so a client that gave up at its deadline
  // cancels the call a little before the server's copy of that deadline.
  bool DeadlinePassed() const {
    constexpr auto kClientAhead = std::chrono::milliseconds(100);
    return std::chrono::system_clock::now() + kClientAhead >= deadline_;
  }

  // At POST_RECV_CLOSE, for a call whose request was never read.
  std::string UnreadOutcome() const {
    if (DeadlinePassed()) return "DEADLINE_EXCEEDED";
    return info_->server_context()->IsCancelled() ? "CANCELLED" : "UNIMPLEMENTED";
  }

  void Finish(const std::string& code, const std::string& message = "") {
    if (finished_) return;
    finished_ = true;
    double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    if (metrics_) metrics_->Handled(service_, method_, server_stream_, code, seconds);
    // Probes and reflection are frequent and dull: debug level.
    LogLevel level = !own_ ? LogLevel::kDebug : code == "OK" ? LogLevel::kInfo : LogLevel::kWarn;
    if (!logger_->Enabled(level)) return;
    // An unknown path is the caller's text: logged, but cut short.
    nlohmann::ordered_json fields = {{"grpc_method", known_ ? full_method_ : full_method_.substr(0, 128)},
                                     {"request_id", request_id_},
                                     {"outcome", code},
                                     {"duration_ms", std::round(seconds * 1e6) / 1e3}};
    // An empty portal is the default one.
    if (!portal_.empty()) fields["portal"] = portal_;
    if (!method_param_.empty()) fields["method"] = method_param_;
    if (!client_.empty()) fields["client"] = client_;
    // Who was turned away, for the operator; the message says why and never
    // holds a credential.
    if (code == "UNAUTHENTICATED" || code == "PERMISSION_DENIED") {
      fields["peer"] = info_->server_context()->peer();
    }
    if (!message.empty()) fields["error"] = message;
    logger_->Log(level, "rpc", fields);
  }

  grpc::experimental::ServerRpcInfo* const info_;
  LiveCalls* const live_;
  GrpcMetrics* const metrics_;
  Logger* const logger_;
  const Authenticator* const authenticator_;
  const std::string full_method_;
  const bool known_;  // a method of a service this binary links
  const bool own_;
  const bool server_stream_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
  std::string request_id_;
  bool have_request_ = false;
  std::string portal_;
  std::string method_param_;
  std::string client_;
  bool finished_ = false;
  std::chrono::system_clock::time_point deadline_ = std::chrono::system_clock::time_point::max();
};

}  // namespace

std::string RequestIdFor(const std::string& given) {
  bool ok = !given.empty() && given.size() <= 128;
  for (char c : given) ok = ok && c > ' ' && c < 127;
  if (ok) return given;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x", rng());
}

grpc::experimental::Interceptor* RpcInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcInterceptor(info, metrics_, logger_, authenticator_, live_);
}

}  // namespace b24gate
