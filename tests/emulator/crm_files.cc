#include "tests/emulator/crm_files.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace b24emu {
namespace {

using json = nlohmann::json;

constexpr char kShowFile[] = "/bitrix/components/bitrix/crm.deal.show/show_file.php";
constexpr char kItemShowFile[] =
    "/bitrix/services/main/ajax.php?action=crm.controller.item.getFile&SITE_ID=s1";
constexpr char kItemMachineFile[] = "/rest/crm.controller.item.getFile.json";

// The [name, content] pair of a file value ([name, content] or
// {"fileData": [name, content]}), or null when `value` is not one.
const json* FileData(const json& value) {
  const json* pair = &value;
  if (value.is_object()) {
    auto it = value.find("fileData");
    if (it == value.end()) return nullptr;
    pair = &*it;
  }
  if (!pair->is_array() || pair->size() != 2) return nullptr;
  // [[name, content], [name, content]] is a list of two files, not a pair.
  return (*pair)[0].is_array() || (*pair)[0].is_object() ? nullptr : pair;
}

absl::Status ShapeError(const CrmFileField& field) {
  return absl::InvalidArgumentError(absl::StrCat(
      "Field ", field.code, ": a file value is {\"fileData\": [name, base64]} or [name, base64]",
      field.multiple ? ", or a list of them" : ""));
}

}  // namespace

absl::StatusOr<std::unique_ptr<CrmFiles>> CrmFiles::Create() {
  const char* tmp = getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/b24emu-crm-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create a directory for files: ", templ));
  }
  return std::unique_ptr<CrmFiles>(new CrmFiles(templ));
}

CrmFiles::~CrmFiles() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<CrmFiles::Incoming> CrmFiles::Decode(const CrmFileField& field, const json& pair,
                                                    const BodySpool* spool) {
  if (!pair[0].is_string() || pair[0].get<std::string>().empty() || !pair[1].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Field ", field.code, ": fileData must be [name, base64] (strings, a name)"));
  }
  Incoming file;
  file.name = pair[0].get<std::string>();
  file.path = absl::StrCat(dir_, "/incoming-", next_temp_.fetch_add(1));
  absl::StatusOr<int64_t> size = DecodeBase64ToFile(spool, pair[1].get_ref<const std::string&>(), file.path);
  if (!size.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Field ", field.code, ": ", size.status().message()));
  }
  file.size = *size;
  return file;
}

absl::StatusOr<std::optional<std::vector<CrmFiles::Incoming>>> CrmFiles::Take(
    const CrmFileField& field, json* params, const BodySpool* spool) {
  if (!params->is_object()) return std::nullopt;
  for (const char* key : {"fields", "FIELDS"}) {
    auto fields = params->find(key);
    if (fields == params->end() || !fields->is_object()) continue;
    auto value = fields->find(field.code);
    if (value == fields->end()) continue;
    const json taken = std::move(*value);
    fields->erase(field.code);
    std::vector<const json*> pairs;
    if (const json* pair = FileData(taken)) {
      pairs.push_back(pair);
    } else if (field.multiple && taken.is_array()) {
      for (const json& item : taken) {
        const json* pair = FileData(item);
        if (pair == nullptr) return ShapeError(field);
        pairs.push_back(pair);
      }
    } else if (taken.is_object() && taken.contains("id")) {
      return std::nullopt;  // kept as it is
    } else {
      return ShapeError(field);
    }
    std::vector<Incoming> files;
    for (const json* pair : pairs) {
      absl::StatusOr<Incoming> file = Decode(field, *pair, spool);
      if (!file.ok()) {
        Discard(files);
        return file.status();
      }
      files.push_back(*std::move(file));
    }
    return files;
  }
  return std::nullopt;
}

void CrmFiles::Attach(const CrmFileField& field, int64_t owner_id, std::vector<Incoming> files) {
  std::vector<std::string> replaced;
  {
    absl::MutexLock lock(&mu_);
    std::vector<Stored>& held = by_owner_[Key(field.owner, owner_id)];
    for (const Stored& old : held) {
      replaced.push_back(old.file.path);
      by_token_.erase(old.token);
    }
    held.clear();
    for (Incoming& file : files) {
      Stored stored;
      stored.id = next_id_++;
      stored.file = StoredFile{std::move(file.path), std::move(file.name), file.size};
      stored.token = absl::StrFormat("%016x%016x", rng_(), rng_());
      by_token_[stored.token] = stored.file;
      held.push_back(std::move(stored));
    }
  }
  for (const std::string& path : replaced) ::unlink(path.c_str());
}

void CrmFiles::Discard(const std::vector<Incoming>& files) {
  for (const Incoming& file : files) ::unlink(file.path.c_str());
}

void CrmFiles::Render(const CrmFileField& field, int64_t owner_id, json* record,
                      const DiskCaller& caller) const {
  if (!record->is_object()) return;
  json values = json::array();
  absl::MutexLock lock(&mu_);
  auto it = by_owner_.find(Key(field.owner, owner_id));
  static const std::vector<Stored> kNone;
  for (const Stored& stored : it == by_owner_.end() ? kNone : it->second) {
    if (!field.multiple) {
      const std::string query = absl::StrCat("ownerId=", owner_id, "&fieldName=", field.code,
                                             "&dynamic=Y&fileId=", stored.id);
      values.push_back({{"id", stored.id},
                        {"showUrl", absl::StrCat(kShowFile, "?", query)},
                        {"downloadUrl", absl::StrCat(kShowFile, "?auth=", caller.url_auth, "&", query)}});
      continue;
    }
    const std::string query = absl::StrCat("entityTypeId=128&id=", owner_id, "&fieldName=", field.code,
                                           "&fileId=", stored.id);
    values.push_back({{"id", stored.id},
                      {"url", absl::StrCat(caller.base_url, kItemShowFile, "&", query)},
                      {"urlMachine", absl::StrCat(caller.base_url, kItemMachineFile,
                                                  "?auth=", caller.url_auth, "&", query)}});
  }
  if (field.multiple) {
    (*record)[field.code] = std::move(values);
  } else {
    (*record)[field.code] = values.empty() ? json(nullptr) : values[0];
  }
}

std::optional<std::string> CrmFiles::LinkOf(const CrmFileField& field, int64_t owner_id,
                                            const std::string& code, int64_t file_id) const {
  if (code != field.code) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto it = by_owner_.find(Key(field.owner, owner_id));
  if (it == by_owner_.end()) return std::nullopt;
  for (const Stored& stored : it->second) {
    if (stored.id == file_id) return absl::StrCat("/upload/b24emu-crm/", stored.token);
  }
  return std::nullopt;
}

std::optional<StoredFile> CrmFiles::FindLink(const std::string& token) const {
  absl::MutexLock lock(&mu_);
  auto it = by_token_.find(token);
  if (it == by_token_.end()) return std::nullopt;
  return it->second;
}

}  // namespace b24emu
