// Where the portals added at run time, and their rotated OAuth tokens, are
// kept across restarts: a directory of files on this machine
// (FilePortalRegistry), Redis for replicas (RedisPortalRegistry), or memory
// (tests; a gateway given no place to keep them).
//
// The registry is storage only: PortalDirectory (engine/gateway/) decides
// what goes in, keeps the working copy in memory and reads the registry
// once, at start-up. Every call may do I/O: callers hold no lock of theirs.
//
// Thread-safety: implementations are thread-safe.
#ifndef B24GATE_ENGINE_REGISTRY_PORTAL_REGISTRY_H_
#define B24GATE_ENGINE_REGISTRY_PORTAL_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/registry/portal_record.h"

namespace b24gate {

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
