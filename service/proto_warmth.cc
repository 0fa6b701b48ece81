#include "service/proto_warmth.h"

#include <memory>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace b24gate {
namespace {

void WarmType(const google::protobuf::Descriptor* type) {
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  if (prototype == nullptr) return;
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  std::string wire;
  message->SerializeToString(&wire);
  message->ParseFromString(wire);
  (void)message->GetReflection();
}

}  // namespace

std::vector<std::string> ServedServiceNames() {
  return {"bitrix24.gateway.v1.GatewayService", "bitrix24.gateway.v1.AdminService",
          "bitrix24.gateway.v1.EventService", "bitrix24.gateway.v1.FilesService"};
}

void WarmMessageTypes(const std::vector<std::string>& services) {
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      WarmType(service->method(i)->input_type());
      WarmType(service->method(i)->output_type());
    }
  }
}

}  // namespace b24gate
