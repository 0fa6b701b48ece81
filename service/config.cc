#include "service/config.h"

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/http/redirect_policy.h"
#include "engine/portal/tuning_fields.h"
#include "service/auth/client_config.h"
#include "service/cache_config.h"
#include "service/config_reading.h"
#include "service/limits_config.h"
#include "service/listen_exposure.h"
#include "service/tls/server_tls_options.h"
#include "service/redis_config.h"

namespace b24gate {
namespace {

using Json = ConfigJson;

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

absl::StatusOr<std::string> NormalizeUrl(std::string url, const std::string& where) {
  url = std::string(absl::StripAsciiWhitespace(url));
  B24GATE_RETURN_IF_ERROR(CheckUrlHasNoUserInfo(url, where));
  if (!url.empty() && url.back() != '/') url.push_back('/');
  return url;
}

// "5", "2.5" (seconds) or an absl duration ("5s", "250ms").
absl::StatusOr<absl::Duration> ParseDurationText(const std::string& text, const std::string& where) {
  absl::Duration d;
  double seconds;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return Bad(where, absl::StrCat("\"", text, "\" is not a duration (e.g. 5s, 250ms, 2.5)"));
  }
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return Bad(where, "must be a finite duration >= 0");
  }
  return d;
}

// ---- Step 1: flags -------------------------------------------------------

struct FlagValues {
  std::optional<std::string> listen, metrics_listen, config_file, plan, ca_file, log_format,
      log_level, predrain_delay, shutdown_grace, tls_cert, tls_key, tls_client_ca, redis, replicas;
  std::vector<std::string> portals;
  bool insecure = false;
  bool insecure_listen_any = false;
  bool help = false;
};

absl::StatusOr<FlagValues> ParseFlags(const std::vector<std::string>& args) {
  FlagValues f;
  // Flags that take a value, and where it goes.
  const std::vector<std::pair<std::string, std::optional<std::string> FlagValues::*>> kValued = {
      {"--listen", &FlagValues::listen},
      {"--metrics-listen", &FlagValues::metrics_listen},
      {"--config", &FlagValues::config_file},
      {"--plan", &FlagValues::plan},
      {"--ca-file", &FlagValues::ca_file},
      {"--log-format", &FlagValues::log_format},
      {"--log-level", &FlagValues::log_level},
      {"--predrain-delay", &FlagValues::predrain_delay},
      {"--shutdown-grace", &FlagValues::shutdown_grace},
      {"--tls-cert", &FlagValues::tls_cert},
      {"--tls-key", &FlagValues::tls_key},
      {"--tls-client-ca", &FlagValues::tls_client_ca},
      {"--redis", &FlagValues::redis},
      {"--replicas", &FlagValues::replicas},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // "--name=value" or "--name value". Only the name is ever echoed: a
    // value may be a webhook URL.
    std::string name = arg.substr(0, arg.find('='));
    std::optional<std::string> inline_value;
    if (name.size() < arg.size()) inline_value = arg.substr(name.size() + 1);
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return Bad(name, "missing value");
      return args[++i];
    };
    if (name == "--help" || name == "-h") {
      f.help = true;
      return f;
    }
    if (name == "--insecure-skip-verify" && !inline_value) {
      f.insecure = true;
      continue;
    }
    if (name == "--insecure-listen-any" && !inline_value) {
      f.insecure_listen_any = true;
      continue;
    }
    if (name == "--portal") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      f.portals.push_back(*v);
      continue;
    }
    bool known = false;
    for (const auto& [flag, field] : kValued) {
      if (name != flag) continue;
      known = true;
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (f.*field) return Bad(name, "given twice");
      f.*field = *v;
    }
    if (!known) return absl::InvalidArgumentError(absl::StrCat("unknown flag \"", name, "\" (see --help)"));
  }
  return f;
}

// ---- Step 2: environment ---------------------------------------------------

struct EnvValues {
  std::optional<std::string> listen, config_file;
  std::vector<std::string> portals;
};

EnvValues ReadEnvironment(const std::map<std::string, std::string>& env) {
  EnvValues e;
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  e.listen = get("B24GATE_LISTEN");
  e.config_file = get("B24GATE_CONFIG");
  if (auto portals = get("B24GATE_PORTALS")) {
    for (absl::string_view spec : absl::StrSplit(*portals, ',', absl::SkipWhitespace())) {
      e.portals.emplace_back(absl::StripAsciiWhitespace(spec));
    }
  }
  return e;
}

// ---- Step 3: the config file -----------------------------------------------

struct FileValues {
  std::optional<std::string> listen, metrics_listen, log_format, log_level;
  std::optional<absl::Duration> predrain_delay, shutdown_grace;
  InputLimits limits;
  std::optional<bool> fair_share;
  std::vector<PortalOptions> portals;
  std::vector<ClientSpec> clients;
  RedisConfig redis;
  ServerTlsOptions tls;
  bool insecure_listen_any = false;
  CacheOptions cache;
};

// A portal's "oauth" object: an OAuth application instead of a webhook.
absl::Status OAuthFromJson(const Json& j, const std::string& where, OAuthOptions* o) {
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
        "ca_file", "insecure_skip_verify", "autothrottle", "oauth", "redirect_to"};
    for (const TuningField& f : TuningFields()) k->push_back(f.name);
    return k;
  }();
  return *keys;
}

// A portal's tunables: the plan's preset (already in `o`) overridden by the
// keys given.
absl::Status ReadTuning(const Json& j, const std::string& where, PortalOptions* o) {
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
absl::Status ReadRedirectTo(const Json& j, const std::string& where, PortalOptions* o) {
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

// One portal object of the config file.
absl::StatusOr<PortalOptions> PortalFromJson(const Json& j, size_t index) {
  std::string where = absl::StrCat("config: portals[", index, "]");
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, where, PortalKeys()));
  PortalOptions o;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "name", where, &o.name));
  // The plan first: explicit tunables below override its preset.
  std::string plan;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "plan", where, &plan));
  if (!plan.empty()) {
    if (absl::Status s = ApplyPlan(plan, &o); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", s.message()));
    }
  }
  std::string webhook, webhook_file;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "webhook", where, &webhook));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "webhook_file", where, &webhook_file));
  if (!webhook_file.empty()) {
    // Kubernetes mounts secrets as files; the webhook URL holds a secret.
    absl::StatusOr<std::string> text = ReadFile(webhook_file, where + ".webhook_file");
    if (!text.ok()) return text.status();
    webhook = *text;
  }
  if (!webhook.empty()) {
    absl::StatusOr<std::string> url = NormalizeUrl(webhook, where + ".webhook");
    if (!url.ok()) return url.status();
    o.webhook_url = *url;
  }
  B24GATE_RETURN_IF_ERROR(ReadTuning(j, where, &o));
  B24GATE_RETURN_IF_ERROR(ReadRedirectTo(j, where, &o));
  double timeout = absl::ToDoubleSeconds(o.request_timeout);
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "request_timeout_seconds", where, &timeout));
  o.request_timeout = absl::Seconds(timeout);
  double attempts = o.max_attempts;
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "max_attempts", where, &attempts));
  if (!(std::fabs(attempts) < 1e9) || attempts != static_cast<int>(attempts)) {  // cast defined
    return Bad(where + ".max_attempts", "must be a whole number below 1e9");
  }
  o.max_attempts = static_cast<int>(attempts);
  B24GATE_RETURN_IF_ERROR(ReadBool(j, "autothrottle", where, &o.autothrottle.enabled));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "ca_file", where, &o.tls.ca_file));
  bool insecure = !o.tls.verify;
  B24GATE_RETURN_IF_ERROR(ReadBool(j, "insecure_skip_verify", where, &insecure));
  o.tls.verify = !insecure;
  if (j.contains("oauth")) B24GATE_RETURN_IF_ERROR(OAuthFromJson(j["oauth"], where + ".oauth", &o.oauth));
  return o;
}

// Line and column of byte `offset` in `text`, for parse errors (the text
// itself is never quoted: it may hold a webhook).
std::string PositionOf(const std::string& text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::StrCat("line ", line, ", column ", column);
}

absl::StatusOr<FileValues> ReadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, "--config");
  if (!text.ok()) return text.status();
  const std::string what = absl::StrCat("--config \"", path, "\"");
  Json j;
  try {
    j = Json::parse(*text);
  } catch (const Json::parse_error& e) {
    // e.what() quotes the last token read, which may be a secret.
    bool at_end = e.byte >= text->size();
    return Bad(what, absl::StrCat("not valid JSON: ",
                                  at_end ? "unexpected end of file (truncated?)"
                                         : "syntax error",
                                  " at ", PositionOf(*text, e.byte == 0 ? 0 : e.byte - 1)));
  } catch (const Json::out_of_range&) {
    return Bad(what, "not valid JSON: a number beyond the range of a double");  // e.g. 1e600
  }
  if (!j.is_object()) return Bad(what, "must hold a JSON object ({...})");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, "config",
                                    {"listen", "metrics_listen", "portals", "shutdown_grace_seconds",
                                     "predrain_delay_seconds", "log_format", "log_level",
                                     "max_bulk_items", "clients", "cache", "fair_share", "tls",
                                     "insecure_listen_any", "limits", "redis"}));
  FileValues f;
  for (auto [key, out] : {std::pair{"listen", &f.listen}, std::pair{"metrics_listen", &f.metrics_listen},
                          std::pair{"log_format", &f.log_format}, std::pair{"log_level", &f.log_level}}) {
    if (!j.contains(key)) continue;
    std::string v;
    B24GATE_RETURN_IF_ERROR(ReadString(j, key, "config", &v));
    *out = v;
  }
  for (auto [key, out] : {std::pair{"shutdown_grace_seconds", &f.shutdown_grace},
                          std::pair{"predrain_delay_seconds", &f.predrain_delay}}) {
    if (!j.contains(key)) continue;
    double seconds = 0;
    B24GATE_RETURN_IF_ERROR(ReadNumber(j, key, "config", &seconds));
    if (seconds < 0) return Bad(absl::StrCat("config.", key), "must be >= 0");
    *out = absl::Seconds(seconds);
  }
  if (j.contains("max_bulk_items")) {
    const Json& v = j["max_bulk_items"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) {
      return Bad("config.max_bulk_items", "must be a whole number >= 1");
    }
    f.limits.max_bulk_items = v.get<size_t>();  // the older key; limits.max_bulk_items wins
  }
  if (j.contains("limits")) B24GATE_RETURN_IF_ERROR(ReadLimits(j["limits"], "config.limits", &f.limits));
  if (j.contains("fair_share")) {
    bool on = true;
    B24GATE_RETURN_IF_ERROR(ReadBool(j, "fair_share", "config", &on));
    f.fair_share = on;
  }
  if (j.contains("clients")) {
    absl::StatusOr<std::vector<ClientSpec>> clients = ParseClients(j["clients"], "config.clients");
    if (!clients.ok()) return clients.status();
    f.clients = std::move(*clients);
  }
  if (j.contains("tls")) {
    absl::StatusOr<ServerTlsOptions> tls = ParseServerTls(j["tls"], "config.tls");
    if (!tls.ok()) return tls.status();
    f.tls = std::move(*tls);
  }
  B24GATE_RETURN_IF_ERROR(ReadBool(j, "insecure_listen_any", "config", &f.insecure_listen_any));
  if (j.contains("cache")) {
    absl::StatusOr<CacheOptions> cache = ParseCacheConfig(j["cache"], "config.cache");
    if (!cache.ok()) return cache.status();
    f.cache = std::move(*cache);
  }
  if (j.contains("redis")) {
    B24GATE_RETURN_IF_ERROR(ParseRedisSection(j["redis"], "config.redis", &f.redis));
  }
  if (j.contains("portals")) {
    if (!j["portals"].is_array()) return Bad("config.portals", "must be a list");
    for (size_t i = 0; i < j["portals"].size(); ++i) {
      absl::StatusOr<PortalOptions> p = PortalFromJson(j["portals"][i], i);
      if (!p.ok()) return p.status();
      for (const auto& earlier : f.portals) {
        if (earlier.name == p->name) {
          return Bad(absl::StrCat("config: portals[", i, "]"),
                     absl::StrCat("portal \"", p->name, "\" is configured twice"));
        }
      }
      f.portals.push_back(std::move(*p));
    }
  }
  return f;
}

// ---- Step 4: merge -----------------------------------------------------------

// "NAME=WEBHOOK_URL" specs of one source, in order; a name twice is an error.
absl::StatusOr<std::vector<PortalOptions>> PortalsFromSpecs(const std::vector<std::string>& specs,
                                                            const std::string& where) {
  std::vector<PortalOptions> portals;
  for (const std::string& spec : specs) {
    std::pair<std::string, std::string> kv = absl::StrSplit(spec, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return Bad(where, "expected NAME=WEBHOOK_URL (e.g. main=https://x.bitrix24.com/rest/1/CODE/)");
    }
    for (const auto& p : portals) {
      if (p.name == kv.first) return Bad(where, absl::StrCat("portal \"", kv.first, "\" is given twice"));
    }
    PortalOptions o;
    o.name = kv.first;
    absl::StatusOr<std::string> url =
        NormalizeUrl(kv.second, absl::StrCat(where, " portal \"", kv.first, "\""));
    if (!url.ok()) return url.status();
    o.webhook_url = *url;
    portals.push_back(std::move(o));
  }
  return portals;
}

absl::StatusOr<std::vector<PortalOptions>> MergePortals(const FlagValues& flags, const EnvValues& env,
                                                        const FileValues& file) {
  absl::StatusOr<std::vector<PortalOptions>> from_flags = PortalsFromSpecs(flags.portals, "--portal");
  if (!from_flags.ok()) return from_flags.status();
  absl::StatusOr<std::vector<PortalOptions>> from_env = PortalsFromSpecs(env.portals, "B24GATE_PORTALS");
  if (!from_env.ok()) return from_env.status();
  // Flag portals first (the first flag names the default), then the
  // environment's; a name in both takes the flag's webhook.
  std::vector<PortalOptions> portals = std::move(*from_flags);
  for (auto& e : *from_env) {
    bool in_flags = false;
    for (const auto& p : portals) in_flags = in_flags || p.name == e.name;
    if (!in_flags) portals.push_back(std::move(e));
  }
  for (auto& p : portals) {
    if (flags.plan) {
      if (absl::Status s = ApplyPlan(*flags.plan, &p); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
      }
    }
    if (flags.ca_file) p.tls.ca_file = *flags.ca_file;
    if (flags.insecure) p.tls.verify = false;
  }
  // A portal named by a flag/environment and in the file takes its settings
  // from the file and its webhook from the flag or environment.
  for (const auto& fp : file.portals) {
    bool overridden = false;
    for (auto& p : portals) {
      if (p.name != fp.name) continue;
      std::string url = p.webhook_url;
      TlsOptions tls = p.tls;
      p = fp;
      p.webhook_url = url;
      if (flags.ca_file || flags.insecure) p.tls = tls;
      overridden = true;
    }
    if (!overridden) portals.push_back(fp);
  }
  return portals;
}

absl::StatusOr<ServerConfig> Merge(const FlagValues& flags, const EnvValues& env,
                                   const FileValues& file,
                                   const std::map<std::string, std::string>& env_map) {
  ServerConfig config;
  // Each setting: the flag, else the environment, else the file, else the default.
  if (flags.listen) {
    config.listen = *flags.listen;
  } else if (env.listen) {
    config.listen = *env.listen;
  } else if (file.listen) {
    config.listen = *file.listen;
  }
  if (flags.metrics_listen) {
    config.metrics_listen = *flags.metrics_listen;
  } else if (file.metrics_listen) {
    config.metrics_listen = *file.metrics_listen;
  }
  if (file.predrain_delay) config.predrain_delay = *file.predrain_delay;
  if (flags.predrain_delay) {
    absl::StatusOr<absl::Duration> d = ParseDurationText(*flags.predrain_delay, "--predrain-delay");
    if (!d.ok()) return d.status();
    config.predrain_delay = *d;
  }
  if (file.shutdown_grace) config.shutdown_grace = *file.shutdown_grace;
  config.gateway.limits = file.limits;
  if (flags.shutdown_grace) {
    absl::StatusOr<absl::Duration> d = ParseDurationText(*flags.shutdown_grace, "--shutdown-grace");
    if (!d.ok()) return d.status();
    config.shutdown_grace = *d;
  }
  std::optional<std::string> format = flags.log_format ? flags.log_format : file.log_format;
  if (format) {
    absl::StatusOr<LogFormat> f = ParseLogFormat(*format);
    if (!f.ok()) return Bad("--log-format", f.status().message());
    config.log.format = *f;
  }
  std::optional<std::string> level = flags.log_level ? flags.log_level : file.log_level;
  if (level) {
    absl::StatusOr<LogLevel> l = ParseLogLevel(*level);
    if (!l.ok()) return Bad("--log-level", l.status().message());
    config.log.level = *l;
  }
  absl::StatusOr<std::vector<PortalOptions>> portals = MergePortals(flags, env, file);
  if (!portals.ok()) return portals.status();
  config.portals = std::move(*portals);
  config.clients = file.clients;
  config.tls = file.tls;
  if (flags.tls_cert) config.tls.cert_file = *flags.tls_cert;
  if (flags.tls_key) config.tls.key_file = *flags.tls_key;
  if (flags.tls_client_ca) config.tls.client_ca_file = *flags.tls_client_ca;
  config.insecure_listen_any = flags.insecure_listen_any || file.insecure_listen_any;
  if (file.fair_share) config.fair_share = *file.fair_share;
  config.cache = file.cache;
  config.redis = file.redis;
  B24GATE_RETURN_IF_ERROR(FinishRedisConfig(flags.redis, flags.replicas, env_map, &config.redis));
  return config;
}

// ---- Step 5: validate --------------------------------------------------------

absl::Status Validate(ServerConfig* config) {
  absl::StatusOr<std::string> listen = ParseListenAddress(config->listen, "listen");
  if (!listen.ok()) return listen.status();
  config->listen = *listen;
  if (!config->metrics_listen.empty()) {
    absl::StatusOr<std::string> metrics = ParseListenAddress(config->metrics_listen, "metrics-listen");
    if (!metrics.ok()) return metrics.status();
    config->metrics_listen = *metrics;
  }
  if (config->portals.empty()) {
    return absl::InvalidArgumentError(
        "no portal configured: pass --portal NAME=WEBHOOK_URL, set B24GATE_PORTALS, or list "
        "portals in --config");
  }
  for (size_t i = 0; i < config->portals.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (config->portals[k].name == config->portals[i].name) {
        return absl::InvalidArgumentError(
            absl::StrCat("portal \"", config->portals[i].name, "\" is configured twice"));
      }
    }
    B24GATE_RETURN_IF_ERROR(ValidatePortalOptions(config->portals[i]));
  }
  B24GATE_RETURN_IF_ERROR(ValidateServerTls(config->tls));
  absl::StatusOr<std::string> exposure = DescribeListenExposure(
      config->listen, config->authenticates_clients(), config->insecure_listen_any);
  if (!exposure.ok()) return exposure.status();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ParseListenAddress(const std::string& address, const std::string& what) {
  const std::string where = absl::StrCat(what, " \"", address, "\"");
  std::string host;
  std::string port;
  if (absl::StartsWith(address, "[")) {
    size_t close = address.find(']');
    if (close == std::string::npos) return Bad(where, "unclosed [ in an IPv6 address");
    host = address.substr(0, close + 1);
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return Bad(where, "has no port; expected HOST:PORT, e.g. [::1]:50051");
    }
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return Bad(where, "has no port; expected HOST:PORT, e.g. 0.0.0.0:50051");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (absl::StrContains(host, ":")) return Bad(where, "an IPv6 host needs brackets: [::1]:50051");
  }
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  int number = 0;
  if (!digits || !absl::SimpleAtoi(port, &number) || number > 65535) {
    return Bad(where, "the port must be a number in 0..65535");
  }
  if (host.empty()) host = "0.0.0.0";
  return absl::StrCat(host, ":", number);
}

std::vector<std::string> SecretsOf(const ServerConfig& config) {
  std::vector<std::string> secrets;
  for (const auto& p : config.portals) {
    // https://host/rest/USER/CODE/ -> CODE
    size_t rest = p.webhook_url.find("/rest/");
    if (rest != std::string::npos) {
      std::vector<std::string> parts =
          absl::StrSplit(p.webhook_url.substr(rest + 6), '/', absl::SkipEmpty());
      if (parts.size() > 1) secrets.push_back(parts[1]);
    }
    if (!p.oauth.client_secret.empty()) secrets.push_back(p.oauth.client_secret);
    if (!p.oauth.refresh_token.empty()) secrets.push_back(p.oauth.refresh_token);
  }
  if (!config.redis.password.empty()) secrets.push_back(config.redis.password);
  return secrets;
}

std::string ConfigUsage() {
  return R"(usage: b24gate [flags]
  --listen HOST:PORT        gRPC address (default 127.0.0.1:50051; port 0 = any free port);
                            beyond loopback only with client authentication or:
  --insecure-listen-any     listen on any address without client authentication
  --tls-cert FILE           serve gRPC over TLS with this PEM certificate chain ...
  --tls-key FILE            ... and its private key (both re-read on change and on SIGHUP)
  --tls-client-ca FILE      mutual TLS: client certificates must be signed by these CAs
  --metrics-listen HOST:PORT  serve Prometheus metrics at GET /metrics (off when not given)
  --portal NAME=WEBHOOK     a portal's incoming-webhook URL (repeatable; the first is the default)
  --config FILE             JSON configuration (see README "Configuration")
  --plan standard|enterprise  rate-limit preset for --portal portals (default standard)
  --ca-file FILE            extra CA certificates for --portal portals
  --insecure-skip-verify    do not verify TLS certificates (like fast_bitrix24's ssl=False)
  --log-format json|text    log lines on stderr (default json)
  --log-level LEVEL         debug, info, warn or error (default info)
  --predrain-delay D        after SIGTERM, keep accepting calls this long (default 5s)
  --shutdown-grace D        then answer every accepted call within this (default 20s)
  --redis redis://HOST:PORT[/DB]  replicas share each portal's budget through this Redis
  --replicas N              replicas that may run at once; while Redis is away each uses 1/N of
                            a portal's budget (default 1)
environment: B24GATE_LISTEN, B24GATE_CONFIG, B24GATE_PORTALS="NAME=URL,NAME=URL",
             B24GATE_REDIS_URL, B24GATE_REDIS_PASSWORD
)";
}

absl::StatusOr<ServerConfig> LoadConfig(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env) {
  absl::StatusOr<FlagValues> flags = ParseFlags(args);
  if (!flags.ok()) return flags.status();
  if (flags->help) {
    ServerConfig config;
    config.help = true;
    return config;
  }
  EnvValues environment = ReadEnvironment(env);
  FileValues file;
  std::optional<std::string> path = flags->config_file ? flags->config_file : environment.config_file;
  if (path) {
    absl::StatusOr<FileValues> read = ReadConfigFile(*path);
    if (!read.ok()) return read.status();
    file = std::move(*read);
  }
  absl::StatusOr<ServerConfig> config = Merge(*flags, environment, file, env);
  if (!config.ok()) return config.status();
  B24GATE_RETURN_IF_ERROR(Validate(&*config));
  return config;
}

}  // namespace b24gate
