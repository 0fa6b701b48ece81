// PortalRegistry in Redis, shared by the gateway's replicas: one hash
// (KEY_PREFIX "portals"), field = the portal's name, value = the record as
// JSON. The records hold tokens: whoever can read this Redis can call the
// portals (keep it private to the gateways, see deploy/README.md).
//
// Thread-safety: thread-safe.
#ifndef B24GATE_ENGINE_REGISTRY_REDIS_REGISTRY_H_
#define B24GATE_ENGINE_REGISTRY_REDIS_REGISTRY_H_

#include <memory>
#include <string>

#include "engine/redis/redis_client.h"
#include "engine/registry/portal_registry.h"

namespace b24gate {

class RedisPortalRegistry : public PortalRegistry {
 public:
  // `redis` may be shared with other users.
  RedisPortalRegistry(std::shared_ptr<RedisClient> redis, const std::string& key_prefix);

  absl::StatusOr<std::vector<PortalRecord>> LoadAll() override;
  absl::Status Put(const PortalRecord& record) override;
  absl::Status Remove(const std::string& name) override;
  std::string Describe() const override;

 private:
  const std::shared_ptr<RedisClient> redis_;
  const std::string key_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REGISTRY_REDIS_REGISTRY_H_
