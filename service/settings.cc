#include "service/settings.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/auth/client_config.h"
#include "service/cache_config.h"
#include "service/limits_config.h"
#include "service/logging/logger.h"
#include "service/redis_config.h"
#include "service/tls/server_tls_options.h"

namespace b24gate {
namespace {

// Durations: shutdown waits are bounded so that a typo (1e308) cannot make
// the gateway wait for ever.
constexpr double kMaxWaitSeconds = 3600;

absl::Status Text(const SettingValue& v, std::string* out) {
  if (!v.json.is_string()) return Bad(v.where, "must be a string");
  *out = v.json.get<std::string>();
  return absl::OkStatus();
}

absl::Status Switch(const SettingValue& v, bool* out) {
  if (!v.json.is_boolean()) return Bad(v.where, "must be true or false");
  *out = v.json.get<bool>();
  return absl::OkStatus();
}

// The file's number of seconds, or a flag's "5s", "250ms" or "2.5" (seconds).
absl::Status Wait(const SettingValue& v, absl::Duration* out) {
  absl::Duration d;
  double seconds = 0;
  if (v.json.is_number()) {
    d = absl::Seconds(v.json.get<double>());
  } else if (!v.json.is_string() || v.source == SettingSource::kFile) {
    return Bad(v.where, "must be a number of seconds");
  } else if (const std::string text = v.json.get<std::string>(); absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return Bad(v.where, absl::StrCat("\"", text, "\" is not a duration (e.g. 5s, 250ms, 2.5)"));
  }
  if (!(d >= absl::ZeroDuration() && d <= absl::Seconds(kMaxWaitSeconds))) {
    return Bad(v.where, "must be a duration from 0 to 1h");
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status LogFormatOf(const SettingValue& v, LogOptions* log) {
  std::string text;
  B24GATE_RETURN_IF_ERROR(Text(v, &text));
  absl::StatusOr<LogFormat> format = ParseLogFormat(text);
  if (!format.ok()) return Bad(v.where, format.status().message());
  log->format = *format;
  return absl::OkStatus();
}

absl::Status LogLevelOf(const SettingValue& v, LogOptions* log) {
  std::string text;
  B24GATE_RETURN_IF_ERROR(Text(v, &text));
  absl::StatusOr<LogLevel> level = ParseLogLevel(text);
  if (!level.ok()) return Bad(v.where, level.status().message());
  log->level = *level;
  return absl::OkStatus();
}

// --portal NAME=URL (one per flag), B24GATE_PORTALS "NAME=URL,NAME=URL",
// or the file's list of portal objects.
absl::Status Portals(const SettingValue& v, SettingsState* s) {
  if (v.source == SettingSource::kFile) {
    absl::StatusOr<std::vector<PortalOptions>> list = ParsePortalList(v.json);
    if (!list.ok()) return list.status();
    s->portals.file = std::move(*list);
    return absl::OkStatus();
  }
  std::string text;
  B24GATE_RETURN_IF_ERROR(Text(v, &text));
  if (v.source == SettingSource::kFlag) {
    s->portals.flag_specs.push_back(text);
    return absl::OkStatus();
  }
  for (absl::string_view spec : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    s->portals.env_specs.emplace_back(absl::StripAsciiWhitespace(spec));
  }
  return absl::OkStatus();
}

// A flag's "100" or the file's 100: a whole number from 0 to 100,000.
absl::Status MetricsPortals(const SettingValue& v, SettingsState* s) {
  double n = 0;
  if (v.json.is_number()) {
    n = v.json.get<double>();
  } else if (!v.json.is_string() || !absl::SimpleAtod(v.json.get<std::string>(), &n)) {
    return Bad(v.where, "must be a number");
  }
  if (n < 0 || n > 100000 || n != static_cast<double>(static_cast<int64_t>(n))) {
    return Bad(v.where, "must be a whole number from 0 to 100000");
  }
  s->config.metrics_portals = static_cast<size_t>(n);
  return absl::OkStatus();
}

absl::Status ListReadAheadBytes(const SettingValue& v, SettingsState* s) {
  if (!v.json.is_number_integer() || v.json.get<int64_t>() < 1) {
    return Bad(v.where, "must be a whole number of bytes >= 1");
  }
  s->config.gateway.list_read_ahead_bytes = v.json.get<int64_t>();
  return absl::OkStatus();
}

// A byte count from a flag (text) or the file (a number); 0 turns it off.
absl::Status MaxFileSize(const SettingValue& v, SettingsState* s) {
  int64_t bytes = -1;
  if (v.json.is_number_integer()) bytes = v.json.get<int64_t>();
  if (v.json.is_string() && !absl::SimpleAtoi(v.json.get<std::string>(), &bytes)) bytes = -1;
  if (bytes < 0) return Bad(v.where, "must be a whole number of bytes (0: no limit)");
  s->config.max_file_size = bytes;
  return absl::OkStatus();
}

absl::Status EventsLogMaxBytes(const SettingValue& v, SettingsState* s) {
  int64_t bytes = -1;
  if (v.json.is_number_integer()) bytes = v.json.get<int64_t>();
  if (v.json.is_string() && !absl::SimpleAtoi(v.json.get<std::string>(), &bytes)) bytes = -1;
  if (bytes < (int64_t{1} << 20)) return Bad(v.where, "must be a whole number of bytes >= 1048576");
  s->config.events_log_max_bytes = bytes;
  return absl::OkStatus();
}

absl::Status EventsStreamMaxLen(const SettingValue& v, SettingsState* s) {
  int64_t n = -1;
  if (v.json.is_number_integer()) n = v.json.get<int64_t>();
  if (v.json.is_string() && !absl::SimpleAtoi(v.json.get<std::string>(), &n)) n = -1;
  if (n < 1000) return Bad(v.where, "must be a whole number >= 1000");
  s->config.events_stream_max_len = n;
  return absl::OkStatus();
}

// A duration ("72h", or seconds as a number), at least a minute.
absl::Status EventsLogMaxAge(const SettingValue& v, SettingsState* s) {
  absl::Duration d = absl::ZeroDuration();
  bool ok = v.json.is_number();
  if (ok) d = absl::Seconds(v.json.get<double>());
  if (v.json.is_string()) ok = absl::ParseDuration(v.json.get<std::string>(), &d);
  if (!ok || d < absl::Minutes(1)) return Bad(v.where, "must be a duration of at least 1m (e.g. 72h)");
  s->config.events_log_max_age = d;
  return absl::OkStatus();
}

absl::Status MaxBulkItems(const SettingValue& v, SettingsState* s) {
  if (!v.json.is_number_integer() || v.json.get<int64_t>() < 1) {
    return Bad(v.where, "must be a whole number >= 1");
  }
  s->config.gateway.limits.max_bulk_items = v.json.get<size_t>();
  return absl::OkStatus();
}

template <typename T>
absl::Status Assign(absl::StatusOr<T> parsed, T* out) {
  if (!parsed.ok()) return parsed.status();
  *out = std::move(*parsed);
  return absl::OkStatus();
}

using State = SettingsState;
using Value = SettingValue;

// The table. Namespace-scope data (constant-initialized), not a function.
const Setting kSettings[] = {
    {"--help", nullptr, nullptr, nullptr, "", "print this help and exit", false,
     [](const Value&, State* s) { s->config.help = true; return absl::OkStatus(); }},
    {"--config", "FILE", "B24GATE_CONFIG", nullptr, "", "JSON configuration file", false,
     [](const Value& v, State* s) { return Text(v, &s->config_file.emplace()); }},
    {"--listen", "HOST:PORT", "B24GATE_LISTEN", "listen", "127.0.0.1:50051",
     "gRPC address (port 0: any free port); beyond loopback only with client authentication "
     "or --insecure-listen-any",
     false, [](const Value& v, State* s) { return Text(v, &s->config.listen); }},
    {"--insecure-listen-any", nullptr, nullptr, "insecure_listen_any", "false",
     "listen beyond loopback without client authentication", false,
     [](const Value& v, State* s) { return Switch(v, &s->config.insecure_listen_any); }},
    {"--tls-cert", "FILE", nullptr, "tls.cert_file", "",
     "serve gRPC over TLS with this PEM certificate chain (re-read on change and on SIGHUP)", false,
     [](const Value& v, State* s) { return Text(v, &s->config.tls.cert_file); }},
    {"--tls-key", "FILE", nullptr, "tls.key_file", "", "the certificate's private key", false,
     [](const Value& v, State* s) { return Text(v, &s->config.tls.key_file); }},
    {"--tls-client-ca", "FILE", nullptr, "tls.client_ca_file", "",
     "mutual TLS: client certificates must be signed by these CAs", false,
     [](const Value& v, State* s) { return Text(v, &s->config.tls.client_ca_file); }},
    {nullptr, nullptr, nullptr, "tls", "", "the TLS section (cert_file, key_file, client_ca_file, "
     "require_client_cert, reload_interval_seconds)", false,
     [](const Value& v, State* s) { return Assign(ParseServerTls(v.json, v.where), &s->config.tls); }},
    {"--metrics-listen", "HOST:PORT", nullptr, "metrics_listen", "off",
     "serve Prometheus metrics at GET /metrics (beyond loopback: a warning)", false,
     [](const Value& v, State* s) { return Text(v, &s->config.metrics_listen); }},
    {"--metrics-portals", "N", nullptr, "metrics_portals", "100",
     "registered portals with series of their own (besides the configured ones); the others are "
     "summed as portal=\"other\"", false, &MetricsPortals},
    {"--portal", "NAME=WEBHOOK_URL", "B24GATE_PORTALS", "portals", "",
     "a portal's incoming webhook (the first is the default; the variable: NAME=URL,NAME=URL; "
     "the file: a list of portal objects)", true, &Portals},
    {"--plan", "standard|enterprise", nullptr, nullptr, "standard",
     "rate-limit preset of the --portal and B24GATE_PORTALS portals", false,
     [](const Value& v, State* s) { return Text(v, &s->portals.plan.emplace()); }},
    {"--ca-file", "FILE", nullptr, nullptr, "", "extra CA certificates (PEM) for those portals", false,
     [](const Value& v, State* s) { return Text(v, &s->portals.ca_file.emplace()); }},
    {"--insecure-skip-verify", nullptr, nullptr, nullptr, "false",
     "do not verify those portals' TLS certificates", false,
     [](const Value& v, State* s) { return Switch(v, &s->portals.insecure_skip_verify); }},
    {"--keep-warm-for", "DURATION", nullptr, "keep_warm_for_seconds", "5m",
     "for this long after a call to a portal, reopen at once each of its idle connections its "
     "server closes (0: off; at most 1h)",
     false, [](const Value& v, State* s) { return Wait(v, &s->config.keep_warm_for); }},
    {"--log-format", "json|text", nullptr, "log_format", "json", "log lines on stderr", false,
     [](const Value& v, State* s) { return LogFormatOf(v, &s->config.log); }},
    {"--log-level", "debug|info|warn|error", nullptr, "log_level", "info", "the least level logged",
     false, [](const Value& v, State* s) { return LogLevelOf(v, &s->config.log); }},
    {"--predrain-delay", "DURATION", nullptr, "predrain_delay_seconds", "5s",
     "after SIGTERM, keep accepting calls this long (5s, 250ms or seconds; at most 1h)", false,
     [](const Value& v, State* s) { return Wait(v, &s->config.predrain_delay); }},
    {"--shutdown-grace", "DURATION", nullptr, "shutdown_grace_seconds", "20s",
     "then answer every accepted call within this (at most 1h)", false,
     [](const Value& v, State* s) { return Wait(v, &s->config.shutdown_grace); }},
    {"--events-poll-interval", "DURATION", nullptr, "events_poll_interval_seconds", "5s",
     "a portal's offline reader reads an empty offline queue again after this (100ms to 1h)", false,
     [](const Value& v, State* s) {
       B24GATE_RETURN_IF_ERROR(Wait(v, &s->config.events_poll_interval));
       if (s->config.events_poll_interval < absl::Milliseconds(100)) {
         return Bad(v.where, "must be at least 100ms (each read is a request to the portal)");
       }
       return absl::OkStatus();
     }},
    {"--events-listen", "HOST:PORT", nullptr, "events_listen", "off",
     "serve the inbound HTTP endpoint Bitrix24 posts online events to (port 0: any free port)",
     false, [](const Value& v, State* s) { return Text(v, &s->config.events_listen); }},
    {"--events-public-url", "URL", nullptr, "events_public_url", "http://<events-listen>",
     "the inbound endpoint's URL as the portals reach it (behind an ingress: its https URL)", false,
     [](const Value& v, State* s) { return Text(v, &s->config.events_public_url); }},
    {"--events-stream-max-len", "N", nullptr, "events_stream_max_len", "1000000",
     "with --redis: the most online events each portal's Redis stream keeps; beyond it the oldest "
     "are dropped (counted)",
     false, &EventsStreamMaxLen},
    {"--events-log", "DIR", nullptr, "events_log", "/var/lib/b24gate/events",
     "keep the events (online ones with --events-listen; offline ones in DIR/offline) and the "
     "consumers' acknowledgements in this directory", false,
     [](const Value& v, State* s) { return Text(v, &s->config.events_log); }},
    {"--events-log-max-bytes", "BYTES", nullptr, "events_log_max_bytes", "1073741824",
     "the events log's size bound: beyond it the oldest events are dropped (counted)", false,
     &EventsLogMaxBytes},
    {"--events-log-max-age", "DURATION", nullptr, "events_log_max_age_seconds", "168h",
     "events older than this are dropped from the events log (counted)", false, &EventsLogMaxAge},
    {"--events-visibility-timeout", "DURATION", nullptr, "events_visibility_timeout_seconds", "5m",
     "an event (online or offline) not acknowledged this long after its delivery goes to a member "
     "of its group again (1s to 1h)",
     false,
     [](const Value& v, State* s) {
       B24GATE_RETURN_IF_ERROR(Wait(v, &s->config.events_visibility_timeout));
       if (s->config.events_visibility_timeout < absl::Seconds(1)) return Bad(v.where, "must be at least 1s");
       return absl::OkStatus();
     }},
    {"--max-file-size", "BYTES", nullptr, "max_file_size_bytes", "0",
     "UploadFile refuses larger files (0: no limit of ours)", false, &MaxFileSize},
    {"--file-stall-timeout", "DURATION", nullptr, "file_stall_timeout_seconds", "60s",
     "a file transfer in which no byte moves this long fails, and so does an UploadFile whose "
     "first message has not come this long after it opened (1s to 1h)",
     false,
     [](const Value& v, State* s) {
       B24GATE_RETURN_IF_ERROR(Wait(v, &s->config.file_stall_timeout));
       // The transfers' loop looks at its clock once a second: less means nothing.
       if (s->config.file_stall_timeout < absl::Seconds(1)) return Bad(v.where, "must be at least 1s");
       return absl::OkStatus();
     }},
    {"--redis", "redis://HOST:PORT[/DB]", "B24GATE_REDIS_URL", "redis.url", "off",
     "replicas share each portal's budget through this Redis", false,
     [](const Value& v, State* s) {
       s->redis_url_from = v.where;
       return Text(v, &s->config.redis.url);
     }},
    {"--replicas", "N", nullptr, "redis.replicas", "1",
     "replicas that may run at once; while Redis is away each uses 1/N of a portal's budget", false,
     [](const Value& v, State* s) { return ReadReplicas(v.json, v.where, &s->config.redis); }},
    {nullptr, nullptr, "B24GATE_REDIS_PASSWORD", "redis.password_file", "",
     "Redis AUTH password (never printed)", false,
     [](const Value& v, State* s) { return Text(v, &s->config.redis.password); }},
    {nullptr, nullptr, nullptr, "redis", "", "the Redis section (url, replicas, key_prefix, "
     "timeout_ms, password_file)", false,
     [](const Value& v, State* s) { return ParseRedisSection(v.json, v.where, &s->config.redis); }},
    {nullptr, nullptr, nullptr, "max_bulk_items", "1000", "older name of limits.max_bulk_items",
     false, &MaxBulkItems},
    {nullptr, nullptr, nullptr, "limits", "", "what one request may hold", false,
     [](const Value& v, State* s) { return ReadLimits(v.json, v.where, &s->config.gateway.limits); }},
    {nullptr, nullptr, nullptr, "list_read_ahead_bytes", "33554432",
     "how far a parallel GetAll reads ahead of its client, in bytes", false, &ListReadAheadBytes},
    {nullptr, nullptr, nullptr, "clients", "", "API clients and their rights (off: no client "
     "authentication)", false,
     [](const Value& v, State* s) { return Assign(ParseClients(v.json, v.where), &s->config.clients); }},
    {nullptr, nullptr, nullptr, "fair_share", "true",
     "queue the clients' commands in weighted fair order", false,
     [](const Value& v, State* s) { return Switch(v, &s->config.fair_share); }},
    {"--portal-store", "DIR", "B24GATE_PORTAL_STORE", "portal_store", "memory",
     "keep the portals registered at run time and their rotated tokens in this directory (with "
     "--redis: in Redis)", false,
     [](const Value& v, State* s) { return Text(v, &s->config.portal_store); }},
    {nullptr, nullptr, nullptr, "application", "", "the OAuth application of the portals "
     "registered at run time (client_id, client_secret_file, oauth_url)", false,
     [](const Value& v, State* s) {
       return Assign(ParseApplication(v.json, v.where), &s->config.application);
     }},
    {nullptr, nullptr, nullptr, "cache", "", "the read cache (off without rules)", false,
     [](const Value& v, State* s) { return Assign(ParseCacheConfig(v.json, v.where), &s->config.cache); }},
};

}  // namespace

absl::Span<const Setting> Settings() { return kSettings; }

bool Setting::top_level_file_key() const {
  return file_key != nullptr && !absl::StrContains(file_key, ".");
}

std::string SettingsUsage() {
  std::string text =
      "usage: b24gate [flags]\n"
      "Flags win over environment variables, which win over the config file (see README "
      "\"Configuration\").\n";
  for (const Setting& s : Settings()) {
    std::string name = s.flag == nullptr ? "(no flag)" : s.flag;
    if (s.value_name != nullptr) absl::StrAppend(&name, " ", s.value_name);
    std::vector<std::string> sources;
    if (s.env != nullptr) sources.push_back(absl::StrCat("env ", s.env));
    if (s.file_key != nullptr) sources.push_back(absl::StrCat("file ", s.file_key));
    if (*s.default_text != '\0') sources.push_back(absl::StrCat("default ", s.default_text));
    absl::StrAppend(&text, "  ", name, "\n");
    if (!sources.empty()) absl::StrAppend(&text, "      [", absl::StrJoin(sources, "; "), "]\n");
    absl::StrAppend(&text, "      ", s.help, "\n");
  }
  return text;
}

}  // namespace b24gate
