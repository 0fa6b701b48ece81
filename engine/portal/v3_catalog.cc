#include "engine/portal/v3_catalog.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

constexpr char kOpenApiMethod[] = "rest.documentation.openapi";

// The portal has no self-description: it serves no REST 3.0 at all.
bool NoDocument(const absl::Status& status) {
  const std::string reason = ReasonOf(status);
  return reason == "ERROR_METHOD_NOT_FOUND" ||
         reason == "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION";
}

}  // namespace

absl::StatusOr<V3MethodSet> V3Catalog::MethodsOf(const nlohmann::ordered_json& document) {
  auto paths = document.is_object() ? document.find("paths") : document.end();
  if (paths == document.end() || !paths->is_object()) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                        "the portal's OpenAPI document (rest.documentation.openapi) has no "
                        "\"paths\" object");
  }
  V3MethodSet methods;
  for (const auto& entry : paths->items()) {
    const std::string& path = entry.key();
    const size_t slash = path.rfind('/');
    std::string method = slash == std::string::npos ? path : path.substr(slash + 1);
    if (!method.empty()) methods.insert(absl::AsciiStrToLower(method));
  }
  return methods;
}

void V3Catalog::Methods(Callback done) {
  std::shared_ptr<const V3MethodSet> known;
  bool start = false;
  {
    absl::MutexLock lock(&mu_);
    const bool refresh = stale_ && clock_->Now() >= fetched_at_ + kMinRefresh;
    if (methods_ != nullptr && !refresh) {
      known = methods_;
    } else {
      waiting_.push_back(std::move(done));
      start = !fetching_;
      fetching_ = true;
    }
  }
  if (known != nullptr) {
    done(std::move(known));
  } else if (start) {
    Fetch();
  }
}

void V3Catalog::MarkStale() {
  absl::MutexLock lock(&mu_);
  stale_ = true;
}

void V3Catalog::Fetch() {
  CallOptions options;
  options.api = RestApi::kV3;
  options.idempotent = true;
  options.deadline = clock_->Now() + kFetchDeadline;
  portal_->Call(kOpenApiMethod, nlohmann::ordered_json::object(), /*as_json=*/true,
                std::move(options),
                [this](absl::StatusOr<CallReply> reply) { Delivered(std::move(reply)); });
}

void V3Catalog::Delivered(absl::StatusOr<CallReply> reply) {
  absl::StatusOr<V3MethodSet> methods =
      reply.ok() ? MethodsOf(reply->result) : absl::StatusOr<V3MethodSet>(reply.status());
  if (!methods.ok() && NoDocument(methods.status())) methods = V3MethodSet();
  std::vector<Callback> waiting;
  std::shared_ptr<const V3MethodSet> listed;
  {
    absl::MutexLock lock(&mu_);
    fetching_ = false;
    if (methods.ok()) {
      methods_ = std::make_shared<const V3MethodSet>(std::move(*methods));
      stale_ = false;
    }
    // A refresh that failed keeps the list read before, tried again no
    // sooner than a fresh one would be.
    if (methods_ != nullptr) {
      fetched_at_ = clock_->Now();
      listed = methods_;
    }
    waiting.swap(waiting_);
  }
  for (Callback& done : waiting) {
    if (listed != nullptr) {
      done(listed);
    } else {
      done(methods.status());
    }
  }
}

}  // namespace b24gate
