#include "service/app_install.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

std::string Field(const InboundPost& post, const char* key) {
  auto it = post.auth.find(key);
  return it != post.auth.end() && it->is_string() ? it->get<std::string>() : "";
}

// Letters, digits and `also`; 1 to `max` of them.
bool Plain(const std::string& text, size_t max, absl::string_view also = "-._") {
  if (text.empty() || text.size() > max) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(c) && also.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

// The registered portal's name: its domain, a port's ':' as '-'.
std::string NameOf(const std::string& domain) {
  std::string name = domain;
  for (char& c : name) c = c == ':' ? '-' : c;
  return name;
}

// The shape the docs give, and a REST endpoint on the posted domain.
absl::Status CheckInstall(const InboundPost& post) {
  if (!Plain(post.member_id, 64)) return absl::InvalidArgumentError("auth[member_id]: missing or not plain");
  if (!Plain(post.domain, 64, "-._:")) {
    return absl::InvalidArgumentError("auth[domain]: missing or not a host name");
  }
  for (const char* key : {"refresh_token", "application_token"}) {
    const std::string value = Field(post, key);
    if (value.empty() || value.size() > 512) {
      return absl::InvalidArgumentError(absl::StrCat("auth[", key, "]: missing or longer than 512"));
    }
  }
  const std::string endpoint = Field(post, "client_endpoint");
  if (!endpoint.empty() && !absl::StartsWith(endpoint, absl::StrCat("https://", post.domain, "/")) &&
      !absl::StartsWith(endpoint, absl::StrCat("http://", post.domain, "/"))) {
    return absl::InvalidArgumentError("auth[client_endpoint]: not on auth[domain]");
  }
  return absl::OkStatus();
}

}  // namespace

InboundEvents::Reply AppInstall::Handle(absl::string_view body) {
  absl::StatusOr<InboundPost> post = ParseInboundPost(body, limits_);
  if (!post.ok()) return Refuse(400, "malformed", post.status().message());
  if (post->event == "ONAPPINSTALL") return Install(*post);
  if (post->event == "ONAPPUNINSTALL") return Uninstall(*post);
  return Refuse(400, "malformed", "event: /app takes ONAPPINSTALL and ONAPPUNINSTALL");
}

InboundEvents::Reply AppInstall::Install(const InboundPost& post) {
  if (absl::Status s = CheckInstall(post); !s.ok()) return Refuse(400, "malformed", s.message());
  // Tokens are not proved before they are stored, so a post must not take
  // over a portal installed already: a reinstall has to show its token.
  absl::StatusOr<PortalRecord> known = gateway_->directory().Get(post.member_id);
  if (known.ok() && !InboundEvents::SameSecret(post.application_token, known->application_token)) {
    return Refuse(409, "conflict", "a portal with this member_id is installed; uninstall it first");
  }
  PortalRecord record;
  record.name = NameOf(post.domain);
  record.member_id = post.member_id;
  record.domain = post.domain;
  const std::string endpoint = Field(post, "client_endpoint");
  record.portal_url = endpoint.empty() ? absl::StrCat("https://", post.domain, "/rest/") : endpoint;
  record.refresh_token = Field(post, "refresh_token");
  record.application_token = post.application_token;
  if (absl::Status s = gateway_->directory().Install(record); !s.ok()) {
    const bool clash = s.code() == absl::StatusCode::kAlreadyExists ||
                       s.code() == absl::StatusCode::kFailedPrecondition;
    return Refuse(clash ? 409 : 400, clash ? "conflict" : "malformed", s.message());
  }
  ledger_->Received(record.name);
  logger_->Log(LogLevel::kInfo, "application installed",
               {{"portal", record.name}, {"member_id", record.member_id}});
  return InboundEvents::Reply{200, "OK"};
}

InboundEvents::Reply AppInstall::Uninstall(const InboundPost& post) {
  absl::StatusOr<PortalRecord> record =
      post.member_id.empty() ? absl::NotFoundError("") : gateway_->directory().Get(post.member_id);
  if (!record.ok()) return Refuse(404, "unknown_portal", "no portal with that member_id");
  if (record->application_token.empty() ||
      !InboundEvents::SameSecret(post.application_token, record->application_token)) {
    return Refuse(403, "bad_token", "auth[application_token] is not the portal's");
  }
  if (absl::Status s = gateway_->directory().Remove(record->name); !s.ok()) {
    return Refuse(409, "conflict", s.message());
  }
  ledger_->Received(record->name);
  logger_->Log(LogLevel::kInfo, "application uninstalled",
               {{"portal", record->name}, {"member_id", record->member_id}});
  return InboundEvents::Reply{200, "OK"};
}

InboundEvents::Reply AppInstall::Refuse(int http_status, const std::string& reason,
                                        absl::string_view why) {
  ledger_->Refused(reason);
  logger_->Log(LogLevel::kInfo, "application event refused",
               {{"reason", reason}, {"why", std::string(why)}});
  return InboundEvents::Reply{http_status, absl::StrCat("refused: ", why)};
}

}  // namespace b24gate
