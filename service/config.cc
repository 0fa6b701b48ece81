#include "service/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace b24gate {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(what, ": cannot read \"", path, "\""));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string NormalizeWebhook(std::string url) {
  url = std::string(absl::StripAsciiWhitespace(url));
  if (!url.empty() && url.back() != '/') url.push_back('/');
  return url;
}

// Reads a portal's "oauth" object: an OAuth application instead of a webhook.
absl::Status OAuthFromJson(const nlohmann::ordered_json& j, const std::string& where, OAuthOptions* o) {
  if (!j.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  for (const auto& [key, value] : j.items()) {
    if (key != "client_id" && key != "client_secret" && key != "client_secret_file" &&
        key != "refresh_token" && key != "oauth_url" && key != "portal_url" &&
        key != "token_file") {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": unknown setting"));
    }
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": must be a string"));
    }
  }
  o->client_id = j.value("client_id", "");
  o->client_secret = j.value("client_secret", "");
  if (j.contains("client_secret_file")) {
    absl::StatusOr<std::string> text =
        ReadFile(j["client_secret_file"].get<std::string>(), where + ".client_secret_file");
    if (!text.ok()) return text.status();
    o->client_secret = std::string(absl::StripAsciiWhitespace(*text));
  }
  o->refresh_token = j.value("refresh_token", "");
  o->oauth_url = j.value("oauth_url", o->oauth_url);
  o->portal_url = NormalizeWebhook(j.value("portal_url", ""));
  o->token_file = j.value("token_file", "");
  if (o->client_id.empty()) return absl::InvalidArgumentError(where + ".client_id: must not be empty");
  return absl::OkStatus();
}

// Reads one portal object of the config file.
absl::StatusOr<PortalOptions> PortalFromJson(const nlohmann::ordered_json& j, size_t index) {
  std::string where = absl::StrCat("config: portals[", index, "]");
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
  PortalOptions o;
  auto number = [&](const char* key, double* out) -> absl::Status {
    auto it = j.find(key);
    if (it == j.end()) return absl::OkStatus();
    if (!it->is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": must be a number"));
    }
    // Clamped so that the int settings' casts stay defined (1e300 is then
    // refused by the range checks, not undefined behaviour).
    *out = std::clamp(it->get<double>(), -1e9, 1e9);
    return absl::OkStatus();
  };
  static const char* kKnown[] = {"name",
                                 "webhook",
                                 "webhook_file",
                                 "plan",
                                 "burst",
                                 "drain_per_second",
                                 "headroom",
                                 "operating_limit_seconds",
                                 "operating_window_seconds",
                                 "operating_margin_seconds",
                                 "batch_size",
                                 "max_concurrency",
                                 "linger_ms",
                                 "request_timeout_seconds",
                                 "max_attempts",
                                 "ca_file",
                                 "insecure_skip_verify",
                                 "autothrottle",
                                 "oauth"};
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": unknown setting"));
    }
  }
  if (j.contains("name")) o.name = j["name"].is_string() ? j["name"].get<std::string>() : "";
  if (j.contains("plan")) {
    if (!j["plan"].is_string()) return absl::InvalidArgumentError(where + ".plan: must be a string");
    if (absl::Status s = ApplyPlan(j["plan"].get<std::string>(), &o); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", s.message()));
    }
  }
  if (j.contains("webhook") && j["webhook"].is_string()) o.webhook_url = j["webhook"].get<std::string>();
  for (const char* key : {"webhook_file", "ca_file"}) {
    if (j.contains(key) && !j[key].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": must be a string"));
    }
  }
  if (j.contains("webhook_file")) {
    // Kubernetes mounts secrets as files; the webhook URL holds a secret.
    absl::StatusOr<std::string> text = ReadFile(j["webhook_file"].get<std::string>(), where + ".webhook_file");
    if (!text.ok()) return text.status();
    o.webhook_url = *text;
  }
  if (!o.webhook_url.empty()) o.webhook_url = NormalizeWebhook(o.webhook_url);
  double v;
  struct Field {
    const char* key;
    std::function<void(double)> set;
  };
  std::vector<Field> fields = {
      {"burst", [&](double x) { o.bucket.burst = x; }},
      {"drain_per_second", [&](double x) { o.bucket.drain_per_second = x; }},
      {"headroom", [&](double x) { o.bucket.headroom = x; }},
      {"operating_limit_seconds", [&](double x) { o.operating.limit = absl::Seconds(x); }},
      {"operating_window_seconds", [&](double x) { o.operating.window = absl::Seconds(x); }},
      {"operating_margin_seconds", [&](double x) { o.operating.margin = absl::Seconds(x); }},
      {"batch_size", [&](double x) { o.batch_size = static_cast<int>(x); }},
      {"max_concurrency", [&](double x) { o.max_concurrency = static_cast<int>(x); }},
      {"linger_ms", [&](double x) { o.linger = absl::Milliseconds(x); }},
      {"request_timeout_seconds", [&](double x) { o.request_timeout = absl::Seconds(x); }},
      {"max_attempts", [&](double x) { o.max_attempts = static_cast<int>(x); }},
  };
  for (const auto& f : fields) {
    if (!j.contains(f.key)) continue;
    v = 0;
    if (absl::Status s = number(f.key, &v); !s.ok()) return s;
    f.set(v);
  }
  if (j.contains("autothrottle")) {
    if (!j["autothrottle"].is_boolean()) {
      return absl::InvalidArgumentError(where + ".autothrottle: must be true or false");
    }
    o.autothrottle.enabled = j["autothrottle"].get<bool>();
  }
  if (j.contains("oauth")) {
    if (absl::Status s = OAuthFromJson(j["oauth"], where + ".oauth", &o.oauth); !s.ok()) return s;
  }
  if (j.contains("ca_file")) o.tls.ca_file = j["ca_file"].get<std::string>();
  if (j.contains("insecure_skip_verify")) {
    if (!j["insecure_skip_verify"].is_boolean()) {
      return absl::InvalidArgumentError(where + ".insecure_skip_verify: must be true or false");
    }
    o.tls.verify = !j["insecure_skip_verify"].get<bool>();
  }
  return o;
}

absl::Status AddPortal(const std::string& spec, const std::string& where,
                       std::vector<PortalOptions>* portals) {
  std::pair<std::string, std::string> kv = absl::StrSplit(spec, absl::MaxSplits('=', 1));
  if (kv.first.empty() || kv.second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected NAME=WEBHOOK_URL (e.g. main=https://x.bitrix24.ru/rest/1/CODE/)"));
  }
  for (auto& p : *portals) {
    if (p.name == kv.first) {
      p.webhook_url = NormalizeWebhook(kv.second);
      return absl::OkStatus();
    }
  }
  PortalOptions o;
  o.name = kv.first;
  o.webhook_url = NormalizeWebhook(kv.second);
  portals->push_back(o);
  return absl::OkStatus();
}

}  // namespace

std::string ConfigUsage() {
  return R"(usage: b24gate [flags]
  --listen HOST:PORT        gRPC address (default 0.0.0.0:50051; port 0 = any free port)
  --portal NAME=WEBHOOK     a portal's incoming-webhook URL (repeatable; the first is the default)
  --config FILE             JSON configuration (see README "Configuration")
  --plan standard|enterprise  rate-limit preset for --portal portals (default standard)
  --ca-file FILE            extra CA certificates for --portal portals
  --insecure-skip-verify    do not verify TLS certificates (like fast_bitrix24's ssl=False)
environment: B24GATE_LISTEN, B24GATE_CONFIG, B24GATE_PORTALS="NAME=URL,NAME=URL"
)";
}

absl::StatusOr<ServerConfig> LoadConfig(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env) {
  ServerConfig config;
  std::string config_file;
  std::string listen_flag;
  std::vector<std::string> portal_flags;
  std::string plan;
  std::string ca_file;
  bool insecure = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& name) -> absl::StatusOr<std::string> {
      if (absl::StartsWith(a, name + "=")) return a.substr(name.size() + 1);
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(name, ": missing value"));
      return args[++i];
    };
    auto is = [&](const std::string& name) { return a == name || absl::StartsWith(a, name + "="); };
    absl::StatusOr<std::string> v = std::string();  // flags without a value stay ok
    if (a == "--help" || a == "-h") {
      config.help = true;
      return config;
    } else if (is("--listen")) {
      v = value("--listen");
      if (v.ok()) listen_flag = *v;
    } else if (is("--portal")) {
      v = value("--portal");
      if (v.ok()) portal_flags.push_back(*v);
    } else if (is("--config")) {
      v = value("--config");
      if (v.ok()) config_file = *v;
    } else if (is("--plan")) {
      v = value("--plan");
      if (v.ok()) plan = *v;
    } else if (is("--ca-file")) {
      v = value("--ca-file");
      if (v.ok()) ca_file = *v;
    } else if (a == "--insecure-skip-verify") {
      insecure = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag \"", a, "\" (see --help)"));
    }
    if (!v.ok()) return v.status();
  }
  auto env_get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  if (config_file.empty()) config_file = env_get("B24GATE_CONFIG");

  std::vector<PortalOptions> file_portals;
  if (!config_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(config_file, "--config");
    if (!text.ok()) return text.status();
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("--config: \"", config_file, "\" is not a JSON object"));
    }
    for (const auto& [key, value] : j.items()) {
      if (key != "listen" && key != "portals" && key != "shutdown_grace_seconds") {
        return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": unknown setting"));
      }
    }
    if (j.contains("listen") && !j["listen"].is_string()) {
      return absl::InvalidArgumentError("config: listen: must be a string (HOST:PORT)");
    }
    if (j.contains("shutdown_grace_seconds") && !j["shutdown_grace_seconds"].is_number()) {
      return absl::InvalidArgumentError("config: shutdown_grace_seconds: must be a number");
    }
    if (j.contains("listen")) config.listen = j["listen"].get<std::string>();
    if (j.contains("shutdown_grace_seconds")) {
      config.shutdown_grace = absl::Seconds(j["shutdown_grace_seconds"].get<double>());
    }
    if (j.contains("portals")) {
      if (!j["portals"].is_array()) return absl::InvalidArgumentError("config: portals: must be a list");
      for (size_t i = 0; i < j["portals"].size(); ++i) {
        absl::StatusOr<PortalOptions> p = PortalFromJson(j["portals"][i], i);
        if (!p.ok()) return p.status();
        file_portals.push_back(std::move(*p));
      }
    }
  }
  if (!env_get("B24GATE_LISTEN").empty()) config.listen = env_get("B24GATE_LISTEN");
  if (!listen_flag.empty()) config.listen = listen_flag;

  // Flag portals first (the first flag names the default), then the
  // environment's, then the file's.
  std::vector<PortalOptions> portals;
  for (const auto& spec : portal_flags) {
    if (absl::Status s = AddPortal(spec, "--portal", &portals); !s.ok()) return s;
  }
  for (absl::string_view spec : absl::StrSplit(env_get("B24GATE_PORTALS"), ',', absl::SkipEmpty())) {
    if (absl::Status s = AddPortal(std::string(spec), "B24GATE_PORTALS", &portals); !s.ok()) return s;
  }
  for (auto& p : portals) {
    if (!plan.empty()) {
      if (absl::Status s = ApplyPlan(plan, &p); !s.ok()) return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
    }
    if (!ca_file.empty()) p.tls.ca_file = ca_file;
    if (insecure) p.tls.verify = false;
  }
  for (auto& fp : file_portals) {
    bool overridden = false;
    for (auto& p : portals) {
      if (p.name == fp.name) {
        // Settings from the file, webhook from the flag or environment.
        std::string url = p.webhook_url;
        TlsOptions tls = p.tls;
        p = fp;
        p.webhook_url = url;
        if (!ca_file.empty() || insecure) p.tls = tls;
        overridden = true;
      }
    }
    if (!overridden) portals.push_back(fp);
  }
  if (portals.empty()) {
    return absl::InvalidArgumentError(
        "no portal configured: pass --portal NAME=WEBHOOK_URL, set B24GATE_PORTALS, or list "
        "portals in --config");
  }
  for (size_t i = 0; i < portals.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (portals[k].name == portals[i].name) {
        return absl::InvalidArgumentError(absl::StrCat("portal \"", portals[i].name, "\" is configured twice"));
      }
    }
    if (absl::Status s = ValidatePortalOptions(portals[i]); !s.ok()) return s;
  }
  config.portals = std::move(portals);
  return config;
}

}  // namespace b24gate
