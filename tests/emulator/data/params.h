// Reading normalised method parameters the way Bitrix24 does: names of the
// standard parameters are case-insensitive (`id`/`ID`, `filter`/`FILTER`),
// numbers arrive as numbers or strings, and PHP lists arrive as arrays or as
// objects with numeric keys.
#ifndef B24EMU_DATA_PARAMS_H_
#define B24EMU_DATA_PARAMS_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace b24emu::data {

using json = nlohmann::json;

// The named parameter, case-insensitively; nullptr when absent or when
// `params` is not an object.
const json* Param(const json& params, std::string_view name);
// Positional parameter `i`: params[i] of an array, params["i"] of an object.
const json* Positional(const json& params, size_t i);
// The elements of a PHP list: an array's items, or an object's values in
// key order (numeric keys compared as numbers). A scalar is a list of one.
std::vector<const json*> ListItems(const json& v);
// The `start` parameter: -1 for "-1" (no counting), else an offset >= 0.
int64_t StartParam(const json& params);
// The integer value of a named parameter; nullopt when absent or not an
// integer.
std::optional<int64_t> IntParam(const json& params, std::string_view name);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_PARAMS_H_
