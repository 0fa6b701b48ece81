#include "engine/files/record_file.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/field_text.h"
#include "engine/files/url_credentials.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

constexpr char kItem[] = "item";

bool IsKnownEntity(const std::string& type) {
  return type == "deal" || type == "lead" || type == "contact" || type == "company" ||
         type == kItem;
}

// A field code as Bitrix24 writes them (UF_CRM_..., letters, digits, _):
// it becomes a JSON key and part of an error message, nothing else.
bool IsFieldCode(const std::string& field) {
  if (field.empty() || field.size() > 64) return false;
  for (char c : field) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::Status CheckRecordField(const RecordField& record, absl::string_view where) {
  if (!IsKnownEntity(record.entity_type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".entity_type: \"", EchoText(record.entity_type),
                     "\" is not one of deal, lead, contact, company, item"));
  }
  if ((record.entity_type == kItem) != (record.entity_type_id > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".entity_type_id: a positive entityTypeId for entity_type item, and only for it"));
  }
  if (record.record_id <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".record_id: must be a positive id"));
  }
  if (!IsFieldCode(record.field)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".field: \"", EchoText(record.field),
        "\" is not a field code (letters, digits and _, at most 64, e.g. UF_CRM_1638795037)"));
  }
  if (record.index < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".index: must not be negative"));
  }
  return absl::OkStatus();
}

std::string UpdateMethodOf(const RecordField& record) {
  return absl::StrCat("crm.", record.entity_type, ".update");
}

std::string GetMethodOf(const RecordField& record) {
  return absl::StrCat("crm.", record.entity_type, ".get");
}

OJson GetParamsOf(const RecordField& record) {
  if (record.entity_type == kItem) {
    return OJson{{"entityTypeId", record.entity_type_id}, {"id", record.record_id}};
  }
  return OJson{{"id", record.record_id}};
}

OJson FieldUploadParams(const RecordField& record, const std::string& name,
                        const std::string& placeholder, const std::vector<int64_t>& kept) {
  OJson params = GetParamsOf(record);
  // crm.item takes the pair itself (its docs); the older methods' docs
  // show it wrapped in fileData.
  OJson pair = OJson::array({name, placeholder});
  OJson value = record.entity_type == kItem ? std::move(pair) : OJson{{"fileData", std::move(pair)}};
  if (record.append) {
    OJson list = OJson::array();
    for (int64_t id : kept) list.push_back({{"id", id}});
    list.push_back(std::move(value));
    value = std::move(list);
  }
  params["fields"] = {{record.field, std::move(value)}};
  return params;
}

absl::StatusOr<SplitBody> SplitAtPlaceholder(absl::string_view body,
                                             absl::string_view placeholder) {
  const std::string quoted = absl::StrCat("\"", placeholder, "\"");
  const size_t at = body.find(quoted);
  if (at == absl::string_view::npos || body.find(quoted, at + 1) != absl::string_view::npos) {
    return absl::InternalError("the request's body does not hold the file's place exactly once");
  }
  SplitBody split;
  split.head = std::string(body.substr(0, at + 1));
  split.tail = std::string(body.substr(at + quoted.size() - 1));
  return split;
}

namespace {

absl::Status FieldNotFound(const RecordField& record, absl::string_view why) {
  return absl::NotFoundError(absl::StrCat(GetMethodOf(record), " ", record.record_id, ": field ",
                                          record.field, " ", why));
}

// The field's value in the answer of GetMethodOf's call.
absl::StatusOr<const OJson*> FieldValue(const OJson& answer, const RecordField& record) {
  // crm.item.get wraps the record: {"item": {...}}.
  const bool wrapped = record.entity_type == kItem && answer.is_object() && answer.contains("item");
  const OJson& record_object = wrapped ? answer["item"] : answer;
  if (!record_object.is_object()) return FieldNotFound(record, "is not there (the answer is no record)");
  auto it = record_object.find(record.field);
  if (it == record_object.end()) return FieldNotFound(record, "is not there");
  return &*it;
}

// A file value's id (a number or decimal text), or 0.
int64_t IdOf(const OJson& value) {
  int64_t id = 0;
  auto it = value.is_object() ? value.find("id") : value.end();
  if (it == value.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &id)) return id;
  return 0;
}

}  // namespace

absl::StatusOr<OJson> FileValueOf(const OJson& answer, const RecordField& record) {
  absl::StatusOr<const OJson*> value = FieldValue(answer, record);
  if (!value.ok()) return value.status();
  const OJson* file = *value;
  if (file->is_array()) {
    if (static_cast<size_t>(record.index) >= file->size()) {
      return FieldNotFound(record, absl::StrCat("holds ", file->size(), " files, none at index ",
                                                record.index));
    }
    file = &(*file)[static_cast<size_t>(record.index)];
  }
  if (FileLinkOf(*file).empty()) return FieldNotFound(record, "holds no file");
  return *file;
}

absl::StatusOr<std::vector<int64_t>> FileIdsOf(const OJson& answer, const RecordField& record) {
  absl::StatusOr<const OJson*> value = FieldValue(answer, record);
  if (!value.ok()) return value.status();
  std::vector<int64_t> ids;
  if ((*value)->is_array()) {
    for (const OJson& file : **value) {
      const int64_t id = IdOf(file);
      if (id <= 0) return FieldNotFound(record, "holds a file value without an id");
      ids.push_back(id);
    }
    return ids;
  }
  if ((*value)->is_object()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "header.record_field.append: field ", record.field, " of ", GetMethodOf(record), " ",
        record.record_id, " holds a single file, not a list: it is not a multiple field"));
  }
  return ids;  // null, "" or false: an empty field
}

absl::StatusOr<OJson> AddedFileValueOf(const OJson& answer, const RecordField& record,
                                       const std::vector<int64_t>& kept) {
  absl::StatusOr<const OJson*> value = FieldValue(answer, record);
  if (!value.ok()) return value.status();
  if ((*value)->is_array()) {
    for (const OJson& file : **value) {
      if (std::find(kept.begin(), kept.end(), IdOf(file)) == kept.end() && !FileLinkOf(file).empty()) return file;
    }
  }
  return FieldNotFound(record, "holds no file besides those it held before");
}

std::string FileLinkOf(const OJson& value) {
  if (!value.is_object()) return "";
  for (const char* name : {"urlMachine", "downloadUrl"}) {
    auto it = value.find(name);
    if (it != value.end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return "";
}

OJson WithoutLinkCredentials(OJson value) {
  if (value.is_object()) {
    for (auto& [key, item] : value.items()) {
      if (item.is_string() && MayCarryAuthParam(item.get<std::string>())) {
        item = WithoutAuthParams(item.get<std::string>());
      }
    }
  }
  return value;
}

}  // namespace b24gate
