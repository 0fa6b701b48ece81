#include "engine/portal/request_encoder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/query_encoder.h"

namespace b24gate {
namespace {

// Batch sub-command: "method?query".
std::string SubCommand(const std::string& method, const nlohmann::ordered_json& params) {
  std::string query = HttpBuildQuery(params);
  return query.empty() ? method : absl::StrCat(method, "?", query);
}

// Keys stay in execution order (ordered_json); sorted keys would break
// `$result` references to earlier commands.
std::string BatchBody(const std::vector<std::string>& keys, const std::vector<std::string>& cmds,
                      bool halt) {
  nlohmann::ordered_json cmd = nlohmann::ordered_json::object();
  for (size_t i = 0; i < keys.size(); ++i) cmd[keys[i]] = cmds[i];
  nlohmann::ordered_json body;
  body["halt"] = halt ? 1 : 0;
  body["cmd"] = std::move(cmd);
  return body.dump();
}

}  // namespace

EncodedRequest EncodeRequest(const std::vector<WorkPtr>& group) {
  EncodedRequest r;
  const Work& head = *group[0];
  if (group.size() == 1 && !head.is_batch()) {
    r.method = head.call().method;
    r.body = head.call().params.dump();
    r.commands = 1;
    return r;
  }
  r.method = "batch";
  std::vector<std::string> cmds;
  bool halt = false;
  if (head.is_batch() && head.options.api == RestApi::kV3) {
    // REST 3.0's list form is made with the request (MakeV3BatchRequest).
    for (const auto& c : head.batch().commands) r.keys.push_back(c.key);
    r.commands = static_cast<int>(r.keys.size());
    return r;
  }
  if (head.is_batch()) {
    for (const auto& c : head.batch().commands) {
      r.keys.push_back(c.key);
      cmds.push_back(SubCommand(c.method, c.params));
    }
    halt = head.batch().halt;
  } else {
    for (size_t i = 0; i < group.size(); ++i) {
      const CallWork& call = group[i]->call();
      r.keys.push_back(absl::StrCat("c", i));
      cmds.push_back(SubCommand(call.method, call.params));
    }
  }
  r.commands = static_cast<int>(r.keys.size());
  r.body = BatchBody(r.keys, cmds, halt);
  return r;
}

}  // namespace b24gate
