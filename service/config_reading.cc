#include "service/config_reading.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace b24gate {

absl::Status Bad(absl::string_view where, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", why));
}

absl::Status ReadString(const ConfigJson& j, const char* key, const std::string& where, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_string()) return Bad(absl::StrCat(where, ".", key), "must be a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadNumber(const ConfigJson& j, const char* key, const std::string& where, double* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_number()) return Bad(absl::StrCat(where, ".", key), "must be a number");
  *out = it->get<double>();
  return absl::OkStatus();
}

absl::Status ReadBool(const ConfigJson& j, const char* key, const std::string& where, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(absl::StrCat(where, ".", key), "must be true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadStringList(const ConfigJson& j, const char* key, const std::string& where,
                            std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (it->is_string()) {
    *out = {it->get<std::string>()};
    return absl::OkStatus();
  }
  if (!it->is_array()) return Bad(absl::StrCat(where, ".", key), "must be a list of strings");
  std::vector<std::string> values;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) return Bad(absl::StrCat(where, ".", key, "[", i, "]"), "must be a string");
    values.push_back((*it)[i].get<std::string>());
  }
  *out = std::move(values);
  return absl::OkStatus();
}

absl::Status CheckKeys(const ConfigJson& j, const std::string& where, const std::vector<std::string>& known) {
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (const auto& k : known) ok = ok || key == k;
    if (!ok) return Bad(absl::StrCat(where, ".", key), "unknown setting");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return Bad(what, absl::StrCat("cannot read \"", path, "\""));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace b24gate
