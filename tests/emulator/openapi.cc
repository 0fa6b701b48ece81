#include "tests/emulator/openapi.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace b24emu {
namespace {

using OJson = nlohmann::ordered_json;

constexpr char kV3MethodPrefix[] = "v3/";
constexpr char kOpenApi[] = "rest.documentation.openapi";
constexpr char kOpenApiShort[] = "documentation";

OJson Operation(const std::string& method, bool write) {
  OJson op = OJson::object();
  op["operationId"] = method;
  op["tags"] = OJson::array({method.substr(0, method.find('.'))});
  if (write) {
    op["parameters"] = OJson::array({OJson{{"name", "Idempotency-Key"},
                                           {"in", "header"},
                                           {"required", false},
                                           {"schema", {{"type", "string"}, {"maxLength", 255}}}}});
  }
  op["responses"] = OJson{{"200", {{"description", "Success"}}}};
  return op;
}

}  // namespace

bool IsOpenApiMethod(const std::string& method) {
  return method == kOpenApi || method == kOpenApiShort;
}

OJson OpenApiDocument(const std::vector<std::string>& served,
                      const std::function<bool(const std::string&)>& is_write) {
  OJson paths = OJson::object();
  for (const std::string& name : served) {
    if (!absl::StartsWith(name, kV3MethodPrefix)) continue;
    const std::string method = name.substr(sizeof(kV3MethodPrefix) - 1);
    paths[absl::StrCat("/", method)] = OJson{{"post", Operation(method, is_write(name))}};
  }
  paths["/batch"] = OJson{{"post", Operation("batch", false)}};
  for (const char* method : {kOpenApi, kOpenApiShort}) {
    paths[absl::StrCat("/", method)] =
        OJson{{"get", Operation(method, false)}, {"post", Operation(method, false)}};
  }
  OJson document = OJson::object();
  document["openapi"] = "3.0.0";
  document["info"] = OJson{{"title", "Bitrix24 REST API 3.0 (b24-emulator)"}, {"version", "1.0.0"}};
  document["paths"] = std::move(paths);
  return document;
}

}  // namespace b24emu
