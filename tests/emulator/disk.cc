#include "tests/emulator/disk.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace b24emu {

using json = nlohmann::json;

struct Disk::Object {
  int64_t id = 0;
  std::string name;
  bool folder = true;
  int64_t storage_id = 0;
  int64_t parent_id = 0;  // 0: a storage's root folder
  int64_t created_by = 1;
  absl::Time created;
  // Files only.
  int64_t size = 0;
  std::string path;
  std::string download_token;
  nlohmann::json rights = nlohmann::json::array();  // [{TASK_ID, ACCESS_CODE}]
  std::string content_type;
};

struct Disk::Pending {
  int64_t folder_id = 0;
  NewFile file;  // its name "" : the multipart part's file name
};

namespace {

constexpr int kPageSize = 50;
constexpr char kUploadField[] = "file";

// The storages are fixed: a user storage and the shared drive; their root
// folders are objects 1 and 2.
struct StorageDef {
  int64_t id;
  const char* name;
  const char* entity_type;
  int64_t root;
};
constexpr StorageDef kStorages[] = {{1, "Admin", "user", 1}, {2, "Shared drive", "common", 2}};

MethodResult ObjectNotFound(int64_t id) {
  return Error(400, "ERROR_NOT_FOUND", absl::StrCat("Could not find entity with id '", id, "'"));
}

MethodResult MissingId() {
  return Error(400, "ERROR_ARGUMENT", "Required parameter 'id' is not set or not valid");
}

// A parameter's value as a positive integer id (strings from forms count).
std::optional<int64_t> IdParam(const json& params, const char* name) {
  if (!params.is_object()) return std::nullopt;
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  int64_t id = 0;
  if (it->is_number_integer()) id = it->get<int64_t>();
  if (it->is_string() && !absl::SimpleAtoi(it->get<std::string>(), &id)) return std::nullopt;
  return id > 0 ? std::optional<int64_t>(id) : std::nullopt;
}

bool TruthyParam(const json& params, const char* name) {
  if (!params.is_object() || !params.contains(name)) return false;
  const json& v = params[name];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) {
    const std::string s = absl::AsciiStrToLower(v.get<std::string>());
    return s == "true" || s == "1" || s == "y";
  }
  return false;
}

std::string DataName(const json& params) {
  if (!params.is_object()) return "";
  auto data = params.find("data");
  if (data == params.end() || !data->is_object()) return "";
  auto name = data->find("NAME");
  return name != data->end() && name->is_string() ? name->get<std::string>() : "";
}

// The access levels disk.rights.getTasks lists (ids as a portal numbers
// them); a right names one of them.
struct TaskDef {
  const char* id;
  const char* name;
  const char* title;
};
constexpr TaskDef kTasks[] = {{"42", "disk_access_full", "Full access"},
                              {"40", "disk_access_edit", "Edit"},
                              {"38", "disk_access_read", "Read"}};

// An access code as Bitrix24 writes them: a kind in capitals, then its id
// ("U35" a user, "G2" a group, "DR12" a department with its subdepartments,
// "SG4_A" a workgroup's owners, "AU" every authorized user).
bool IsAccessCode(const std::string& code) {
  if (code.empty() || code.size() > 64 || !absl::ascii_isupper(code[0])) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  return true;
}

// An upload's `rights`: absent or a list of {TASK_ID, ACCESS_CODE} with a
// known task and an access code; nullopt and *refused otherwise.
std::optional<json> RightsParam(const json& params, MethodResult* refused) {
  json rights = json::array();
  if (!params.is_object() || !params.contains("rights")) return rights;
  const json& given = params["rights"];
  // A form body's empty list arrives as "" (rights=).
  if (given.is_string() && given.get<std::string>().empty()) return rights;
  bool ok = given.is_array() || given.is_object();
  for (const json& right : ok ? given : json::array()) {
    std::optional<int64_t> task = IdParam(right, "TASK_ID");
    auto code = right.is_object() ? right.find("ACCESS_CODE") : right.end();
    bool known = false;
    for (const TaskDef& t : kTasks) known = known || (task && std::to_string(*task) == t.id);
    if (!known || code == right.end() || !code->is_string() || !IsAccessCode(code->get<std::string>())) {
      ok = false;
      break;
    }
    rights.push_back({{"TASK_ID", std::to_string(*task)}, {"ACCESS_CODE", *code}});
  }
  if (ok) return rights;
  *refused = Error(400, "ERROR_ARGUMENT",
                   "Parameter 'rights' must be a list of {TASK_ID, ACCESS_CODE} with TASK_ID from "
                   "disk.rights.getTasks");
  return std::nullopt;
}

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S+00:00", t, absl::UTCTimeZone());
}

// "name.ext" -> "name (n).ext", as the portal makes a name unique.
std::string Numbered(const std::string& name, int n) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return absl::StrCat(name, " (", n, ")");
  return absl::StrCat(name.substr(0, dot), " (", n, ")", name.substr(dot));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Disk>> Disk::Create(const Clock* clock, int64_t quota) {
  const char* tmp = getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/b24emu-disk-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create a directory for files: ", templ));
  }
  return std::unique_ptr<Disk>(new Disk(clock, templ, quota));
}

Disk::Disk(const Clock* clock, std::string dir, int64_t quota)
    : clock_(clock), dir_(std::move(dir)), quota_(quota), rng_(std::random_device{}()) {
  absl::MutexLock lock(&mu_);
  for (const StorageDef& s : kStorages) {
    Object root;
    root.id = s.root;
    root.name = s.name;
    root.storage_id = s.id;
    root.created = clock_->Now();
    objects_[root.id] = root;
  }
}

Disk::~Disk() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool Disk::Serves(const std::string& method) {
  static const char* const kMethods[] = {
      "disk.storage.getlist",   "disk.storage.get",       "disk.storage.getchildren",
      "disk.storage.uploadfile", "disk.folder.get",       "disk.folder.getchildren",
      "disk.folder.addsubfolder", "disk.folder.uploadfile", "disk.file.get",
      "disk.file.delete",       "disk.attachedobject.get", "disk.rights.gettasks"};
  for (const char* m : kMethods) {
    if (method == m) return true;
  }
  return false;
}

std::string Disk::NewToken() {
  return absl::StrFormat("%016x%016x", rng_(), rng_());
}

std::string Disk::WebhookUrlAuth(const std::string& credential, int64_t user_id) {
  absl::MutexLock lock(&mu_);
  auto [it, fresh] = webhook_auth_.emplace(credential, "");
  if (fresh) {
    it->second = NewToken();
    webhook_users_[it->second] = user_id;
  }
  return it->second;
}

bool Disk::CheckWebhookUrlAuth(const std::string& auth, int64_t* user_id) const {
  absl::MutexLock lock(&mu_);
  auto it = webhook_users_.find(auth);
  if (it == webhook_users_.end()) return false;
  *user_id = it->second;
  return true;
}

const Disk::Object* Disk::FolderOf(int64_t id, bool storage) const {
  if (storage) {
    for (const StorageDef& s : kStorages) {
      if (s.id == id) return &objects_.at(s.root);
    }
    return nullptr;
  }
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.folder ? &it->second : nullptr;
}

bool Disk::NameTaken(int64_t folder_id, const std::string& name) const {
  for (const std::map<int64_t, Object>* objects : {&objects_, &storing_}) {
    for (const auto& [id, object] : *objects) {
      if (object.parent_id == folder_id && absl::EqualsIgnoreCase(object.name, name)) return true;
    }
  }
  return false;
}

json Disk::Render(const Object& o, const DiskCaller& caller) const {
  json j = json::object();
  j["ID"] = std::to_string(o.id);
  j["NAME"] = o.name;
  j["CODE"] = nullptr;
  j["STORAGE_ID"] = std::to_string(o.storage_id);
  j["TYPE"] = o.folder ? "folder" : "file";
  if (o.folder) j["REAL_OBJECT_ID"] = std::to_string(o.id);
  j["PARENT_ID"] = o.parent_id == 0 ? json(nullptr) : json(std::to_string(o.parent_id));
  j["DELETED_TYPE"] = "0";
  if (!o.folder) {
    j["GLOBAL_CONTENT_VERSION"] = "1";
    j["FILE_ID"] = std::to_string(o.id);
    j["SIZE"] = std::to_string(o.size);
  }
  j["CREATE_TIME"] = Iso(o.created);
  j["UPDATE_TIME"] = Iso(o.created);
  j["DELETE_TIME"] = nullptr;
  j["CREATED_BY"] = std::to_string(o.created_by);
  j["UPDATED_BY"] = std::to_string(o.created_by);
  j["DELETED_BY"] = "0";
  if (!o.folder) {
    j["DOWNLOAD_URL"] = absl::StrCat(caller.base_url, "/rest/download.json?auth=", caller.url_auth,
                                     "&token=disk%7C", o.download_token);
  }
  j["DETAIL_URL"] = absl::StrCat(caller.base_url, "/docs/path/", o.name);
  return j;
}

absl::StatusOr<int64_t> Disk::AttachToTask(int64_t file_id, int64_t task_id, int64_t user_id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(file_id);
  if (it == objects_.end() || it->second.folder) {
    return absl::NotFoundError(absl::StrCat("no file ", file_id));
  }
  const int64_t id = next_attachment_id_++;
  attachments_[id] = Attachment{file_id, task_id, user_id, clock_->Now()};
  return id;
}

// As a portal answers it: DOWNLOAD_URL is the attachment's link,
// /bitrix/tools/disk/uf.php?attachedId=ID&auth[auth]=A&action=download,
// which redirects to the file's own download link (AttachedFileLink).
MethodResult Disk::AttachedObject(int64_t id, const DiskCaller& caller) const {
  auto found = attachments_.find(id);
  if (found == attachments_.end()) {
    return Error(400, "ERROR_NOT_FOUND", absl::StrCat("Could not find entity with id `", id, "`"));
  }
  const Attachment& a = found->second;
  auto file = objects_.find(a.file_id);
  if (file == objects_.end()) return ObjectNotFound(a.file_id);  // the file was deleted
  const json object = Render(file->second, caller);
  return Ok({{"ID", std::to_string(id)},
                 {"OBJECT_ID", std::to_string(a.file_id)},
                 {"MODULE_ID", "tasks"},
                 {"ENTITY_TYPE", "tasks_task"},
                 {"ENTITY_ID", std::to_string(a.task_id)},
                 {"CREATE_TIME", Iso(a.created)},
                 {"CREATED_BY", std::to_string(a.created_by)},
                 {"DOWNLOAD_URL", absl::StrCat(caller.base_url,
                                               "/bitrix/tools/disk/uf.php?attachedId=", id,
                                               "&auth%5Bauth%5D=", caller.url_auth,
                                               "&action=download")},
                 {"NAME", object["NAME"]},
                 {"SIZE", object["SIZE"]}});
}

std::optional<Disk::Inline> Disk::WriteInline(const json& content, MethodResult* refused) {
  if (!content.is_array() || content.size() != 2 || !content[0].is_string() ||
      !content[1].is_string()) {
    *refused = Error(400, "ERROR_ARGUMENT", "Parameter 'fileContent' must be [name, base64 content]");
    return std::nullopt;
  }
  std::string bytes;
  if (!absl::Base64Unescape(content[1].get<std::string>(), &bytes)) {
    *refused = Error(400, "ERROR_ARGUMENT", "Parameter 'fileContent' is not valid base64");
    return std::nullopt;
  }
  Inline file{absl::StrCat(dir_, "/inline-", next_temp_.fetch_add(1)), content[0].get<std::string>(),
              static_cast<int64_t>(bytes.size())};
  std::ofstream(file.path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return file;
}

MethodResult Disk::Invoke(const std::string& method, const json& params, const DiskCaller& caller) {
  // These move file bytes (write, rename, remove): they take the lock
  // themselves, never across the file I/O.
  if (method == "disk.storage.uploadfile" || method == "disk.folder.uploadfile") {
    return Upload(params, method == "disk.storage.uploadfile", caller);
  }
  if (method == "disk.file.delete") return DeleteFile(params);
  absl::MutexLock lock(&mu_);
  if (method == "disk.storage.getlist") {
    json list = json::array();
    for (const StorageDef& s : kStorages) {
      list.push_back({{"ID", std::to_string(s.id)}, {"NAME", s.name}, {"CODE", nullptr},
                      {"MODULE_ID", "disk"}, {"ENTITY_TYPE", s.entity_type},
                      {"ENTITY_ID", s.id == 1 ? "1" : "shared_files_s1"},
                      {"ROOT_OBJECT_ID", std::to_string(s.root)}});
    }
    MethodResult r = Ok(std::move(list));
    r.total = static_cast<int64_t>(r.result.size());
    return r;
  }
  if (method == "disk.rights.gettasks") {
    json list = json::array();
    for (const TaskDef& t : kTasks) list.push_back({{"ID", t.id}, {"NAME", t.name}, {"TITLE", t.title}});
    return Ok(std::move(list));
  }
  const bool storage = method.rfind("disk.storage.", 0) == 0;
  const std::optional<int64_t> id = IdParam(params, "id");
  if (!id) return MissingId();
  if (method == "disk.storage.getchildren" || method == "disk.folder.getchildren") {
    const Object* folder = FolderOf(*id, storage);
    if (folder == nullptr) return ObjectNotFound(*id);
    return Children(folder->id, params, caller);
  }
  if (method == "disk.folder.addsubfolder") return AddSubfolder(params, caller.user_id);
  if (method == "disk.attachedobject.get") return AttachedObject(*id, caller);
  if (method == "disk.storage.get") {
    for (const StorageDef& s : kStorages) {
      if (s.id == *id) {
        return Ok({{"ID", std::to_string(s.id)}, {"NAME", s.name}, {"MODULE_ID", "disk"},
                       {"ENTITY_TYPE", s.entity_type}, {"ROOT_OBJECT_ID", std::to_string(s.root)}});
      }
    }
    return ObjectNotFound(*id);
  }
  auto it = objects_.find(*id);
  const bool want_folder = method == "disk.folder.get";
  if (it == objects_.end() || it->second.folder != want_folder) return ObjectNotFound(*id);
  return Ok(Render(it->second, caller));
}

MethodResult Disk::DeleteFile(const json& params) {
  const std::optional<int64_t> id = IdParam(params, "id");
  if (!id) return MissingId();
  std::string path;
  {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(*id);
    if (it == objects_.end() || it->second.folder) return ObjectNotFound(*id);
    path = it->second.path;
    used_ -= it->second.size;
    downloads_.erase(it->second.download_token);
    objects_.erase(it);
  }
  // Gone from every listing already; a download that opened it reads on.
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  return Ok(true);
}

MethodResult Disk::Children(int64_t folder_id, const json& params, const DiskCaller& caller) {
  std::vector<const Object*> children;
  for (const auto& [id, object] : objects_) {
    if (object.parent_id == folder_id) children.push_back(&object);
  }
  int64_t start = 0;
  if (params.is_object() && params.contains("start")) {
    const json& s = params["start"];
    if (s.is_number_integer()) start = s.get<int64_t>();
    if (s.is_string()) (void)absl::SimpleAtoi(s.get<std::string>(), &start);
  }
  start = std::max<int64_t>(0, start);
  json page = json::array();
  const int64_t total = static_cast<int64_t>(children.size());
  for (int64_t i = start; i < total && i < start + kPageSize; ++i) {
    page.push_back(Render(*children[i], caller));
  }
  MethodResult r = Ok(std::move(page));
  r.total = total;
  if (start + kPageSize < total) r.next = start + kPageSize;
  r.work.rows_returned = static_cast<int64_t>(r.result.size());
  return r;
}

MethodResult Disk::AddSubfolder(const json& params, int64_t user_id) {
  const int64_t id = *IdParam(params, "id");
  const Object* parent = FolderOf(id, /*storage=*/false);
  if (parent == nullptr) return ObjectNotFound(id);
  const std::string name = DataName(params);
  if (name.empty()) return Error(400, "ERROR_ARGUMENT", "Required field 'data[NAME]' is empty");
  if (NameTaken(id, name)) {
    return Error(400, "DISK_OBJ_22000", "A file or folder with this name already exists");
  }
  Object folder;
  folder.id = next_id_++;
  folder.name = name;
  folder.storage_id = parent->storage_id;
  folder.parent_id = id;
  folder.created_by = user_id;
  folder.created = clock_->Now();
  const int64_t new_id = folder.id;
  objects_[new_id] = std::move(folder);
  return Ok(Render(objects_[new_id], DiskCaller{}));
}

MethodResult Disk::Upload(const json& params, bool storage, const DiskCaller& caller) {
  const std::optional<int64_t> id = IdParam(params, "id");
  if (!id) return MissingId();
  NewFile spec;
  spec.unique = TruthyParam(params, "generateUniqueName");
  spec.name = DataName(params);
  MethodResult refused;
  std::optional<json> rights = RightsParam(params, &refused);
  if (rights) spec.rights = *std::move(rights);
  if (!params.contains("fileContent")) {
    // First step of the two-step upload: where to POST the bytes.
    absl::MutexLock lock(&mu_);
    const Object* folder = FolderOf(*id, storage);
    if (folder == nullptr) return ObjectNotFound(*id);
    if (!rights) return refused;
    const std::string token = NewToken();
    pending_[token] = Pending{folder->id, std::move(spec)};
    return Ok({{"field", kUploadField},
                   {"uploadUrl", absl::StrCat(caller.base_url, "/rest/upload.json?auth=",
                                              caller.url_auth, "&token=disk%7C", token)}});
  }
  // One step: [name, base64], decoded and written before the lock.
  std::optional<Inline> inline_file = WriteInline(params["fileContent"], &refused);
  if (!inline_file) return refused;
  std::optional<int64_t> folder_id;
  {
    absl::MutexLock lock(&mu_);
    if (const Object* folder = FolderOf(*id, storage)) folder_id = folder->id;
  }
  if (!folder_id || !rights) {
    AbandonUpload(UploadSlot{inline_file->path, ""});
    return rights ? ObjectNotFound(*id) : refused;
  }
  if (spec.name.empty()) spec.name = inline_file->name;
  return StoreFile(*folder_id, std::move(spec), inline_file->path, inline_file->size, caller);
}

MethodResult Disk::StoreFile(int64_t folder_id, NewFile spec, const std::string& path,
                             int64_t size, const DiskCaller& caller) {
  MethodResult refused;
  std::optional<Object> file;
  std::function<void()> hook;
  {
    absl::MutexLock lock(&mu_);
    file = Reserve(folder_id, std::move(spec), size, caller, &refused);
    hook = store_hook_;
  }
  std::error_code ignored;
  if (!file) {
    std::filesystem::remove(path, ignored);
    return refused;
  }
  // The rename without the lock: other requests go on meanwhile, and the
  // reservation keeps the file's id, name and bytes its own.
  if (hook) hook();
  std::error_code error;
  std::filesystem::rename(path, file->path, error);
  if (error) std::filesystem::remove(path, ignored);
  absl::MutexLock lock(&mu_);
  return Commit(*std::move(file), !error, caller);
}

std::optional<Disk::Object> Disk::Reserve(int64_t folder_id, NewFile spec, int64_t size,
                                          const DiskCaller& caller, MethodResult* refused) {
  const auto folder = objects_.find(folder_id);
  if (folder == objects_.end()) {  // deleted meanwhile
    *refused = ObjectNotFound(folder_id);
    return std::nullopt;
  }
  std::string name = std::move(spec.name);
  if (name.empty()) {
    *refused = Error(400, "ERROR_ARGUMENT", "The file has no name");
    return std::nullopt;
  }
  if (NameTaken(folder_id, name)) {
    if (!spec.unique) {
      *refused = Error(400, "DISK_OBJ_22000", "A file or folder with this name already exists");
      return std::nullopt;
    }
    int n = 1;
    while (NameTaken(folder_id, Numbered(name, n))) ++n;
    name = Numbered(name, n);
  }
  // A full Drive: the docs' error for it (they give no quota's size).
  if (quota_ > 0 && used_ + size > quota_) {
    *refused = Error(400, "ERROR_COULD_NOT_SAVE_FILE", "Could not save file");
    return std::nullopt;
  }
  Object file;
  file.id = next_id_++;
  file.name = std::move(name);
  file.folder = false;
  file.storage_id = folder->second.storage_id;
  file.parent_id = folder_id;
  file.created_by = caller.user_id;
  file.created = clock_->Now();
  file.size = size;
  file.path = absl::StrCat(dir_, "/file-", file.id);
  file.download_token = NewToken();
  file.rights = std::move(spec.rights);
  file.content_type = std::move(spec.content_type);
  used_ += size;
  storing_[file.id] = file;
  return file;
}

MethodResult Disk::Commit(Object file, bool stored, const DiskCaller& caller) {
  storing_.erase(file.id);
  if (!stored) {
    used_ -= file.size;
    return Error(500, "INTERNAL_SERVER_ERROR", "cannot store the file");
  }
  downloads_[file.download_token] = file.id;
  const int64_t id = file.id;
  objects_[id] = std::move(file);
  MethodResult r = Ok(Render(objects_[id], caller));
  r.created_entity = "disk.file";
  return r;
}

void Disk::SetStoreHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  store_hook_ = std::move(hook);
}

std::optional<UploadSlot> Disk::BeginUpload(const std::string& token) {
  absl::MutexLock lock(&mu_);
  if (pending_.find(token) == pending_.end()) return std::nullopt;
  UploadSlot slot;
  slot.temp_path = absl::StrCat(dir_, "/upload-", next_temp_.fetch_add(1), "-", token);
  slot.field = kUploadField;
  return slot;
}

MethodResult Disk::FinishUpload(const UploadSlot& slot, int64_t size, const std::string& file_name,
                                const std::string& content_type, const DiskCaller& caller) {
  const std::string token = slot.temp_path.substr(slot.temp_path.rfind('-') + 1);
  std::optional<Pending> taken;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(token);
    if (it != pending_.end()) {
      taken = std::move(it->second);
      pending_.erase(it);
    }
  }
  if (!taken) {  // two POSTs raced for one uploadUrl
    AbandonUpload(slot);
    return Error(400, "ERROR_ARGUMENT", "The upload URL was used already");
  }
  Pending pending = *std::move(taken);
  if (pending.file.name.empty()) pending.file.name = file_name;
  pending.file.content_type = content_type;
  return StoreFile(pending.folder_id, std::move(pending.file), slot.temp_path, size, caller);
}

void Disk::AbandonUpload(const UploadSlot& slot) {
  std::error_code ignored;
  std::filesystem::remove(slot.temp_path, ignored);
}

std::optional<StoredFile> Disk::FindDownload(const std::string& token) const {
  absl::MutexLock lock(&mu_);
  auto it = downloads_.find(token);
  if (it == downloads_.end()) return std::nullopt;
  const Object& file = objects_.at(it->second);
  return StoredFile{file.path, file.name, file.size, file.content_type};
}

std::optional<std::string> Disk::AttachedFileLink(int64_t attached_id,
                                                  const DiskCaller& caller) const {
  absl::MutexLock lock(&mu_);
  auto found = attachments_.find(attached_id);
  if (found == attachments_.end()) return std::nullopt;
  auto file = objects_.find(found->second.file_id);
  if (file == objects_.end()) return std::nullopt;  // the file was deleted
  return Render(file->second, caller)["DOWNLOAD_URL"].get<std::string>();
}

std::optional<json> Disk::Inspect(int64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.folder) return std::nullopt;
  return json{{"rights", it->second.rights}, {"content_type", it->second.content_type}};
}

}  // namespace b24emu
