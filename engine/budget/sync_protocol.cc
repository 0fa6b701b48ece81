#include "engine/budget/sync_protocol.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace b24gate {
namespace {

int64_t Micros(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) {
  return us <= 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

// "operating reset_us paused_us": the pause alone when the report does not
// read (a pause published before any report has "-").
void ReadReport(const std::string& text, OperatingTracker::Shared* shared) {
  std::vector<std::string> parts = absl::StrSplit(text, ' ');
  int64_t reset_us = 0, paused_us = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &reset_us) ||
      !absl::SimpleAtoi(parts[2], &paused_us)) {
    return;
  }
  shared->paused_until = FromMicros(paused_us);
  double operating = 0;
  if (absl::SimpleAtod(parts[0], &operating) && std::isfinite(operating) && operating >= 0) {
    shared->reported = true;
    shared->operating = operating;
    shared->reset_at = FromMicros(reset_us);
  }
}

// "reserved_us in_flight" of the other replicas.
void ReadReservations(const std::string& text, OperatingTracker::Shared* shared) {
  std::vector<std::string> parts = absl::StrSplit(text, ' ');
  int64_t reserved_us = 0;
  int in_flight = 0;
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &reserved_us) &&
      absl::SimpleAtoi(parts[1], &in_flight) && reserved_us >= 0 && in_flight >= 0) {
    shared->reserved = absl::Microseconds(reserved_us);
    shared->in_flight = in_flight;
  }
}

bool IsText(const RedisReply& r) {
  return r.type == RedisReply::Type::kString || r.type == RedisReply::Type::kStatus;
}

absl::Status Unexpected(absl::string_view what) {
  return absl::InternalError(absl::StrCat("unexpected answer from the budget script: ", what));
}

// The bucket: drain, add, mark full, grant.
constexpr char kBucketLua[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local burst, drain, usable = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local take, add, full = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
if now > at then level = math.max(0, level - (now - at) / 1000000 * drain) end
level = level + add
if full == '1' then level = math.max(level, burst) end
local granted = 0
while granted < take and level <= usable - 1 do
  level = level + 1
  granted = granted + 1
end
local wait = 0
if level > usable - 1 then wait = math.ceil((level - (usable - 1)) / drain * 1000000) end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / drain * 1000) + 60000)
)lua";

// Operating time: publish this replica's news, read everyone's, answer.
constexpr char kOperatingLua[] = R"lua(
local me, ttl, res_prefix = ARGV[7], tonumber(ARGV[8]), ARGV[9]
local window = tonumber(ARGV[10])
local i = 11
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local method, operating, reset, paused = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local old = redis.call('HGET', KEYS[2], method)
  if old then
    local old_operating, old_reset, old_paused = string.match(old, '^(%S+) (%S+) (%S+)$')
    if old_paused and tonumber(old_paused) and tonumber(old_paused) > paused then
      paused = tonumber(old_paused)
    end
    if operating == '-' and old_operating then operating, reset = old_operating, old_reset end
  end
  redis.call('HSET', KEYS[2], method, operating .. ' ' .. reset .. ' ' .. string.format('%d', paused))
  i = i + 4
end
if n > 0 then redis.call('PEXPIRE', KEYS[2], window * 2) end
redis.call('DEL', KEYS[4])
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2])
  i = i + 3
end
if m > 0 then redis.call('PEXPIRE', KEYS[4], ttl) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], now + ttl * 1000, me)
redis.call('PEXPIRE', KEYS[3], ttl * 2)
local others = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if id ~= me then
    local h = redis.call('HGETALL', res_prefix .. id)
    for j = 1, #h, 2 do
      local reserved, in_flight = string.match(h[j + 1], '^(%S+) (%S+)$')
      if reserved and tonumber(reserved) and tonumber(in_flight) then
        local o = others[h[j]] or {0, 0}
        others[h[j]] = {o[1] + tonumber(reserved), o[2] + tonumber(in_flight)}
      end
    end
  end
end
local out = {granted, tostring(level), wait}
local reports = redis.call('HGETALL', KEYS[2])
local seen = {}
for j = 1, #reports, 2 do
  local method = reports[j]
  local o = others[method] or {0, 0}
  seen[method] = true
  out[#out + 1] = method
  out[#out + 1] = reports[j + 1]
  out[#out + 1] = string.format('%d %d', o[1], o[2])
end
for method, o in pairs(others) do
  if not seen[method] then
    out[#out + 1] = method
    out[#out + 1] = ''
    out[#out + 1] = string.format('%d %d', o[1], o[2])
  end
end
return out
)lua";

}  // namespace

const RedisScript& SyncScript() {
  static const RedisScript* script = new RedisScript(absl::StrCat(kBucketLua, kOperatingLua));
  return *script;
}

SyncCall EncodeSync(const SyncRequest& r) {
  SyncCall call;
  const std::string& p = r.key_prefix;
  call.keys = {absl::StrCat(p, "bucket"), absl::StrCat(p, "ops"), absl::StrCat(p, "replicas"),
               absl::StrCat(p, "res:", r.replica_id)};
  std::vector<std::string>& a = call.args;
  a = {absl::StrCat(r.burst),
       absl::StrCat(r.drain_per_second),
       absl::StrCat(std::max(1.0, r.usable)),
       absl::StrCat(std::clamp(r.take, 0, kMaxTake)),
       absl::StrCat(std::max<int64_t>(0, r.add)),
       r.full ? "1" : "0",
       r.replica_id,
       absl::StrCat(absl::ToInt64Milliseconds(r.reservation_ttl)),
       absl::StrCat(p, "res:"),
       absl::StrCat(absl::ToInt64Milliseconds(r.window)),
       absl::StrCat(r.reports.size())};
  for (const auto& [method, own] : r.reports) {
    // A 429 before any report publishes the pause alone ("-": the report
    // others gave, if any, stands).
    a.push_back(method);
    a.push_back(own.reported ? absl::StrCat(own.operating) : "-");
    a.push_back(absl::StrCat(Micros(own.reset_at)));
    a.push_back(absl::StrCat(Micros(own.paused_until)));
  }
  a.push_back(absl::StrCat(r.reservations.size()));
  for (const auto& [method, own] : r.reservations) {
    a.push_back(method);
    a.push_back(absl::StrCat(absl::ToInt64Microseconds(own.reserved)));
    a.push_back(absl::StrCat(own.in_flight));
  }
  return call;
}

absl::StatusOr<SyncAnswer> DecodeSync(const RedisReply& reply, int take) {
  const std::vector<RedisReply>& e = reply.elements;
  if (reply.type != RedisReply::Type::kArray || e.size() < 3 || (e.size() - 3) % 3 != 0) {
    return Unexpected("not a list of the script's shape");
  }
  SyncAnswer answer;
  const int64_t granted = e[0].AsInt(-1);
  if (granted < 0 || granted > take) return Unexpected("slots granted out of range");
  answer.granted = static_cast<int>(granted);
  if (!IsText(e[1]) || !absl::SimpleAtod(e[1].str, &answer.level) ||
      !std::isfinite(answer.level) || answer.level < 0) {
    return Unexpected("bucket level");
  }
  const int64_t wait_us = e[2].AsInt(-1);
  if (wait_us < 0) return Unexpected("wait");
  answer.wait = absl::Microseconds(wait_us);
  for (size_t i = 3; i < e.size(); i += 3) {
    if (!IsText(e[i]) || !IsText(e[i + 1]) || !IsText(e[i + 2])) return Unexpected("method entry");
    OperatingTracker::Shared shared;
    ReadReport(e[i + 1].str, &shared);
    ReadReservations(e[i + 2].str, &shared);
    answer.methods.emplace_back(e[i].str, shared);
  }
  return answer;
}

}  // namespace b24gate
