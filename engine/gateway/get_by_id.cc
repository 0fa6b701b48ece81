#include "engine/gateway/get_by_id.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/gateway/gateway.h"

namespace b24gate {
namespace {

// Bitrix24 ids are positive integers; a fraction, zero, a negative number
// or one beyond 2^53 (which JSON does not carry exactly) would be rounded
// or read as "no id" by the portal, and the answer would not be the id's.
// Strings are passed as given (some methods take codes as ids).
absl::Status CheckId(const nlohmann::ordered_json& id, size_t index) {
  if (id.is_string() && !id.get_ref<const std::string&>().empty()) return absl::OkStatus();
  if (!id.is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ids[", index, "]: must be a number or a non-empty string, got ",
                     id.type_name()));
  }
  const bool whole = id.is_number_unsigned() || id.is_number_integer();
  if (whole && id.get<int64_t>() >= 1 && id.get<uint64_t>() <= kMaxExactJsonInteger) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "ids[", index, "]: ", id.dump(), " is not an id; ids are whole numbers from 1 to 2^53 "
      "(or strings)"));
}

}  // namespace

absl::StatusOr<std::vector<nlohmann::ordered_json>> ExpandGetById(const GetByIdSpec& request,
                                                                 const InputLimits& limits) {
  if (absl::Status s = Gateway::ValidateCall(request.method, nlohmann::ordered_json::object(),
                                             request.params_field);
      !s.ok()) {
    return s;
  }
  if (request.ids.empty()) return absl::InvalidArgumentError("ids: at least one id is required");
  if (absl::Status s = CheckCount(request.ids.size(), limits.max_ids, "ids", "ids", "max_ids",
                                  "split them over several GetById calls");
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < request.ids.size(); ++i) {
    if (absl::Status s = CheckId(request.ids[i], i); !s.ok()) return s;
    if (absl::Status s = CheckParams(request.ids[i], absl::StrCat("ids[", i, "]"), limits); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckParams(request.id_field, "id_field", limits); !s.ok()) return s;
  if (absl::Status s = CheckParams(request.params, request.params_field, limits); !s.ok()) return s;
  if (!request.params.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(request.params_field, ": must be an object, got ",
                                                   request.params.type_name()));
  }
  const std::string id_field = request.id_field.empty() ? "ID" : request.id_field;
  if (request.params.contains(id_field)) {
    return absl::InvalidArgumentError(absl::StrCat(request.params_field, ".", id_field,
                                                   ": the id parameter is filled from ids; "
                                                   "remove it from ",
                                                   request.params_field));
  }
  std::vector<nlohmann::ordered_json> calls;
  calls.reserve(request.ids.size());
  for (const auto& id : request.ids) {
    nlohmann::ordered_json p = request.params;
    p[id_field] = id;
    calls.push_back(std::move(p));
  }
  return calls;
}

}  // namespace b24gate
