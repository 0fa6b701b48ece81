#include "tests/emulator/body_spool.h"

#include <unistd.h>

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace b24emu {
namespace {

constexpr char kMarker[] = "\x01spool:";
constexpr size_t kReadPiece = 64 * 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Base64 text to bytes, a character at a time, into a file.
class Base64Writer {
 public:
  explicit Base64Writer(FILE* out) : out_(out) {}

  // False once the text is not base64.
  bool Put(char c) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) return true;
    if (c == '=') {
      padded_ = true;
      return true;
    }
    const int v = Sextet(c);
    if (v < 0 || padded_) return false;
    bits_ = (bits_ << 6) | static_cast<uint32_t>(v);
    if (++count_ == 4) {
      Emit(3);
      count_ = 0;
      bits_ = 0;
    }
    return true;
  }

  // The bytes written, or -1 when the text ended inside a group.
  int64_t Finish() {
    if (count_ == 1) return -1;
    if (count_ > 1) {
      bits_ <<= 6 * (4 - count_);
      Emit(count_ - 1);
    }
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size()) {
      return -1;
    }
    return written_ + static_cast<int64_t>(buffer_.size());
  }

 private:
  static int Sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  }

  void Emit(int bytes) {
    for (int i = 0; i < bytes; ++i) {
      buffer_.push_back(static_cast<char>((bits_ >> (16 - 8 * i)) & 0xff));
    }
    if (buffer_.size() >= kReadPiece) {
      written_ += static_cast<int64_t>(std::fwrite(buffer_.data(), 1, buffer_.size(), out_));
      buffer_.clear();
    }
  }

  FILE* const out_;
  uint32_t bits_ = 0;
  int count_ = 0;
  bool padded_ = false;
  std::string buffer_;
  int64_t written_ = 0;
};

// Undoes a spooled value's encoding a piece at a time: JSON escapes or
// %XX / '+'. Only what base64 text can hold needs to come through; any
// other escape is passed on as a character base64 refuses.
class Unescaper {
 public:
  explicit Unescaper(BodySpool::Encoding encoding) : encoding_(encoding) {}

  template <typename Sink>
  bool Feed(absl::string_view raw, Sink&& sink) {
    for (char c : raw) {
      if (!Step(c, sink)) return false;
    }
    return true;
  }
  bool complete() const { return held_.empty(); }

 private:
  template <typename Sink>
  bool Step(char c, Sink& sink) {
    if (encoding_ == BodySpool::Encoding::kJson) {
      if (held_.empty() && c != '\\') return sink(c);
      held_.push_back(c);
      if (held_.size() < 2) return true;
      const char e = held_[1];
      held_.clear();
      if (e == 'n' || e == 'r' || e == 't') return sink(' ');
      return sink(e == '/' || e == '\\' || e == '"' ? e : '\x01');
    }
    if (held_.empty() && c != '%') return sink(c == '+' ? ' ' : c);
    held_.push_back(c);
    if (held_.size() < 3) return true;
    const int hi = HexValue(held_[1]);
    const int lo = HexValue(held_[2]);
    held_.clear();
    return sink(hi < 0 || lo < 0 ? '\x01' : static_cast<char>(hi * 16 + lo));
  }

  const BodySpool::Encoding encoding_;
  std::string held_;
};

}  // namespace

BodySpool::BodySpool(std::string dir, Encoding encoding, size_t threshold)
    : dir_(std::move(dir)), encoding_(encoding), threshold_(threshold) {}

BodySpool::~BodySpool() {
  if (out_ != nullptr) std::fclose(out_);
  for (const std::string& path : files_) ::unlink(path.c_str());
}

BodySpool::Encoding BodySpool::EncodingOf(absl::string_view content_type) {
  const std::string type = absl::AsciiStrToLower(content_type);
  if (absl::StrContains(type, "json")) return Encoding::kJson;
  if (type.empty() || absl::StrContains(type, "application/x-www-form-urlencoded")) {
    return Encoding::kForm;
  }
  return Encoding::kNone;
}

bool BodySpool::Feed(const char* data, size_t n) {
  if (encoding_ == Encoding::kNone) {
    text_.append(data, n);
    return true;
  }
  const bool json = encoding_ == Encoding::kJson;
  size_t i = 0;
  while (i < n) {
    if (!in_value_) {
      const char opener = json ? '"' : '=';
      size_t j = i;
      while (j < n && data[j] != opener) ++j;
      text_.append(data + i, j - i);
      if (j == n) break;
      text_.push_back(opener);
      in_value_ = true;
      escaped_ = false;
      i = j + 1;
      continue;
    }
    size_t j = i;
    bool ended = false;
    for (; j < n; ++j) {
      const char c = data[j];
      if (!json) {
        if (c == '&') break;
        continue;
      }
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        break;
      }
    }
    ended = j < n;
    Append(data + i, j - i);
    if (ended) EndValue(data[j]);
    i = ended ? j + 1 : j;
  }
  return !failed_;
}

void BodySpool::Append(const char* data, size_t n) {
  if (out_ == nullptr) {
    pending_.append(data, n);
    if (pending_.size() <= threshold_) return;
    files_.push_back(absl::StrCat(dir_, "/spool-", ::getpid(), "-",
                                  reinterpret_cast<uintptr_t>(this), "-", files_.size()));
    out_ = std::fopen(files_.back().c_str(), "wb");
    if (out_ == nullptr) {
      failed_ = true;
      files_.pop_back();
      pending_.clear();
      return;
    }
    data = pending_.data();
    n = pending_.size();
  }
  failed_ = failed_ || std::fwrite(data, 1, n, out_) != n;
  pending_.clear();
}

void BodySpool::EndValue(char terminator) {
  if (out_ != nullptr) {
    failed_ = std::fclose(out_) != 0 || failed_;
    out_ = nullptr;
    text_ += MarkerText(files_.size() - 1);
  } else {
    text_ += pending_;
  }
  pending_.clear();
  if (terminator != '\0') text_.push_back(terminator);
  in_value_ = false;
}

std::string BodySpool::TakeText() {
  if (in_value_) EndValue('\0');
  return std::move(text_);
}

std::string BodySpool::MarkerText(size_t index) const {
  return encoding_ == Encoding::kJson ? absl::StrCat("\\u0001spool:", index)
                                      : absl::StrCat("%01spool%3A", index);
}

std::optional<std::string> BodySpool::FileOf(absl::string_view value) const {
  if (!absl::ConsumePrefix(&value, kMarker)) return std::nullopt;
  size_t index = 0;
  if (!absl::SimpleAtoi(value, &index) || index >= files_.size()) return std::nullopt;
  return files_[index];
}

absl::StatusOr<std::string> BodySpool::Inflate(absl::string_view value) const {
  std::optional<std::string> path = FileOf(value);
  if (!path) return std::string(value);
  FILE* in = std::fopen(path->c_str(), "rb");
  if (in == nullptr) return absl::InternalError("a spooled value is gone");
  std::string raw;
  std::array<char, kReadPiece> piece;
  while (size_t n = std::fread(piece.data(), 1, piece.size(), in)) raw.append(piece.data(), n);
  std::fclose(in);
  if (encoding_ == Encoding::kJson) {
    nlohmann::json parsed = nlohmann::json::parse("\"" + raw + "\"", nullptr, false);
    if (!parsed.is_string()) return absl::InvalidArgumentError("a long string is not valid JSON");
    return parsed.get<std::string>();
  }
  std::string decoded;
  Unescaper unescape(encoding_);
  unescape.Feed(raw, [&](char c) {
    decoded.push_back(c);
    return true;
  });
  return decoded;
}

absl::StatusOr<int64_t> DecodeBase64ToFile(const BodySpool* spool, absl::string_view text,
                                           const std::string& path) {
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return absl::InternalError("cannot write the file");
  Base64Writer writer(out);
  auto put = [&writer](char c) { return writer.Put(c); };
  bool ok = true;
  std::optional<std::string> spooled = spool != nullptr ? spool->FileOf(text) : std::nullopt;
  if (!spooled) {
    for (char c : text) ok = ok && writer.Put(c);
  } else if (FILE* in = std::fopen(spooled->c_str(), "rb"); in != nullptr) {
    Unescaper unescape(spool->encoding());
    std::array<char, kReadPiece> piece;
    while (size_t n = std::fread(piece.data(), 1, piece.size(), in)) {
      if (!(ok = unescape.Feed(absl::string_view(piece.data(), n), put))) break;
    }
    ok = ok && unescape.complete();
    std::fclose(in);
  } else {
    ok = false;
  }
  const int64_t size = ok ? writer.Finish() : -1;
  if (std::fclose(out) != 0 || size < 0) {
    ::unlink(path.c_str());
    return absl::InvalidArgumentError("the file's content is not valid base64");
  }
  return size;
}

}  // namespace b24emu
