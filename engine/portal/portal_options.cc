#include "engine/portal/portal_options.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/portal/tuning_fields.h"

namespace b24gate {

absl::Status ApplyPlan(const std::string& plan, PortalOptions* options) {
  if (plan == "standard") {
    options->bucket.burst = 50;
    options->bucket.drain_per_second = 2;
  } else if (plan == "enterprise") {
    options->bucket.burst = 250;
    options->bucket.drain_per_second = 5;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("plan: \"", plan, "\" is not one of standard, enterprise"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePortalName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && absl::ascii_isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "a portal name is 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit");
}

absl::Status ValidatePortalOptions(const PortalOptions& o) {
  auto bad = [&](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("portal \"", o.name, "\": ", field, ": ", why));
  };
  if (o.name.empty()) return bad("name", "must not be empty");
  auto is_url = [](const std::string& u) {
    return absl::StartsWith(u, "https://") || absl::StartsWith(u, "http://");
  };
  if (o.oauth.enabled()) {
    if (!o.webhook_url.empty()) return bad("webhook", "give either a webhook or oauth, not both");
    if (o.oauth.client_secret.empty()) return bad("oauth.client_secret", "must not be empty");
    if (o.oauth.refresh_token.empty() && o.oauth.token_file.empty()) {
      return bad("oauth.refresh_token", "give the first refresh token or a token_file holding one");
    }
    if (!is_url(o.oauth.portal_url) || !absl::StrContains(o.oauth.portal_url, "/rest/")) {
      return bad("oauth.portal_url", "must be an http(s) URL like https://PORTAL/rest/");
    }
    if (!is_url(o.oauth.oauth_url)) return bad("oauth.oauth_url", "must be an http(s) URL");
  } else {
    if (!is_url(o.webhook_url)) {
      return bad("webhook", "must be an http(s) URL like https://PORTAL/rest/1/CODE/");
    }
    if (!absl::StrContains(o.webhook_url, "/rest/")) {
      return bad("webhook", "must contain /rest/ (https://PORTAL/rest/USER_ID/CODE/)");
    }
  }
  // The settings that may also change at run time share one check.
  if (absl::Status s = ValidateTuning(TuningOf(o)); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("portal \"", o.name, "\": ", s.message()));
  }
  if (o.request_timeout <= absl::ZeroDuration()) return bad("request_timeout", "must be > 0");
  if (o.max_attempts < 1) return bad("max_attempts", "must be >= 1");
  return absl::OkStatus();
}

PortalTuning TuningOf(const PortalOptions& o) {
  return PortalTuning{o.bucket, o.operating, o.batch_size, o.max_concurrency, o.linger};
}

absl::Status ValidateTuning(const PortalTuning& t) {
  for (const TuningField& field : TuningFields()) {
    if (absl::Status s = CheckTuningValue(field, field.get(t)); !s.ok()) return s;
  }
  // The one rule that relates two fields.
  if (t.bucket.headroom >= t.bucket.burst) {
    return absl::InvalidArgumentError("headroom: must be >= 0 and below burst");
  }
  return absl::OkStatus();
}

std::string RedactedWebhook(const std::string& webhook_url) {
  // https://host/rest/1/CODE/ -> https://host/rest/1/***/
  size_t rest = webhook_url.find("/rest/");
  if (rest == std::string::npos) return "***";
  std::vector<std::string> parts =
      absl::StrSplit(webhook_url.substr(rest + 6), '/', absl::SkipEmpty());
  std::string out = webhook_url.substr(0, rest + 6);
  if (!parts.empty()) absl::StrAppend(&out, parts[0], "/");
  if (parts.size() > 1) absl::StrAppend(&out, "***/");
  return out;
}

}  // namespace b24gate
