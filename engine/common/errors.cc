#include "engine/common/errors.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace b24gate {
namespace {

constexpr char kReasonUrl[] = "type.b24gate.dev/reason";
constexpr char kHttpStatusUrl[] = "type.b24gate.dev/http_status";
constexpr char kSourceUrl[] = "type.b24gate.dev/source";
constexpr char kViolationsUrl[] = "type.b24gate.dev/field_violations";

using C = absl::StatusCode;

// Bitrix24 error codes (docs/bitrix24-protocol.md, "Errors and retry classes")
// and the gRPC code each one maps to.
const std::map<std::string, C>& Table() {
  static const auto* table = new std::map<std::string, C>{
      {"QUERY_LIMIT_EXCEEDED", C::kResourceExhausted},
      {"OPERATION_TIME_LIMIT", C::kResourceExhausted},
      {"OVERLOAD_LIMIT", C::kResourceExhausted},
      {"expired_token", C::kUnauthenticated},
      {"invalid_token", C::kUnauthenticated},
      {"NO_AUTH_FOUND", C::kUnauthenticated},
      {"INVALID_CREDENTIALS", C::kUnauthenticated},
      {"invalid_grant", C::kUnauthenticated},
      {"invalid_client", C::kUnauthenticated},
      {"METHOD_CONFIRM_WAITING", C::kPermissionDenied},
      {"insufficient_scope", C::kPermissionDenied},
      {"ACCESS_DENIED", C::kPermissionDenied},
      {"user_access_error", C::kPermissionDenied},
      {"WRONG_AUTH_TYPE", C::kPermissionDenied},
      {"allowed_only_intranet_user", C::kPermissionDenied},
      {"ERROR_METHOD_NOT_FOUND", C::kNotFound},
      {"NOT_FOUND", C::kNotFound},
      {"ERROR_NOT_FOUND", C::kNotFound},
      {"ERROR_BATCH_LENGTH_EXCEEDED", C::kInvalidArgument},
      {"ERROR_BATCH_METHOD_NOT_ALLOWED", C::kInvalidArgument},
      {"ERROR_CORE", C::kInvalidArgument},
      {"ERROR_ARGUMENT", C::kInvalidArgument},
      {"INVALID_ARG_VALUE", C::kInvalidArgument},
      {"INVALID_REQUEST", C::kInvalidArgument},
      {"INTERNAL_SERVER_ERROR", C::kUnavailable},
      {"ERROR_UNEXPECTED_ANSWER", C::kUnavailable},
      {"PORTAL_DELETED", C::kFailedPrecondition},
      // REST 3.0 (docs/bitrix24-protocol.md, "REST 3.0").
      {"BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_INVALIDORDEREXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION", C::kInvalidArgument},
      {"BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION", C::kNotFound},
      {"BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION", C::kNotFound},
      {"BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION", C::kPermissionDenied},
      {"BITRIX_REST_V3_EXCEPTION_INSUFFICIENTSCOPEEXCEPTION", C::kPermissionDenied},
      // The key already stands for another request: nothing ran, and the
      // same call will be refused until the key expires.
      {"BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION", C::kFailedPrecondition},
  };
  return *table;
}

C CodeForHttpStatus(int http_status) {
  // An error in a 2xx answer is a command of a `batch` (the batch itself
  // succeeded); it has no HTTP status of its own. Bitrix24 answers the same
  // error of a lone call with 400, so it maps as a 400: one code for the
  // same problem whichever way it was sent (e.g. a `$result[...]` naming a
  // missing field, which the portal resolves to an empty parameter).
  if (http_status == 0 || (http_status >= 200 && http_status < 300)) return C::kInvalidArgument;
  if (http_status == 400) return C::kInvalidArgument;
  if (http_status == 401) return C::kUnauthenticated;
  if (http_status == 403) return C::kPermissionDenied;
  if (http_status == 404) return C::kNotFound;
  if (http_status == 405) return C::kInvalidArgument;
  if (http_status == 429) return C::kResourceExhausted;
  if (http_status >= 500) return C::kUnavailable;
  return C::kUnknown;
}

}  // namespace

absl::StatusCode CodeForB24Error(absl::string_view code, int http_status) {
  auto it = Table().find(std::string(code));
  if (it != Table().end()) return it->second;
  return CodeForHttpStatus(http_status);
}

absl::Status B24ErrorStatus(absl::string_view code, absl::string_view description,
                            int http_status) {
  C canonical = CodeForB24Error(code, http_status);
  // Old CRM methods answer `"error": ""` with "Not found" as the only hint.
  if (code.empty() && absl::AsciiStrToLower(description) == "not found") canonical = C::kNotFound;
  std::string message(description.empty() ? code : description);
  if (message.empty()) message = "Bitrix24 error without description";
  absl::Status status(canonical, message);
  status.SetPayload(kReasonUrl, absl::Cord(code));
  status.SetPayload(kHttpStatusUrl, absl::Cord(std::to_string(http_status)));
  status.SetPayload(kSourceUrl, absl::Cord("bitrix24"));
  return status;
}

absl::Status GatewayError(absl::StatusCode code, absl::string_view reason,
                          absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kReasonUrl, absl::Cord(reason));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonUrl);
  return payload ? std::string(*payload) : std::string();
}

int HttpStatusOf(const absl::Status& status) {
  auto payload = status.GetPayload(kHttpStatusUrl);
  int value = 0;
  if (payload && absl::SimpleAtoi(std::string(*payload), &value)) return value;
  return 0;
}

bool IsB24Error(const absl::Status& status) {
  return status.GetPayload(kSourceUrl).has_value();
}

// One line per violation: escaped field, tab, escaped description.
void AttachFieldViolations(absl::Status* status, const std::vector<FieldViolation>& violations) {
  if (violations.empty() || status->ok()) return;
  std::string lines;
  for (const FieldViolation& v : violations) {
    absl::StrAppend(&lines, absl::CEscape(v.field), "\t", absl::CEscape(v.description), "\n");
  }
  status->SetPayload(kViolationsUrl, absl::Cord(lines));
}

std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kViolationsUrl);
  if (!payload) return out;
  for (absl::string_view line : absl::StrSplit(std::string(*payload), '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, '\t');
    FieldViolation v;
    absl::CUnescape(parts.first, &v.field);
    absl::CUnescape(parts.second, &v.description);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace b24gate
