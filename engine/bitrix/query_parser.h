// Decodes a PHP-style query string ("filter[>ID]=5&select[]=ID") into JSON,
// as PHP's parse_str would, for batch commands written Bitrix24-style
// ("crm.activity.list?filter[ENTITY_ID]=$result[deals][0][ID]").
//
// Values stay strings (PHP has no other type in a query string); `a[]=x`
// appends to a list; keys 0..n-1 written explicitly also form a list.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_BITRIX_QUERY_PARSER_H_
#define B24GATE_ENGINE_BITRIX_QUERY_PARSER_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace b24gate {

// INVALID_ARGUMENT on malformed percent escapes or unbalanced brackets.
absl::StatusOr<nlohmann::ordered_json> ParseQueryString(absl::string_view query);

// PHP urldecode: "+" is a space, %XX a byte.
absl::StatusOr<std::string> UrlDecode(absl::string_view text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BITRIX_QUERY_PARSER_H_
