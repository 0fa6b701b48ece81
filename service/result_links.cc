#include "service/result_links.h"

#include "engine/files/url_credentials.h"

namespace b24gate {

void StripLinkCredentials(google::protobuf::Value* value) {
  switch (value->kind_case()) {
    case google::protobuf::Value::kStringValue:
      if (MayCarryAuthParam(value->string_value())) {
        value->set_string_value(WithoutAuthParams(value->string_value()));
      }
      break;
    case google::protobuf::Value::kStructValue:
      for (auto& [key, field] : *value->mutable_struct_value()->mutable_fields()) {
        StripLinkCredentials(&field);
      }
      break;
    case google::protobuf::Value::kListValue:
      for (auto& item : *value->mutable_list_value()->mutable_values()) StripLinkCredentials(&item);
      break;
    default:
      break;
  }
}

}  // namespace b24gate
