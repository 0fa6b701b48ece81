// The gateway's door: who a call is (Authenticator) and what that caller may
// touch (permissions.h), with each refusal counted (AuthMetrics). The gRPC
// services call Admit() first in every RPC and AuthorizeAdmin() in
// AdminService; the engine calls AuthorizeCommand() for every command
// (GatewayOptions::authorize), after parsing and before sending.
//
// With no clients configured everything is anonymous and allowed.
//
// Thread-safety: immutable after construction; thread-safe.
#ifndef B24GATE_SERVICE_AUTH_ACCESS_CONTROL_H_
#define B24GATE_SERVICE_AUTH_ACCESS_CONTROL_H_

#include <map>
#include <string>
#include <vector>

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "service/auth/authenticator.h"
#include "service/auth/client_config.h"
#include "service/metrics/auth_metrics.h"

namespace b24gate {

class AccessControl {
 public:
  // `metrics` may be null (metrics off); it must outlive this object.
  explicit AccessControl(std::vector<ClientSpec> clients, AuthMetrics* metrics = nullptr);

  bool enabled() const { return authenticator_.enabled(); }
  const Authenticator& authenticator() const { return authenticator_; }

  // The caller of a call: null when anonymous (no clients configured), or
  // UNAUTHENTICATED (counted by reason).
  absl::StatusOr<const ClientSpec*> Admit(const grpc::ServerContextBase& context) const;

  // Whether client `client_id` (CallOptions::client_id) may send `method` to
  // `portal`. Fails closed: with clients configured, an unknown or empty
  // client_id is refused. Refusals are counted.
  absl::Status AuthorizeCommand(const std::string& client_id, const std::string& portal,
                                const std::string& method) const;

  // Whether `client` (from Admit) may use AdminService.
  absl::Status AuthorizeAdmin(const ClientSpec* client) const;

  // The refusal reasons and the client names: the label sets of AuthMetrics.
  static std::vector<std::string> FailureReasons();
  static std::vector<std::string> ClientNames(const std::vector<ClientSpec>& clients);

 private:
  absl::Status Denied(const std::string& client, absl::Status status) const;

  const Authenticator authenticator_;
  std::map<std::string, const ClientSpec*> by_name_;
  AuthMetrics* const metrics_;
};

// The caller's client name, as CallOptions::client_id wants it: "" when
// `access` is null (no access control) or the caller is anonymous; the
// status of Admit when it refuses.
absl::StatusOr<std::string> AdmittedClientName(const AccessControl* access,
                                               const grpc::ServerContextBase& context);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_AUTH_ACCESS_CONTROL_H_
