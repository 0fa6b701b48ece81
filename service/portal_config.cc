#include "service/portal_config.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/events/event_pattern.h"
#include "engine/http/redirect_policy.h"
#include "engine/portal/tuning_fields.h"

namespace b24gate {
namespace {

// Webhooks, portal and OAuth URLs carry credentials in their path; a
// user:password@ in the authority is one more, which the gateway would
// have to print to say what is wrong. Refused without echoing the URL.
absl::Status CheckUrlHasNoUserInfo(const std::string& url, const std::string& where) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return absl::OkStatus();
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? end : end - start);
  if (absl::StrContains(authority, "@")) {
    return Bad(where,
               "the URL must not contain user:password@ (credentials belong in the webhook code "
               "or the oauth settings); the URL is not printed");
  }
  return absl::OkStatus();
}

// Surrounding white space is dropped (files end in a newline); white space
// or control characters inside would be sent as they are and fail later.
absl::StatusOr<std::string> NormalizeUrl(std::string url, const std::string& where) {
  url = std::string(absl::StripAsciiWhitespace(url));
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Bad(where, "the URL must not contain spaces or control characters; the URL is not printed");
    }
  }
  B24GATE_RETURN_IF_ERROR(CheckUrlHasNoUserInfo(url, where));
  if (!url.empty() && url.back() != '/') url.push_back('/');
  return url;
}

// See ValidatePortalName.
absl::Status CheckPortalName(const std::string& name, const std::string& where) {
  absl::Status s = ValidatePortalName(name);
  return s.ok() ? s : Bad(where, s.message());
}

// The one way into a list of portals: the name is checked and must be new.
absl::Status AppendPortal(PortalOptions portal, const std::string& where,
                          std::vector<PortalOptions>* portals) {
  B24GATE_RETURN_IF_ERROR(CheckPortalName(portal.name, where));
  for (const PortalOptions& p : *portals) {
    if (p.name == portal.name) return Bad(where, absl::StrCat("portal \"", p.name, "\" is given twice"));
  }
  portals->push_back(std::move(portal));
  return absl::OkStatus();
}

// A portal's "oauth" object: an OAuth application instead of a webhook.
absl::Status OAuthFromJson(const ConfigJson& j, const std::string& where, OAuthOptions* o) {
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, where,
                                    {"client_id", "client_secret", "client_secret_file",
                                     "refresh_token", "oauth_url", "portal_url", "token_file"}));
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) return Bad(absl::StrCat(where, ".", key), "must be a string");
  }
  B24GATE_RETURN_IF_ERROR(ReadString(j, "client_id", where, &o->client_id));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "client_secret", where, &o->client_secret));
  std::string secret_file;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "client_secret_file", where, &secret_file));
  if (!secret_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(secret_file, where + ".client_secret_file");
    if (!text.ok()) return text.status();
    o->client_secret = std::string(absl::StripAsciiWhitespace(*text));
  }
  B24GATE_RETURN_IF_ERROR(ReadString(j, "refresh_token", where, &o->refresh_token));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "oauth_url", where, &o->oauth_url));
  B24GATE_RETURN_IF_ERROR(CheckUrlHasNoUserInfo(o->oauth_url, where + ".oauth_url"));
  std::string portal_url;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "portal_url", where, &portal_url));
  absl::StatusOr<std::string> normalized = NormalizeUrl(portal_url, where + ".portal_url");
  if (!normalized.ok()) return normalized.status();
  o->portal_url = *normalized;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "token_file", where, &o->token_file));
  if (o->client_id.empty()) return Bad(where + ".client_id", "must not be empty");
  return absl::OkStatus();
}

// The portal keys that are not tunables (those come from TuningFields()).
const std::vector<std::string>& PortalKeys() {
  static const auto* keys = [] {
    auto* k = new std::vector<std::string>{
        "name",    "webhook",     "webhook_file", "plan", "request_timeout_seconds", "max_attempts",
        "ca_file", "insecure_skip_verify", "autothrottle", "oauth", "redirect_to", "api_version",
        "application_token", "application_token_file", "event_bindings"};
    for (const TuningField& f : TuningFields()) k->push_back(f.name);
    return k;
  }();
  return *keys;
}

// The secret `key`, or the text of the file `key`_file names (Kubernetes
// mounts secrets as files); not both. The file's surrounding white space
// (its final newline) is dropped.
absl::Status ReadSecret(const ConfigJson& j, const std::string& key, const std::string& where,
                        std::string* out) {
  const std::string file_key = key + "_file";
  if (j.contains(key) && j.contains(file_key)) {
    return Bad(where, absl::StrCat("give either ", key, " or ", file_key, ", not both"));
  }
  std::string file;
  B24GATE_RETURN_IF_ERROR(ReadString(j, key.c_str(), where, out));
  B24GATE_RETURN_IF_ERROR(ReadString(j, file_key.c_str(), where, &file));
  if (file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> text = ReadFile(file, absl::StrCat(where, ".", file_key));
  if (!text.ok()) return text.status();
  *out = std::string(absl::StripAsciiWhitespace(*text));
  return absl::OkStatus();
}

// "webhook" or "webhook_file" (the webhook URL holds a secret).
absl::Status ReadWebhook(const ConfigJson& j, const std::string& where, PortalOptions* o) {
  std::string webhook;
  B24GATE_RETURN_IF_ERROR(ReadSecret(j, "webhook", where, &webhook));
  if (webhook.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> url = NormalizeUrl(webhook, where + ".webhook");
  if (!url.ok()) return url.status();
  o->webhook_url = *url;
  return absl::OkStatus();
}

// The plan's preset first, then the tunables given explicitly over it.
absl::Status ReadTuning(const ConfigJson& j, const std::string& where, PortalOptions* o) {
  std::string plan;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "plan", where, &plan));
  if (!plan.empty()) {
    if (absl::Status s = ApplyPlan(plan, o); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", s.message()));
    }
  }
  PortalTuning tuning = TuningOf(*o);
  for (const TuningField& field : TuningFields()) {
    double v = field.get(tuning);
    B24GATE_RETURN_IF_ERROR(ReadNumber(j, field.name, where, &v));
    if (absl::Status s = CheckTuningValue(field, v); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", s.message()));
    }
    field.set(&tuning, v);
  }
  o->bucket = tuning.bucket;
  o->operating = tuning.operating;
  o->batch_size = tuning.batch_size;
  o->max_concurrency = tuning.max_concurrency;
  o->linger = tuning.linger;
  return absl::OkStatus();
}

// "redirect_to": the addresses ("https://host[:port]", nothing after) a
// redirect of this portal may lead to; kept as UrlOrigin() normalises them.
absl::Status ReadRedirectTo(const ConfigJson& j, const std::string& where, PortalOptions* o) {
  std::vector<std::string> targets;
  B24GATE_RETURN_IF_ERROR(ReadStringList(j, "redirect_to", where, &targets));
  for (size_t i = 0; i < targets.size(); ++i) {
    absl::string_view target = absl::StripSuffix(targets[i], "/");
    size_t authority = target.find("://");
    std::optional<std::string> origin = UrlOrigin(target);
    if (!origin || target.find_first_of("/?#@", authority + 3) != absl::string_view::npos) {
      return Bad(absl::StrCat(where, ".redirect_to[", i, "]"),
                 "must be an address like \"https://new.bitrix24.ru\" (scheme, host and an "
                 "optional port; no path)");
    }
    o->redirect_to.push_back(*origin);
  }
  return absl::OkStatus();
}

// One list of "event_bindings", as given (NormalizeEventBindings checks it).
absl::Status ReadEventNames(const ConfigJson& j, const char* key, const std::string& where,
                            std::optional<std::vector<std::string>>* out) {
  if (!j.contains(key)) return absl::OkStatus();
  out->emplace();
  return ReadStringList(j, key, where, &**out);
}

// "event_bindings": {"offline": [NAME...], "online": [NAME...],
// "auth_connector": KEY}, each optional.
absl::Status ReadEventBindings(const ConfigJson& j, const std::string& where, PortalOptions* o) {
  if (!j.contains("event_bindings")) return absl::OkStatus();
  const std::string at = where + ".event_bindings";
  const ConfigJson& b = j["event_bindings"];
  if (!b.is_object()) return Bad(at, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(b, at, {"offline", "online", "auth_connector"}));
  PortalOptions::EventBindings& out = o->event_bindings;
  B24GATE_RETURN_IF_ERROR(ReadEventNames(b, "offline", at, &out.offline));
  B24GATE_RETURN_IF_ERROR(ReadEventNames(b, "online", at, &out.online));
  B24GATE_RETURN_IF_ERROR(ReadString(b, "auth_connector", at, &out.auth_connector));
  return NormalizeEventBindings(at, &out);
}

// Timeout, attempts, autothrottle, the portal's TLS and its default API.
absl::Status ReadRequestSettings(const ConfigJson& j, const std::string& where, PortalOptions* o) {
  B24GATE_RETURN_IF_ERROR(
      ReadSeconds(j, "request_timeout_seconds", where, 0.001, 3600, &o->request_timeout));
  double attempts = o->max_attempts;
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "max_attempts", where, &attempts));
  if (!(attempts >= 1 && attempts <= 1000) || attempts != std::floor(attempts)) {
    return Bad(where + ".max_attempts", "must be a whole number in 1..1000");
  }
  o->max_attempts = static_cast<int>(attempts);
  B24GATE_RETURN_IF_ERROR(ReadBool(j, "autothrottle", where, &o->autothrottle.enabled));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "ca_file", where, &o->tls.ca_file));
  bool insecure = !o->tls.verify;
  B24GATE_RETURN_IF_ERROR(ReadBool(j, "insecure_skip_verify", where, &insecure));
  o->tls.verify = !insecure;
  std::string api = "classic";
  B24GATE_RETURN_IF_ERROR(ReadString(j, "api_version", where, &api));
  if (api == "classic") {
    o->default_api = ApiChoice::kClassic;
  } else if (api == "v3") {
    o->default_api = ApiChoice::kV3;
  } else if (api == "auto") {
    o->default_api = ApiChoice::kAuto;
  } else {
    return Bad(where + ".api_version", "must be \"classic\", \"v3\" or \"auto\"");
  }
  return absl::OkStatus();
}

// One portal object of the config file.
absl::StatusOr<PortalOptions> PortalFromJson(const ConfigJson& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, where, PortalKeys()));
  PortalOptions o;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "name", where, &o.name));
  B24GATE_RETURN_IF_ERROR(ReadTuning(j, where, &o));
  B24GATE_RETURN_IF_ERROR(ReadRedirectTo(j, where, &o));
  B24GATE_RETURN_IF_ERROR(ReadWebhook(j, where, &o));
  B24GATE_RETURN_IF_ERROR(ReadSecret(j, "application_token", where, &o.application_token));
  B24GATE_RETURN_IF_ERROR(ReadEventBindings(j, where, &o));
  B24GATE_RETURN_IF_ERROR(ReadRequestSettings(j, where, &o));
  if (j.contains("oauth")) B24GATE_RETURN_IF_ERROR(OAuthFromJson(j["oauth"], where + ".oauth", &o.oauth));
  return o;
}

// "NAME=WEBHOOK_URL" specs of one source, in order.
absl::StatusOr<std::vector<PortalOptions>> PortalsFromSpecs(const std::vector<std::string>& specs,
                                                            const std::string& where) {
  std::vector<PortalOptions> portals;
  for (const std::string& spec : specs) {
    std::pair<std::string, std::string> kv = absl::StrSplit(spec, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return Bad(where, "expected NAME=WEBHOOK_URL (e.g. main=https://x.bitrix24.com/rest/1/CODE/)");
    }
    PortalOptions o;
    o.name = kv.first;
    B24GATE_RETURN_IF_ERROR(AppendPortal(std::move(o), where, &portals));  // the name is checked
    absl::StatusOr<std::string> url =
        NormalizeUrl(kv.second, absl::StrCat(where, " portal \"", kv.first, "\""));
    if (!url.ok()) return url.status();
    portals.back().webhook_url = *url;
  }
  return portals;
}

// The flag and environment portals, with --plan, --ca-file and
// --insecure-skip-verify applied.
absl::StatusOr<std::vector<PortalOptions>> NamedPortals(const PortalSources& sources) {
  absl::StatusOr<std::vector<PortalOptions>> portals = PortalsFromSpecs(sources.flag_specs, "--portal");
  if (!portals.ok()) return portals.status();
  absl::StatusOr<std::vector<PortalOptions>> from_env =
      PortalsFromSpecs(sources.env_specs, "B24GATE_PORTALS");
  if (!from_env.ok()) return from_env.status();
  for (PortalOptions& e : *from_env) {
    bool in_flags = false;
    for (const PortalOptions& p : *portals) in_flags = in_flags || p.name == e.name;
    if (!in_flags) portals->push_back(std::move(e));
  }
  for (PortalOptions& p : *portals) {
    if (sources.plan) {
      if (absl::Status s = ApplyPlan(*sources.plan, &p); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
      }
    }
    if (sources.ca_file) p.tls.ca_file = *sources.ca_file;
    if (sources.insecure_skip_verify) p.tls.verify = false;
  }
  return portals;
}

}  // namespace

absl::StatusOr<std::vector<PortalOptions>> ParsePortalList(const ConfigJson& j) {
  if (!j.is_array()) return Bad("config.portals", "must be a list");
  std::vector<PortalOptions> portals;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = absl::StrCat("config: portals[", i, "]");
    absl::StatusOr<PortalOptions> p = PortalFromJson(j[i], where);
    if (!p.ok()) return p.status();
    B24GATE_RETURN_IF_ERROR(AppendPortal(std::move(*p), where, &portals));
  }
  return portals;
}

absl::StatusOr<std::vector<PortalOptions>> MergePortals(const PortalSources& sources) {
  absl::StatusOr<std::vector<PortalOptions>> portals = NamedPortals(sources);
  if (!portals.ok()) return portals.status();
  const bool tls_flags = sources.ca_file || sources.insecure_skip_verify;
  for (const PortalOptions& fp : sources.file) {
    bool overridden = false;
    for (PortalOptions& p : *portals) {
      if (p.name != fp.name) continue;
      const std::string url = p.webhook_url;
      const TlsOptions tls = p.tls;
      p = fp;
      p.webhook_url = url;
      if (tls_flags) p.tls = tls;
      overridden = true;
    }
    if (!overridden) portals->push_back(fp);
  }
  return portals;
}

absl::Status ValidatePortal(const PortalOptions& portal) {
  B24GATE_RETURN_IF_ERROR(ValidatePortalOptions(portal));
  if (!portal.tls.ca_file.empty()) {
    B24GATE_RETURN_IF_ERROR(
        CheckReadableFile(portal.tls.ca_file, absl::StrCat("portal \"", portal.name, "\": ca_file")));
  }
  return absl::OkStatus();
}

absl::StatusOr<OAuthOptions> ParseApplication(const ConfigJson& j, const std::string& where) {
  B24GATE_RETURN_IF_ERROR(
      CheckKeys(j, where, {"client_id", "client_secret", "client_secret_file", "oauth_url"}));
  OAuthOptions app;
  B24GATE_RETURN_IF_ERROR(OAuthFromJson(j, where, &app));
  if (app.client_secret.empty()) return Bad(where + ".client_secret", "must not be empty");
  return app;
}

}  // namespace b24gate
