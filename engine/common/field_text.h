// Small helpers for checking caller text and naming where it sits: UTF-8
// validation, and a printable form of a key for error messages, so a path
// such as `params.FIELDS.TITLE` can name a field whatever bytes its keys hold.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_COMMON_FIELD_TEXT_H_
#define B24GATE_ENGINE_COMMON_FIELD_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace b24gate {

// The offset of the first byte of `text` that does not belong to a
// well-formed UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF are ill-formed), or npos when `text` is valid UTF-8.
size_t FindInvalidUtf8(absl::string_view text);

// `key` as it appears in a path: at most 40 bytes (then "..."), cut at a
// character boundary; control characters, '"' and '\' and bytes outside
// valid UTF-8 are written as \xHH, so the result is always short valid UTF-8.
// An empty key is written as "" (two quotes).
std::string PathKey(absl::string_view key);

// The most of a caller's (or a portal's) text an error message quotes.
inline constexpr size_t kMaxEchoBytes = 200;

// `text` as an error message quotes it: whole when it is at most `max`
// bytes, else its first bytes (cut at a character boundary) and
// "...(N bytes)". A request's text can be megabytes long, and a status
// message travels in gRPC metadata, which clients cap at 8 KiB.
std::string EchoText(absl::string_view text, size_t max = kMaxEchoBytes);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_FIELD_TEXT_H_
