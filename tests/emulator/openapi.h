// REST 3.0's self-description (docs/bitrix24-protocol.md, "REST 3.0"):
// `rest.documentation.openapi`, also called `documentation`, answers a bare
// OpenAPI 3 document (not wrapped in `result`) whose `paths` are the REST 3.0
// methods the caller may call, one path "/<method>" each. Built from what the
// method table serves, so it never lists a method the emulator would refuse.
//
// Thread-safety: pure functions.
#ifndef B24EMU_OPENAPI_H_
#define B24EMU_OPENAPI_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace b24emu {

// True for the two names of the self-description method.
bool IsOpenApiMethod(const std::string& method);

// The document for the table's methods `served` (normalised names; only the
// REST 3.0 ones, "v3/<method>", are described) plus `batch` and the
// self-description itself, which take GET as well as POST. `is_write` tells
// writes (described with the Idempotency-Key header they accept).
nlohmann::ordered_json OpenApiDocument(const std::vector<std::string>& served,
                                       const std::function<bool(const std::string&)>& is_write);

}  // namespace b24emu

#endif  // B24EMU_OPENAPI_H_
