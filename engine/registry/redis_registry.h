// PortalRegistry in Redis, shared by the gateway's replicas: one hash
// (KEY_PREFIX "portals"), field = the portal's name, value = the record as
// JSON. The records hold tokens: whoever can read this Redis can call the
// portals (keep it private to the gateways, see deploy/README.md).
//
// The change log the replicas follow: every write takes the next number
// of a counter ("portals:seq") and files the portal's name under it in a
// sorted set ("portals:changes", score = that number), in the same script
// as the write, so the log never misses one. A replica asks for the names
// filed after the last number it saw and reads their records in the same
// script; with nothing new that is one cheap command. The set keeps one
// member per name ever written (a removed portal's name stays, as the news
// of its removal), not one per write.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_ENGINE_REGISTRY_REDIS_REGISTRY_H_
#define B24GATE_ENGINE_REGISTRY_REDIS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

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
  bool shared() const override { return true; }
  absl::StatusOr<int64_t> Head() override;
  absl::StatusOr<std::vector<RegistryChange>> ChangesSince(int64_t seq, size_t limit) override;

 private:
  // The keys of the scripts: the hash, the counter, the change log.
  std::vector<std::string> Keys() const { return {key_, seq_key_, log_key_}; }

  const std::shared_ptr<RedisClient> redis_;
  const std::string key_;
  const std::string seq_key_;
  const std::string log_key_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REGISTRY_REDIS_REGISTRY_H_
