// Typed reads of the JSON config file, shared by every section's parser so
// each section (portals, clients, limits, redis, cache, ...) can live in its
// own file. Errors name the setting ("config.clients[1].weight: ...") and
// never quote a value: it may be a secret.
#ifndef B24GATE_SERVICE_CONFIG_READING_H_
#define B24GATE_SERVICE_CONFIG_READING_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace b24gate {

using ConfigJson = nlohmann::ordered_json;

// INVALID_ARGUMENT "WHERE: WHY".
absl::Status Bad(absl::string_view where, absl::string_view why);

// Each reads `j[key]` into `out` when the key is present and has the right
// type; an absent key leaves `out` alone. `where` is the object's path.
absl::Status ReadString(const ConfigJson& j, const char* key, const std::string& where, std::string* out);
absl::Status ReadNumber(const ConfigJson& j, const char* key, const std::string& where, double* out);
absl::Status ReadBool(const ConfigJson& j, const char* key, const std::string& where, bool* out);
// A list of strings; a single string is taken as a list of one.
absl::Status ReadStringList(const ConfigJson& j, const char* key, const std::string& where,
                            std::vector<std::string>* out);

// Refuses keys not in `known` (a typo must not silently drop a setting).
absl::Status CheckKeys(const ConfigJson& j, const std::string& where, const std::vector<std::string>& known);

// The whole file at `path`; INVALID_ARGUMENT naming `what` when it is
// missing, unreadable or a directory.
absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what);

// OK when `path` names a readable regular file, else INVALID_ARGUMENT naming
// `what` and saying which of missing, unreadable or a directory it is.
absl::Status CheckReadableFile(const std::string& path, const std::string& what);

// A number of seconds in [min, max] at j[key], when present, into `out`.
absl::Status ReadSeconds(const ConfigJson& j, const char* key, const std::string& where, double min,
                         double max, absl::Duration* out);

// `text` as a JSON document. INVALID_ARGUMENT naming `what` with the line and
// column of a syntax error (never the text: it may hold a webhook), or the
// path of a key given twice in one object anywhere in the document
// ("config.portals[1].name"): JSON parsers keep one of the two silently.
absl::StatusOr<ConfigJson> ParseConfigJson(const std::string& text, const std::string& what);

}  // namespace b24gate

#define B24GATE_RETURN_IF_ERROR(expr)          \
  do {                                         \
    if (absl::Status _s = (expr); !_s.ok()) {  \
      return _s;                               \
    }                                          \
  } while (false)

#endif  // B24GATE_SERVICE_CONFIG_READING_H_
