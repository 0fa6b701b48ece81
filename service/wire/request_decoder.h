// Decodes a gRPC request's bytes into its protobuf message under the
// gateway's input limits, so that a request protobuf would refuse is answered
// with INVALID_ARGUMENT naming the field instead of a bare status.
//
// gRPC parses a request before any service code runs, with protobuf's default
// recursion limit of 100 message levels; a JSON-shaped parameter costs two or
// three message levels per JSON level (Struct -> map entry -> Value), so
// params nested ~40 deep, or a string that is not UTF-8, fail there, and gRPC
// answers UNIMPLEMENTED with no message. request_traits.h plugs DecodeRequest
// in as the deserializer of the gateway's request messages. It
//   1. refuses a request above max_request_bytes,
//   2. walks the wire bytes once without recursion (an explicit stack that
//      stops growing at the depth limit, so a 100,000-level payload costs
//      neither stack nor much memory), checking the JSON nesting depth of
//      every Struct/ListValue, that every string is UTF-8 and every enum
//      value one the proto defines (protobuf keeps an unknown number, which
//      the service would read as the default), and keeping the path of the
//      field it is in (`commands[2].params.filter.TITLE`),
//   3. parses with a recursion limit just large enough for max_depth.
// A refusal cannot travel through gRPC's deserializer (any error there
// becomes UNIMPLEMENTED), so the message is left empty and carries the
// refusal as an unknown field, which DecodeError() reads back in the service.
//
// Thread-safety: thread-safe. SetWireLimits is meant for start-up.
#ifndef B24GATE_SERVICE_WIRE_REQUEST_DECODER_H_
#define B24GATE_SERVICE_WIRE_REQUEST_DECODER_H_

#include <cstddef>

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace b24gate {

struct WireLimits {
  // Deepest JSON nesting of a Struct/Value parameter; the outermost object
  // is level 1.
  int max_depth = 32;
  // Largest request message, in bytes.
  size_t max_request_bytes = 4 * 1024 * 1024;
};

// Sets the limits of every later DecodeRequest. Not synchronized with
// requests in progress; call it before the server starts.
void SetWireLimits(const WireLimits& limits);
WireLimits GetWireLimits();

// Decodes `buffer` into `message` (and empties the buffer). Returns OK
// whenever the bytes were readable: a request refused for its content is
// recorded in `message` for DecodeError().
grpc::Status DecodeRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* message);

// The refusal DecodeRequest recorded in `message`: INVALID_ARGUMENT naming
// the field, or OK.
absl::Status DecodeError(const google::protobuf::Message& message);

// The same checks on bytes already in hand (for tests and fuzzing): OK, or
// INVALID_ARGUMENT naming the field. `message` receives the parsed request.
absl::Status DecodeBytes(const std::string& bytes, const WireLimits& limits,
                         google::protobuf::Message* message);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_WIRE_REQUEST_DECODER_H_
