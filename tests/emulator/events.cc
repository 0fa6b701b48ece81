#include "tests/emulator/events.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace b24emu {
namespace {

using Json = nlohmann::json;

const std::set<std::string>& EventMethods() {
  static const std::set<std::string> kMethods = {
      "event.bind", "event.unbind", "event.get", "events",
      "event.offline.get", "event.offline.clear", "event.offline.error", "event.offline.list"};
  return kMethods;
}

// Bitrix24's event names for the CRM writes the emulator fires.
const std::vector<std::string>& FiredEvents() {
  static const std::vector<std::string> kEvents = [] {
    std::vector<std::string> events;
    for (const char* entity : {"LEAD", "DEAL", "CONTACT", "COMPANY"}) {
      for (const char* action : {"ADD", "UPDATE", "DELETE"}) {
        events.push_back(absl::StrCat("ONCRM", entity, action));
      }
    }
    return events;
  }();
  return kEvents;
}

// A scalar parameter as text ("" when absent or not a scalar).
std::string Text(const Json& params, const char* key) {
  if (!params.is_object()) return "";
  auto it = params.find(key);
  if (it == params.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_boolean()) return it->get<bool>() ? "1" : "0";
  return "";
}

int64_t Int(const Json& params, const char* key, int64_t fallback) {
  int64_t value = 0;
  return absl::SimpleAtoi(Text(params, key), &value) ? value : fallback;
}

// A PHP-style list parameter (`id[]=1&id[]=2`, `id[0]=1`, a JSON array, or
// one scalar) as texts.
std::set<std::string> TextList(const Json& params, const char* key) {
  std::set<std::string> out;
  if (!params.is_object() || !params.contains(key)) return out;
  const Json& value = params.at(key);
  auto add = [&](const Json& v) {
    if (v.is_string()) out.insert(v.get<std::string>());
    if (v.is_number_integer()) out.insert(std::to_string(v.get<int64_t>()));
  };
  if (value.is_array() || value.is_object()) {
    for (const Json& v : value) add(v);
  } else {
    add(value);
  }
  return out;
}

// Form encoding of one value.
std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// The record id a successful write is about.
Json RecordId(const MethodCall& call, const MethodResult& result) {
  if (absl::EndsWith(call.method, ".add")) return result.result;
  const std::string id = !Text(call.params, "id").empty() ? Text(call.params, "id")
                                                           : Text(call.params, "ID");
  int64_t n = 0;
  return absl::SimpleAtoi(id, &n) ? Json(n) : Json(id);
}

MethodResult Refusal(std::string code, std::string description) {
  return Error(400, std::move(code), std::move(description));
}

MethodResult BadArgument(const std::string& description) {
  return Refusal("ERROR_ARGUMENT", description);
}

}  // namespace

std::string EventingMethods::EventOf(const std::string& method) {
  const std::vector<std::string> parts = absl::StrSplit(method, '.');
  if (parts.size() != 3 || parts[0] != "crm") return "";
  static const std::set<std::string> kEntities = {"lead", "deal", "contact", "company"};
  static const std::set<std::string> kActions = {"add", "update", "delete"};
  if (kEntities.count(parts[1]) == 0 || kActions.count(parts[2]) == 0) return "";
  return absl::AsciiStrToUpper(absl::StrCat("oncrm", parts[1], parts[2]));
}

bool EventingMethods::HasMethod(const std::string& method) const {
  return EventMethods().count(method) > 0 || inner_->HasMethod(method);
}

MethodResult EventingMethods::Invoke(const MethodCall& call) {
  if (call.method == "event.bind") return Bind(call);
  if (call.method == "event.unbind") return Unbind(call);
  if (call.method == "event.get") return ListBindings();
  if (call.method == "events") return Ok(FiredEvents());
  if (call.method == "event.offline.get") return OfflineGet(call);
  if (call.method == "event.offline.clear") return OfflineClear(call);
  if (call.method == "event.offline.error") return OfflineError(call);
  if (call.method == "event.offline.list") return OfflineList(call);
  MethodResult result = inner_->Invoke(call);
  const std::string event = EventOf(call.method);
  if (!result.is_error && !event.empty()) Fire(call, result, event);
  return result;
}

MethodResult EventingMethods::Bind(const MethodCall& call) {
  const std::string event = absl::AsciiStrToUpper(Text(call.params, "event"));
  if (event.empty()) return BadArgument("Event name is required");
  const std::string handler = Text(call.params, "handler");
  const bool offline = Text(call.params, "event_type") == "offline";
  const bool known = std::find(FiredEvents().begin(), FiredEvents().end(), event) != FiredEvents().end();
  if (!known && event != "ONOFFLINEEVENT") return Refusal("ERROR_EVENT_NOT_FOUND", "Event not found");
  if (offline == !handler.empty() || (offline && event == "ONOFFLINEEVENT")) {
    return BadArgument(
        "bind an offline event with event_type=offline and no handler, an online one (or "
        "ONOFFLINEEVENT) with a handler URL");
  }
  if (!handler.empty() && poster_ == nullptr) {
    return BadArgument("this b24-emulator posts no online events");
  }
  absl::MutexLock lock(&mu_);
  for (const Binding& b : bindings_) {
    if (b.event == event && b.handler == handler) {
      return Refusal("ERROR_HANDLER_ALREADY_BINDED", "Handler already binded");
    }
  }
  bindings_.push_back({next_binding_id_++, event, handler, Text(call.params, "auth_connector"),
                       call.user_id});
  return Ok(true);
}

// event_type=offline removes the event's offline binding, anything else
// (online, the default) its online ones: without `handler` every one of them.
MethodResult EventingMethods::Unbind(const MethodCall& call) {
  const std::string event = absl::AsciiStrToUpper(Text(call.params, "event"));
  if (event.empty()) return BadArgument("Event name is required");
  const std::string handler = Text(call.params, "handler");
  const bool offline = Text(call.params, "event_type") == "offline";
  absl::MutexLock lock(&mu_);
  const size_t before = bindings_.size();
  bindings_.erase(std::remove_if(bindings_.begin(), bindings_.end(),
                                 [&](const Binding& b) {
                                   if (b.event != event || b.handler.empty() != offline) return false;
                                   return offline || handler.empty() || b.handler == handler;
                                 }),
                  bindings_.end());
  return Ok(Json{{"count", static_cast<int64_t>(before - bindings_.size())}});
}

MethodResult EventingMethods::ListBindings() {
  absl::MutexLock lock(&mu_);
  Json list = Json::array();
  for (const Binding& b : bindings_) {
    Json j = {{"event", b.event}, {"handler", b.handler}, {"auth_type", std::to_string(b.user_id)}};
    if (b.handler.empty()) {
      j["offline"] = 1;
      j["auth_connector"] = b.auth_connector;
    }
    list.push_back(std::move(j));
  }
  return Ok(std::move(list));
}

void EventingMethods::Fire(const MethodCall& call, const MethodResult& result,
                           const std::string& event) {
  const Json data = {{"FIELDS", {{"ID", RecordId(call, result)}}}};
  std::vector<Post> posts;
  {
    absl::MutexLock lock(&mu_);
    const bool was_empty = queue_.empty();
    Enqueue(call, event, data);
    const bool filled = was_empty && !queue_.empty();
    for (const Binding& b : bindings_) {
      if (b.handler.empty()) continue;
      if (b.event == event) posts.push_back({b.handler, PostForm(b, event, data)});
      if (filled && b.event == "ONOFFLINEEVENT") {
        posts.push_back({b.handler, PostForm(b, b.event, Json::array())});
      }
    }
  }
  for (Post& p : posts) poster_->Post(std::move(p.url), std::move(p.form));
}

void EventingMethods::Enqueue(const MethodCall& call, const std::string& event, const Json& data) {
  const std::string connector = Text(call.params, "auth_connector");
  const std::string timestamp = absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", clock_->Now(),
                                                 absl::UTCTimeZone());
  for (const Binding& b : bindings_) {
    if (b.event != event || !b.handler.empty()) continue;
    if (!b.auth_connector.empty() && b.auth_connector == connector) continue;
    // The queue keeps the object's latest change, not each one: a row of the
    // same event and data that no process has taken only gets the new time.
    auto same = std::find_if(queue_.begin(), queue_.end(), [&](const Row& row) {
      return row.process_id.empty() && !row.error && row.event == event && row.data == data;
    });
    if (same != queue_.end()) {
      same->timestamp = timestamp;
      continue;
    }
    Row row;
    row.id = next_row_id_++;
    row.timestamp = timestamp;
    row.event = event;
    row.data = data;
    row.user_id = call.user_id;
    char message_id[33];
    std::snprintf(message_id, sizeof message_id, "%032llx", static_cast<unsigned long long>(row.id));
    row.message_id = message_id;
    queue_.push_back(std::move(row));
  }
}

// As Bitrix24 writes it: event, event_handler_id, data[...], ts, auth[...].
std::string EventingMethods::PostForm(const Binding& binding, const std::string& event,
                                      const Json& data) const {
  std::string form = absl::StrCat("event=", event, "&event_handler_id=", binding.id);
  if (data.is_object() && data.contains("FIELDS")) {
    absl::StrAppend(&form, "&data%5BFIELDS%5D%5BID%5D=", UrlEncode(Text(data["FIELDS"], "ID")));
  }
  absl::StrAppend(&form, "&ts=", absl::ToUnixSeconds(clock_->Now()));
  const std::pair<const char*, std::string> auth[] = {
      {"domain", identity_.domain},
      {"client_endpoint", absl::StrCat("https://", identity_.domain, "/rest/")},
      {"server_endpoint", "https://oauth.bitrix.info/rest/"},
      {"member_id", identity_.member_id},
      {"application_token", identity_.application_token}};
  for (const auto& [key, value] : auth) {
    absl::StrAppend(&form, "&auth%5B", key, "%5D=", UrlEncode(value));
  }
  return form;
}

Json EventingMethods::RowJson(const Row& row, bool with_state) {
  Json j = {{"ID", std::to_string(row.id)},
            {"TIMESTAMP_X", row.timestamp},
            {"EVENT_NAME", row.event},
            {"EVENT_DATA", row.data},
            {"EVENT_ADDITIONAL", {{"user_id", std::to_string(row.user_id)}}},
            {"MESSAGE_ID", row.message_id}};
  if (with_state) {
    j["PROCESS_ID"] = row.process_id;
    j["ERROR"] = row.error ? "1" : "0";
  }
  return j;
}

// The oldest rows that are free or already taken by this process (so a
// process that lost its answer reads its rows again), up to `limit`; they
// are marked with the process, and deleted at once when `clear` is on.
MethodResult EventingMethods::OfflineGet(const MethodCall& call) {
  const Json& p = call.params;
  if (p.is_object() && p.contains("filter") && !p["filter"].empty()) {
    return BadArgument("b24-emulator does not emulate event.offline.get filters");
  }
  const int64_t limit = Int(p, "limit", 50);
  if (limit < 1) return BadArgument("limit must be a positive number");
  const bool clear = Int(p, "clear", 1) != 0;
  const bool with_errors = Int(p, "error", 0) != 0;
  const bool descending = p.is_object() && absl::StrContains(absl::AsciiStrToUpper(
                                                                 p.value("order", Json()).dump()),
                                                             "DESC");
  absl::MutexLock lock(&mu_);
  std::string process_id = Text(p, "process_id");
  if (process_id.empty()) process_id = absl::StrCat("emu-process-", next_process_++);
  std::vector<size_t> picked;
  for (size_t n = 0; n < queue_.size() && static_cast<int64_t>(picked.size()) < limit; ++n) {
    const size_t i = descending ? queue_.size() - 1 - n : n;
    const Row& row = queue_[i];
    if (row.error && !with_errors) continue;
    if (row.process_id.empty() || row.process_id == process_id) picked.push_back(i);
  }
  Json events = Json::array();
  for (size_t i : picked) {
    queue_[i].process_id = process_id;
    events.push_back(RowJson(queue_[i], /*with_state=*/false));
  }
  if (clear) {
    std::sort(picked.rbegin(), picked.rend());
    for (size_t i : picked) queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  MethodResult result = Ok(Json{{"process_id", process_id}, {"events", std::move(events)}});
  result.work.rows_returned = static_cast<int64_t>(picked.size());
  return result;
}

// Deletes the process's rows named by `id` (or, without ids, by
// `message_id`; without either, all of the process's rows).
MethodResult EventingMethods::OfflineClear(const MethodCall& call) {
  const std::string process_id = Text(call.params, "process_id");
  if (process_id.empty()) return BadArgument("process_id is required");
  const std::set<std::string> ids = TextList(call.params, "id");
  const std::set<std::string> message_ids = TextList(call.params, "message_id");
  absl::MutexLock lock(&mu_);
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const Row& row) {
                                if (row.process_id != process_id) return false;
                                if (!ids.empty()) return ids.count(std::to_string(row.id)) > 0;
                                if (!message_ids.empty()) return message_ids.count(row.message_id) > 0;
                                return true;
                              }),
               queue_.end());
  return Ok(true);
}

MethodResult EventingMethods::OfflineError(const MethodCall& call) {
  const std::string process_id = Text(call.params, "process_id");
  if (process_id.empty()) return BadArgument("process_id is required");
  const std::set<std::string> message_ids = TextList(call.params, "message_id");
  absl::MutexLock lock(&mu_);
  for (Row& row : queue_) {
    if (row.process_id == process_id && message_ids.count(row.message_id) > 0) row.error = true;
  }
  return Ok(true);
}

// The queue as it is, 50 rows a page from `start`, changing nothing.
MethodResult EventingMethods::OfflineList(const MethodCall& call) {
  const int64_t start = std::max<int64_t>(0, Int(call.params, "start", 0));
  absl::MutexLock lock(&mu_);
  const int64_t total = static_cast<int64_t>(queue_.size());
  Json rows = Json::array();
  for (int64_t i = start; i < total && i < start + 50; ++i) {
    rows.push_back(RowJson(queue_[static_cast<size_t>(i)], /*with_state=*/true));
  }
  MethodResult result = Ok(std::move(rows));
  result.total = total;
  if (start + 50 < total) result.next = start + 50;
  result.work.rows_returned = static_cast<int64_t>(result.result.size());
  return result;
}

}  // namespace b24emu
