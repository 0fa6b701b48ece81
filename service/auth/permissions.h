// What a configured client may touch: the rules of its ClientSpec applied to
// one command (a portal and a Bitrix24 method) or to AdminService.
//
// A command is allowed when its portal is in the client's `portals` ("*" =
// any), its method matches an `allow` pattern and no `deny` pattern (deny
// wins), and, for a `read-only` client, the method is one the gateway knows
// as a read (engine/bitrix/method_traits.h; unknown names count as writes).
// Methods are compared in their normal form (lower case, no ".json"), the
// form the gateway sends, so "CRM.Deal.Delete.json" is crm.deal.delete.
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_AUTH_PERMISSIONS_H_
#define B24GATE_SERVICE_AUTH_PERMISSIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/auth/client_config.h"

namespace b24gate {

// True when `text` matches `pattern`, where `*` matches any run of
// characters (also none) and everything else itself, ignoring ASCII case.
bool MatchesPattern(absl::string_view pattern, absl::string_view text);

// OK, or PERMISSION_DENIED naming the client, the method (or portal) and
// the rule that refused it. `portal` is the configured portal's name.
absl::Status CheckCommand(const ClientSpec& client, const std::string& portal,
                          absl::string_view method);

// OK for a client with the `admin` role; PERMISSION_DENIED otherwise.
absl::Status CheckAdmin(const ClientSpec& client);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_AUTH_PERMISSIONS_H_
