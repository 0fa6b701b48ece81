#include "engine/redis/redis_client.h"

#include <sys/time.h>

#include <algorithm>
#include <utility>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {


RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

std::string Sha1Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

}  // namespace

int64_t RedisReply::AsInt(int64_t fallback) const {
  if (type == Type::kInteger) return integer;
  int64_t v;
  if (type == Type::kString && absl::SimpleAtoi(str, &v)) return v;
  return fallback;
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

RedisClient::RedisClient(RedisOptions options, Clock* clock)
    : options_(std::move(options)), clock_(clock), backoff_(options_.min_backoff) {}

RedisClient::~RedisClient() {
  absl::MutexLock lock(&mu_);
  if (context_ != nullptr) redisFree(context_);
}

bool RedisClient::healthy() const {
  absl::MutexLock lock(&mu_);
  return context_ != nullptr;
}

bool RedisClient::WaitingToReconnect() const {
  absl::MutexLock lock(&mu_);
  return context_ == nullptr && clock_->Now() < retry_at_;
}

void RedisClient::Broken() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
  retry_at_ = clock_->Now() + backoff_;
  backoff_ = std::min(options_.max_backoff, backoff_ * 2);
}

absl::Status RedisClient::EnsureConnected() {
  if (context_ != nullptr) return absl::OkStatus();
  if (clock_->Now() < retry_at_) {
    return absl::UnavailableError(
        absl::StrCat("redis ", RedisUrlOf(options_.address), " unavailable (", last_failure_,
                     "); next attempt in ", absl::FormatDuration(retry_at_ - clock_->Now())));
  }
  timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  redisContext* c = redisConnectWithTimeout(options_.address.host.c_str(), options_.address.port,
                                            connect_timeout);
  if (c == nullptr || c->err != 0) {
    last_failure_ = c == nullptr ? "out of memory" : absl::StrCat("connect: ", c->errstr);
    if (c != nullptr) redisFree(c);
    Broken();
    return absl::UnavailableError(
        absl::StrCat("redis ", RedisUrlOf(options_.address), ": ", last_failure_));
  }
  timeval command_timeout = absl::ToTimeval(options_.command_timeout);
  redisSetTimeout(c, command_timeout);
  context_ = c;
  // The connection counts as up only once AUTH and SELECT have passed.
  if (!options_.password.empty()) {
    absl::StatusOr<RedisReply> auth = RunLocked({"AUTH", options_.password});
    if (!auth.ok()) {
      // Redis's own message ("WRONGPASS ...") never echoes the password.
      last_failure_ = absl::StrCat("AUTH: ", auth.status().message());
      if (context_ != nullptr) Broken();
      return absl::UnavailableError(
          absl::StrCat("redis ", RedisUrlOf(options_.address), ": ", last_failure_));
    }
  }
  if (options_.address.db != 0) {
    absl::StatusOr<RedisReply> select =
        RunLocked({"SELECT", absl::StrCat(options_.address.db)});
    if (!select.ok()) {
      last_failure_ = absl::StrCat("SELECT: ", select.status().message());
      if (context_ != nullptr) Broken();
      return absl::UnavailableError(
          absl::StrCat("redis ", RedisUrlOf(options_.address), ": ", last_failure_));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisClient::RunLocked(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) {
    // I/O error or timeout: the connection is in an unknown state.
    last_failure_ = context_->err != 0 ? context_->errstr : "no reply";
    if (last_failure_ == "Resource temporarily unavailable") last_failure_ = "command timed out";
    Broken();
    return absl::UnavailableError(
        absl::StrCat("redis ", RedisUrlOf(options_.address), ": ", last_failure_));
  }
  absl::StatusOr<RedisReply> out;
  if (reply->type == REDIS_REPLY_ERROR) {
    out = absl::InternalError(std::string(reply->str, reply->len));
  } else {
    out = Convert(reply);
  }
  freeReplyObject(reply);
  return out;
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  absl::StatusOr<RedisReply> reply = RunLocked(args);
  if (reply.ok()) backoff_ = options_.min_backoff;
  return reply;
}

absl::StatusOr<RedisReply> RedisClient::Eval(const RedisScript& script,
                                             const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) {
  std::vector<std::string> command = {"EVALSHA", script.sha1(), absl::StrCat(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  absl::MutexLock lock(&mu_);
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  absl::StatusOr<RedisReply> reply = RunLocked(command);
  if (!reply.ok() && reply.status().code() == absl::StatusCode::kInternal &&
      absl::StartsWith(reply.status().message(), "NOSCRIPT")) {
    absl::StatusOr<RedisReply> loaded = RunLocked({"SCRIPT", "LOAD", script.source()});
    if (!loaded.ok()) return loaded.status();
    reply = RunLocked(command);
  }
  if (reply.ok()) backoff_ = options_.min_backoff;
  return reply;
}

}  // namespace b24gate
