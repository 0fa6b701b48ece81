// Serialisation that reproduces PHP json_encode() with default flags, as a
// Bitrix24 portal emits it:
//   - an empty map is `[]` (PHP cannot tell an empty map from an empty list);
//   - a map whose keys are the integers 0..n-1 in order is a JSON list;
//   - '/' is escaped as `\/`, non-ASCII as `\uXXXX` (surrogate pairs above the
//     BMP), control characters as `\b \f \n \r \t` or `\u00XX`;
//   - floats use PHP's serialize_precision=-1 form: shortest round-trip digits,
//     no ".0" for integral values, exponent form `1.0e+25` / `1.0e-5` when
//     |x| < 1e-4 or |x| >= 1e17.
// Invalid UTF-8 bytes are replaced by U+FFFD (PHP would fail the whole encode).
//
// Thread-safety: pure functions.
#ifndef B24EMU_PHP_JSON_H_
#define B24EMU_PHP_JSON_H_

#include <string>

#include <nlohmann/json.hpp>

namespace b24emu {

// Objects keep their insertion order; a map is a list only if its keys are
// "0".."n-1" in that order.
std::string PhpJsonEncode(const nlohmann::ordered_json& value);

// For sorted (std::map) objects the original order is unknown, so a map whose
// key set is exactly {0..n-1} is emitted as a list in numeric order.
std::string PhpJsonEncode(const nlohmann::json& value);

// Converts a data-layer value (sorted objects) to insertion-ordered JSON,
// turning every map whose key set is exactly {0..n-1} into a list first, so
// the ordered encoder and batch references see PHP's view of it.
nlohmann::ordered_json ToPhpOrdered(const nlohmann::json& value);
// The same for a value no longer needed: its strings are moved out.
nlohmann::ordered_json ToPhpOrdered(nlohmann::json&& value);

// One double as PHP json_encode writes it.
std::string PhpFormatDouble(double value);

}  // namespace b24emu

#endif  // B24EMU_PHP_JSON_H_
