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

BytePipe::WriteResult BytePipe::Write(absl::string_view data) {
  std::function<void()> wake;
  {
    absl::MutexLock lock(&mu_);
    if (aborted_) return WriteResult::kAborted;
    if (buffer_.size() - read_pos_ >= capacity_) {
      writer_waiting_ = true;
      return WriteResult::kFull;
    }
    if (read_pos_ > 0) {  // drop what was read before growing
      buffer_.erase(0, read_pos_);
      read_pos_ = 0;
    }
    buffer_.append(data.data(), data.size());
    if (reader_waiting_ && !data.empty()) {
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
  ReadResult result;
  {
    absl::MutexLock lock(&mu_);
    *n = 0;
    if (aborted_) return ReadResult::kAborted;
    const size_t held = buffer_.size() - read_pos_;
    if (held == 0) {
      if (closed_) return ReadResult::kEnd;
      reader_waiting_ = true;
      return ReadResult::kEmpty;
    }
    *n = std::min(max, held);
    std::memcpy(out, buffer_.data() + read_pos_, *n);
    read_pos_ += *n;
    if (read_pos_ == buffer_.size()) {
      buffer_.clear();
      read_pos_ = 0;
    }
    result = ReadResult::kData;
    if (writer_waiting_ && buffer_.size() - read_pos_ < capacity_) {
      writer_waiting_ = false;
      wake = writer_wake_;
    }
  }
  Run(wake);
  return result;
}

void BytePipe::Abort() {
  std::function<void()> reader;
  std::function<void()> writer;
  {
    absl::MutexLock lock(&mu_);
    if (aborted_) return;
    aborted_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    read_pos_ = 0;
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
