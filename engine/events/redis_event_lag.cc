#include "engine/events/redis_event_lag.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// Per group of the stream KEYS[1]: its name, pending count and smallest
// pending id ("" when none). Nothing for a stream that does not exist.
const RedisScript& GroupsScript() {
  static const RedisScript* script = new RedisScript(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local out = {}
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] end
  end
  local p = redis.call('XPENDING', KEYS[1], name)
  out[#out + 1] = name
  out[#out + 1] = p[1]
  out[#out + 1] = p[2] or ''
end
return out
)lua");
  return *script;
}

// `text` with the glob characters of SCAN's MATCH escaped.
std::string GlobEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// The time an entry was stored: the milliseconds of its id ("MS-SEQ").
absl::Time StoredAt(const std::string& id) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &ms)) return absl::InfiniteFuture();
  return absl::FromUnixMillis(ms);
}

}  // namespace

RedisEventLag::RedisEventLag(RedisOptions redis, std::string key_prefix, Clock* clock)
    : prefix_(std::move(key_prefix)), clock_(clock), redis_(std::move(redis), clock) {}

absl::StatusOr<std::vector<std::string>> RedisEventLag::Portals() {
  const std::string head = prefix_ + "events:{";
  std::vector<std::string> portals;
  std::string cursor = "0";
  do {
    absl::StatusOr<RedisReply> reply = redis_.Command(
        {"SCAN", cursor, "MATCH", GlobEscaped(head) + "*}", "COUNT", "1000", "TYPE", "stream"});
    if (!reply.ok()) return reply.status();
    if (reply->elements.size() != 2) return absl::InternalError("SCAN: unexpected reply");
    cursor = reply->elements[0].str;
    for (const RedisReply& key : reply->elements[1].elements) {
      portals.push_back(key.str.substr(head.size(), key.str.size() - head.size() - 1));
    }
  } while (cursor != "0");
  // SCAN may return a key more than once.
  std::sort(portals.begin(), portals.end());
  portals.erase(std::unique(portals.begin(), portals.end()), portals.end());
  return portals;
}

absl::Status RedisEventLag::AddPortal(
    const std::string& portal, std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag>* out) {
  absl::StatusOr<RedisReply> reply = redis_.Eval(GroupsScript(), {absl::StrCat(prefix_, "events:{", portal, "}")}, {});
  if (!reply.ok()) return reply.status();
  const std::vector<RedisReply>& e = reply->elements;
  const absl::Time now = clock_->Now();
  for (size_t i = 0; i + 2 < e.size(); i += 3) {
    EventLedger::ConsumerLag& lag = (*out)[{portal, e[i].str}];
    lag.unacknowledged = e[i + 1].AsInt();
    if (lag.unacknowledged > 0) {
      lag.oldest_unacknowledged = std::max(absl::ZeroDuration(), now - StoredAt(e[i + 2].str));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag>> RedisEventLag::Lags(
    const std::string& portal) {
  std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag> out;
  std::vector<std::string> portals = {portal};
  if (portal.empty()) {
    absl::StatusOr<std::vector<std::string>> all = Portals();
    if (!all.ok()) return all.status();
    portals = *std::move(all);
  }
  for (const std::string& p : portals) {
    if (absl::Status s = AddPortal(p, &out); !s.ok()) return s;
  }
  return out;
}

}  // namespace b24gate
