#include "engine/budget/budget_scripts.h"

namespace b24gate {

const RedisScript& BucketScript() {
  static const RedisScript* script = new RedisScript(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local burst, drain, headroom = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local op = ARGV[4]
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
if now > at then level = math.max(0, level - (now - at) / 1000000 * drain) end
local usable = math.max(1, burst - headroom)
local admitted, wait = 0, 0
if op == 'take' then
  if level <= usable - 1 then
    level = level + 1
    admitted = 1
  else
    wait = math.ceil((level - (usable - 1)) / drain * 1000000)
  end
elseif op == 'full' then
  level = math.max(level, burst)
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / drain * 1000) + 60000)
return {admitted, tostring(level), wait}
)lua");
  return *script;
}

const RedisScript& SyncScript() {
  static const RedisScript* script = new RedisScript(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local me, ttl, res_prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local window = tonumber(ARGV[4])
local i = 5
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local method, operating, reset, paused = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local old = redis.call('HGET', KEYS[1], method)
  if old then
    local old_operating, old_reset, old_paused = string.match(old, '^(%S+) (%S+) (%S+)$')
    if old_paused and tonumber(old_paused) > paused then paused = tonumber(old_paused) end
    if operating == '-' and old_operating then operating, reset = old_operating, old_reset end
  end
  redis.call('HSET', KEYS[1], method, operating .. ' ' .. reset .. ' ' .. string.format('%d', paused))
  i = i + 4
end
if n > 0 then redis.call('PEXPIRE', KEYS[1], window * 2) end
redis.call('DEL', KEYS[3])
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2])
  i = i + 3
end
if m > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + ttl * 1000, me)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
local others = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if id ~= me then
    local h = redis.call('HGETALL', res_prefix .. id)
    for j = 1, #h, 2 do
      local reserved, in_flight = string.match(h[j + 1], '^(%S+) (%S+)$')
      local o = others[h[j]] or {0, 0}
      others[h[j]] = {o[1] + tonumber(reserved), o[2] + tonumber(in_flight)}
    end
  end
end
local out = {}
local reports = redis.call('HGETALL', KEYS[1])
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
)lua");
  return *script;
}

}  // namespace b24gate
