#include "engine/files/multipart.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/field_text.h"

namespace b24gate {

MultipartFraming FrameOneFile(absl::string_view field, absl::string_view file_name,
                              absl::string_view boundary) {
  MultipartFraming f;
  f.content_type = absl::StrCat("multipart/form-data; boundary=", boundary);
  f.head = absl::StrCat("--", boundary, "\r\nContent-Disposition: form-data; name=\"", field,
                        "\"; filename=\"", file_name,
                        "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
  f.tail = absl::StrCat("\r\n--", boundary, "--\r\n");
  return f;
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
