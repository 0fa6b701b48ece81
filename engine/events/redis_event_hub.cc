#include "engine/events/redis_event_hub.h"

#include <algorithm>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

// The group's consumer that holds what ended streams left unacknowledged
// (RELEASED in the scripts).
constexpr char kReleased[] = "released";
// How idle a released entry looks: more than any visibility timeout
// (RELEASED_IDLE in the scripts).
constexpr char kReleasedIdleMs[] = "315360000000";  // ten years
// A trim drops at most this many entries at its bounds per pass.
constexpr int kTrimBatch = 10000;

// Helpers of the scripts: entry ids ("MS-SEQ") compared and stepped, and a
// flat field/value list as a table.
constexpr char kIdFunctions[] = R"lua(
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local function after(id)
  local ms, seq = parse(id)
  return string.format('%d-%d', ms, seq + 1)
end
local function fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end
)lua";

// Helpers of the order per record: of a record's events only one is out at
// a time per group (its id in the group's `busy` hash, by record); the
// others wait in the group's `parked` sorted set ("RECORD|MS-SEQ", padded so
// the names sort as the ids) and under the consumer "parked". `advance`
// passes the record on to its oldest parked event: that event goes to the
// consumer "released", looking long idle, so the group's next read takes it.
constexpr char kOrderFunctions[] = R"lua(
local function parked_member(r, id)
  local ms, seq = parse(id)
  return string.format('%s|%015d-%010d', r, ms, seq)
end
local function unpark(member)
  local ms, seq = string.match(member, '|(%d+)-(%d+)$')
  return string.format('%d-%d', tonumber(ms), tonumber(seq))
end
local function advance(stream, group, busy, parked, r)
  while true do
    local nxt = redis.call('ZRANGEBYLEX', parked, '[' .. r .. '|', '[' .. r .. '|~', 'LIMIT', 0, 1)
    if #nxt == 0 then
      redis.call('HDEL', busy, r)
      return
    end
    redis.call('ZREM', parked, nxt[1])
    local id = unpark(nxt[1])
    if #redis.call('XCLAIM', stream, group, RELEASED, 0, id, 'IDLE', RELEASED_IDLE, 'JUSTID') > 0 then
      redis.call('HSET', busy, r, id)
      return
    end
  end
end
)lua";

// The script text: the constants, the helpers, then `body`.
std::string Script(const char* body) {
  return absl::StrCat("local RELEASED = '", kReleased, "'\nlocal RELEASED_IDLE = '", kReleasedIdleMs, "'\n",
                      kIdFunctions, kOrderFunctions, body);
}

// KEYS: stream, the group's names, busy, parked. ARGV: group, consumer,
// room, visibility timeout in ms, how many of the consumer's own pending
// entries to take back (0: none), then the ids the consumer holds (delivered
// and unacknowledged, or acknowledged with the XACK not sent yet).
// Taking back (after a read whose reply was lost: it may have taken entries
// the consumer never got) first claims the consumer's pending entries it
// does not hold, with the next attempt, within the room: they were taken as
// a read takes them (wanted, their records' `busy` held by them), so they go
// out as they are. Then, in the room left, claims
// entries idle longer than the timeout, then reads new ones; entries of
// events the group did not name (names, or patterns where `*` stands for
// any run of characters) are acknowledged, entries of a record with another
// event out are parked, and neither is returned. Returns {more, {{id,
// attempt, event, record, ts, data}...}}.
const RedisScript& ReadScript() {
  static const RedisScript* script = new RedisScript(Script(R"lua(
local out = {}
local room = tonumber(ARGV[3])
local function entry(id, attempt, flat)
  local f = fields(flat)
  return {id, attempt, f.n or '', f.r or '', f.ts or '', f.d or '{}'}
end
if tonumber(ARGV[5]) > 0 then
  local held = {}
  for i = 6, #ARGV do held[ARGV[i]] = true end
  for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', ARGV[5], ARGV[2])) do
    if not held[p[1]] and #out < room then
      -- A trimmed entry comes back empty (and leaves the pending list).
      local e = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, p[1])
      if e[1] and type(e[1][2]) == 'table' then out[#out + 1] = entry(p[1], p[4] + 1, e[1][2]) end
    end
  end
  room = room - #out
  if room == 0 then return {1, out} end
end
local more = 0
local exact, globs = {}, {}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if string.find(n, '*', 1, true) then
    globs[#globs + 1] = '^' .. string.gsub(n, '%*', '.*') .. '$'
  else
    exact[n] = true
  end
end
local function wanted(name)
  name = string.upper(name)
  if exact[name] then return true end
  for _, g in ipairs(globs) do
    if string.match(name, g) then return true end
  end
  return false
end
local function take(e, attempt)
  local f = fields(e[2])
  if not wanted(f.n or '') then
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
    return
  end
  local r = f.r or ''
  if r ~= '' then
    local holder = redis.call('HGET', KEYS[3], r)
    if holder and holder ~= e[1] then
      redis.call('ZADD', KEYS[4], 0, parked_member(r, e[1]))
      redis.call('XCLAIM', KEYS[1], ARGV[1], 'parked', 0, e[1], 'IDLE', 0, 'RETRYCOUNT', attempt - 1, 'JUSTID')
      return
    end
    redis.call('HSET', KEYS[3], r, e[1])
  end
  out[#out + 1] = entry(e[1], attempt, e[2])
end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0', 'COUNT', room)
for _, e in ipairs(claimed[2]) do
  if type(e) == 'table' and type(e[2]) == 'table' then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    take(e, (p[1] and p[1][4]) or 2)
  end
end
room = room - #claimed[2]
if room > 0 then
  local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', room, 'STREAMS', KEYS[1], '>')
  if read and read[1] then
    for _, e in ipairs(read[1][2]) do take(e, 1) end
    if #read[1][2] == room then more = 1 end
  end
else
  more = 1
end
return {more, out}
)lua"));
  return *script;
}

// KEYS: stream, the portal's source ids taken (a sorted set scored by the
// time taken). ARGV: now in ms, the oldest score to keep, then per event its
// source id, name, record, ts and data. Adds each event whose source id is
// not in the set, and the id to the set (the same script, so two replicas
// storing the same row add it once). Returns how many it added.
const RedisScript& StoreOnceScript() {
  static const RedisScript* script = new RedisScript(Script(R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
local added = 0
for i = 3, #ARGV, 5 do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    redis.call('XADD', KEYS[1], '*', 'n', ARGV[i + 1], 'r', ARGV[i + 2], 'ts', ARGV[i + 3], 'd', ARGV[i + 4])
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
    added = added + 1
  end
end
return added
)lua"));
  return *script;
}

// KEYS: stream, busy, parked. ARGV: group, then the ids acknowledged.
// XACK, and each record's next event goes out. Returns how many XACK took.
const RedisScript& AckScript() {
  static const RedisScript* script = new RedisScript(Script(R"lua(
local acked = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], id)
  local entry = redis.call('XRANGE', KEYS[1], id, id)
  if #entry > 0 then
    local r = fields(entry[1][2]).r or ''
    if r ~= '' and redis.call('HGET', KEYS[2], r) == id then advance(KEYS[1], ARGV[1], KEYS[2], KEYS[3], r) end
  end
end
return acked
)lua"));
  return *script;
}

// KEYS: stream. ARGV: group, consumer. Hands the consumer's pending
// entries to the released consumer, looking long idle (so the group's next
// claim takes them), and deletes the consumer. Returns how many it handed
// over.
const RedisScript& ReleaseScript() {
  static const RedisScript* script = new RedisScript(Script(R"lua(
local n = 0
for _ = 1, 100 do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 100, ARGV[2])
  if #pending == 0 then break end
  local args = {'XCLAIM', KEYS[1], ARGV[1], RELEASED, 0}
  for _, p in ipairs(pending) do args[#args + 1] = p[1] end
  args[#args + 1] = 'IDLE'
  args[#args + 1] = RELEASED_IDLE
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
  n = n + #pending
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return n
)lua"));
  return *script;
}

// KEYS: stream. ARGV: max entries, the age bound (entries with ids below
// "ARGV[2]-0" are too old), the most to drop per pass, idle ms after which
// a consumer with nothing pending is deleted. Deletes what every group has
// acknowledged (everything when there is no group), then the oldest beyond
// the bounds. Returns {acknowledged entries deleted, unacknowledged
// deliveries dropped, "size" | "age" | "", entries left}.
const RedisScript& TrimScript() {
  static const RedisScript* script = new RedisScript(Script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, '', 0} end
local lows, names = {}, {}
local needed = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = fields(g)
  names[#names + 1] = info['name']
  local summary = redis.call('XPENDING', KEYS[1], info['name'])
  local low = after(info['last-delivered-id'])
  if summary[1] > 0 then low = summary[2] end
  lows[#lows + 1] = low
  if needed == nil or less(low, needed) then needed = low end
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], info['name'])) do
    local ci = fields(c)
    if ci['pending'] == 0 and ci['idle'] > tonumber(ARGV[4]) then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], info['name'], ci['name'])
    end
  end
end
local acked
if needed == nil then
  acked = redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
else
  acked = redis.call('XTRIM', KEYS[1], 'MINID', needed)
end
local cap = tonumber(ARGV[3])
local drop, why = {}, ''
local over = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[1])
if over > 0 then
  drop = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', math.min(over, cap))
  why = 'size'
end
local old = redis.call('XRANGE', KEYS[1], '-', '(' .. ARGV[2] .. '-0', 'COUNT', cap)
if #old > #drop then drop, why = old, 'age' end
if #drop == 0 then return {acked, 0, '', redis.call('XLEN', KEYS[1])} end
local lost = 0
for _, e in ipairs(drop) do
  for _, low in ipairs(lows) do
    if not less(e[1], low) then lost = lost + 1 end
  end
end
-- A dropped event out or parked passes its record on (oldest first).
for _, g in ipairs(names) do
  local busy, parked = KEYS[1] .. ':busy:' .. g, KEYS[1] .. ':parked:' .. g
  for _, e in ipairs(drop) do
    local r = fields(e[2]).r or ''
    if r ~= '' then
      redis.call('ZREM', parked, parked_member(r, e[1]))
      if redis.call('HGET', busy, r) == e[1] then advance(KEYS[1], g, busy, parked, r) end
    end
  end
end
redis.call('XTRIM', KEYS[1], 'MINID', after(drop[#drop][1]))
return {acked, lost, why, redis.call('XLEN', KEYS[1])}
)lua"));
  return *script;
}

std::string RandomReplica() {
  std::random_device rd;
  return absl::StrFormat("%08x", rd());
}

// Redis 7 passes a script's error code on at the front; contained either way.
bool IsNoGroup(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInternal && absl::StrContains(s.message(), "NOGROUP");
}

// One entry of the read script's answer; false when it is not one.
bool ToEvent(const RedisReply& r, QueuedEvent* e) {
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 6) return false;
  e->delivery_id = r.elements[0].str;
  e->attempt = static_cast<int>(r.elements[1].AsInt(1));
  e->event = r.elements[2].str;
  e->record_id = r.elements[3].str;
  e->timestamp = r.elements[4].str;
  e->data = OJson::parse(r.elements[5].str, nullptr, false);
  if (e->data.is_discarded()) e->data = OJson::object();
  return !e->delivery_id.empty();
}

}  // namespace

// One Subscribe stream: a Redis consumer of its group. Readers call Run, one
// at a time; the gRPC side calls Start, Ack and Stop.
class RedisEventHub::Stream : public EventSubscription, public std::enable_shared_from_this<Stream> {
 public:
  struct Turn {
    bool done = false;  // stopped and released: drop it
    bool busy = false;  // more may be waiting: run again at once
  };

  Stream(RedisEventHub* hub, std::string portal, std::string group, std::string consumer,
         std::vector<std::string> names, EventSink* sink, Prepare prepare)
      : hub_(hub),
        portal_(std::move(portal)),
        group_(std::move(group)),
        consumer_(std::move(consumer)),
        names_(std::move(names)),
        prepare_(std::move(prepare)),
        sink_(sink) {}

  void Start() override {
    std::shared_ptr<Stream> self = shared_from_this();
    prepare_([self](absl::Status status) {
      if (!status.ok()) {
        self->CallSink(/*last=*/true, [&status](EventSink* sink) { sink->End(status); });
        return;
      }
      {
        absl::MutexLock lock(&self->mu_);
        self->started_ = true;
      }
      self->hub_->Wake(self.get());
    });
  }

  absl::Status Ack(const std::vector<std::string>& ids, const std::string& where) override {
    {
      absl::MutexLock lock(&mu_);
      for (size_t i = 0; i < ids.size(); ++i) {
        if (in_flight_.count(ids[i]) == 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, "[", i, "]: \"", ids[i], "\" is not an unacknowledged delivery of this stream"));
        }
      }
      for (const std::string& id : ids) {
        if (in_flight_.erase(id) > 0) to_ack_.push_back(id);
      }
    }
    hub_->ledger_->Cleared(portal_, consumer_, ids);
    hub_->Wake(this);  // the reader sends the XACK
    return absl::OkStatus();
  }

  void Stop() override {
    {
      absl::MutexLock lock(&sink_mu_);
      sink_ = nullptr;
      sink_mu_.Await(absl::Condition(+[](int* calls) { return *calls == 0; }, &sink_calls_));
    }
    std::vector<std::string> held;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
      held.assign(in_flight_.begin(), in_flight_.end());
    }
    hub_->ledger_->Cleared(portal_, consumer_, held);
    hub_->Wake(this);  // the reader releases what it holds
  }

  const std::string& portal() const { return portal_; }
  bool stopped() {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }

  Turn Run(RedisClient* redis) {
    bool started, stopped;
    size_t room;
    {
      absl::MutexLock lock(&mu_);
      started = started_;
      stopped = stopped_;
      room = hub_->options_.window - std::min(hub_->options_.window, in_flight_.size());
    }
    Turn turn;
    // The group is made at once, so it keeps the events from the stream's
    // start on even when the stream ends before its first read.
    if (!set_up_ && !SetUp(redis).ok()) return turn;
    if (!FlushAcks(redis).ok()) return turn;
    if (stopped) {
      turn.done = Release(redis).ok();
      return turn;
    }
    if (!started || room == 0) return turn;
    absl::Status read = Read(redis, room, &turn.busy);
    if (IsNoGroup(read)) {
      // Redis lost the group (restarted without its data): make it again,
      // reading whatever the stream holds now.
      set_up_ = false;
      recreate_ = true;
    }
    return turn;
  }

 private:
  // Makes the group (from now on, or from the start when Redis lost it)
  // and adds this stream's names to the group's.
  absl::Status SetUp(RedisClient* redis) {
    const std::string key = hub_->StreamKey(portal_);
    absl::StatusOr<RedisReply> made =
        redis->Command({"XGROUP", "CREATE", key, group_, recreate_ ? "0" : "$", "MKSTREAM"});
    if (!made.ok() && !absl::StartsWith(made.status().message(), "BUSYGROUP")) return made.status();
    std::vector<std::string> add = {"SADD", hub_->NamesKey(portal_, group_)};
    add.insert(add.end(), names_.begin(), names_.end());
    absl::StatusOr<RedisReply> added = redis->Command(add);
    if (!added.ok()) return added.status();
    set_up_ = true;
    return absl::OkStatus();
  }

  absl::Status FlushAcks(RedisClient* redis) {
    std::vector<std::string> ids;
    {
      absl::MutexLock lock(&mu_);
      ids.swap(to_ack_);
    }
    if (ids.empty()) return absl::OkStatus();
    std::vector<std::string> args = {group_};
    args.insert(args.end(), ids.begin(), ids.end());
    absl::StatusOr<RedisReply> acked = redis->Eval(AckScript(), OrderKeys(), args);
    if (!acked.ok() && !IsNoGroup(acked.status())) {
      absl::MutexLock lock(&mu_);
      to_ack_.insert(to_ack_.begin(), ids.begin(), ids.end());  // sent again next turn
      return acked.status();
    }
    if (acked.ok()) hub_->ledger_->Acknowledged(portal_, acked->AsInt());
    return absl::OkStatus();
  }

  absl::Status Read(RedisClient* redis, size_t room, bool* busy) {
    std::vector<std::string> keys = OrderKeys();
    keys.insert(keys.begin() + 1, hub_->NamesKey(portal_, group_));
    std::vector<std::string> args = {
        group_, consumer_, absl::StrCat(room),
        absl::StrCat(absl::ToInt64Milliseconds(hub_->options_.visibility_timeout)), "0"};
    if (take_back_) AddHeld(room, &args);
    absl::StatusOr<RedisReply> reply = redis->Eval(ReadScript(), keys, args);
    if (!reply.ok() || reply->elements.size() != 2) {
      // The script may have run and taken entries for this consumer that
      // never reached it; they would wait out the visibility timeout (and
      // hold up their records' later events) unless the next read takes
      // them back.
      if (!IsNoGroup(reply.status())) take_back_ = true;
      return reply.ok() ? absl::InternalError("events read: unexpected reply") : reply.status();
    }
    take_back_ = false;
    *busy = reply->elements[0].AsInt() != 0;
    std::vector<QueuedEvent> events;
    for (const RedisReply& entry : reply->elements[1].elements) {
      QueuedEvent e;
      if (ToEvent(entry, &e)) events.push_back(std::move(e));
    }
    if (!events.empty()) Deliver(std::move(events));
    return absl::OkStatus();
  }

  // The read script's take-back arguments: how many pending entries to
  // look at (all this consumer can have: the lost read took at most the
  // room), then the ids it holds, which must not go out twice.
  void AddHeld(size_t room, std::vector<std::string>* args) {
    absl::MutexLock lock(&mu_);
    (*args)[4] = absl::StrCat(room + in_flight_.size() + to_ack_.size());
    args->insert(args->end(), in_flight_.begin(), in_flight_.end());
    args->insert(args->end(), to_ack_.begin(), to_ack_.end());
  }

  // Entries read after Stop stay pending for this consumer: Release hands
  // them on with the rest.
  void Deliver(std::vector<QueuedEvent> events) {
    CallSink(/*last=*/false, [&](EventSink* sink) {
      {
        absl::MutexLock lock(&mu_);
        for (QueuedEvent& e : events) {
          in_flight_.insert(e.delivery_id);
          hub_->ledger_->CountDelivery(portal_, consumer_, e.delivery_id, e.attempt);
        }
      }
      sink->Deliver(std::move(events));
    });
  }

  // Runs `call` with the sink unless the stream was stopped (`last`: no
  // sink call after it). No lock is held during the call, as the sink may
  // start I/O (the enricher's reads); Stop waits for a call under way, so
  // after Stop the sink is never called.
  template <typename F>
  void CallSink(bool last, F call) {
    EventSink* sink;
    {
      absl::MutexLock lock(&sink_mu_);
      if (sink_ == nullptr) return;
      sink = sink_;
      if (last) sink_ = nullptr;
      ++sink_calls_;
    }
    call(sink);
    absl::MutexLock lock(&sink_mu_);
    --sink_calls_;
  }

  // The stream, and the group's busy and parked keys (order per record).
  std::vector<std::string> OrderKeys() const {
    const std::string stream = hub_->StreamKey(portal_);
    return {stream, absl::StrCat(stream, ":busy:", group_), absl::StrCat(stream, ":parked:", group_)};
  }

  absl::Status Release(RedisClient* redis) {
    absl::StatusOr<RedisReply> released =
        redis->Eval(ReleaseScript(), {hub_->StreamKey(portal_)}, {group_, consumer_});
    return released.ok() || IsNoGroup(released.status()) ? absl::OkStatus() : released.status();
  }

  RedisEventHub* const hub_;
  const std::string portal_;
  const std::string group_;
  const std::string consumer_;  // the Redis consumer
  const std::vector<std::string> names_;
  const Prepare prepare_;

  absl::Mutex sink_mu_;
  EventSink* sink_ ABSL_GUARDED_BY(sink_mu_);  // null once stopped or ended
  int sink_calls_ ABSL_GUARDED_BY(sink_mu_) = 0;  // under way, outside the lock

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);  // delivered, not acknowledged
  std::vector<std::string> to_ack_ ABSL_GUARDED_BY(mu_);  // acknowledged, XACK not yet sent

  // Touched only by the reader running the stream.
  bool set_up_ = false;
  bool recreate_ = false;
  bool take_back_ = false;  // the last read's reply was lost
};

RedisEventHub::RedisEventHub(EventLedger* ledger, Clock* clock, Options options, OnDrop on_drop)
    : ledger_(ledger),
      clock_(clock),
      options_(std::move(options)),
      on_drop_(std::move(on_drop)),
      replica_(RandomReplica()),
      store_(options_.redis, clock) {
  for (int i = 0; i < std::max(1, options_.readers); ++i) {
    reader_redis_.push_back(std::make_unique<RedisClient>(options_.redis, clock));
    readers_.emplace_back([this, redis = reader_redis_.back().get()] { Loop(redis); });
  }
}

RedisEventHub::~RedisEventHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : readers_) t.join();
  std::map<Stream*, std::shared_ptr<Stream>> streams;
  {
    absl::MutexLock lock(&mu_);
    streams.swap(streams_);
  }
  // One last turn: a stream stopped by now hands its entries on.
  for (auto& [raw, stream] : streams) {
    if (stream->stopped()) stream->Run(&store_);
  }
}

std::map<std::string, int64_t> RedisEventHub::stream_entries() const {
  absl::MutexLock lock(&mu_);
  return entries_;
}

std::string RedisEventHub::StreamKey(const std::string& portal) const {
  return absl::StrCat(options_.key_prefix, "events:{", portal, "}");
}

std::string RedisEventHub::SeenKey(const std::string& portal) const {
  return absl::StrCat(StreamKey(portal), ":seen");
}

std::string RedisEventHub::NamesKey(const std::string& portal, const std::string& group) const {
  return absl::StrCat(StreamKey(portal), ":names:", group);
}

absl::Status RedisEventHub::Store(const std::string& portal, QueuedEvent event) {
  absl::StatusOr<RedisReply> added =
      store_.Command({"XADD", StreamKey(portal), "*", "n", event.event, "r", event.record_id, "ts",
                      event.timestamp, "d", event.data.dump()});
  if (!added.ok()) return added.status();
  WakePortal(portal);
  return absl::OkStatus();
}

absl::StatusOr<int> RedisEventHub::StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) {
  if (events.empty()) return 0;
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  std::vector<std::string> args = {
      absl::StrCat(now_ms), absl::StrCat(now_ms - absl::ToInt64Milliseconds(options_.remember_for))};
  for (const QueuedEvent& e : events) {
    args.insert(args.end(), {e.source_id, e.event, e.record_id, e.timestamp, e.data.dump()});
  }
  absl::StatusOr<RedisReply> added = store_.Eval(StoreOnceScript(), {StreamKey(portal), SeenKey(portal)}, args);
  if (!added.ok()) return added.status();
  WakePortal(portal);
  return static_cast<int>(added->AsInt());
}

absl::StatusOr<bool> RedisEventHub::HasGroups(const std::string& portal) {
  absl::StatusOr<RedisReply> groups = store_.Command({"XINFO", "GROUPS", StreamKey(portal)});
  if (!groups.ok()) {
    if (absl::StrContains(groups.status().message(), "no such key")) return false;
    return groups.status();
  }
  return !groups->elements.empty();
}

absl::StatusOr<std::shared_ptr<EventSubscription>> RedisEventHub::Subscribe(
    const std::string& portal, const std::string& consumer, const std::vector<std::string>& events,
    EventSink* sink, Prepare prepare) {
  std::vector<std::string> names;
  for (const std::string& e : events) names.push_back(absl::AsciiStrToUpper(e));
  absl::MutexLock lock(&mu_);
  auto stream = std::make_shared<Stream>(this, portal, consumer,
                                         absl::StrCat(replica_, "-", next_consumer_++),
                                         std::move(names), sink, std::move(prepare));
  streams_[stream.get()] = stream;
  slots_[stream.get()].due = clock_->Now();  // makes the group
  trims_.emplace(portal, clock_->Now());
  ++wakes_;
  return stream;
}

void RedisEventHub::Wake(Stream* stream) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(stream);
  if (it == slots_.end()) return;
  if (it->second.running) {
    it->second.again = true;
  } else {
    it->second.due = std::min(it->second.due, clock_->Now());
  }
  ++wakes_;
}

void RedisEventHub::WakePortal(const std::string& portal) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  trims_.emplace(portal, now + options_.trim_interval);
  for (auto& [raw, slot] : slots_) {
    if (raw->portal() != portal) continue;
    if (slot.running) {
      slot.again = true;
    } else {
      slot.due = std::min(slot.due, now);
    }
  }
  ++wakes_;
}

std::shared_ptr<RedisEventHub::Stream> RedisEventHub::TakeDue() {
  const absl::Time now = clock_->Now();
  auto best = slots_.end();
  for (auto it = slots_.begin(); it != slots_.end(); ++it) {
    if (it->second.running || it->second.due > now) continue;
    if (best == slots_.end() || it->second.due < best->second.due) best = it;
  }
  if (best == slots_.end()) return nullptr;
  best->second.running = true;
  best->second.due = absl::InfiniteFuture();
  return streams_[best->first];
}

void RedisEventHub::Loop(RedisClient* redis) {
  for (;;) {
    std::shared_ptr<Stream> stream;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stream = TakeDue();
      if (stream == nullptr) {
        absl::Time next = absl::InfiniteFuture();
        for (const auto& [raw, slot] : slots_) {
          if (!slot.running) next = std::min(next, slot.due);
        }
        for (const auto& [portal, at] : trims_) next = std::min(next, at);
        const int64_t seen = wakes_;
        auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || wakes_ != seen;
        };
        clock_->AwaitWithDeadline(&mu_, absl::Condition(&changed), next);
      }
    }
    if (stream != nullptr) {
      const Stream::Turn turn = stream->Run(redis);
      Finished(stream, turn.done, turn.busy);
    }
    TrimDue(redis);
  }
}

void RedisEventHub::Finished(const std::shared_ptr<Stream>& stream, bool done, bool busy) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(stream.get());
  if (it == slots_.end()) return;
  if (done) {
    slots_.erase(it);
    streams_.erase(stream.get());
  } else {
    Slot& slot = it->second;
    slot.running = false;
    slot.due = slot.again || busy ? clock_->Now() : clock_->Now() + options_.poll_interval;
    slot.again = false;
  }
  ++wakes_;
}

void RedisEventHub::TrimDue(RedisClient* redis) {
  std::string portal;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    for (auto& [name, at] : trims_) {
      if (at > now) continue;
      at = now + options_.trim_interval;
      portal = name;
      break;
    }
  }
  if (!portal.empty()) Trim(redis, portal);
}

void RedisEventHub::Trim(RedisClient* redis, const std::string& portal) {
  const int64_t oldest_ms = absl::ToUnixMillis(clock_->Now() - options_.max_age);
  // A consumer nobody has used for this long, with nothing pending, goes.
  const int64_t forget_ms = absl::ToInt64Milliseconds(std::max(absl::Hours(1), 10 * options_.visibility_timeout));
  absl::StatusOr<RedisReply> trimmed =
      redis->Eval(TrimScript(), {StreamKey(portal)},
                  {absl::StrCat(options_.max_len), absl::StrCat(std::max<int64_t>(0, oldest_ms)),
                   absl::StrCat(kTrimBatch), absl::StrCat(forget_ms)});
  if (!trimmed.ok() || trimmed->elements.size() != 4) return;  // the next pass tries again
  {
    absl::MutexLock lock(&mu_);
    entries_[portal] = trimmed->elements[3].AsInt();
  }
  const int64_t dropped = trimmed->elements[1].AsInt();
  if (dropped > 0) {
    ledger_->Dropped(portal, dropped);
    if (on_drop_) on_drop_(portal, dropped, trimmed->elements[2].str);
  }
}

}  // namespace b24gate
