// Where the portals added at run time, and their rotated OAuth tokens, are
// kept across restarts: a directory of files on this machine
// (FilePortalRegistry), Redis for replicas (RedisPortalRegistry), or memory
// (tests; a gateway given no place to keep them).
//
// The registry is storage only: PortalDirectory (engine/gateway/) decides
// what goes in, keeps the working copy in memory, reads the whole registry
// at start-up and, from a store the replicas share, the changes the others
// made since (ChangesSince). Every call may do I/O: callers hold no lock of
// theirs.
//
// Thread-safety: implementations are thread-safe. Writes of one name must
// take turns (PortalDirectory gives each portal one write at a time); writes
// of different names may run at once.
#ifndef B24GATE_ENGINE_REGISTRY_PORTAL_REGISTRY_H_
#define B24GATE_ENGINE_REGISTRY_PORTAL_REGISTRY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/registry/portal_record.h"

namespace b24gate {

// A portal some writer changed, as a shared store's change log has it.
struct RegistryChange {
  int64_t seq = 0;  // the change's place in the log
  std::string name;
  std::optional<PortalRecord> record;  // nullopt: removed
};

class PortalRegistry {
 public:
  virtual ~PortalRegistry() = default;
  // Every stored portal. A record that cannot be read fails the whole load
  // (DATA_LOSS naming where), rather than a portal silently going missing.
  virtual absl::StatusOr<std::vector<PortalRecord>> LoadAll() = 0;
  // Creates or replaces the record of `record.name`; durable when it returns OK.
  virtual absl::Status Put(const PortalRecord& record) = 0;
  // Forgets the portal and its secrets; OK when it was not there.
  virtual absl::Status Remove(const std::string& name) = 0;
  // Where the records are, for the start-up log ("memory", a path, a URL).
  virtual std::string Describe() const = 0;

  // A store other processes write too (Redis of the replicas): the
  // directory then follows its change log. The others are written by this
  // process alone and have no log: Head() is 0 and ChangesSince() empty.
  virtual bool shared() const { return false; }
  // Where the change log ends now; read before LoadAll, so that a change
  // made during the load is read again after it (re-applying one is
  // harmless: the store holds the newest record).
  virtual absl::StatusOr<int64_t> Head() { return 0; }
  // The changes after `seq`, oldest first, at most `limit`, each with the
  // portal's record as it is now. The newest change of a name replaces the
  // older ones: one entry per name. A log that started again (the store
  // lost its data) is read from its beginning.
  virtual absl::StatusOr<std::vector<RegistryChange>> ChangesSince(int64_t seq, size_t limit) {
    (void)seq;
    (void)limit;
    return std::vector<RegistryChange>();
  }
};

// Keeps records in memory only: gone at exit.
class MemoryPortalRegistry : public PortalRegistry {
 public:
  absl::StatusOr<std::vector<PortalRecord>> LoadAll() override;
  absl::Status Put(const PortalRecord& record) override;
  absl::Status Remove(const std::string& name) override;
  std::string Describe() const override { return "memory"; }

 private:
  absl::Mutex mu_;
  std::map<std::string, PortalRecord> records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REGISTRY_PORTAL_REGISTRY_H_
