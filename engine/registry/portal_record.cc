#include "engine/registry/portal_record.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

using Json = nlohmann::json;

// The string fields by their stored key.
struct StringField {
  const char* key;
  std::string PortalRecord::*field;
};

constexpr StringField kStrings[] = {
    {"name", &PortalRecord::name},
    {"member_id", &PortalRecord::member_id},
    {"domain", &PortalRecord::domain},
    {"webhook_url", &PortalRecord::webhook_url},
    {"portal_url", &PortalRecord::portal_url},
    {"refresh_token", &PortalRecord::refresh_token},
    {"client_id", &PortalRecord::client_id},
    {"client_secret", &PortalRecord::client_secret},
    {"application_token", &PortalRecord::application_token},
    {"plan", &PortalRecord::plan},
};

std::string HostOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t start = scheme + 3;
  size_t end = url.find_first_of(":/?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Json EncodeBindings(const EventBindingsSpec& b) {
  Json j = Json::object();
  if (b.offline) j["offline"] = *b.offline;
  if (b.online) j["online"] = *b.online;
  if (!b.auth_connector.empty()) j["auth_connector"] = b.auth_connector;
  return j;
}

absl::Status DecodeNames(const Json& j, const char* key, std::optional<std::vector<std::string>>* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  const absl::Status bad =
      absl::DataLossError(absl::StrCat("a stored portal's event_bindings.", key, " is not a list of names"));
  if (!it->is_array()) return bad;
  out->emplace();
  for (const Json& name : *it) {
    if (!name.is_string()) return bad;
    (*out)->push_back(name.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status DecodeBindings(const Json& j, EventBindingsSpec* out) {
  if (!j.is_object()) return absl::DataLossError("a stored portal's event_bindings is not an object");
  if (absl::Status s = DecodeNames(j, "offline", &out->offline); !s.ok()) return s;
  if (absl::Status s = DecodeNames(j, "online", &out->online); !s.ok()) return s;
  if (auto it = j.find("auth_connector"); it != j.end()) {
    if (!it->is_string()) {
      return absl::DataLossError("a stored portal's event_bindings.auth_connector is not a string");
    }
    out->auth_connector = it->get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace

std::string PortalRecord::Domain() const {
  if (!domain.empty()) return domain;
  return HostOf(oauth() ? portal_url : webhook_url);
}

std::string PortalRecord::Summary() const {
  return absl::StrCat("portal \"", name, "\" (member_id \"", member_id, "\", domain \"", Domain(),
                      "\", ", oauth() ? "OAuth" : "webhook", ")");
}

std::string EncodeRecord(const PortalRecord& record) {
  Json j = Json::object();
  for (const StringField& f : kStrings) {
    if (!(record.*f.field).empty()) j[f.key] = record.*f.field;
  }
  if (!record.tuning.empty()) j["tuning"] = record.tuning;
  if (record.event_bindings.listed()) j["event_bindings"] = EncodeBindings(record.event_bindings);
  return j.dump();
}

absl::StatusOr<PortalRecord> DecodeRecord(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::DataLossError("a stored portal is not a JSON object");
  PortalRecord record;
  for (const StringField& f : kStrings) {
    auto it = j.find(f.key);
    if (it == j.end()) continue;
    if (!it->is_string()) {
      return absl::DataLossError(absl::StrCat("a stored portal's ", f.key, " is not a string"));
    }
    record.*f.field = it->get<std::string>();
  }
  if (auto it = j.find("tuning"); it != j.end()) {
    if (!it->is_object()) return absl::DataLossError("a stored portal's tuning is not an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_number()) {
        return absl::DataLossError(absl::StrCat("a stored portal's tuning.", key, " is not a number"));
      }
      record.tuning[key] = value.get<double>();
    }
  }
  if (auto it = j.find("event_bindings"); it != j.end()) {
    if (absl::Status s = DecodeBindings(*it, &record.event_bindings); !s.ok()) return s;
  }
  if (record.name.empty()) return absl::DataLossError("a stored portal has no name");
  return record;
}

}  // namespace b24gate
