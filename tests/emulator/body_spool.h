// Keeps a REST request's long values out of memory. A request that carries
// a file as base64 inside a field value ({"fileData": [name, base64]}) can
// be hundreds of megabytes: the spool reads the body as it arrives and
// writes every string value longer than a threshold to a file of its own,
// leaving in the body text a short marker in its place. The body that is
// parsed is then small; the code that wants such a value as a file decodes
// it from disk (DecodeBase64ToFile), any other reads it back (Inflate).
//
// JSON bodies (a string's raw text, escapes and all, between its quotes)
// and form bodies (a value's raw %-encoded text, between `=` and `&`) are
// spooled; others are kept whole.
//
// Thread-safety: not thread-safe; one request's. Its files are removed
// with it.
#ifndef B24EMU_BODY_SPOOL_H_
#define B24EMU_BODY_SPOOL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace b24emu {

class BodySpool {
 public:
  enum class Encoding { kJson, kForm, kNone };
  // Files go under `dir`. A value is spooled once it passes `threshold`
  // bytes of raw text.
  BodySpool(std::string dir, Encoding encoding, size_t threshold = size_t{1} << 20);
  ~BodySpool();

  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;

  // The encoding a body of `content_type` is spooled as.
  static Encoding EncodingOf(absl::string_view content_type);

  // The next bytes of the body. False once a file could not be written.
  bool Feed(const char* data, size_t n);
  // The body with each spooled value replaced by its marker.
  std::string TakeText();

  // The file holding the raw text of the value `value` (a parsed string)
  // stands for, or nullopt when `value` is not a marker of this spool.
  std::optional<std::string> FileOf(absl::string_view value) const;
  Encoding encoding() const { return encoding_; }

  // The value a marker stands for, read back whole and decoded.
  absl::StatusOr<std::string> Inflate(absl::string_view value) const;

 private:
  // Raw text of the value being read: held, or written once spooling.
  void Append(const char* data, size_t n);
  // The value ended: its text, or its marker, then `terminator` (its
  // closing quote or `&`; none at the body's end) go into the body.
  void EndValue(char terminator);
  std::string MarkerText(size_t index) const;

  const std::string dir_;
  const Encoding encoding_;
  const size_t threshold_;
  std::string text_;     // the body without the spooled values
  std::string pending_;  // the current value until it passes the threshold
  bool in_value_ = false;
  bool escaped_ = false;  // JSON: the last byte was a backslash
  FILE* out_ = nullptr;   // the current value's file, once spooling
  bool failed_ = false;
  std::vector<std::string> files_;
};

// Decodes base64 `text` -- as it is, or the raw text of a spooled value
// read from its file in pieces -- into the file `path`. Whitespace is
// skipped (PHP's decoder does too). The byte count, or INVALID_ARGUMENT when
// the text is not base64.
absl::StatusOr<int64_t> DecodeBase64ToFile(const BodySpool* spool, absl::string_view text,
                                           const std::string& path);

}  // namespace b24emu

#endif  // B24EMU_BODY_SPOOL_H_
