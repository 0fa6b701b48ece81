// Conversions between wire values and stored text: numbers, Bitrix date
// formats, and input normalisation by field type (1000 → "1000.00" for money,
// true → "Y" for flags), so stored text always looks like what Bitrix emits.
#ifndef B24EMU_DATA_VALUES_H_
#define B24EMU_DATA_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "data/entity_def.h"

namespace b24emu::data {

// The portal's time zone: every datetime is emitted with this offset.
inline constexpr int kPortalUtcOffsetSeconds = 2 * 3600;

std::optional<double> ParseNumber(absl::string_view text);
std::optional<int64_t> ParseInteger(absl::string_view text);
// Unix seconds from "2024-08-30", "2024-08-30T14:29:00+02:00",
// "2024-08-30 14:29:00", "30.08.2024[ 14:29:00]". No offset = portal zone.
std::optional<int64_t> ParseDateTime(absl::string_view text);
// "2024-08-30T14:29:00+02:00".
std::string FormatDateTime(int64_t unix_seconds);
std::string FormatDateTime(absl::Time t);
// Midnight of that day in the portal zone, in the datetime format.
std::string FormatDate(int64_t unix_seconds);
// "1000000.00".
std::string FormatMoney(double v);

// A scalar JSON value as text: strings as is, integral numbers without a
// fraction, booleans as "Y"/"N" (every Bitrix flag is Y/N). Arrays, objects
// and null → nullopt.
std::optional<std::string> ScalarText(const nlohmann::json& v);

// Stored text for an input value of a field of `type`; nullopt for JSON null
// or an empty string (both erase), and for values that cannot be stored.
std::optional<std::string> NormaliseInput(const nlohmann::json& v, FieldType type);

// Integer id from a JSON number or numeric string; nullopt otherwise.
std::optional<int64_t> JsonToInt(const nlohmann::json& v);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_VALUES_H_
