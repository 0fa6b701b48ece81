#include "tests/emulator/crm_files.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/numbers.h"
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
      field.multiple ? ", or a list of them and of {\"id\": N} to keep the field's file N" : ""));
}

// The id a multiple field's {"id": N} entry keeps, or 0 when `entry` is not
// one.
int64_t KeptId(const json& entry) {
  if (!entry.is_object() || entry.size() != 1 || !entry.contains("id")) return 0;
  const json& id = entry["id"];
  int64_t value = 0;
  if (id.is_number_integer()) value = id.get<int64_t>();
  if (id.is_string() && !absl::SimpleAtoi(id.get<std::string>(), &value)) return 0;
  return value > 0 ? value : 0;
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

absl::StatusOr<CrmFiles::Write> CrmFiles::Entries(const CrmFileField& field, const json& taken,
                                                  const BodySpool* spool) {
  std::vector<const json*> items;
  if (FileData(taken) != nullptr) {
    items.push_back(&taken);
  } else if (field.multiple && taken.is_array()) {
    for (const json& item : taken) items.push_back(&item);
  } else {
    return ShapeError(field);
  }
  Write write;
  for (const json* item : items) {
    Write::Entry entry;
    entry.keep_id = field.multiple ? KeptId(*item) : 0;
    const json* pair = entry.keep_id > 0 ? nullptr : FileData(*item);
    if (entry.keep_id == 0 && pair == nullptr) {
      Discard(write);
      return ShapeError(field);
    }
    if (pair != nullptr) {
      absl::StatusOr<Incoming> file = Decode(field, *pair, spool);
      if (!file.ok()) {
        Discard(write);
        return file.status();
      }
      entry.file = *std::move(file);
    }
    write.entries.push_back(std::move(entry));
  }
  return write;
}

absl::StatusOr<std::optional<CrmFiles::Write>> CrmFiles::Take(const CrmFileField& field,
                                                              json* params,
                                                              const BodySpool* spool) {
  if (!params->is_object()) return std::nullopt;
  for (const char* key : {"fields", "FIELDS"}) {
    auto fields = params->find(key);
    if (fields == params->end() || !fields->is_object()) continue;
    auto value = fields->find(field.code);
    if (value == fields->end()) continue;
    const json taken = std::move(*value);
    fields->erase(field.code);
    // {"id": N} alone leaves the field as it is.
    if (taken.is_object() && taken.contains("id")) return std::nullopt;
    absl::StatusOr<Write> write = Entries(field, taken, spool);
    if (!write.ok()) return write.status();
    return *std::move(write);
  }
  return std::nullopt;
}

void CrmFiles::Attach(const CrmFileField& field, int64_t owner_id, Write write) {
  std::vector<std::string> dropped;
  {
    absl::MutexLock lock(&mu_);
    std::vector<Stored>& held = by_owner_[Key(field.code, owner_id)];
    std::vector<Stored> now;
    for (Write::Entry& entry : write.entries) {
      if (entry.keep_id > 0) {
        auto kept = std::find_if(held.begin(), held.end(),
                                 [&](const Stored& s) { return s.id == entry.keep_id; });
        if (kept == held.end()) continue;  // not this field's: ignored
        now.push_back(std::move(*kept));
        held.erase(kept);
        continue;
      }
      Stored stored;
      stored.id = next_id_++;
      stored.file = StoredFile{std::move(entry.file.path), std::move(entry.file.name),
                               entry.file.size};
      stored.token = absl::StrFormat("%016x%016x", rng_(), rng_());
      by_token_[stored.token] = stored.file;
      now.push_back(std::move(stored));
    }
    for (const Stored& old : held) {
      dropped.push_back(old.file.path);
      by_token_.erase(old.token);
    }
    held = std::move(now);
  }
  for (const std::string& path : dropped) ::unlink(path.c_str());
}

void CrmFiles::Discard(const Write& write) {
  for (const Write::Entry& entry : write.entries) {
    if (entry.keep_id == 0) ::unlink(entry.file.path.c_str());
  }
}

void CrmFiles::Render(const CrmFileField& field, int64_t owner_id, json* record,
                      const DiskCaller& caller) const {
  if (!record->is_object()) return;
  const bool deal = std::string(field.owner) == "deal";
  json values = json::array();
  absl::MutexLock lock(&mu_);
  auto it = by_owner_.find(Key(field.code, owner_id));
  static const std::vector<Stored> kNone;
  for (const Stored& stored : it == by_owner_.end() ? kNone : it->second) {
    if (deal) {
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
  bool owned = false;
  for (const CrmFileField* f : {&kDeal, &kDealFiles, &kItem}) {
    owned = owned || (code == f->code && std::string(f->owner) == field.owner);
  }
  if (!owned) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto it = by_owner_.find(Key(code, owner_id));
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
