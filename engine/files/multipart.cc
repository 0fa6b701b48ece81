#include "engine/files/multipart.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/common/field_text.h"

namespace b24gate {

namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(c) || absl::StrContains("!#$%&'*+-.^_`|~", c);
}

// Consumes a token from the front of `text`; false when there is none.
bool ConsumeToken(absl::string_view* text) {
  size_t n = 0;
  while (n < text->size() && IsTokenChar((*text)[n])) ++n;
  text->remove_prefix(n);
  return n > 0;
}

// Consumes a quoted string ("...", \ escaping one printable character).
bool ConsumeQuoted(absl::string_view* text) {
  if (text->empty() || text->front() != '"') return false;
  for (size_t i = 1; i < text->size(); ++i) {
    const char c = (*text)[i];
    if (c == '"') {
      text->remove_prefix(i + 1);
      return true;
    }
    if (c == '\\') ++i;
    if (i >= text->size() || ((*text)[i] < 0x20 && (*text)[i] != '\t') || (*text)[i] == 0x7f) {
      return false;
    }
  }
  return false;
}

void SkipSpace(absl::string_view* text) {
  while (!text->empty() && (text->front() == ' ' || text->front() == '\t')) text->remove_prefix(1);
}

bool IsMediaType(absl::string_view text) {
  if (!ConsumeToken(&text) || !absl::ConsumePrefix(&text, "/") || !ConsumeToken(&text)) return false;
  while (true) {
    SkipSpace(&text);
    if (text.empty()) return true;
    if (!absl::ConsumePrefix(&text, ";")) return false;
    SkipSpace(&text);
    if (!ConsumeToken(&text) || !absl::ConsumePrefix(&text, "=")) return false;
    if (!ConsumeToken(&text) && !ConsumeQuoted(&text)) return false;
  }
}

}  // namespace

MultipartFraming FrameOneFile(absl::string_view field, absl::string_view file_name,
                              absl::string_view boundary, absl::string_view content_type) {
  MultipartFraming f;
  f.content_type = absl::StrCat("multipart/form-data; boundary=", boundary);
  f.head = absl::StrCat("--", boundary, "\r\nContent-Disposition: form-data; name=\"", field,
                        "\"; filename=\"", file_name, "\"\r\nContent-Type: ",
                        content_type.empty() ? "application/octet-stream" : content_type,
                        "\r\n\r\n");
  f.tail = absl::StrCat("\r\n--", boundary, "--\r\n");
  return f;
}

absl::Status CheckContentType(absl::string_view content_type, absl::string_view where) {
  if (content_type.empty()) return absl::OkStatus();
  if (content_type.size() > 255 || !IsMediaType(content_type)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": \"", EchoText(content_type),
        "\" is not a media type (type/subtype, then optional ; name=value parameters, "
        "printable ASCII, at most 255 bytes)"));
  }
  return absl::OkStatus();
}

absl::Status CheckFileName(absl::string_view name, absl::string_view where) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": a file name is required"));
  if (name.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": longer than 255 bytes"));
  }
  if (FindInvalidUtf8(name) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not valid UTF-8"));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || absl::StrContains("\\/:*?\"<>|", c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a file name may not contain control characters nor \\ / : * ? \" < > |"));
    }
  }
  return absl::OkStatus();
}

}  // namespace b24gate
