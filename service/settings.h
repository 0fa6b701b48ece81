// The gateway's settings as one table. Each row is a command-line flag, an
// environment variable and/or a config-file key, with its default, its help
// and how a value applies. Flag parsing, the environment, the file's
// top-level keys, precedence (flag over environment over file) and --help
// are all read from this table; tests/docs checks the README's
// Configuration table against --help. A new setting is one new row.
//
// Thread-safety: the table is immutable; SettingsState is single-threaded.
#ifndef B24GATE_SERVICE_SETTINGS_H_
#define B24GATE_SERVICE_SETTINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "service/config.h"
#include "service/config_reading.h"
#include "service/portal_config.h"

namespace b24gate {

enum class SettingSource { kFile, kEnvironment, kFlag };

// One value of a setting: a flag's or variable's text as a JSON string (a
// switch as `true`), or the file's JSON value.
struct SettingValue {
  const ConfigJson& json;
  std::string where;  // "--listen", "B24GATE_LISTEN", "config.listen"
  SettingSource source;
};

// What the rows write to while the configuration is read; LoadConfig merges
// the portals and validates the whole afterwards.
struct SettingsState {
  ServerConfig config;
  PortalSources portals;
  std::optional<std::string> config_file;
  std::string redis_url_from = "redis.url";  // names the Redis URL's source in errors
};

struct Setting {
  const char* flag;          // "--listen"; nullptr: no flag
  const char* value_name;    // "HOST:PORT"; nullptr: a switch, which takes no value
  const char* env;           // "B24GATE_LISTEN"; nullptr: none
  // A top-level key of the file ("listen"), one read by its section
  // ("tls.cert_file", listed for the documentation), or nullptr.
  const char* file_key;
  const char* default_text;  // "" when there is nothing to say
  const char* help;
  bool repeatable;  // the flag may be given more than once
  // Applies one value. INVALID_ARGUMENT naming `value.where`, never quoting
  // a value that may be a secret.
  absl::Status (*apply)(const SettingValue& value, SettingsState* state);

  // A key of the file's top level (not one read by a section).
  bool top_level_file_key() const;
};

// Every setting, in the order of --help and of the README's table.
absl::Span<const Setting> Settings();

// The text of --help, from the table.
std::string SettingsUsage();

}  // namespace b24gate

#endif  // B24GATE_SERVICE_SETTINGS_H_
