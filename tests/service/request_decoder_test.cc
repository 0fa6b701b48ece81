// The request decoder on its own: depth, UTF-8, size and enum refusals name
// the field; the refusal travels in the message; deep payloads cost no recursion.
#include "service/wire/request_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "bitrix24/gateway/v1/gateway.pb.h"

namespace b24gate::request_decoder_test {
namespace {

namespace pb = bitrix24::gateway::v1;
using ::testing::HasSubstr;

// {"a":{"a":...{"a":1}}} with `levels` objects, as a Value.
google::protobuf::Value Nested(int levels) {
  google::protobuf::Value v;
  v.set_number_value(1);
  for (int i = 0; i < levels; ++i) {
    google::protobuf::Value outer;
    (*outer.mutable_struct_value()->mutable_fields())["a"] = std::move(v);
    v = std::move(outer);
  }
  return v;
}

// The wire bytes of a CallRequest whose params nest `levels` JSON objects,
// written by hand: protobuf cannot serialize beyond its own limits quickly.
std::string DeepCallBytes(int levels, bool lists) {
  auto varint = [](uint64_t v, std::string* out) {
    while (v >= 0x80) {
      out->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out->push_back(static_cast<char>(v));
  };
  // A field's tag and length; its body follows.
  auto header = [&](int field, size_t length) {
    std::string out;
    varint(static_cast<uint64_t>(field << 3 | 2), &out);
    varint(length, &out);
    return out;
  };
  // Innermost: Value{number_value: 0} = field 2 (double). Every level wraps
  // its inner value at its end, so the bytes are the levels' prefixes,
  // outermost first, then the innermost value: built inside out, in O(n).
  const std::string innermost = std::string("\x11", 1) + std::string(8, '\0');
  size_t inner = innermost.size();
  std::vector<std::string> prefixes;
  for (int i = 0; i < levels; ++i) {
    std::string prefix;
    if (lists) {
      // Value.list_value{values: inner}
      std::string values = header(1, inner);
      prefix = header(6, values.size() + inner) + values;
    } else {
      // Value.struct_value{fields: {key "a", value: inner}}
      std::string entry_head = header(1, 1) + "a" + header(2, inner);
      std::string fields = header(1, entry_head.size() + inner) + entry_head;
      prefix = header(5, fields.size() + inner) + fields;
    }
    inner += prefix.size();
    prefixes.push_back(std::move(prefix));
  }
  std::string out = header(2, 12) + "crm.lead.add" + header(3, inner);  // method, params
  for (auto it = prefixes.rbegin(); it != prefixes.rend(); ++it) out += *it;
  return out + innermost;
}

TEST(RequestDecoder, ParamsWithinTheDepthLimitDecode) {
  pb::CallRequest request;
  request.set_method("crm.lead.add");
  *request.mutable_params() = Nested(32);
  pb::CallRequest decoded;
  ASSERT_TRUE(DecodeBytes(request.SerializeAsString(), WireLimits(), &decoded).ok());
  EXPECT_EQ(decoded.method(), "crm.lead.add");
  EXPECT_TRUE(DecodeError(decoded).ok());
  // The hand-written bytes decode as the same shape.
  ASSERT_TRUE(DecodeBytes(DeepCallBytes(3, false), WireLimits(), &decoded).ok());
  EXPECT_EQ(decoded.params().struct_value().fields().at("a").struct_value().fields().at("a")
                .struct_value().fields().at("a").kind_case(),
            google::protobuf::Value::kNumberValue);
}

// 45 levels is past protobuf's own recursion limit of 100 messages.
TEST(RequestDecoder, DeeperThanTheLimitNamesFieldAndLimit) {
  pb::CallRequest decoded;
  absl::Status s = DecodeBytes(DeepCallBytes(45, false), WireLimits(), &decoded);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("params: nested deeper than the limit of 32 levels"));
  EXPECT_THAT(s.message(), HasSubstr("limits.max_depth"));
  EXPECT_THAT(s.message(), HasSubstr("at params.a.a.a"));
  EXPECT_LT(s.message().size(), 300u);
  EXPECT_EQ(decoded.method(), "") << "a refused request is left empty";
}

TEST(RequestDecoder, ConfiguredDepthApplies) {
  WireLimits limits;
  limits.max_depth = 5;
  pb::CallRequest decoded;
  EXPECT_TRUE(DecodeBytes(DeepCallBytes(5, false), limits, &decoded).ok());
  EXPECT_EQ(DecodeBytes(DeepCallBytes(6, false), limits, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(DecodeBytes(DeepCallBytes(5, true), limits, &decoded).ok());
  EXPECT_THAT(DecodeBytes(DeepCallBytes(6, true), limits, &decoded).message(),
              HasSubstr("params: nested deeper than the limit of 5 levels (limits.max_depth), at "
                        "params[0][0][0][0][0]"));
}

// 100,000 levels in both forms: refused quickly, no recursion.
TEST(RequestDecoder, HundredThousandLevelsAreRefusedWithoutRecursion) {
  for (bool lists : {false, true}) {
    pb::CallRequest decoded;
    absl::Status s = DecodeBytes(DeepCallBytes(100000, lists), WireLimits(), &decoded);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << lists;
    EXPECT_THAT(s.message(), HasSubstr("nested deeper than the limit")) << lists;
    EXPECT_LT(s.message().size(), 300u);
  }
}

TEST(RequestDecoder, InvalidUtf8NamesThePath) {
  pb::CallBatchRequest request;
  pb::BatchCommand* c = request.add_commands();
  c->set_key("a");
  pb::BatchCommand* d = request.add_commands();
  d->set_key("b");
  d->set_method("crm.lead.add");
  auto& fields = *(*d->mutable_params()->mutable_fields())["FIELDS"].mutable_struct_value()->mutable_fields();
  fields["TITLE"].set_string_value("ok");
  std::string bytes = request.SerializeAsString();
  // Corrupt "ok" into "o\xff" after serializing (protobuf would refuse to).
  size_t at = bytes.find("ok");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = '\xff';
  pb::CallBatchRequest decoded;
  absl::Status s = DecodeBytes(bytes, WireLimits(), &decoded);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("commands[1].params.FIELDS.TITLE: not valid UTF-8 (byte 1)"));
}

TEST(RequestDecoder, InvalidUtf8InKeysAndRequestFields) {
  pb::CallRequest request;
  request.set_method("crm.lead.zz");
  (*request.mutable_params()->mutable_struct_value()->mutable_fields())["kk"].set_number_value(1);
  std::string bytes = request.SerializeAsString();
  std::string key_bad = bytes, method_bad = bytes;
  key_bad[key_bad.find("kk") + 1] = '\xc3';
  method_bad[method_bad.find("zz")] = '\xe2';
  pb::CallRequest decoded;
  EXPECT_THAT(DecodeBytes(key_bad, WireLimits(), &decoded).message(),
              HasSubstr("params: the key \"k\\xc3\" is not valid UTF-8 (byte 1)"));
  EXPECT_THAT(DecodeBytes(method_bad, WireLimits(), &decoded).message(),
              HasSubstr("method: not valid UTF-8 (byte 9)"));
}

TEST(RequestDecoder, RequestSizeLimit) {
  WireLimits limits;
  limits.max_request_bytes = 100;
  pb::CallRequest request;
  request.set_method(std::string(200, 'a'));
  pb::CallRequest decoded;
  absl::Status s = DecodeBytes(request.SerializeAsString(), limits, &decoded);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("above the limit of 100 bytes (limits.max_request_bytes)"));
}

// Through gRPC's entry point: OK for gRPC, the refusal kept in the message,
// and a caller cannot plant one.
TEST(RequestDecoder, RefusalTravelsInTheMessage) {
  grpc::Slice slice(DeepCallBytes(50, false));
  grpc::ByteBuffer buffer(&slice, 1);
  pb::CallRequest decoded;
  ASSERT_TRUE(DecodeRequest(&buffer, &decoded).ok());
  EXPECT_THAT(DecodeError(decoded).message(), HasSubstr("nested deeper"));

  pb::CallRequest planted;
  planted.set_method("crm.lead.get");
  planted.GetReflection()->MutableUnknownFields(&planted)->AddLengthDelimited(536870911, "forged");
  grpc::Slice good(planted.SerializeAsString());
  grpc::ByteBuffer good_buffer(&good, 1);
  ASSERT_TRUE(DecodeRequest(&good_buffer, &decoded).ok());
  EXPECT_TRUE(DecodeError(decoded).ok());
  EXPECT_EQ(decoded.method(), "crm.lead.get");
}

// Protobuf keeps an enum number it does not know; the service would read it
// as the default.
TEST(RequestDecoder, EnumValuesOutsideTheProtoAreRefused) {
  pb::GetAllRequest request;
  request.set_method("crm.lead.list");
  request.set_strategy(static_cast<pb::ListStrategy>(99));
  pb::GetAllRequest decoded;
  absl::Status s = DecodeBytes(request.SerializeAsString(), WireLimits(), &decoded);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("strategy: 99 is not a ListStrategy (known: "
                                     "LIST_STRATEGY_UNSPECIFIED, LIST_STRATEGY_OFFSET"));
  request.set_strategy(pb::LIST_STRATEGY_KEYSET);
  EXPECT_TRUE(DecodeBytes(request.SerializeAsString(), WireLimits(), &decoded).ok());
  EXPECT_EQ(decoded.strategy(), pb::LIST_STRATEGY_KEYSET);
  pb::CallRequest call;
  call.set_cache(static_cast<pb::CacheMode>(-5));
  pb::CallRequest decoded_call;
  EXPECT_THAT(DecodeBytes(call.SerializeAsString(), WireLimits(), &decoded_call).message(),
              HasSubstr("cache: -5 is not a CacheMode"));
}

TEST(RequestDecoder, MalformedBytesAreRefused) {
  pb::CallRequest decoded;
  absl::Status s = DecodeBytes(std::string("\x0a\x7f" "abc", 5), WireLimits(), &decoded);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not a valid bitrix24.gateway.v1.CallRequest"));
}

}  // namespace
}  // namespace b24gate::request_decoder_test
