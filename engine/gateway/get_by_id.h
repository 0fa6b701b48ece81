// GetById: one `.get`-style call per id, the id placed in `id_field` of the
// shared parameters. Duplicated ids are called once per occurrence, so the
// results line up with the request's ids.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_GATEWAY_GET_BY_ID_H_
#define B24GATE_ENGINE_GATEWAY_GET_BY_ID_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/cache/cache_options.h"
#include "engine/gateway/input_limits.h"

namespace b24gate {

struct GetByIdSpec {
  std::string portal;  // "" = the default portal
  std::string method;
  // Numbers or non-empty strings.
  std::vector<nlohmann::ordered_json> ids;
  std::string id_field;  // "" = "ID"
  // Sent with every call; must not hold `id_field`.
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  // The request field `params` came from, for error messages.
  std::string params_field = "params";
  // What the calls ask of the read cache (when one is configured).
  CacheMode cache = CacheMode::kUse;
};

// The parameters of each call, in id order; INVALID_ARGUMENT naming the
// method, the first bad id, or a params object that already holds the id.
// Ids, id_field and params are checked against `limits`.
absl::StatusOr<std::vector<nlohmann::ordered_json>> ExpandGetById(const GetByIdSpec& request,
                                                                 const InputLimits& limits = InputLimits());

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GET_BY_ID_H_
