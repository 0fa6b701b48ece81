#include "service/config.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/config_reading.h"
#include "service/listen_exposure.h"
#include "service/portal_config.h"
#include "service/redis_config.h"
#include "service/settings.h"
#include "service/tls/server_tls_options.h"

namespace b24gate {
namespace {

// One value for one setting, from one source.
struct Given {
  const Setting* setting;
  ConfigJson value;
  std::string where;
  SettingSource source;
};

const Setting* SettingOfFlag(const std::string& flag) {
  for (const Setting& s : Settings()) {
    if (s.flag != nullptr && flag == s.flag) return &s;
  }
  return nullptr;
}

// "--name=value" or "--name value"; a switch takes no value. Only the name
// is ever echoed: a value may be a webhook URL. --help ends the parse.
absl::StatusOr<std::vector<Given>> ParseFlags(const std::vector<std::string>& args) {
  std::vector<Given> given;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string name = arg.substr(0, arg.find('='));
    const bool has_inline = name.size() < arg.size();
    const Setting* s = SettingOfFlag(name == "-h" ? "--help" : name);
    if (s == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag \"", name, "\" (see --help)"));
    }
    ConfigJson value = true;
    if (s->value_name == nullptr && has_inline) return Bad(name, "takes no value");
    if (s->value_name != nullptr && has_inline) value = arg.substr(name.size() + 1);
    if (s->value_name != nullptr && !has_inline) {
      if (i + 1 >= args.size()) return Bad(name, "missing value");
      value = args[++i];
    }
    for (const Given& g : given) {
      if (g.setting == s && !s->repeatable) return Bad(name, "given twice");
    }
    given.push_back(Given{s, std::move(value), name, SettingSource::kFlag});
    if (s == SettingOfFlag("--help")) return std::vector<Given>{given.back()};
  }
  return given;
}

std::vector<Given> ReadEnvironment(const std::map<std::string, std::string>& env) {
  std::vector<Given> given;
  for (const Setting& s : Settings()) {
    if (s.env == nullptr) continue;
    auto it = env.find(s.env);
    if (it == env.end() || it->second.empty()) continue;
    given.push_back(Given{&s, it->second, s.env, SettingSource::kEnvironment});
  }
  return given;
}

absl::StatusOr<std::vector<Given>> ReadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, "--config");
  if (!text.ok()) return text.status();
  const std::string what = absl::StrCat("--config \"", path, "\"");
  absl::StatusOr<ConfigJson> j = ParseConfigJson(*text, what);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return Bad(what, "must hold a JSON object ({...})");
  std::vector<std::string> keys;
  for (const Setting& s : Settings()) {
    if (s.top_level_file_key()) keys.push_back(s.file_key);
  }
  B24GATE_RETURN_IF_ERROR(CheckKeys(*j, "config", keys));
  std::vector<Given> given;
  for (const Setting& s : Settings()) {
    if (!s.top_level_file_key() || !j->contains(s.file_key)) continue;
    given.push_back(Given{&s, (*j)[s.file_key], absl::StrCat("config.", s.file_key), SettingSource::kFile});
  }
  return given;
}

absl::Status Apply(const std::vector<Given>& given, SettingsState* state) {
  for (const Given& g : given) {
    B24GATE_RETURN_IF_ERROR(g.setting->apply(SettingValue{g.value, g.where, g.source}, state));
  }
  return absl::OkStatus();
}

// Metrics and gRPC cannot share a port: whichever binds second would fail
// with a message about the other.
absl::Status CheckMetricsPort(const std::string& listen, const std::string& metrics) {
  auto split = [](const std::string& address) {
    size_t colon = address.rfind(':');
    return std::pair{address.substr(0, colon), address.substr(colon + 1)};
  };
  auto [listen_host, listen_port] = split(listen);
  auto [metrics_host, metrics_port] = split(metrics);
  auto any = [](const std::string& host) { return host == "0.0.0.0" || host == "[::]"; };
  if (listen_port != "0" && listen_port == metrics_port &&
      (listen_host == metrics_host || any(listen_host) || any(metrics_host))) {
    return Bad(absl::StrCat("metrics-listen \"", metrics, "\""),
               absl::StrCat("the same port as listen \"", listen, "\"; give metrics a port of its own"));
  }
  return absl::OkStatus();
}

absl::Status Validate(ServerConfig* config) {
  absl::StatusOr<std::string> listen = ParseListenAddress(config->listen, "listen");
  if (!listen.ok()) return listen.status();
  config->listen = *listen;
  if (!config->metrics_listen.empty()) {
    absl::StatusOr<std::string> metrics = ParseListenAddress(config->metrics_listen, "metrics-listen");
    if (!metrics.ok()) return metrics.status();
    config->metrics_listen = *metrics;
    B24GATE_RETURN_IF_ERROR(CheckMetricsPort(config->listen, config->metrics_listen));
  }
  if (!config->events_listen.empty()) {
    absl::StatusOr<std::string> events = ParseListenAddress(config->events_listen, "events-listen");
    if (!events.ok()) return events.status();
    config->events_listen = *events;
  }
  if (config->portals.empty() && !config->registers_portals()) {
    return absl::InvalidArgumentError(
        "no portal configured: pass --portal NAME=WEBHOOK_URL, set B24GATE_PORTALS, list "
        "portals in --config, or give --portal-store or an application to register them at run time");
  }
  for (const PortalOptions& portal : config->portals) {
    B24GATE_RETURN_IF_ERROR(ValidatePortal(portal));
    // Online bindings name the inbound endpoint's URL as their handler.
    if (portal.event_bindings.online && config->events_listen.empty()) {
      return Bad(absl::StrCat("portal \"", portal.name, "\": event_bindings.online"),
                 "online bindings need the inbound endpoint (--events-listen)");
    }
  }
  B24GATE_RETURN_IF_ERROR(ValidateServerTls(config->tls));
  absl::StatusOr<std::string> exposure = DescribeListenExposure(
      config->listen, config->authenticates_clients(), config->insecure_listen_any);
  return exposure.status();
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
    if (!p.application_token.empty()) secrets.push_back(p.application_token);
  }
  if (!config.redis.password.empty()) secrets.push_back(config.redis.password);
  if (!config.application.client_secret.empty()) secrets.push_back(config.application.client_secret);
  return secrets;
}

absl::StatusOr<ServerConfig> LoadConfig(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env) {
  absl::StatusOr<std::vector<Given>> parsed = ParseFlags(args);
  if (!parsed.ok()) return parsed.status();
  const std::vector<Given>& flags = *parsed;
  SettingsState state;
  const std::vector<Given> environment = ReadEnvironment(env);
  // Where the file is comes first (the flag over the variable); then every
  // source in increasing priority, each overwriting what the last set.
  for (const std::vector<Given>* source : {&environment, &flags}) {
    for (const Given& g : *source) {
      if (g.setting == SettingOfFlag("--config") || g.setting == SettingOfFlag("--help")) {
        B24GATE_RETURN_IF_ERROR(Apply({g}, &state));
      }
    }
  }
  if (state.config.help) return state.config;
  absl::StatusOr<std::vector<Given>> file = std::vector<Given>{};
  if (state.config_file) file = ReadConfigFile(*state.config_file);
  if (!file.ok()) return file.status();
  const std::vector<Given>& from_file = *file;
  for (const std::vector<Given>* source : {&from_file, &environment, &flags}) {
    B24GATE_RETURN_IF_ERROR(Apply(*source, &state));
  }
  absl::StatusOr<std::vector<PortalOptions>> portals = MergePortals(state.portals);
  if (!portals.ok()) return portals.status();
  state.config.portals = std::move(*portals);
  B24GATE_RETURN_IF_ERROR(ValidateRedisConfig(state.config.redis, state.redis_url_from));
  B24GATE_RETURN_IF_ERROR(Validate(&state.config));
  return state.config;
}

}  // namespace b24gate
