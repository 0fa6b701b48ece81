#include "engine/common/field_text.h"

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0.
size_t SequenceLength(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

size_t FindInvalidUtf8(absl::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    size_t n = SequenceLength(text.substr(at));
    if (n == 0) return at;
    at += n;
  }
  return absl::string_view::npos;
}

std::string PathKey(absl::string_view key) {
  if (key.empty()) return "\"\"";
  constexpr size_t kMaxBytes = 40;
  std::string out;
  size_t at = 0;
  while (at < key.size() && at < kMaxBytes) {
    unsigned char c = static_cast<unsigned char>(key[at]);
    size_t n = SequenceLength(key.substr(at));
    if (n == 0 || c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
      ++at;
      continue;
    }
    if (at + n > kMaxBytes) break;
    out.append(key.data() + at, n);
    at += n;
  }
  if (at < key.size()) out += "...";
  return out;
}

std::string EchoText(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t cut = max;
  // Back to the start of a character: UTF-8 continuation bytes are 10xxxxxx.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(text.substr(0, cut), "...(", text.size(), " bytes)");
}

}  // namespace b24gate
