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

void StripLinkCredentials(nlohmann::ordered_json* value) {
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (MayCarryAuthParam(text)) *value = WithoutAuthParams(text);
  } else if (value->is_structured()) {
    for (auto& field : *value) StripLinkCredentials(&field);
  }
}

std::string ItemsJsonText(std::vector<nlohmann::ordered_json>& items) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    StripLinkCredentials(&items[i]);
    if (i > 0) text += ',';
    text += items[i].dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  text += ']';
  return text;
}

}  // namespace b24gate
