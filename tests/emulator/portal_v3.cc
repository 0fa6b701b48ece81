// Portal, REST 3.0 half (/rest/api/...): JSON bodies only, `auth` in the body
// for OAuth, v3 answers `{"result": ..., "time": ...}` and errors
// `{"error": {"code", "message", "validation"?}}`, and Idempotency-Key for
// writes (idempotency_store.h). Limits are the classic ones, shared: the same
// leaky bucket, and operating time charged to the method's name whichever
// API called it. System errors (auth, limits) keep the classic flat shape,
// as on a real portal.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/batch_v3.h"
#include "tests/emulator/openapi.h"
#include "tests/emulator/php_json.h"
#include "tests/emulator/portal.h"

namespace b24emu {
namespace {

using OJson = nlohmann::ordered_json;

constexpr char kV3Prefix[] = "v3/";
constexpr char kInvalidJson[] = "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION";
constexpr char kMethodNotFound[] = "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION";
constexpr char kInvalidKey[] = "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION";
constexpr char kInvalidSelect[] = "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION";
constexpr char kKeyReused[] = "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION";

OJson V3ErrorObject(const std::string& code, const std::string& message,
                    const nlohmann::json& validation) {
  OJson error = OJson::object();
  error["code"] = code;
  error["message"] = message;
  if (validation.is_array() && !validation.empty()) error["validation"] = OJson(validation);
  return OJson{{"error", std::move(error)}};
}

bool IsJsonContentType(const std::string& content_type) {
  return absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(content_type),
                                    "application/json");
}

// The parameters of a REST 3.0 request: the JSON object in a POST body (a
// batch's list too). GET requests carry none (query strings are not read).
std::optional<OJson> V3Params(const RestRequest& request, bool batch) {
  const std::string& body = request.params.body;
  if (request.http_method == "GET" || absl::StripAsciiWhitespace(body).empty()) {
    return OJson::object();
  }
  if (!IsJsonContentType(request.params.content_type)) return std::nullopt;
  OJson params = OJson::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!params.is_object() && !(batch && params.is_array())) return std::nullopt;
  return params;
}

}  // namespace

HttpReply Portal::ServeV3(const RestRequest& request, const std::vector<std::string>& segments,
                          const std::string& method, absl::Time start) {
  auto error = [this](int status, const std::string& code, const std::string& message) {
    stats_.CountError(code);
    HttpReply reply;
    reply.status = status;
    reply.body = PhpJsonEncode(V3ErrorObject(code, message, nullptr));
    return reply;
  };
  if (config_.require_https && !request.https) {
    return ErrorReply(400, "INVALID_REQUEST", "Https required");
  }
  std::optional<OJson> params = V3Params(request, method == "batch");
  if (!params) return error(400, kInvalidJson, "The request body is not a JSON object");
  // The token: the body's `auth`, else the Authorization header (a batch's
  // body is a list, with no place for it).
  std::string auth = request.bearer;
  if (auto it = params->is_object() ? params->find("auth") : params->end();
      it != params->end()) {
    if (it->is_string()) auth = it->get<std::string>();
    params->erase(it);
  }
  Caller caller;
  if (std::optional<HttpReply> refused = Authenticate(request, segments, auth, &caller)) {
    return *refused;
  }
  // At its arrival, like its `time.start` and its run.
  if (!bucket_.TryAdmit(start)) {
    return ErrorReply(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
  }
  // A batch is neither read nor write: the docs give its Idempotency-Key no
  // meaning, so nothing is kept for it.
  if (method == "batch") return RunV3Batch(caller, *params, start);
  if (IsOpenApiMethod(method)) {
    // Bare, as the docs show it: neither `result` nor `time`.
    HttpReply reply;
    reply.body = PhpJsonEncode(OpenApiDocument(
        methods_->MethodNames(), [this](const std::string& m) { return methods_->IsWrite(m); }));
    return reply;
  }
  const std::string name = absl::StrCat(kV3Prefix, method);
  if (!methods_->HasMethod(name)) {
    return error(404, kMethodNotFound, absl::StrCat("Method `", method, "` not found"));
  }
  // The key matters only for writes; a read runs as often as it is asked.
  std::optional<std::string> key;
  if (methods_->IsWrite(name)) key = request.idempotency_key;
  if (key && !ValidIdempotencyKey(*key)) {
    return error(400, kInvalidKey, "Idempotency-Key must be 1 to 255 printable ASCII characters");
  }
  if (!key) return RunV3(caller, method, *params, start);
  const std::string scope = absl::StrCat(caller.credential, "\n", caller.user_id, "\n", method,
                                         "\n", *key);
  // Compared as parameters, not bytes: without `auth` (a token refreshed
  // between two tries is the same request) and with keys sorted.
  const std::string fingerprint = nlohmann::json(*params).dump();
  IdempotencyStore::Lookup lookup = idempotency_.Find(scope, fingerprint);
  switch (lookup.verdict) {
    case IdempotencyStore::Lookup::Verdict::kReplay: {
      stats_.CountReplay();
      HttpReply reply;
      reply.status = lookup.answer.status;
      reply.body = std::move(lookup.answer.body);
      reply.headers.emplace_back("Idempotent-Replayed", "true");
      return reply;
    }
    case IdempotencyStore::Lookup::Verdict::kReused:
      return error(422, kKeyReused,
                   "The Idempotency-Key was already used with a different request body");
    case IdempotencyStore::Lookup::Verdict::kRun:
      break;
  }
  if (lookup.overlap) stats_.CountOverlap();
  HttpReply reply = RunV3(caller, method, *params, start);
  if (reply.status >= 200 && reply.status < 300) {
    idempotency_.Keep(scope, fingerprint, {reply.status, reply.body}, start + reply.delay);
  }
  return reply;
}

HttpReply Portal::RunV3(const Caller& caller, const std::string& method, const OJson& params,
                        absl::Time start) {
  const Outcome out = RunCommand(caller, absl::StrCat(kV3Prefix, method), params, start,
                                 /*check_operating=*/true, method, /*in_batch=*/false,
                                 /*v3=*/true);
  if (out.result.is_error) return V3ErrorReply(out.result, out.timing.processing);
  HttpReply reply;
  reply.delay = out.timing.processing;
  reply.status = out.result.http_status;
  OJson envelope = OJson::object();
  envelope["result"] = ToPhpOrdered(out.result.result);
  envelope["time"] = TimeObject(out.timing, config_.integer_reset_at);
  reply.body = PhpJsonEncode(envelope);
  return reply;
}

HttpReply Portal::V3ErrorReply(const MethodResult& result, absl::Duration delay) {
  HttpReply reply;
  reply.delay = delay;
  reply.status = result.http_status;
  // Limits and system errors keep the classic shape; method errors are v3.
  reply.body = PhpJsonEncode(
      absl::StartsWith(result.error, "BITRIX_REST_V3_")
          ? V3ErrorObject(result.error, result.error_description, result.validation)
          : ErrorObject(result.error, result.error_description));
  return reply;
}

HttpReply Portal::RunV3Batch(const Caller& caller, const OJson& body, absl::Time start) {
  stats_.CountBatch();
  auto refuse = [this](int status, const std::string& code, const std::string& message) {
    MethodResult r;
    r.is_error = true;
    r.http_status = status;
    r.error = code;
    r.error_description = message;
    stats_.CountError(code);
    return V3ErrorReply(r, absl::ZeroDuration());
  };
  // Charged to `batch` whatever --batch-accounting says (the JS SDK found a
  // portal billing a REST 3.0 batch so): checked before anything runs, so a
  // refusal never comes after some sub-requests ran.
  OperatingState state;
  if (!operating_.Check(caller.credential, "batch", &state)) {
    return ErrorReply(429, "OPERATION_TIME_LIMIT",
                      "Method is blocked due to operation time limit.");
  }
  absl::StatusOr<std::vector<V3BatchRequest>> requests = ParseV3Batch(body);
  if (!requests.ok()) return refuse(400, kInvalidSelect, std::string(requests.status().message()));
  if (requests->size() > static_cast<size_t>(kMaxBatchCommands)) {
    return ErrorReply(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded");
  }
  V3BatchContext context;
  OJson results = OJson::array();
  absl::Time t = start;
  absl::Duration total;
  for (size_t i = 0; i < requests->size(); ++i) {
    const V3BatchRequest& r = (*requests)[i];
    const std::string name = absl::StrCat(kV3Prefix, r.method);
    if (r.method == "batch" || !methods_->HasMethod(name)) {
      return refuse(400, kMethodNotFound, absl::StrCat("Method `", r.method, "` not found"));
    }
    absl::StatusOr<OJson> query = context.Resolve(r.query);
    if (!query.ok()) return refuse(400, kInvalidSelect, std::string(query.status().message()));
    const Outcome out = RunCommand(caller, name, *query, t, /*check_operating=*/false, "batch",
                                   /*in_batch=*/true, /*v3=*/true);
    t = out.timing.finish;
    total += out.timing.processing;
    // All or nothing: the first error is the batch's answer (what ran before
    // it stays done).
    if (out.result.is_error) return V3ErrorReply(out.result, total);
    OJson result = ToPhpOrdered(out.result.result);
    context.Keep(r.as.empty() ? std::to_string(i) : r.as, result);
    results.push_back(std::move(result));
  }
  CallTiming timing;
  timing.start = start;
  timing.finish = start + total;
  timing.processing = total;
  timing.operating = operating_.Charge(caller.credential, "batch", total, start);
  OJson envelope = OJson::object();
  envelope["result"] = std::move(results);
  envelope["time"] = TimeObject(timing, config_.integer_reset_at);
  HttpReply reply;
  reply.delay = total;
  reply.body = PhpJsonEncode(envelope);
  return reply;
}

}  // namespace b24emu
