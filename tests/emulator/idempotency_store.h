// REST 3.0 `Idempotency-Key` (docs/bitrix24-protocol.md, "REST 3.0"): the
// first successful answer of a write sent with a key is kept for a while
// (24 h) per scope (credential, user, method, key). A repeat with the same
// body gets that answer back and the method does not run again; the same key
// with another body is refused. Errors are not kept, so a failed write may
// be sent again with its key.
//
// A repeat that arrives before the first run has finished finds nothing
// kept yet and runs too, as on a real portal ("two concurrent requests with
// one key may both run"); Find reports it as an overlap so tests can prove a
// client never sends one key twice at once.
//
// Thread-safety: safe for concurrent use (one mutex; no I/O under it).
#ifndef B24EMU_IDEMPOTENCY_STORE_H_
#define B24EMU_IDEMPOTENCY_STORE_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"

namespace b24emu {

// 1 to 255 printable ASCII characters (space to '~').
bool ValidIdempotencyKey(absl::string_view key);

class IdempotencyStore {
 public:
  // `clock` must outlive the store.
  IdempotencyStore(absl::Duration ttl, const Clock* clock) : ttl_(ttl), clock_(clock) {}

  struct Answer {
    int status = 200;
    std::string body;
  };
  struct Lookup {
    enum class Verdict { kRun, kReplay, kReused };
    Verdict verdict = Verdict::kRun;
    Answer answer;         // kReplay: the kept answer
    bool overlap = false;  // kRun: the first run with this key had not finished
  };

  // What to do with a write in `scope` whose body is `fingerprint`.
  Lookup Find(const std::string& scope, const std::string& fingerprint);
  // Keeps a successful answer whose run finishes at `finished` (the portal
  // holds replies for their processing time; until then a repeat overlaps).
  // The first answer kept for a scope stays until it expires.
  void Keep(const std::string& scope, const std::string& fingerprint, Answer answer,
            absl::Time finished);

  int64_t size() const;

 private:
  struct Entry {
    std::string fingerprint;
    Answer answer;
    absl::Time finished;
    absl::Time expires;
  };
  // Drops expired entries. REQUIRES: mu_ held.
  void Sweep(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration ttl_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t kept_since_sweep_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24emu

#endif  // B24EMU_IDEMPOTENCY_STORE_H_
