// CRM file fields: the deal user fields UF_CRM_1700000103 ("Scan", type
// file, one file) and UF_CRM_1700000104 ("Documents", type file, multiple),
// as crm.deal.add / crm.deal.update write them ({"fileData": [name,
// base64]} or [name, base64]; for the multiple one a list of such values
// and {"id": N} entries, which keep the field's file N) and crm.deal.get
// reads them ({"id", "showUrl", "downloadUrl"}, a list of them for the
// multiple one); and the multiple file field ufCrm1_1700000300 of the
// seeded smart process (entityTypeId 128), as crm.item.add /
// crm.item.update write it (the same list) and crm.item.get reads it (a
// list of {"id", "url", "urlMachine"}). What is emulated and which
// choices are ours is in README.md, "CRM file fields".
//
// Bytes are decoded from the request (from the body spool's file for a long
// value) straight into a file and read back from it in pieces; never held.
// A value's download link needs the caller's authorization and answers
// with a redirect to a link of the file's own, which serves the bytes.
//
// Thread-safety: safe for concurrent use; one lock guards the index, file
// bytes are written and read outside it.
#ifndef B24EMU_CRM_FILES_H_
#define B24EMU_CRM_FILES_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/body_spool.h"
#include "tests/emulator/disk.h"
#include "tests/emulator/method_api.h"

namespace b24emu {

// A file field the emulator keeps files for.
struct CrmFileField {
  const char* owner;  // "deal", or "item" (the smart process's items)
  const char* code;   // the field's code in writes and reads
  bool multiple;
  const char* owner_param;  // the record's id in its download link's query
};

class CrmFiles {
 public:
  static constexpr char kDealFileField[] = "UF_CRM_1700000103";
  static constexpr char kDealFilesField[] = "UF_CRM_1700000104";
  static constexpr char kItemFileField[] = "ufCrm1_1700000300";
  static constexpr CrmFileField kDeal{"deal", kDealFileField, false, "ownerId"};
  static constexpr CrmFileField kDealFiles{"deal", kDealFilesField, true, "ownerId"};
  static constexpr CrmFileField kItem{"item", kItemFileField, true, "id"};

  // Whether `code` is one of the fields above (its value is decoded from
  // the spool, not inflated).
  static bool IsFileField(const std::string& code) {
    return code == kDealFileField || code == kDealFilesField || code == kItemFileField;
  }

  // Keeps files under a fresh directory in $TMPDIR (or /tmp), removed with
  // it; long request values are spooled there too (spool_dir()).
  static absl::StatusOr<std::unique_ptr<CrmFiles>> Create();
  ~CrmFiles();

  const std::string& spool_dir() const { return dir_; }

  // A file a write brought, decoded into a file of its own.
  struct Incoming {
    std::string path;
    std::string name;
    int64_t size = 0;
  };
  // What a write puts into a field: the field's files to keep (a multiple
  // field's {"id": N} entries) and the new ones, in the value's order.
  struct Write {
    struct Entry {
      int64_t keep_id = 0;  // > 0: the field's file of this id
      Incoming file;        // otherwise: a new file
    };
    std::vector<Entry> entries;
  };
  // A write (add / update): takes `field`'s value out of `params` (fields /
  // FIELDS) and decodes its files. Nullopt when the call leaves the field
  // as it is; an error for a value it cannot use (nothing kept).
  absl::StatusOr<std::optional<Write>> Take(const CrmFileField& field, nlohmann::json* params,
                                            const BodySpool* spool);
  // The write succeeded: record `owner_id`'s field now holds the write's
  // files -- the kept ones that it held (ids it never held are ignored) and
  // the new ones; the files it held and the write did not keep are deleted,
  // as the docs say.
  void Attach(const CrmFileField& field, int64_t owner_id, Write write);
  // The write failed: its new files are dropped.
  static void Discard(const Write& write);

  // A read's `record` of `owner_id` gets the field's value.
  void Render(const CrmFileField& field, int64_t owner_id, nlohmann::json* record,
              const DiskCaller& caller) const;

  // The link that serves the bytes of file `file_id` in field `code` (one
  // of the fields of `field.owner`) of record `owner_id` (a path), or
  // nullopt when it is not there.
  std::optional<std::string> LinkOf(const CrmFileField& field, int64_t owner_id,
                                    const std::string& code, int64_t file_id) const;
  // That link's file, or nullopt (replaced since).
  std::optional<StoredFile> FindLink(const std::string& token) const;

 private:
  struct Stored {
    int64_t id = 0;
    StoredFile file;
    std::string token;
  };
  using Key = std::pair<std::string, int64_t>;  // (field code, owner_id)
  explicit CrmFiles(std::string dir) : dir_(std::move(dir)), rng_(std::random_device{}()) {}
  absl::StatusOr<Incoming> Decode(const CrmFileField& field, const nlohmann::json& pair,
                                  const BodySpool* spool);
  // The entries of a value taken out of a write, its new files decoded
  // (none kept on an error).
  absl::StatusOr<Write> Entries(const CrmFileField& field, const nlohmann::json& taken,
                                const BodySpool* spool);

  const std::string dir_;
  std::atomic<int64_t> next_temp_{1};
  mutable absl::Mutex mu_;
  std::map<Key, std::vector<Stored>> by_owner_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StoredFile> by_token_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1001;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_CRM_FILES_H_
