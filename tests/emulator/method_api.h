// The seam between the emulator's HTTP/protocol layer (server, auth, batch,
// limits, costs, faults, stats) and its data layer (entities, CRUD, lists,
// filters, seeding). The protocol layer turns every HTTP request or batch
// sub-command into a MethodCall and the data layer answers it with a
// MethodResult; the protocol layer then charges its cost, wraps it in the
// Bitrix24 envelope and applies PHP json_encode quirks.
//
// Thread-safety: MethodTable implementations are safe to call from many
// threads at once.
#ifndef B24EMU_METHOD_API_H_
#define B24EMU_METHOD_API_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace b24emu {

// One method invocation, already authenticated.
struct MethodCall {
  // Normalised method name: lower-case, without ".json" suffix or trailing "/".
  // REST 3.0 methods (/rest/api/) are "v3/" + their name.
  std::string method;
  // Parameters as parsed from query string + body, merged. Values parsed from
  // query strings or form bodies are JSON strings; JSON bodies keep their types.
  // PHP-style lists (`a[]=x&a[]=y`, `a[0]=x`) arrive as JSON arrays when their
  // keys are exactly 0..n-1, otherwise as objects with string keys. `null` can
  // only arrive from a JSON body and means "erase this field". Positional
  // methods (task.commentitem.*) receive a JSON array at the top level.
  nlohmann::json params = nlohmann::json::object();
  // The Bitrix24 user the credential belongs to (webhook USER_ID, or the OAuth
  // token's user).
  int64_t user_id = 1;
};

// What the work cost, for the protocol layer's cost model (README "Cost model").
struct WorkDone {
  int64_t rows_returned = 0;  // rows put in the result
  int64_t rows_counted = 0;   // rows matched while computing `total` (0 when start=-1)
  int64_t rows_skipped = 0;   // rows walked over to reach the `start` offset
};

struct MethodResult {
  int http_status = 200;
  // Set for errors: `error` may be "" (old CRM methods), description non-empty.
  bool is_error = false;
  std::string error;
  std::string error_description;
  // REST 3.0 errors: the `validation` list ([{"field", "message"}, ...]),
  // null when the error has none.
  nlohmann::json validation;
  // The value of "result" on success.
  nlohmann::json result;
  std::optional<int64_t> total;  // list methods only (absent for methods without total)
  std::optional<int64_t> next;   // only when more rows remain
  WorkDone work;
  // For stats `created`: the entity a successful add created (e.g. "crm.lead").
  std::string created_entity;
};

// Helpers for building results, for both layers (header-only: the protocol
// layer does not link the data layer).
inline MethodResult Ok(nlohmann::json result) {
  MethodResult r;
  r.result = std::move(result);
  return r;
}
inline MethodResult Error(int http_status, std::string code, std::string description) {
  MethodResult r;
  r.http_status = http_status;
  r.is_error = true;
  r.error = std::move(code);
  r.error_description = std::move(description);
  return r;
}

// The data layer: every data method of the emulated portal.
class MethodTable {
 public:
  virtual ~MethodTable() = default;
  // True when `method` (normalised) is served. `batch` is not: the protocol
  // layer handles it.
  virtual bool HasMethod(const std::string& method) const = 0;
  // REQUIRES: HasMethod(call.method).
  virtual MethodResult Invoke(const MethodCall& call) = 0;
  // True when `method` changes data (REST 3.0 keeps the answers of writes
  // sent with an Idempotency-Key). Tables that never say so serve no writes
  // worth replaying.
  virtual bool IsWrite(const std::string& /*method*/) const { return false; }
  // Every method served (normalised names, sorted), for REST 3.0's
  // self-description (rest.documentation.openapi). Tables that never say so
  // describe none.
  virtual std::vector<std::string> MethodNames() const { return {}; }
};

// Seeding: "crm.lead=1000,crm.deal=500,..." (see README). Deterministic for a
// given spec. Returns nullptr and fills *error on a bad spec.
std::unique_ptr<MethodTable> MakeSeededPortal(const std::string& seed_spec, std::string* error);

}  // namespace b24emu

#endif  // B24EMU_METHOD_API_H_
