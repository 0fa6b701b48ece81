// What the REST 3.0 method families of the emulator share: the v3 error
// codes and results, filters as lists of conditions on `id`, and
// `pagination` {page, limit, offset}.
//
// Thread-safety: pure functions.
#ifndef B24EMU_DATA_V3_QUERY_H_
#define B24EMU_DATA_V3_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "method_api.h"

namespace b24emu::data {

inline constexpr char kV3Validation[] =
    "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION";
inline constexpr char kV3NotFound[] = "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION";
inline constexpr char kV3UnknownField[] = "BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION";
inline constexpr char kV3UnknownOperator[] =
    "BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION";
inline constexpr char kV3InvalidFilter[] = "BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION";
inline constexpr char kV3BadPagination[] = "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION";
inline constexpr char kV3BadOrder[] = "BITRIX_REST_V3_EXCEPTION_INVALIDORDEREXCEPTION";

// A 400 REST 3.0 error, with `validation` ({field, message} list) when set.
MethodResult V3Error(std::string code, std::string message,
                     nlohmann::json validation = nlohmann::json());
// A request validation error naming `field`.
MethodResult V3Invalid(const std::string& field, const std::string& message);

// The positive integer `id` of `params`, else nullopt.
std::optional<int64_t> V3IdOf(const nlohmann::json& params);

// Filters: ["id", op, value], ["id", value] (`=`, or `in` for a list), and
// groups {"logic": "and"|"or", "conditions": [...]}; operators = != > >= <
// <= in between. Only `id` is filterable (as for tasks): another field is a
// validation error naming it, with `dto` (e.g. "TaskDto") in the message.
struct V3Condition;
using V3Conditions = std::vector<V3Condition>;
struct V3Condition {
  std::string op;  // "" for a group
  std::vector<int64_t> values;
  bool any = false;  // group: OR (else AND)
  V3Conditions children;
};
std::optional<MethodResult> ParseV3Filter(const nlohmann::json& list, const std::string& dto,
                                          V3Conditions* out);
// True when `id` passes every condition of `list` (any one when `any`).
bool V3Matches(const V3Conditions& list, int64_t id, bool any = false);

// `pagination` {page, limit, offset}: `default_limit` when absent, larger
// limits cut to `max_limit` without a word (as the portal does); offset wins
// over page; page 0 is page 1.
struct V3Page {
  int64_t limit = 0;
  int64_t offset = 0;
};
std::optional<MethodResult> ParseV3Pagination(const nlohmann::json& params, int64_t default_limit,
                                              int64_t max_limit, V3Page* out);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_V3_QUERY_H_
