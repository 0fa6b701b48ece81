// Input limits end to end: every hostile or oversized input is refused by a
// real b24gate with INVALID_ARGUMENT saying what was wrong and where (the
// path of the field and the config key of the limit), and nothing reaches the
// emulator (its request count stays 0). Deep payloads, in Struct and in
// JSON-text form, are refused without crashing the gateway.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::input_limits_test {
namespace {

// A stack with small limits so each can be crossed cheaply; `limits` is the
// config file's "limits" section.
std::unique_ptr<Stack> UpWith(json limits) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits"};
  GatewaySpec gateway;
  gateway.settings = {{"limits", std::move(limits)}};
  auto stack = Up(std::move(emulator), std::move(gateway));
  if (stack) stack->ResetEmulator();
  return stack;
}

// INVALID_ARGUMENT whose message holds each of `parts`, with nothing sent.
void ExpectRefused(Stack& stack, const grpc::Status& status, const std::vector<std::string>& parts,
                   const std::string& what) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << what << ": " << status.error_code() << " " << status.error_message();
  for (const std::string& part : parts) {
    EXPECT_NE(status.error_message().find(part), std::string::npos)
        << what << ": \"" << status.error_message() << "\" does not name \"" << part << "\"";
  }
  EXPECT_EQ(Requests(stack), 0) << what << " reached the emulator";
}

// {"a":{"a":...1}} with `levels` objects.
json Nested(int levels, const json& inner = 1) {
  json v = inner;
  for (int i = 0; i < levels; ++i) v = json{{"a", v}};
  return v;
}

// A unary RPC ("Call", "CallBatch") with its request given as bytes, for
// payloads protobuf's own serializer would not write (too deep, not UTF-8).
grpc::Status RawCall(Stack& stack, const std::string& rpc, const std::string& bytes) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  const std::string name = absl::StrCat("/bitrix24.gateway.v1.GatewayService/", rpc);
  grpc::internal::RpcMethod method(name.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  auto ctx = Ctx(60);
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      stack.channel().get(), method, ctx.get(), request, &response);
}

// JSON text nesting `levels` lists or objects.
std::string DeepText(int levels, bool lists) {
  if (lists) return std::string(levels, '[') + std::string(levels, ']');
  std::string text;
  for (int i = 0; i < levels; ++i) text += "{\"a\":";
  return text + "1" + std::string(levels, '}');
}

// Varint-framed protobuf pieces for RawCall.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Header(int field, size_t length) { return Varint(field << 3 | 2) + Varint(length); }

// A CallRequest {method, params} whose params nest `levels` objects (or
// lists), written in O(levels): each level's wrapper is a prefix.
std::string DeepCall(int levels, bool lists) {
  const std::string innermost = Header(3, 1) + "x";  // Value.string_value "x"
  size_t inner = innermost.size();
  std::vector<std::string> prefixes;
  for (int i = 0; i < levels; ++i) {
    std::string prefix;
    if (lists) {
      std::string values = Header(1, inner);
      prefix = Header(6, values.size() + inner) + values;
    } else {
      std::string entry = Header(1, 1) + "a" + Header(2, inner);
      std::string fields = Header(1, entry.size() + inner) + entry;
      prefix = Header(5, fields.size() + inner) + fields;
    }
    inner += prefix.size();
    prefixes.push_back(std::move(prefix));
  }
  std::string out = Header(2, 12) + "crm.lead.get" + Header(3, inner);
  for (auto it = prefixes.rbegin(); it != prefixes.rend(); ++it) out += *it;
  return out + innermost;
}

// Before these limits, 45 levels failed inside gRPC's parser: a bare
// UNIMPLEMENTED with no message.
TEST(InputLimits, DeepParamsNameTheFieldAndTheLimit) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.lead.add", {{"fields", Nested(45)}});
  ExpectRefused(*stack, out.status,
                {"params: nested deeper than the limit of 32 levels (limits.max_depth)",
                 "at params.fields.a.a"},
                "45 levels");
  // 32 levels are within the limit and reach the portal.
  out = Call1(*stack, "crm.lead.get", {{"id", 1}, {"x", Nested(31)}});
  EXPECT_NE(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << out.status.error_message();
  EXPECT_GT(Requests(*stack), 0);
}

// The configured limit applies to every place parameters can be given.
TEST(InputLimits, ConfiguredDepthAppliesToEveryForm) {
  auto stack = UpWith({{"max_depth", 4}});
  ASSERT_TRUE(stack);
  const json deep = Nested(4);  // 5 levels with the outer object
  const std::string deep_text = json{{"filter", Nested(4)}}.dump();
  ExpectRefused(*stack, Call1(*stack, "crm.lead.get", {{"x", Nested(4)}}).status,
                {"params: nested deeper than the limit of 4", "at params.x.a.a.a"}, "Call params");
  pb::CallRequest call;
  call.set_method("crm.lead.list");
  call.set_params_json(deep_text);
  ExpectRefused(*stack, DoCall(*stack, call).status,
                {"params_json: nested deeper than the limit of 4", "at params_json.filter.a.a.a"},
                "Call params_json");
  ExpectRefused(*stack, CallBulk(*stack, "crm.lead.get", {{{"id", 1}}, {{"x", deep}}}).status,
                {"bulk_params[1]", "limits.max_depth"}, "bulk_params");
  ExpectRefused(*stack,
                CallBatch(*stack, {{"a", "crm.lead.get", {{"id", 1}}},
                                   {"b", "crm.lead.list", {{"filter", deep}}}})
                    .status,
                {"commands[1].params: nested deeper", "limits.max_depth"}, "CallBatch params");
  ExpectRefused(*stack,
                CallBatch(*stack, {{"a", "crm.lead.list?filter[a][a][a][a][a]=1", nullptr}}).status,
                {"commands[0].method?query: nested deeper", "limits.max_depth"},
                "CallBatch method?query");
  pb::CallBatchRequest batch;
  pb::BatchCommand* c = batch.add_commands();
  c->set_key("a");
  c->set_method("crm.lead.list");
  c->set_params_json(deep_text);
  pb::CallBatchResponse batch_response;
  ExpectRefused(*stack, stack->stub().CallBatch(Ctx().get(), batch, &batch_response),
                {"commands[0].params_json: nested deeper", "limits.max_depth"},
                "CallBatch params_json");
  ExpectRefused(*stack, GetAll(*stack, "crm.lead.list", {{"filter", deep}}).status,
                {"params: nested deeper", "at params.filter.a.a.a"}, "GetAll filter");
  pb::GetAllRequest all;
  all.set_method("crm.lead.list");
  all.set_params_json(deep_text);
  ExpectRefused(*stack, GetAllWith(*stack, all).status, {"params_json: nested deeper"},
                "GetAll params_json");
  ExpectRefused(*stack, GetById(*stack, "crm.lead.get", {json(1)}, "", {{"x", deep}}).status,
                {"params: nested deeper", "limits.max_depth"}, "GetById params");
  ExpectRefused(*stack, CallManyText(*stack, "crm.lead.get", {"{}", deep_text}).status,
                {"params_json[1]: nested deeper", "limits.max_depth"}, "CallMany params_json");
  ExpectRefused(*stack, CallMany(*stack, "crm.lead.get", {{{"x", deep}}}).status,
                {"params", "limits.max_depth"}, "CallMany params");
}

// 100,000 levels in both forms: refused, and the gateway keeps serving.
TEST(InputLimits, HundredThousandLevelsAreRefusedNotFatal) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  for (bool lists : {false, true}) {
    ExpectRefused(*stack, RawCall(*stack, "Call", DeepCall(100000, lists)),
                  {"params: nested deeper than the limit of 32 levels", "more)"},
                  lists ? "100,000 lists" : "100,000 objects");
  }
  for (bool lists : {false, true}) {
    const std::string text = DeepText(100000, lists);
    pb::CallRequest call;
    call.set_method("crm.lead.get");
    call.set_params_json(text);
    ExpectRefused(*stack, DoCall(*stack, call).status, {"params_json: nested deeper"},
                  "100,000-level params_json");
    ExpectRefused(*stack, CallManyText(*stack, "crm.lead.get", {text}).status,
                  {"params_json[0]: nested deeper"}, "100,000-level CallMany text");
  }
  EXPECT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok()) << "gateway stopped serving";
}

TEST(InputLimits, RequestSize) {
  auto stack = UpWith({{"max_request_bytes", 100000}});
  ASSERT_TRUE(stack);
  ExpectRefused(*stack,
                Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", std::string(150000, 'x')}}}}).status,
                {"request: ", "above the limit of 100000 bytes (limits.max_request_bytes)"},
                "150 kB request");
  // Far above the limit gRPC itself stops reading (its receive limit is set
  // 1 MiB above): RESOURCE_EXHAUSTED, and still nothing sent.
  CallOut huge = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", std::string(2 << 20, 'x')}}}});
  EXPECT_EQ(huge.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << huge.status.error_message();
  EXPECT_EQ(Requests(*stack), 0);
}

TEST(InputLimits, ParamsAndStringSizes) {
  auto stack = UpWith({{"max_params_bytes", 1000}, {"max_string_bytes", 100}});
  ASSERT_TRUE(stack);
  json big = json::object();
  for (int i = 0; i < 20; ++i) big[absl::StrCat("F", i)] = std::string(90, 'v');
  ExpectRefused(*stack, Call1(*stack, "crm.lead.add", {{"fields", big}}).status,
                {"params: ", "bytes as JSON, above the limit of 1000 (limits.max_params_bytes)"},
                "params size");
  ExpectRefused(*stack, Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", std::string(101, 't')}}}}).status,
                {"params.fields.TITLE: a string of 101 bytes, above the limit of 100 "
                 "(limits.max_string_bytes)"},
                "string length");
  ExpectRefused(*stack, Call1(*stack, "crm.lead.add", {{"fields", {{std::string(101, 'K'), "v"}}}}).status,
                {"params.fields: the key \"KKKK", "has 101 bytes", "limits.max_string_bytes"},
                "key length");
  ExpectRefused(*stack,
                CallBatch(*stack, {{"a", "crm.lead.add?fields[TITLE]=" + std::string(101, 't'), nullptr}})
                    .status,
                {"commands[0].method?query.fields.TITLE: a string of 101 bytes"}, "query value");
  ExpectRefused(*stack, GetById(*stack, "crm.lead.get", {json(std::string(101, '1'))}).status,
                {"ids[0]: a string of 101 bytes"}, "id length");
}

TEST(InputLimits, Counts) {
  auto stack = UpWith({{"max_bulk_items", 3}, {"max_call_many_items", 3}, {"max_ids", 3},
                       {"max_batch_commands", 3}});
  ASSERT_TRUE(stack);
  std::vector<json> four(4, json{{"id", 1}});
  ExpectRefused(*stack, CallBulk(*stack, "crm.lead.get", four).status,
                {"bulk_params: 4 parameter sets, above the limit of 3 (limits.max_bulk_items)",
                 "CallMany"},
                "bulk items");
  ExpectRefused(*stack, CallMany(*stack, "crm.lead.get", four).status,
                {"params: 4 parameter sets, above the limit of 3 (limits.max_call_many_items)"},
                "CallMany items");
  ExpectRefused(*stack, GetById(*stack, "crm.lead.get", {json(1), json(2), json(3), json(4)}).status,
                {"ids: 4 ids, above the limit of 3 (limits.max_ids)"}, "GetById ids");
  std::vector<Cmd> commands;
  for (int i = 0; i < 4; ++i) commands.push_back({absl::StrCat("c", i), "crm.lead.get", {{"id", 1}}});
  ExpectRefused(*stack, CallBatch(*stack, commands).status,
                {"commands: 4 commands, above the limit of 3 (limits.max_batch_commands)"},
                "batch commands");
}

// NUL bytes and text that is not UTF-8, in values and keys, in every form.
TEST(InputLimits, NulAndInvalidUtf8NameThePath) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  const std::string nul("a\0b", 3);
  ExpectRefused(*stack, Call1(*stack, "crm.lead.add", {{"FIELDS", {{"TITLE", nul}}}}).status,
                {"params.FIELDS.TITLE: holds a NUL byte (byte 1)"}, "NUL value");
  ExpectRefused(*stack, Call1(*stack, "crm.lead.add", {{"FIELDS", {{nul, "v"}}}}).status,
                {"params.FIELDS: the key \"a\\x00b\" holds a NUL byte"}, "NUL key");
  pb::CallRequest text;
  text.set_method("crm.lead.add");
  text.set_params_json(R"({"FIELDS":{"TITLE":"a\u0000b"}})");
  ExpectRefused(*stack, DoCall(*stack, text).status,
                {"params_json.FIELDS.TITLE: holds a NUL byte"}, "NUL in params_json");
  ExpectRefused(*stack, CallBatch(*stack, {{"a", "crm.lead.add?fields[TITLE]=a%00b", nullptr}}).status,
                {"commands[0].method?query.fields.TITLE: holds a NUL byte"}, "NUL in a query");
  ExpectRefused(*stack,
                CallBatch(*stack, {{"a", "crm.lead.add?fields[TITLE]=a%FFb", nullptr}}).status,
                {"commands[0].method?query.fields.TITLE: not valid UTF-8 (byte 1)"},
                "%FF in a query");
  text.set_params_json("{\"FIELDS\":{\"TITLE\":\"a\xff\"}}");
  ExpectRefused(*stack, DoCall(*stack, text).status, {"params_json: not valid UTF-8 (byte 21)"},
                "invalid UTF-8 in params_json");
  // Protobuf's serializer writes such a string (logging a complaint); the
  // gateway's decoder names it instead of failing the parse.
  std::string bytes = Header(2, 12) + "crm.lead.add";
  std::string title_value = Header(3, 2) + "a\xff";
  std::string entry = Header(1, 5) + "TITLE" + Header(2, title_value.size()) + title_value;
  std::string fields_struct = Header(1, entry.size()) + entry;
  std::string fields_value = Header(5, fields_struct.size()) + fields_struct;
  std::string outer_entry = Header(1, 6) + "FIELDS" + Header(2, fields_value.size()) + fields_value;
  std::string outer_struct = Header(1, outer_entry.size()) + outer_entry;
  std::string params = Header(5, outer_struct.size()) + outer_struct;
  bytes += Header(3, params.size()) + params;
  ExpectRefused(*stack, RawCall(*stack, "Call", bytes),
                {"params.FIELDS.TITLE: not valid UTF-8 (byte 1)"}, "invalid UTF-8 in a Struct");
  ExpectRefused(*stack, RawCall(*stack, "Call", Header(2, 4) + "crm\xc0"),
                {"method: not valid UTF-8 (byte 3)"}, "invalid UTF-8 in the method");
}

TEST(InputLimits, NumbersJsonCannotCarry) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    pb::CallRequest call;
    call.set_method("crm.deal.add");
    google::protobuf::Value fields;
    (*fields.mutable_struct_value()->mutable_fields())["OPPORTUNITY"].set_number_value(bad);
    (*call.mutable_params()->mutable_struct_value()->mutable_fields())["fields"] = fields;
    ExpectRefused(*stack, DoCall(*stack, call).status,
                  {"params.fields.OPPORTUNITY: ", "has no JSON form"}, std::to_string(bad));
  }
  pb::CallRequest text;
  text.set_method("crm.deal.list");
  text.set_params_json(R"({"filter":{"ID":9007199254740993}})");
  ExpectRefused(*stack, DoCall(*stack, text).status,
                {"params_json.filter.ID: 9007199254740993 is beyond 2^53", "send it as a string"},
                "2^53 + 1");
  text.set_params_json(R"({"filter":{"ID":-18446744073709551615}})");
  ExpectRefused(*stack, DoCall(*stack, text).status,
                {"params_json.filter.ID: -18446744073709551615 is beyond 2^53"}, "-2^64 + 1");
  text.set_params_json(R"({"filter":{">OPPORTUNITY":1e400}})");
  ExpectRefused(*stack, DoCall(*stack, text).status, {"params_json: not valid JSON", "1e400"},
                "1e400");
  // 2^53 itself is exact.
  text.set_params_json(R"({"filter":{"ID":9007199254740992}})");
  EXPECT_NE(DoCall(*stack, text).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(InputLimits, MalformedResultReferencesNameTheCommand) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  for (const std::string& ref : {"$result[c0", "$result[]", "$result[c0][ID", "$result_total[c0",
                                 "x $result[c0][0][TITLE] and $result[c0"}) {
    ExpectRefused(*stack,
                  CallBatch(*stack, {{"c0", "crm.lead.get", {{"id", 1}}},
                                     {"c1", "crm.lead.get", {{"id", ref}}}})
                      .status,
                  {"commands[1] (\"c1\"): malformed reference"}, ref);
  }
}

// GetAll and GetById send their method once per page or id and repeat a
// request after a fault: given a write, one RPC once created 4 leads before
// answering "did not return a list". A method not known as a read is
// refused before anything is sent, even with every request failing.
TEST(InputLimits, ListAndIdReadsRefuseWrites) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  stack->SetFaults("500=@3");
  for (const std::string method : {"crm.lead.add", "crm.lead.delete"}) {
    ExpectRefused(*stack, GetAll(*stack, method, {{"fields", {{"TITLE", "x"}}}}).status,
                  {"method: GetAll reads", method, "set idempotent"}, "GetAll " + method);
    ExpectRefused(*stack, GetById(*stack, method, {json(1), json(2)}).status,
                  {"method: GetById reads", method}, "GetById " + method);
  }
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 0);
  stack->SetFaults("none");
  // A caller may vouch for a read the gateway does not know by name.
  pb::GetByIdRequest vouched;
  vouched.set_method("crm.duplicate.findbycomm");
  *vouched.add_ids() = V(1);
  vouched.set_idempotent(true);
  EXPECT_NE(GetByIdWith(*stack, vouched).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_GT(Requests(*stack), 0);
}

// What a refusal quotes of a long method, portal name or portal error is
// cut with its length, so the status stays far below gRPC's 8 KiB metadata
// limit (above it the client shows RESOURCE_EXHAUSTED, not the error).
TEST(InputLimits, LongTextIsQuotedCut) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  CallOut method = Call1(*stack, std::string(9000, 'm') + "!", json::object());
  ExpectRefused(*stack, method.status, {"method: \"mmm", "...(9001 bytes)\" has 9001 bytes"},
                "9,000-byte method");
  EXPECT_LT(method.status.error_message().size(), 600u);
  CallOut portal = Call1(*stack, "crm.lead.list", json::object(), false, std::string(20000, 'p'));
  EXPECT_EQ(portal.status.error_code(), grpc::StatusCode::NOT_FOUND) << portal.status.error_message();
  EXPECT_NE(portal.status.error_message().find("...(20000 bytes)"), std::string::npos);
  EXPECT_LT(portal.status.error_message().size(), 600u);
  EXPECT_EQ(Requests(*stack), 0);
  // The portal quotes an unknown parameter name in its error_description.
  CallOut portal_error =
      Call1(*stack, "task.commentitem.getlist", {{std::string(20000, 'k'), 1}});
  EXPECT_NE(portal_error.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(portal_error.status.error_message().find("TASKS_ERROR_EXCEPTION_#256"),
            std::string::npos)
      << portal_error.status.error_message().substr(0, 300);
  EXPECT_NE(portal_error.status.error_message().find(" bytes)"), std::string::npos);
  EXPECT_LE(portal_error.status.error_message().size(), 600u);
  EXPECT_EQ(InfoOf(portal_error.status).reason(), "ERROR_CORE");
  EXPECT_LE(InfoOf(portal_error.status).metadata().at("description").size(), 600u);
}

// Method names are short (the longest documented has about 60 bytes); a
// long one would reach the portal's URL limit (HTTP 414, outcome unknown).
TEST(InputLimits, MethodNameLength) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  ExpectRefused(*stack, Call1(*stack, std::string(10000, 'm'), json::object()).status,
                {"method: ", "has 10000 bytes, above the limit of 128"}, "10,000-byte method");
  ExpectRefused(*stack, CallBatch(*stack, {{"a", "crm." + std::string(200, 'x') + ".get", nullptr}}).status,
                {"commands[0].method: ", "above the limit of 128"}, "batch method");
  ExpectRefused(*stack, GetAll(*stack, std::string(200, 'l') + ".list", json::object()).status,
                {"method: ", "above the limit of 128"}, "GetAll method");
  // 128 bytes are within the limit and reach the portal.
  Call1(*stack, "crm." + std::string(119, 'x') + ".list", json::object());
  EXPECT_GT(Requests(*stack), 0);
}

// An enum value the proto does not define, an id that is no id and a key
// given twice in params_json are refused naming the field.
TEST(InputLimits, EnumsIdsAndDuplicateKeys) {
  auto stack = UpWith(json::object());
  ASSERT_TRUE(stack);
  pb::GetAllRequest all;
  all.set_method("crm.lead.list");
  all.set_strategy(static_cast<pb::ListStrategy>(99));
  ExpectRefused(*stack, GetAllWith(*stack, all).status,
                {"strategy: 99 is not a ListStrategy", "LIST_STRATEGY_OFFSET"}, "strategy 99");
  pb::CallRequest cached;
  cached.set_method("crm.lead.get");
  cached.set_cache(static_cast<pb::CacheMode>(-1));
  ExpectRefused(*stack, DoCall(*stack, cached).status, {"cache: -1 is not a CacheMode"}, "cache -1");
  for (const json& id : {json(1.5), json(1e20), json(-1), json(0)}) {
    ExpectRefused(*stack, GetById(*stack, "crm.lead.get", {json(7), id}).status,
                  {"ids[1]: ", "is not an id"}, "id " + id.dump());
  }
  ExpectRefused(*stack, GetById(*stack, "crm.lead.get", {json(true)}).status,
                {"ids[0]: must be a number or a non-empty string, got boolean"}, "id true");
  pb::CallRequest twice;
  twice.set_method("crm.lead.get");
  twice.set_params_json(R"({"id":1,"id":2})");
  ExpectRefused(*stack, DoCall(*stack, twice).status,
                {"params_json.id: the key is given twice"}, "id twice");
  twice.set_method("crm.lead.list");
  twice.set_params_json(R"({"filter":{"ID":1,"TITLE":"a","ID":2}})");
  ExpectRefused(*stack, DoCall(*stack, twice).status,
                {"params_json.filter.ID: the key is given twice"}, "filter.ID twice");
  ExpectRefused(*stack, CallManyText(*stack, "crm.lead.get", {R"({"id":1})", R"({"id":1,"id":1})"}).status,
                {"params_json[1].id: the key is given twice"}, "CallMany id twice");
  // The same key in sibling objects is no duplicate.
  twice.set_params_json(R"({"filter":{"ID":1},"order":{"ID":"ASC"}})");
  EXPECT_TRUE(DoCall(*stack, twice).status.ok()) << DoCall(*stack, twice).status.error_message();
}

}  // namespace
}  // namespace b24gate::e2e::input_limits_test
