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

// The [name, content] pair of a file value, or null when `value` is not one.
const json* FileData(const json& value) {
  const json* pair = &value;
  if (value.is_object()) {
    auto it = value.find("fileData");
    if (it == value.end()) return nullptr;
    pair = &*it;
  }
  return pair->is_array() && pair->size() == 2 ? pair : nullptr;
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

absl::StatusOr<std::optional<CrmFiles::Incoming>> CrmFiles::Take(json* params,
                                                                 const BodySpool* spool) {
  if (!params->is_object()) return std::nullopt;
  for (const char* key : {"fields", "FIELDS"}) {
    auto fields = params->find(key);
    if (fields == params->end() || !fields->is_object()) continue;
    auto value = fields->find(kDealFileField);
    if (value == fields->end()) continue;
    const json taken = std::move(*value);
    fields->erase(kDealFileField);
    const json* pair = FileData(taken);
    if (pair == nullptr) {
      if (taken.is_object() && taken.contains("id")) return std::nullopt;  // kept as it is
      return absl::InvalidArgumentError(absl::StrCat(
          "Field ", kDealFileField, ": a file value is {\"fileData\": [name, base64]} or [name, base64]"));
    }
    if (!(*pair)[0].is_string() || (*pair)[0].get<std::string>().empty() || !(*pair)[1].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Field ", kDealFileField, ": fileData must be [name, base64] (strings, a name)"));
    }
    Incoming file;
    file.name = (*pair)[0].get<std::string>();
    file.path = absl::StrCat(dir_, "/incoming-", next_temp_.fetch_add(1));
    absl::StatusOr<int64_t> size =
        DecodeBase64ToFile(spool, (*pair)[1].get_ref<const std::string&>(), file.path);
    if (!size.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Field ", kDealFileField, ": ", size.status().message()));
    }
    file.size = *size;
    return file;
  }
  return std::nullopt;
}

void CrmFiles::Attach(int64_t deal_id, Incoming file) {
  std::string replaced;
  {
    absl::MutexLock lock(&mu_);
    Stored stored;
    stored.id = next_id_++;
    stored.file = StoredFile{std::move(file.path), std::move(file.name), file.size};
    stored.token = absl::StrFormat("%016x%016x", rng_(), rng_());
    auto old = by_deal_.find(deal_id);
    if (old != by_deal_.end()) {
      replaced = old->second.file.path;
      deal_by_token_.erase(old->second.token);
    }
    deal_by_token_[stored.token] = deal_id;
    by_deal_[deal_id] = std::move(stored);
  }
  if (!replaced.empty()) ::unlink(replaced.c_str());
}

void CrmFiles::Discard(const Incoming& file) { ::unlink(file.path.c_str()); }

void CrmFiles::Render(int64_t deal_id, json* record, const DiskCaller& caller) const {
  if (!record->is_object()) return;
  absl::MutexLock lock(&mu_);
  auto it = by_deal_.find(deal_id);
  if (it == by_deal_.end()) {
    (*record)[kDealFileField] = nullptr;
    return;
  }
  const std::string query = absl::StrCat("ownerId=", deal_id, "&fieldName=", kDealFileField,
                                         "&dynamic=Y&fileId=", it->second.id);
  (*record)[kDealFileField] = {
      {"id", it->second.id},
      {"showUrl", absl::StrCat(kShowFile, "?", query)},
      {"downloadUrl", absl::StrCat(kShowFile, "?auth=", caller.url_auth, "&", query)}};
}

std::optional<std::string> CrmFiles::LinkOf(int64_t deal_id, const std::string& field,
                                            int64_t file_id) const {
  if (field != kDealFileField) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto it = by_deal_.find(deal_id);
  if (it == by_deal_.end() || it->second.id != file_id) return std::nullopt;
  return absl::StrCat("/upload/b24emu-crm/", it->second.token);
}

std::optional<StoredFile> CrmFiles::FindLink(const std::string& token) const {
  absl::MutexLock lock(&mu_);
  auto deal = deal_by_token_.find(token);
  if (deal == deal_by_token_.end()) return std::nullopt;
  return by_deal_.at(deal->second).file;
}

}  // namespace b24emu
