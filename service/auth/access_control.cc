#include "service/auth/access_control.h"

#include "absl/strings/str_cat.h"
#include "service/auth/permissions.h"

namespace b24gate {

AccessControl::AccessControl(std::vector<ClientSpec> clients, AuthMetrics* metrics)
    : authenticator_(std::move(clients)), metrics_(metrics) {
  for (const ClientSpec& c : authenticator_.clients()) by_name_[c.name] = &c;
}

absl::StatusOr<const ClientSpec*> AccessControl::Admit(
    const grpc::ServerContextBase& context) const {
  AuthOutcome outcome = authenticator_.Identify(context);
  if (!outcome.ok()) {
    if (metrics_) metrics_->AuthFailed(AuthFailureName(outcome.failure));
    return outcome.status();
  }
  return outcome.client;
}

absl::Status AccessControl::AuthorizeCommand(const std::string& client_id,
                                             const std::string& portal,
                                             const std::string& method) const {
  if (!enabled()) return absl::OkStatus();
  auto it = by_name_.find(client_id);
  if (it == by_name_.end()) {
    return Denied(client_id, absl::PermissionDeniedError(
                                 absl::StrCat("no authenticated client may call ", method)));
  }
  absl::Status s = CheckCommand(*it->second, portal, method);
  return s.ok() ? s : Denied(client_id, std::move(s));
}

absl::Status AccessControl::AuthorizeAdmin(const ClientSpec* client) const {
  if (!enabled()) return absl::OkStatus();
  if (client == nullptr) {
    return Denied("", absl::PermissionDeniedError("AdminService needs an authenticated client"));
  }
  absl::Status s = CheckAdmin(*client);
  return s.ok() ? s : Denied(client->name, std::move(s));
}

absl::Status AccessControl::Denied(const std::string& client, absl::Status status) const {
  if (metrics_) metrics_->PermissionDenied(client);
  return status;
}

std::vector<std::string> AccessControl::FailureReasons() {
  std::vector<std::string> reasons;
  for (AuthFailure f : kAllAuthFailures) reasons.push_back(AuthFailureName(f));
  return reasons;
}

std::vector<std::string> AccessControl::ClientNames(const std::vector<ClientSpec>& clients) {
  std::vector<std::string> names;
  for (const ClientSpec& c : clients) names.push_back(c.name);
  return names;
}

absl::StatusOr<std::string> AdmittedClientName(const AccessControl* access,
                                               const grpc::ServerContextBase& context) {
  if (access == nullptr) return std::string();
  absl::StatusOr<const ClientSpec*> client = access->Admit(context);
  if (!client.ok()) return client.status();
  return *client == nullptr ? std::string() : (*client)->name;
}

}  // namespace b24gate
