// The portal's Drive ("disk" scope): storages, folders and files, the disk.*
// methods, and the two byte endpoints the HTTP server streams through (the
// second step of an upload, and a file's DOWNLOAD_URL). What is emulated and
// which choices are ours is in README.md, "Drive (files)".
//
// File bytes live in files under a directory of the Disk's own, never in
// memory: an upload is written to disk as it arrives and a download is read
// from it in pieces (the server does both; the Disk hands out paths).
//
// Thread-safety: safe for concurrent use. One lock guards the metadata; file
// bytes are written, read, renamed into place and removed outside it. A file
// being stored is reserved under the lock first (its id, its name in the
// folder, its bytes against the quota), so requests that come during its
// rename see those taken, and list it once it is in place.
#ifndef B24EMU_DISK_H_
#define B24EMU_DISK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/method_api.h"

namespace b24emu {

// Who calls a disk method, and how URLs handed to them are built.
struct DiskCaller {
  int64_t user_id = 1;
  std::string base_url;  // "http://host:port", as the client reached us
  // The `auth` value put into uploadUrl and DOWNLOAD_URL: the caller's OAuth
  // access token, or the webhook's URL token (Disk::WebhookUrlAuth).
  std::string url_auth;
};

// An upload whose second step (the multipart POST) has begun.
struct UploadSlot {
  std::string temp_path;  // where the server writes the bytes
  std::string field;      // the multipart field carrying the file
};

// A stored file, for the download endpoint.
struct StoredFile {
  std::string path;
  std::string name;
  int64_t size = 0;
  std::string content_type;  // as the upload's part named it; "" = unknown
};

class Disk {
 public:
  // Keeps files under a fresh directory in $TMPDIR (or /tmp), removed with
  // the Disk, at most `quota` bytes of them (0: no limit). `clock` must
  // outlive it.
  static absl::StatusOr<std::unique_ptr<Disk>> Create(const Clock* clock, int64_t quota = 0);
  ~Disk();

  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  // Whether `method` (normalised) is a disk method served here.
  static bool Serves(const std::string& method);
  // REQUIRES: Serves(method).
  MethodResult Invoke(const std::string& method, const nlohmann::json& params,
                      const DiskCaller& caller);

  // The URL token a webhook's DOWNLOAD_URL and uploadUrl carry as `auth`
  // (stable per webhook), and the check of one.
  std::string WebhookUrlAuth(const std::string& credential, int64_t user_id);
  bool CheckWebhookUrlAuth(const std::string& auth, int64_t* user_id) const;

  // Second step of an upload: `token` is the uploadUrl's `token`. Names a
  // fresh temp file; nullopt when the token is unknown or was used. The
  // token is used up only by a POST that files its bytes (FinishUpload), so
  // an upload cut short may be sent to the same uploadUrl again.
  std::optional<UploadSlot> BeginUpload(const std::string& token);
  // Files the bytes written to `slot.temp_path` (`size` of them) under the
  // name given at the first step, else `file_name` (the multipart part's),
  // with the part's `content_type` and the first step's rights. The answer
  // is disk.file.get's object; on an error the temp file is gone.
  MethodResult FinishUpload(const UploadSlot& slot, int64_t size, const std::string& file_name,
                            const std::string& content_type, const DiskCaller& caller);
  // Forgets an upload whose bytes never arrived whole.
  void AbandonUpload(const UploadSlot& slot);

  // The download link (DOWNLOAD_URL) of the file that attached object
  // `attached_id` names, for `caller`; nullopt when there is none.
  std::optional<std::string> AttachedFileLink(int64_t attached_id, const DiskCaller& caller) const;

  // The file a DOWNLOAD_URL's `token` names; nullopt when none (deleted).
  std::optional<StoredFile> FindDownload(const std::string& token) const;

  // What a portal keeps of file `id` and no method shows, for tests
  // (/_emulator/disk/files/ID): {"rights": [{TASK_ID, ACCESS_CODE}...],
  // "content_type"}; nullopt for no such file.
  std::optional<nlohmann::json> Inspect(int64_t id) const;

  // Runs `hook` in each store between the reservation and the rename of
  // the bytes, holding no lock (tests: a slow disk).
  void SetStoreHook(std::function<void()> hook);

  // Attaches file `file_id` to task `task_id` (tasks.task.files.attach):
  // the new attached object's ID for disk.attachedObject.get, or NOT_FOUND
  // for an unknown file.
  absl::StatusOr<int64_t> AttachToTask(int64_t file_id, int64_t task_id, int64_t user_id);

 private:
  struct Object;
  struct Pending;
  struct Attachment {
    int64_t file_id = 0;
    int64_t task_id = 0;
    int64_t created_by = 1;
    absl::Time created;
  };
  struct Inline {  // a one-step upload's bytes, written to a file
    std::string path;
    std::string name;
    int64_t size = 0;
  };
  Disk(const Clock* clock, std::string dir, int64_t quota);

  // Decodes fileContent ([name, base64]) into a file; nullopt and *refused
  // when it is malformed. Called without the lock.
  std::optional<Inline> WriteInline(const nlohmann::json& content, MethodResult* refused);
  // disk.{storage,folder}.uploadfile: its first step, or a one-step upload.
  MethodResult Upload(const nlohmann::json& params, bool storage, const DiskCaller& caller)
      ABSL_LOCKS_EXCLUDED(mu_);
  MethodResult DeleteFile(const nlohmann::json& params) ABSL_LOCKS_EXCLUDED(mu_);
  MethodResult Children(int64_t folder_id, const nlohmann::json& params, const DiskCaller& caller)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  MethodResult AddSubfolder(const nlohmann::json& params, int64_t user_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct NewFile {  // what a file is stored with besides its bytes
    std::string name;
    bool unique = false;
    nlohmann::json rights = nlohmann::json::array();
    std::string content_type;
  };
  // Creates a file object for bytes at `path`: reserves it, renames the
  // bytes into place without the lock, then commits it. On an error the
  // bytes at `path` are gone.
  MethodResult StoreFile(int64_t folder_id, NewFile spec, const std::string& path, int64_t size,
                         const DiskCaller& caller) ABSL_LOCKS_EXCLUDED(mu_);
  // The file object to store, its id, name and bytes taken (storing_,
  // used_); nullopt and *refused when it cannot be.
  std::optional<Object> Reserve(int64_t folder_id, NewFile spec, int64_t size, const DiskCaller& caller,
                                MethodResult* refused) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The reserved `file` in place (`stored`: its bytes are), or its
  // reservation given back.
  MethodResult Commit(Object file, bool stored, const DiskCaller& caller) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The folder `id` names (a storage id when `storage`), or null.
  const Object* FolderOf(int64_t id, bool storage) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NameTaken(int64_t folder_id, const std::string& name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  nlohmann::json Render(const Object& object, const DiskCaller& caller) const;
  MethodResult AttachedObject(int64_t id, const DiskCaller& caller) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewToken() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const std::string dir_;
  const int64_t quota_;  // bytes the files may take; 0: no limit
  mutable absl::Mutex mu_;
  std::map<int64_t, Object> objects_ ABSL_GUARDED_BY(mu_);  // folders and files by ID
  std::map<int64_t, Object> storing_ ABSL_GUARDED_BY(mu_);  // files reserved, bytes on their way
  std::function<void()> store_hook_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);  // upload token -> target
  std::map<std::string, int64_t> downloads_ ABSL_GUARDED_BY(mu_);  // download token -> file ID
  std::map<int64_t, Attachment> attachments_ ABSL_GUARDED_BY(mu_);  // by attached object ID
  int64_t next_attachment_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::string> webhook_auth_ ABSL_GUARDED_BY(mu_);  // credential -> token
  std::map<std::string, int64_t> webhook_users_ ABSL_GUARDED_BY(mu_);     // token -> user
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 3;
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;  // bytes of the stored and reserved files
  std::atomic<int64_t> next_temp_{1};  // names temp files
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_DISK_H_
