// A file field on deals: the user field UF_CRM_1700000103 ("Scan", type
// file, one file), as crm.deal.add / crm.deal.update write it
// ({"fileData": [name, base64]} or [name, base64]) and crm.deal.get reads
// it ({"id", "showUrl", "downloadUrl"}). What is emulated and which choices
// are ours is in README.md, "A file field on deals".
//
// Bytes are decoded from the request (from the body spool's file for a long
// value) straight into a file and read back from it in pieces; never held.
// downloadUrl needs the caller's authorization and answers with a redirect
// to a link of the file's own, which serves the bytes.
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

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/body_spool.h"
#include "tests/emulator/disk.h"
#include "tests/emulator/method_api.h"

namespace b24emu {

class CrmFiles {
 public:
  static constexpr char kDealFileField[] = "UF_CRM_1700000103";

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
  // crm.deal.add / crm.deal.update: takes the file field's value out of
  // `params` (fields / FIELDS) and decodes it. Nullopt when the call
  // brings no file; an error result for a value it cannot use.
  absl::StatusOr<std::optional<Incoming>> Take(nlohmann::json* params, const BodySpool* spool);
  // The write succeeded: deal `deal_id`'s field now holds the file (its
  // earlier file is deleted, as the docs say of a single field).
  void Attach(int64_t deal_id, Incoming file);
  // The write failed: the file is dropped.
  static void Discard(const Incoming& file);

  // crm.deal.get's `record` of `deal_id` gets the field's value.
  void Render(int64_t deal_id, nlohmann::json* record, const DiskCaller& caller) const;

  // show_file.php: the link that serves the bytes of file `file_id` in
  // field `field` of deal `deal_id` (a path), or nullopt when it is not
  // there.
  std::optional<std::string> LinkOf(int64_t deal_id, const std::string& field,
                                    int64_t file_id) const;
  // That link's file, or nullopt (replaced since).
  std::optional<StoredFile> FindLink(const std::string& token) const;

 private:
  struct Stored {
    int64_t id = 0;
    StoredFile file;
    std::string token;
  };
  explicit CrmFiles(std::string dir) : dir_(std::move(dir)), rng_(std::random_device{}()) {}

  const std::string dir_;
  std::atomic<int64_t> next_temp_{1};
  mutable absl::Mutex mu_;
  std::map<int64_t, Stored> by_deal_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> deal_by_token_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1001;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_CRM_FILES_H_
