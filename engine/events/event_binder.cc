#include "engine/events/event_binder.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"
#include "engine/events/event_pattern.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

std::string TextOf(const OJson& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

struct BindPass {
  EventBinder::Caller caller;
  EventBinder::Binding binding;
  std::vector<std::string> missing;
  std::function<void(absl::Status)> done;
};

void BindNext(std::shared_ptr<BindPass> pass) {
  if (pass->missing.empty()) return pass->done(absl::OkStatus());
  const std::string event = pass->missing.back();
  pass->missing.pop_back();
  OJson params = {{"event", event}};
  if (pass->binding.handler.empty()) {
    params["event_type"] = "offline";
    if (!pass->binding.auth_connector.empty()) params["auth_connector"] = pass->binding.auth_connector;
  } else {
    params["handler"] = pass->binding.handler;
  }
  pass->caller("event.bind", std::move(params), [pass](absl::StatusOr<CallReply> reply) {
    // Another stream bound it since event.get: bound all the same.
    if (!reply.ok() && ReasonOf(reply.status()) != "ERROR_HANDLER_ALREADY_BINDED") {
      return pass->done(reply.status());
    }
    BindNext(pass);
  });
}

void ReadBindings(std::shared_ptr<BindPass> pass) {
  pass->caller("event.get", OJson::object(), [pass](absl::StatusOr<CallReply> reply) {
    if (!reply.ok()) return pass->done(reply.status());
    std::set<std::string> bound;
    for (const OJson& b : reply->result) {
      if (TextOf(b, "handler") != pass->binding.handler) continue;
      bound.insert(absl::AsciiStrToUpper(TextOf(b, "event")));
    }
    for (const std::string& event : pass->binding.events) {
      if (bound.insert(absl::AsciiStrToUpper(event)).second) pass->missing.push_back(event);
    }
    BindNext(pass);
  });
}

// Patterns stand for the names of the portal's events (method `events`)
// they match; one that matches none is refused, as it would bind nothing.
void ExpandPatterns(std::shared_ptr<BindPass> pass) {
  pass->caller("events", OJson::object(), [pass](absl::StatusOr<CallReply> reply) {
    if (!reply.ok()) return pass->done(reply.status());
    std::vector<std::string> known;
    if (reply->result.is_array()) {
      for (const OJson& name : reply->result) {
        if (name.is_string()) known.push_back(name.get<std::string>());
      }
    }
    std::vector<std::string> unmatched;
    pass->binding.events = ExpandEventPatterns(pass->binding.events, known, &unmatched);
    if (!unmatched.empty()) {
      return pass->done(absl::InvalidArgumentError(absl::StrCat(
          "event pattern \"", unmatched.front(), "\" matches none of the portal's ", known.size(),
          " events")));
    }
    ReadBindings(pass);
  });
}

}  // namespace

void EventBinder::Run(Caller caller, Binding binding, std::function<void(absl::Status)> done) {
  auto pass = std::make_shared<BindPass>();
  pass->caller = std::move(caller);
  pass->binding = std::move(binding);
  pass->done = std::move(done);
  const std::vector<std::string>& events = pass->binding.events;
  if (std::any_of(events.begin(), events.end(), [](const std::string& e) { return IsEventPattern(e); })) {
    return ExpandPatterns(std::move(pass));
  }
  ReadBindings(std::move(pass));
}

}  // namespace b24gate
