#include "service/logging/logger.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/logging/redact.h"

namespace b24gate {

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", name, "\" is not one of debug, info, warn, error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "json") return LogFormat::kJson;
  if (name == "text") return LogFormat::kText;
  return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not one of json, text"));
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

Logger::Logger(LogOptions options, std::ostream* out) : options_(options), out_(out) {}

void Logger::AddSecret(const std::string& secret) {
  // Very short strings would mask ordinary words.
  if (secret.size() < 4) return;
  absl::MutexLock lock(&mu_);
  secrets_.push_back(secret);
}

std::string Logger::Format(LogLevel level, absl::string_view message,
                           const nlohmann::ordered_json& fields) const {
  std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  if (options_.format == LogFormat::kJson) {
    nlohmann::ordered_json line = {{"time", time}, {"level", LogLevelName(level)},
                                   {"message", message}};
    for (const auto& [key, value] : fields.items()) {
      if (!value.is_null()) line[key] = value;
    }
    // Invalid UTF-8 (a portal's odd answer) is replaced, not thrown.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  std::string line = absl::StrCat(time, " ", absl::AsciiStrToUpper(LogLevelName(level)), " ",
                                  message);
  for (const auto& [key, value] : fields.items()) {
    if (value.is_null()) continue;
    std::string text = value.is_string()
                           ? value.get<std::string>()
                           : value.dump(-1, ' ', false,
                                        nlohmann::ordered_json::error_handler_t::replace);
    if (text.find(' ') != std::string::npos) text = absl::StrCat("\"", text, "\"");
    absl::StrAppend(&line, " ", key, "=", text);
  }
  return line;
}

void Logger::Log(LogLevel level, absl::string_view message, const nlohmann::ordered_json& fields) {
  if (!Enabled(level)) return;
  std::string line = RedactSecrets(Format(level, message, fields));
  // One line per event, even if a field held a newline.
  absl::StrReplaceAll({{"\n", " "}}, &line);
  absl::MutexLock lock(&mu_);
  for (const std::string& secret : secrets_) absl::StrReplaceAll({{secret, "***"}}, &line);
  // The line and its newline in one write: stderr is unbuffered, and every
  // answered RPC logs a line, so a second write(2) would cost each call a
  // system call.
  line.push_back('\n');
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
}

}  // namespace b24gate
