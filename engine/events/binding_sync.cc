#include "engine/events/binding_sync.h"

#include <memory>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;
using Binding = BindingSync::Binding;

std::string Field(const OJson& binding, const char* key) {
  auto it = binding.find(key);
  return it != binding.end() && it->is_string() ? it->get<std::string>() : "";
}

struct SyncPass {
  BindingSync::Caller caller;
  PortalOptions::EventBindings wanted;
  std::string handler;
  std::vector<std::pair<Binding, bool>> todo;  // (binding, bind?): binds first
  size_t next = 0;
  BindingSync::Report report;
  std::function<void(BindingSync::Report)> done;
};

// What `event.get` lists that the gateway owns, of the kinds it manages.
std::set<Binding> Owned(const SyncPass& pass, const OJson& bindings) {
  std::set<Binding> owned;
  if (!bindings.is_array()) return owned;
  for (const OJson& b : bindings) {
    if (!b.is_object()) continue;
    const std::string event = absl::AsciiStrToUpper(Field(b, "event"));
    const std::string handler = Field(b, "handler");
    if (event.empty() || event == "ONOFFLINEEVENT") continue;
    if (handler.empty() && pass.wanted.offline) owned.insert({event, false});
    if (!handler.empty() && pass.wanted.online && handler == pass.handler) owned.insert({event, true});
  }
  return owned;
}

void Plan(SyncPass& pass, const std::set<Binding>& owned) {
  const std::set<Binding> desired(pass.report.desired.begin(), pass.report.desired.end());
  pass.report.found.assign(owned.begin(), owned.end());
  for (const Binding& b : desired) {
    if (owned.count(b) == 0) pass.todo.emplace_back(b, true);
  }
  for (const Binding& b : owned) {
    if (desired.count(b) == 0) pass.todo.emplace_back(b, false);
  }
}

OJson ParamsOf(const SyncPass& pass, const Binding& binding, bool bind) {
  OJson params = {{"event", binding.event}};
  if (binding.online) {
    params["handler"] = pass.handler;
    return params;
  }
  params["event_type"] = "offline";
  if (bind && !pass.wanted.auth_connector.empty()) params["auth_connector"] = pass.wanted.auth_connector;
  return params;
}

void Next(std::shared_ptr<SyncPass> pass) {
  if (pass->next == pass->todo.size()) return pass->done(std::move(pass->report));
  const auto [binding, bind] = pass->todo[pass->next++];
  const char* method = bind ? "event.bind" : "event.unbind";
  pass->caller(method, ParamsOf(*pass, binding, bind),
               [pass, binding = binding, bind = bind, method](absl::StatusOr<CallReply> reply) {
                 // Bound since event.get (a stream did it): bound all the same.
                 if (reply.ok() || (bind && ReasonOf(reply.status()) == "ERROR_HANDLER_ALREADY_BINDED")) {
                   (bind ? pass->report.bound : pass->report.unbound).push_back(binding);
                 } else {
                   pass->report.errors.push_back(
                       absl::StrCat(method, " ", BindingSync::Describe(binding), ": ", reply.status().ToString()));
                 }
                 Next(pass);
               });
}

}  // namespace

std::vector<Binding> BindingSync::Desired(const PortalOptions::EventBindings& wanted) {
  std::set<Binding> desired;
  if (wanted.offline) {
    for (const std::string& e : *wanted.offline) desired.insert({e, false});
  }
  if (wanted.online) {
    for (const std::string& e : *wanted.online) desired.insert({e, true});
  }
  return {desired.begin(), desired.end()};
}

std::string BindingSync::Describe(const Binding& binding) {
  return absl::StrCat(binding.event, binding.online ? " (online)" : " (offline)");
}

void BindingSync::Run(Caller caller, PortalOptions::EventBindings wanted, std::string handler,
                      std::function<void(Report)> done) {
  auto pass = std::make_shared<SyncPass>();
  pass->caller = std::move(caller);
  pass->wanted = std::move(wanted);
  pass->handler = std::move(handler);
  pass->done = std::move(done);
  pass->report.desired = BindingSync::Desired(pass->wanted);
  pass->caller("event.get", OJson::object(), [pass](absl::StatusOr<CallReply> reply) {
    if (!reply.ok()) {
      pass->report.errors.push_back(absl::StrCat("event.get: ", reply.status().ToString()));
      return pass->done(std::move(pass->report));
    }
    Plan(*pass, Owned(*pass, reply->result));
    Next(pass);
  });
}

}  // namespace b24gate
