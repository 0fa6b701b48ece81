#include "engine/registry/redis_registry.h"

#include "absl/strings/str_cat.h"
#include "engine/redis/redis_url.h"

namespace b24gate {
namespace {

// KEYS: hash, counter, log. ARGV: name, record ("" = remove). Writes and
// files the change under the next number.
const RedisScript& WriteScript() {
  static const RedisScript* script = new RedisScript(
      "local seq = redis.call('INCR', KEYS[2]) "
      "if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) "
      "else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end "
      "redis.call('ZADD', KEYS[3], seq, ARGV[1]) "
      "return seq");
  return *script;
}

// KEYS: hash, counter, log. ARGV: after, limit. Answers name, number,
// record (nil when removed) for each name filed after `after`, oldest
// first: read at one instant, so every record is at least as new as its
// number. A counter behind `after` means Redis lost its data and started
// again: the whole log is read.
const RedisScript& ChangesScript() {
  static const RedisScript* script = new RedisScript(
      "local after = ARGV[1] "
      "if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(after) then after = '0' end "
      "local filed = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. after, '+inf', "
      "'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2])) "
      "local out = {} "
      "for i = 1, #filed, 2 do "
      "  out[#out + 1] = filed[i] "
      "  out[#out + 1] = filed[i + 1] "
      "  out[#out + 1] = redis.call('HGET', KEYS[1], filed[i]) "
      "end "
      "return out");
  return *script;
}

}  // namespace

RedisPortalRegistry::RedisPortalRegistry(std::shared_ptr<RedisClient> redis,
                                         const std::string& key_prefix)
    : redis_(std::move(redis)),
      key_(absl::StrCat(key_prefix, "portals")),
      seq_key_(absl::StrCat(key_prefix, "portals:seq")),
      log_key_(absl::StrCat(key_prefix, "portals:changes")) {}

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
  return redis_->Eval(WriteScript(), Keys(), {record.name, EncodeRecord(record)}).status();
}

absl::Status RedisPortalRegistry::Remove(const std::string& name) {
  return redis_->Eval(WriteScript(), Keys(), {name, ""}).status();
}

absl::StatusOr<int64_t> RedisPortalRegistry::Head() {
  absl::StatusOr<RedisReply> reply = redis_->Command({"GET", seq_key_});
  if (!reply.ok()) return reply.status();
  return reply->AsInt(0);
}

absl::StatusOr<std::vector<RegistryChange>> RedisPortalRegistry::ChangesSince(int64_t seq,
                                                                              size_t limit) {
  absl::StatusOr<RedisReply> reply =
      redis_->Eval(ChangesScript(), Keys(), {absl::StrCat(seq), absl::StrCat(limit)});
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kArray || reply->elements.size() % 3 != 0) {
    return absl::DataLossError(absl::StrCat(log_key_, ": the change log answered an unexpected shape"));
  }
  std::vector<RegistryChange> out;
  for (size_t i = 0; i < reply->elements.size(); i += 3) {
    RegistryChange change;
    change.name = reply->elements[i].str;
    change.seq = reply->elements[i + 1].AsInt(0);
    if (!reply->elements[i + 2].is_nil()) {
      absl::StatusOr<PortalRecord> record = DecodeRecord(reply->elements[i + 2].str);
      if (!record.ok()) {
        return absl::DataLossError(absl::StrCat(key_, " field \"", change.name, "\": ",
                                                record.status().message()));
      }
      change.record = std::move(*record);
    }
    out.push_back(std::move(change));
  }
  return out;
}

}  // namespace b24gate
