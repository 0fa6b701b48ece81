#include "engine/registry/redis_registry.h"

#include "absl/strings/str_cat.h"
#include "engine/redis/redis_url.h"

namespace b24gate {

RedisPortalRegistry::RedisPortalRegistry(std::shared_ptr<RedisClient> redis,
                                         const std::string& key_prefix)
    : redis_(std::move(redis)), key_(absl::StrCat(key_prefix, "portals")) {}

std::string RedisPortalRegistry::Describe() const {
  return absl::StrCat(RedisUrlOf(redis_->address()), " ", key_);
}

absl::StatusOr<std::vector<PortalRecord>> RedisPortalRegistry::LoadAll() {
  // In pages (HSCAN), so that no one reply of thousands of portals runs
  // into the command timeout.
  std::vector<PortalRecord> out;
  std::string cursor = "0";
  do {
    absl::StatusOr<RedisReply> reply = redis_->Command({"HSCAN", key_, cursor, "COUNT", "1000"});
    if (!reply.ok()) return reply.status();
    if (reply->type != RedisReply::Type::kArray || reply->elements.size() != 2) {
      return absl::DataLossError(absl::StrCat(key_, ": HSCAN answered an unexpected shape"));
    }
    cursor = reply->elements[0].str;
    const std::vector<RedisReply>& pairs = reply->elements[1].elements;
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
      absl::StatusOr<PortalRecord> record = DecodeRecord(pairs[i + 1].str);
      if (!record.ok()) {
        return absl::DataLossError(absl::StrCat(key_, " field \"", pairs[i].str, "\": ",
                                                record.status().message()));
      }
      out.push_back(std::move(*record));
    }
  } while (cursor != "0");
  return out;
}

absl::Status RedisPortalRegistry::Put(const PortalRecord& record) {
  return redis_->Command({"HSET", key_, record.name, EncodeRecord(record)}).status();
}

absl::Status RedisPortalRegistry::Remove(const std::string& name) {
  return redis_->Command({"HDEL", key_, name}).status();
}

}  // namespace b24gate
