#include "engine/cache/reply_codec.h"

namespace b24gate {

std::string EncodeReply(const CallReply& reply) {
  nlohmann::ordered_json j = {{"v", 1}, {"result", reply.result}, {"time", reply.time}};
  if (reply.total) j["total"] = *reply.total;
  if (reply.next) j["next"] = *reply.next;
  return j.dump();
}

std::optional<CallReply> DecodeReply(const std::string& text) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("v", 0) != 1 || !j.contains("result")) return std::nullopt;
  CallReply reply;
  reply.result = std::move(j["result"]);
  reply.time = j.contains("time") ? std::move(j["time"]) : nlohmann::ordered_json();
  if (j.contains("total") && j["total"].is_number_integer()) reply.total = j["total"].get<int64_t>();
  if (j.contains("next") && j["next"].is_number_integer()) reply.next = j["next"].get<int64_t>();
  return reply;
}

}  // namespace b24gate
