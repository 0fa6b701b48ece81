// gRPC serialization of the gateway's request messages through DecodeRequest
// (request_decoder.h), so hostile requests get a clear INVALID_ARGUMENT.
//
// Included by the generated gateway.grpc.pb.h (protoc's grpc plugin option
// additional_header_includes, see proto/CMakeLists.txt), so every translation
// unit that instantiates gRPC code for these messages sees the same
// specializations. Serializing (the client side) is gRPC's usual code.
#ifndef B24GATE_SERVICE_WIRE_REQUEST_TRAITS_H_
#define B24GATE_SERVICE_WIRE_REQUEST_TRAITS_H_

#include <grpcpp/impl/codegen/proto_utils.h>

#include "bitrix24/gateway/v1/gateway.pb.h"
#include "service/wire/request_decoder.h"

namespace b24gate {

template <typename Request>
class DecodedRequestTraits {
 public:
  static grpc::Status Serialize(const grpc::protobuf::MessageLite& message, grpc::ByteBuffer* buffer,
                                bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, Request>(message, buffer, own_buffer);
  }
  static grpc::Status Deserialize(grpc::ByteBuffer* buffer, grpc::protobuf::MessageLite* message) {
    return DecodeRequest(buffer, static_cast<Request*>(message));
  }
};

}  // namespace b24gate

namespace grpc {

template <>
class SerializationTraits<bitrix24::gateway::v1::CallRequest, void>
    : public b24gate::DecodedRequestTraits<bitrix24::gateway::v1::CallRequest> {};
template <>
class SerializationTraits<bitrix24::gateway::v1::CallBatchRequest, void>
    : public b24gate::DecodedRequestTraits<bitrix24::gateway::v1::CallBatchRequest> {};
template <>
class SerializationTraits<bitrix24::gateway::v1::GetAllRequest, void>
    : public b24gate::DecodedRequestTraits<bitrix24::gateway::v1::GetAllRequest> {};
template <>
class SerializationTraits<bitrix24::gateway::v1::GetByIdRequest, void>
    : public b24gate::DecodedRequestTraits<bitrix24::gateway::v1::GetByIdRequest> {};
template <>
class SerializationTraits<bitrix24::gateway::v1::CallManyRequest, void>
    : public b24gate::DecodedRequestTraits<bitrix24::gateway::v1::CallManyRequest> {};

}  // namespace grpc

#endif  // B24GATE_SERVICE_WIRE_REQUEST_TRAITS_H_
