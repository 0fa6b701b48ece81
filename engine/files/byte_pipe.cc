#include "engine/files/byte_pipe.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace b24gate {

void BytePipe::SetReaderWake(std::function<void()> wake) {
  absl::MutexLock lock(&mu_);
  reader_wake_ = std::move(wake);
}

void BytePipe::SetWriterWake(std::function<void()> wake) {
  absl::MutexLock lock(&mu_);
  writer_wake_ = std::move(wake);
}

BytePipe::WriteResult BytePipe::Write(absl::string_view data) { return Put(data, nullptr); }

BytePipe::WriteResult BytePipe::Write(std::string* data) { return Put(*data, data); }

BytePipe::WriteResult BytePipe::Put(absl::string_view data, std::string* owner) {
  std::function<void()> wake;
  {
    absl::MutexLock lock(&mu_);
    if (aborted_) return WriteResult::kAborted;
    if (held_ >= capacity_) {
      writer_waiting_ = true;
      return WriteResult::kFull;
    }
    if (data.empty()) return WriteResult::kTaken;
    held_ += data.size();
    if (owner != nullptr) {
      chunks_.push_back(std::move(*owner));
      owner->clear();
    } else {
      chunks_.emplace_back(data);
    }
    if (reader_waiting_) {
      reader_waiting_ = false;
      wake = reader_wake_;
    }
  }
  Run(wake);
  return WriteResult::kTaken;
}

void BytePipe::Close() {
  std::function<void()> wake;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    if (reader_waiting_) {
      reader_waiting_ = false;
      wake = reader_wake_;
    }
  }
  Run(wake);
}

BytePipe::ReadResult BytePipe::Read(char* out, size_t max, size_t* n) {
  std::function<void()> wake;
  {
    absl::MutexLock lock(&mu_);
    *n = 0;
    if (aborted_) return ReadResult::kAborted;
    if (held_ == 0) {
      if (closed_) return ReadResult::kEnd;
      reader_waiting_ = true;
      return ReadResult::kEmpty;
    }
    while (*n < max && !chunks_.empty()) {
      const std::string& front = chunks_.front();
      const size_t piece = std::min(max - *n, front.size() - read_pos_);
      std::memcpy(out + *n, front.data() + read_pos_, piece);
      *n += piece;
      read_pos_ += piece;
      if (read_pos_ == front.size()) {
        chunks_.pop_front();
        read_pos_ = 0;
      }
    }
    held_ -= *n;
    if (writer_waiting_ && held_ < capacity_) {
      writer_waiting_ = false;
      wake = writer_wake_;
    }
  }
  Run(wake);
  return ReadResult::kData;
}

void BytePipe::Abort() {
  std::function<void()> reader;
  std::function<void()> writer;
  {
    absl::MutexLock lock(&mu_);
    if (aborted_) return;
    aborted_ = true;
    chunks_.clear();
    read_pos_ = 0;
    held_ = 0;
    reader = reader_wake_;
    writer = writer_wake_;
  }
  Run(reader);
  Run(writer);
}

bool BytePipe::aborted() const {
  absl::MutexLock lock(&mu_);
  return aborted_;
}

}  // namespace b24gate
