// Structured log lines on one stream (stderr in the server): one JSON object
// per line, or a human-readable text line.
//
// Every line carries time, level and message, plus the fields the caller
// gives (portal, method, grpc_method, request_id, outcome, duration_ms, ...).
// Secrets never reach the stream: each line passes through RedactSecrets, and
// any string registered with AddSecret (webhook codes, OAuth secrets and
// tokens from the configuration) is replaced by "***" wherever it appears.
//
// A line is at most kMaxLogLineBytes long (log_sink.h says why): a longer
// one has its values cut, after they were masked, and says "truncated".
//
// Thread-safety: thread-safe. A line is made under no lock and handed to the
// sink under none (a thread whose write waits holds up no other); the sink
// keeps lines from several threads whole. A line is in the sink when Log
// returns.
#ifndef B24GATE_SERVICE_LOGGING_LOGGER_H_
#define B24GATE_SERVICE_LOGGING_LOGGER_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/logging/log_sink.h"

namespace b24gate {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kJson, kText };

// "debug" | "info" | "warn" | "error"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
// "json" | "text"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);
const char* LogLevelName(LogLevel level);

struct LogOptions {
  LogFormat format = LogFormat::kJson;
  LogLevel level = LogLevel::kInfo;
};

class Logger {
 public:
  // `sink` must outlive the logger.
  Logger(LogOptions options, LogSink* sink);
  // Through a StreamLogSink: for in-memory streams (tests). `out` must
  // outlive the logger.
  Logger(LogOptions options, std::ostream* out);

  bool Enabled(LogLevel level) const { return level >= options_.level; }

  // Writes one line when `level` is enabled. `fields` is a JSON object;
  // null fields are left out.
  void Log(LogLevel level, absl::string_view message,
           const nlohmann::ordered_json& fields = nlohmann::ordered_json::object());

  // `secret` (if at least 4 characters) is masked in every later line.
  void AddSecret(const std::string& secret);

 private:
  std::string Format(LogLevel level, absl::string_view message,
                     const nlohmann::ordered_json& fields) const;
  // Format's line, masked, within kMaxLogLineBytes with its newline.
  std::string Line(LogLevel level, absl::string_view message,
                   const nlohmann::ordered_json& fields) const;
  // `text` with every secret masked and on one line.
  std::string Mask(std::string text) const;
  // `fields` with each value masked and cut to `cap` bytes, and "truncated".
  nlohmann::ordered_json Shortened(const nlohmann::ordered_json& fields, size_t cap) const;

  const LogOptions options_;
  const std::unique_ptr<LogSink> owned_sink_;  // the ostream constructor's
  LogSink* const sink_;
  mutable absl::Mutex mu_;
  std::vector<std::string> secrets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LOGGING_LOGGER_H_
