#include "service/logging/logger.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/logging/redact.h"

namespace b24gate {
namespace {

// The first `cap` bytes of `text` (fewer, so as not to split a UTF-8
// character) and "...", or `text` when it is no longer.
std::string CutUtf8(std::string text, size_t cap) {
  if (text.size() <= cap) return text;
  while (cap > 0 && (static_cast<unsigned char>(text[cap]) & 0xC0) == 0x80) --cap;
  text.resize(cap);
  text.append("...");
  return text;
}

// A text-format value as logfmt writes it: bare when it is one word, else
// quoted with its quotes and backslashes escaped, so a value holding
// `" level=error` cannot pass for another field of the line.
std::string TextValue(std::string text) {
  const bool bare = !text.empty() && text.find_first_of(" \"=\\\t\r\n") == std::string::npos;
  if (bare) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace

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

Logger::Logger(LogOptions options, LogSink* sink) : options_(options), sink_(sink) {}

Logger::Logger(LogOptions options, std::ostream* out)
    : options_(options), owned_sink_(std::make_unique<StreamLogSink>(out)), sink_(owned_sink_.get()) {}

void Logger::AddSecret(const std::string& secret) {
  // Very short strings would mask ordinary words.
  if (secret.size() < 4) return;
  absl::WriterMutexLock lock(&mu_);
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
    absl::StrAppend(&line, " ", key, "=", TextValue(std::move(text)));
  }
  return line;
}

std::string Logger::Mask(std::string text) const {
  text = RedactSecrets(text);
  // One line per event, even if a field held a newline.
  absl::StrReplaceAll({{"\n", " "}}, &text);
  absl::ReaderMutexLock lock(&mu_);
  for (const std::string& secret : secrets_) absl::StrReplaceAll({{secret, "***"}}, &text);
  return text;
}

nlohmann::ordered_json Logger::Shortened(const nlohmann::ordered_json& fields, size_t cap) const {
  nlohmann::ordered_json shortened = nlohmann::ordered_json::object();
  for (const auto& [key, value] : fields.items()) {
    if (value.is_null()) continue;
    const bool text = value.is_string();
    if (!text && !value.is_structured()) {
      shortened[key] = value;  // a number or a boolean: short already
      continue;
    }
    // Masked before it is cut: a secret cut in two would not be recognised.
    std::string masked = Mask(
        text ? value.get<std::string>()
             : value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    shortened[key] = CutUtf8(std::move(masked), cap);
  }
  shortened["truncated"] = true;
  return shortened;
}

std::string Logger::Line(LogLevel level, absl::string_view message,
                         const nlohmann::ordered_json& fields) const {
  std::string line = Mask(Format(level, message, fields));
  // Longer, a write(2) to a pipe may be split and another thread's line
  // land inside it.
  for (size_t cap : {size_t{1024}, size_t{256}, size_t{64}}) {
    if (line.size() < kMaxLogLineBytes) return line;
    line = Mask(Format(level, CutUtf8(Mask(std::string(message)), cap), Shortened(fields, cap)));
  }
  if (line.size() < kMaxLogLineBytes) return line;
  // So many fields that even cut they do not fit: the message alone.
  return Mask(Format(level, CutUtf8(Mask(std::string(message)), 64), {{"truncated", true}}));
}

void Logger::Log(LogLevel level, absl::string_view message, const nlohmann::ordered_json& fields) {
  if (!Enabled(level)) return;
  std::string line = Line(level, message, fields);
  // The line and its newline in one write: stderr is unbuffered, and every
  // answered RPC logs a line, so a second write(2) would cost each call a
  // system call. No lock is held: the sink keeps lines whole.
  line.push_back('\n');
  sink_->Write(line);
}

}  // namespace b24gate
