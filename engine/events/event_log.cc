#include "engine/events/event_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kPrefix[] = "events-";
constexpr char kSuffix[] = ".log";

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The segment numbers in `dir`, ascending.
absl::StatusOr<std::vector<int64_t>> ListSegments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Errno(absl::StrCat("events log ", dir));
  std::vector<int64_t> numbers;
  while (dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    const size_t prefix = sizeof kPrefix - 1, suffix = sizeof kSuffix - 1;
    if (name.size() <= prefix + suffix || name.compare(0, prefix, kPrefix) != 0 ||
        name.compare(name.size() - suffix, suffix, kSuffix) != 0) {
      continue;
    }
    int64_t n = 0;
    if (absl::SimpleAtoi(name.substr(prefix, name.size() - prefix - suffix), &n)) numbers.push_back(n);
  }
  closedir(d);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

void SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

EventLog::EventLog(Options options, Clock* clock, int lock_fd)
    : options_(std::move(options)), clock_(clock), lock_fd_(lock_fd) {}

std::string EventLog::PathOf(int64_t number) const {
  return absl::StrFormat("%s/%s%020d%s", options_.dir, kPrefix, number, kSuffix);
}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(
    Options options, Clock* clock, const std::function<void(const Json&)>& replay) {
  if (options.segment_bytes <= 0) {
    options.segment_bytes = std::max<int64_t>(options.max_bytes / 16, 64 << 10);
  }
  if (mkdir(options.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno(absl::StrCat("events log ", options.dir));
  }
  const std::string lock_path = options.dir + "/LOCK";
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Errno(absl::StrCat("events log ", lock_path));
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    close(lock_fd);
    return absl::FailedPreconditionError(
        absl::StrCat("events log ", options.dir, " is in use by another process"));
  }
  std::unique_ptr<EventLog> log(new EventLog(std::move(options), clock, lock_fd));
  absl::StatusOr<std::vector<int64_t>> numbers = ListSegments(log->options_.dir);
  if (!numbers.ok()) return numbers.status();
  if (numbers->empty()) numbers->push_back(1);
  int64_t last_seq = 0;
  for (size_t i = 0; i < numbers->size(); ++i) {
    Segment segment;
    segment.number = (*numbers)[i];
    segment.last_seq = last_seq;
    if (absl::Status s = log->ReadSegment(&segment, i + 1 == numbers->size(), replay); !s.ok()) return s;
    last_seq = segment.last_seq;
    log->bytes_ += segment.bytes;
    log->segments_.push_back(segment);
  }
  if (absl::Status s = log->OpenActive(); !s.ok()) return s;
  return log;
}

// The last segment may end in a torn record (the process died while
// writing it, so it was never durable): it is cut off. Anywhere else a bad
// record is damage, refused.
absl::Status EventLog::ReadSegment(Segment* segment, bool last,
                                   const std::function<void(const Json&)>& replay) {
  const std::string path = PathOf(segment->number);
  std::ifstream in(path, std::ios::binary);
  if (!in) return last ? absl::OkStatus() : Errno(absl::StrCat("events log ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  size_t good = 0;
  while (good < text.size()) {
    const size_t end = text.find('\n', good);
    Json record = end == std::string::npos
                      ? Json()
                      : Json::parse(text.begin() + good, text.begin() + end, nullptr, false);
    if (!record.is_object()) break;
    if (record.contains("s") && record["s"].is_number_integer()) {
      segment->last_seq = std::max(segment->last_seq, record["s"].get<int64_t>());
      const int64_t at = record.value("at", int64_t{0});
      if (segment->first_ms == 0) segment->first_ms = at;
      segment->newest_ms = std::max(segment->newest_ms, at);
    }
    replay(record);
    good = end + 1;
  }
  if (good < text.size()) {
    if (!last) return absl::InternalError(absl::StrCat("events log ", path, ": damaged at byte ", good));
    if (truncate(path.c_str(), static_cast<off_t>(good)) != 0) {
      return Errno(absl::StrCat("events log ", path));
    }
  }
  segment->bytes = static_cast<int64_t>(good);
  return absl::OkStatus();
}

absl::Status EventLog::OpenActive() {
  const std::string path = PathOf(segments_.back().number);
  active_fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (active_fd_ < 0) return Errno(absl::StrCat("events log ", path));
  SyncDir(options_.dir);  // the new file's name is durable too
  return absl::OkStatus();
}

EventLog::~EventLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (active_fd_ >= 0) close(active_fd_);
  close(lock_fd_);
}

void EventLog::Start(Owner* owner, OnDrop on_drop) {
  owner_ = owner;
  on_drop_ = std::move(on_drop);
  writer_ = std::thread([this] { Loop(); });
}

int64_t EventLog::Append(const Json& record, Done done) {
  Pending p;
  p.line = record.dump() + "\n";
  if (record.contains("s") && record["s"].is_number_integer()) {
    p.seq = record["s"].get<int64_t>();
    p.at_ms = record.value("at", int64_t{0});
  }
  p.done = std::move(done);
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(p));
  return ++next_ticket_;
}

absl::Status EventLog::WaitDurable(int64_t ticket) {
  absl::MutexLock lock(&mu_);
  auto durable = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return durable_ticket_ >= ticket; };
  mu_.Await(absl::Condition(&durable));
  return failed_;
}

void EventLog::Loop() {
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; };
  for (;;) {
    std::vector<Pending> batch;
    int64_t last_ticket = 0;
    absl::Status failed;
    {
      absl::MutexLock lock(&mu_);
      // Wakes now and then without work too, so an idle log still ages out.
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10));
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
      last_ticket = next_ticket_;
      failed = failed_;
    }
    absl::Status status = batch.empty() || !failed.ok() ? failed : Write(batch);
    {
      absl::MutexLock lock(&mu_);
      if (!status.ok() && failed_.ok()) failed_ = status;
      durable_ticket_ = last_ticket;
    }
    for (Pending& p : batch) {
      if (p.done) p.done(status);
    }
    if (status.ok()) Maintain();
  }
}

absl::Status EventLog::Write(const std::vector<Pending>& batch) {
  std::string data;
  Segment& active = segments_.back();
  for (const Pending& p : batch) {
    data += p.line;
    if (p.seq != 0) {
      active.last_seq = std::max(active.last_seq, p.seq);
      if (active.first_ms == 0) active.first_ms = p.at_ms;
      active.newest_ms = std::max(active.newest_ms, p.at_ms);
    }
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(active_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(absl::StrCat("events log ", PathOf(active.number)));
    done += static_cast<size_t>(n);
  }
  if (fdatasync(active_fd_) != 0) return Errno(absl::StrCat("events log ", PathOf(active.number)));
  active.bytes += static_cast<int64_t>(data.size());
  bytes_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

void EventLog::Maintain() {
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const int64_t max_age_ms = absl::ToInt64Milliseconds(options_.max_age);
  const Segment& active = segments_.back();
  const bool old = active.first_ms != 0 && now_ms - active.first_ms > max_age_ms / 2;
  if (active.bytes >= options_.segment_bytes || old) {
    if (absl::Status s = Roll(); !s.ok()) {
      absl::MutexLock lock(&mu_);
      if (failed_.ok()) failed_ = s;
      return;
    }
  }
  const int64_t needed = owner_->OldestNeeded();
  while (segments_.size() > 1 && segments_.front().last_seq < needed) RemoveOldest();
  while (segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    const char* why = bytes_.load() > options_.max_bytes           ? "size"
                      : now_ms - oldest.newest_ms > max_age_ms     ? "age"
                                                                   : nullptr;
    if (why == nullptr) break;
    const int64_t seq = oldest.last_seq;
    const int64_t dropped = owner_->DropThrough(seq);
    RemoveOldest();
    if (dropped > 0 && on_drop_) on_drop_(dropped, seq, why);
  }
}

absl::Status EventLog::Roll() {
  Segment next;
  next.number = segments_.back().number + 1;
  next.last_seq = segments_.back().last_seq;
  close(active_fd_);
  segments_.push_back(next);
  if (absl::Status s = OpenActive(); !s.ok()) return s;
  std::vector<Pending> snapshot;
  for (const Json& record : owner_->Snapshot()) {
    snapshot.push_back(Pending{record.dump() + "\n", 0, 0, nullptr});
  }
  return snapshot.empty() ? absl::OkStatus() : Write(snapshot);
}

void EventLog::RemoveOldest() {
  const Segment& oldest = segments_.front();
  std::remove(PathOf(oldest.number).c_str());
  bytes_ -= oldest.bytes;
  segments_.pop_front();
}

}  // namespace b24gate
