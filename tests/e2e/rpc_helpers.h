// Small synchronous wrappers around the RPCs and the emulator's REST and
// stats endpoints, shared by the e2e test files (header-only; not a test).
#ifndef B24GATE_TESTS_E2E_RPC_HELPERS_H_
#define B24GATE_TESTS_E2E_RPC_HELPERS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/e2e/harness.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e {

namespace pb = bitrix24::gateway::v1;
using nlohmann::json;

struct CallOut {
  grpc::Status status;
  pb::CallResponse response;
  json result() const { return J(response.result()); }
};

inline CallOut DoCall(Stack& stack, const pb::CallRequest& request, double seconds = 60) {
  CallOut out;
  out.status = stack.stub().Call(Ctx(seconds).get(), request, &out.response);
  return out;
}

inline CallOut Call1(Stack& stack, const std::string& method, const json& params,
                     bool raw = false, const std::string& portal = "") {
  pb::CallRequest request;
  request.set_method(method);
  request.set_portal(portal);
  *request.mutable_params() = V(params);
  request.set_raw(raw);
  return DoCall(stack, request);
}

inline CallOut CallBulk(Stack& stack, const std::string& method, const std::vector<json>& params,
                        bool raw = false) {
  pb::CallRequest request;
  request.set_method(method);
  for (const auto& p : params) *request.add_bulk_params() = V(p);
  request.set_raw(raw);
  return DoCall(stack, request, 120);
}

struct Cmd {
  std::string key;
  std::string method;
  json params;  // null: unset
};

struct BatchOut {
  grpc::Status status;
  pb::CallBatchResponse response;
  // key -> result entry
  std::map<std::string, pb::CallResult> by_key() const {
    std::map<std::string, pb::CallResult> m;
    for (const auto& r : response.results()) m[r.key()] = r.result();
    return m;
  }
};

inline BatchOut CallBatch(Stack& stack, const std::vector<Cmd>& commands, bool halt = false,
                          const std::string& portal = "",
                          pb::ApiVersion api_version = pb::API_VERSION_UNSPECIFIED) {
  pb::CallBatchRequest request;
  request.set_portal(portal);
  request.set_halt(halt);
  request.set_api_version(api_version);
  for (const auto& c : commands) {
    pb::BatchCommand* b = request.add_commands();
    b->set_key(c.key);
    b->set_method(c.method);
    if (!c.params.is_null()) *b->mutable_params() = S(c.params);
  }
  BatchOut out;
  out.status = stack.stub().CallBatch(Ctx(120).get(), request, &out.response);
  return out;
}

struct GetAllOut {
  grpc::Status status;
  std::vector<json> items;
  std::vector<pb::Progress> progress;
  bool has_summary = false;
  pb::GetAllSummary summary;
  int messages = 0;
};

// Reads a whole list with a request built by the caller (strategy, cursor...),
// giving up after `seconds`.
inline GetAllOut GetAllWith(Stack& stack, const pb::GetAllRequest& request, double seconds = 300) {
  auto ctx = Ctx(seconds);
  auto reader = stack.stub().GetAll(ctx.get(), request);
  GetAllOut out;
  pb::GetAllResponse message;
  while (reader->Read(&message)) {
    ++out.messages;
    for (const auto& item : message.items()) out.items.push_back(J(item));
    out.progress.push_back(message.progress());
    if (message.has_summary()) {
      out.has_summary = true;
      out.summary = message.summary();
    }
  }
  out.status = reader->Finish();
  return out;
}

inline GetAllOut GetAll(Stack& stack, const std::string& method, const json& params,
                        const std::string& items_key = "", const std::string& portal = "",
                        double seconds = 300) {
  pb::GetAllRequest request;
  request.set_portal(portal);
  request.set_method(method);
  if (!params.is_null()) *request.mutable_params() = S(params);
  request.set_items_key(items_key);
  return GetAllWith(stack, request, seconds);
}

struct GetByIdOut {
  grpc::Status status;
  std::vector<pb::IdResult> results;
  int messages = 0;
};

// Reads every result of a request built by the caller.
inline GetByIdOut GetByIdWith(Stack& stack, const pb::GetByIdRequest& request) {
  auto ctx = Ctx(300);
  auto reader = stack.stub().GetById(ctx.get(), request);
  GetByIdOut out;
  pb::GetByIdResponse message;
  while (reader->Read(&message)) {
    ++out.messages;
    for (const auto& r : message.results()) out.results.push_back(r);
  }
  out.status = reader->Finish();
  return out;
}

inline GetByIdOut GetById(Stack& stack, const std::string& method, const std::vector<json>& ids,
                          const std::string& id_field = "", const json& params = nullptr,
                          const std::string& portal = "") {
  pb::GetByIdRequest request;
  request.set_portal(portal);
  request.set_method(method);
  for (const auto& id : ids) *request.add_ids() = V(id);
  request.set_id_field(id_field);
  if (!params.is_null()) *request.mutable_params() = S(params);
  return GetByIdWith(stack, request);
}

struct CallManyOut {
  grpc::Status status;
  std::vector<pb::CallResult> results;
  int messages = 0;
  // Each message's first_index equals the number of results before it.
  bool indexes_consecutive = true;
};

inline CallManyOut DoCallMany(Stack& stack, const pb::CallManyRequest& request,
                              double seconds = 600) {
  auto ctx = Ctx(seconds);
  auto reader = stack.stub().CallMany(ctx.get(), request);
  CallManyOut out;
  pb::CallManyResponse message;
  while (reader->Read(&message)) {
    ++out.messages;
    if (message.first_index() != static_cast<int64_t>(out.results.size())) {
      out.indexes_consecutive = false;
    }
    for (const auto& r : message.results()) out.results.push_back(r);
  }
  out.status = reader->Finish();
  return out;
}

// CallMany with the sets as Values.
inline CallManyOut CallMany(Stack& stack, const std::string& method, const std::vector<json>& sets) {
  pb::CallManyRequest request;
  request.set_method(method);
  for (const auto& p : sets) *request.add_params() = V(p);
  return DoCallMany(stack, request);
}

// CallMany with the sets as params_json texts, sent as written.
inline CallManyOut CallManyText(Stack& stack, const std::string& method,
                                const std::vector<std::string>& texts) {
  pb::CallManyRequest request;
  request.set_method(method);
  for (const auto& t : texts) request.add_params_json(t);
  return DoCallMany(stack, request);
}

// The ErrorInfo of a failed status (empty when absent).
inline google::rpc::ErrorInfo InfoOf(const grpc::Status& status) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  if (!details.ParseFromString(status.error_details())) return info;
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&info)) return info;
  }
  return info;
}

inline int64_t StatInt(const json& stats, const std::string& key) {
  if (!stats.is_object() || !stats.contains(key) || !stats[key].is_number()) return -1;
  return stats[key].get<int64_t>();
}

inline int64_t Requests(Stack& stack) { return StatInt(stack.EmulatorStats(), "requests"); }

using ::b24gate::testing::WaitFor;

// The gateway's only (default) portal as AdminService's ListPortals shows it
// now; false when the RPC fails or the gateway serves another number of portals.
inline bool OnlyPortalState(Stack& stack, pb::PortalState* state) {
  auto admin = pb::AdminService::NewStub(stack.channel());
  pb::ListPortalsResponse response;
  if (!admin->ListPortals(Ctx(10).get(), {}, &response).ok() || response.portals_size() != 1) {
    return false;
  }
  *state = response.portals(0);
  return true;
}

// stats[map][key] as an integer, 0 when absent.
inline int64_t StatIn(const json& stats, const std::string& map, const std::string& key) {
  if (!stats.is_object() || !stats.contains(map) || !stats[map].is_object()) return 0;
  const json& m = stats[map];
  if (!m.contains(key) || !m[key].is_number()) return 0;
  return m[key].get<int64_t>();
}

inline int64_t IdOf(const json& item, const char* key = "ID") {
  const json& v = item.at(key);
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

// The emulator without limits and a gateway that does not throttle, whose
// portal is configured with "api_version": `api_version` ("v3", "auto"...):
// the version of every request that names none.
inline std::unique_ptr<Stack> UpWithApiVersion(const std::string& api_version) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 10000}, {"drain_per_second", 10000}, {"api_version", api_version}};
  return Up(std::move(emulator), std::move(gateway));
}

// tasks.task.get of task `id` naming API_VERSION_CLASSIC, which reaches
// classic REST whatever the portal's version; its "task" is checked.
inline void ExpectClassicTaskGet(Stack& stack, int64_t id) {
  pb::CallRequest classic;
  classic.set_method("tasks.task.get");
  *classic.mutable_params() = V({{"taskId", id}});
  classic.set_api_version(pb::API_VERSION_CLASSIC);
  CallOut old = DoCall(stack, classic);
  ASSERT_TRUE(old.status.ok()) << old.status.error_message();
  EXPECT_TRUE(old.result().contains("task")) << old.result();
}

// Reads a whole ID-ordered list straight from the emulator (keyset paging,
// start=-1), bypassing the gateway: the reference the tests compare with.
inline std::vector<json> RestAll(Stack& stack, const std::string& method, json params) {
  std::vector<json> out;
  int64_t last = 0;
  json filter = params.contains("filter") ? params["filter"] : json::object();
  for (;;) {
    json p = params;
    json f = filter;
    f[">ID"] = last;
    p["filter"] = f;
    p["order"] = {{"ID", "ASC"}};
    p["start"] = -1;
    json page = stack.Rest(method, p);
    if (!page.is_object() || !page.contains("result") || !page["result"].is_array()) {
      ADD_FAILURE() << "direct REST read failed: " << page.dump().substr(0, 300);
      return out;
    }
    for (const auto& item : page["result"]) out.push_back(item);
    if (page["result"].size() < 50) return out;
    last = IdOf(page["result"].back());
  }
}

inline std::vector<json> IdsOf(const std::vector<json>& items, const char* key = "ID") {
  std::vector<json> ids;
  for (const auto& i : items) ids.push_back(IdOf(i, key));
  return ids;
}

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_RPC_HELPERS_H_
