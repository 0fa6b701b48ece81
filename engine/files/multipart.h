// The multipart/form-data framing of a one-file form (RFC 7578): what goes
// before the file's bytes and what after, so the bytes themselves can be
// streamed in between without ever being held.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_FILES_MULTIPART_H_
#define B24GATE_ENGINE_FILES_MULTIPART_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace b24gate {

struct MultipartFraming {
  std::string content_type;  // "multipart/form-data; boundary=..."
  std::string head;          // boundary and the part's headers
  std::string tail;          // the closing boundary
};

// The framing of one part named `field` carrying a file `file_name` of
// `content_type` ("" : application/octet-stream). `boundary` must not
// occur in the file: a random one of 32+ characters is what every client
// uses. REQUIRES: CheckFileName(file_name), CheckContentType(content_type)
// and the field name are OK.
MultipartFraming FrameOneFile(absl::string_view field, absl::string_view file_name,
                              absl::string_view boundary, absl::string_view content_type = "");

// A media type a part's Content-Type header can carry (RFC 9110):
// type/subtype, then optional parameters (; name=value, the value a token
// or a quoted string), printable ASCII only, at most 255 bytes; "" is
// allowed (the default). INVALID_ARGUMENT naming `where` otherwise.
absl::Status CheckContentType(absl::string_view content_type, absl::string_view where);

// A file name Bitrix24's Drive accepts and a form header can carry: not
// empty, at most 255 bytes of UTF-8, none of the characters \ / : * ? " < > |
// nor control characters. INVALID_ARGUMENT naming `where` otherwise.
absl::Status CheckFileName(absl::string_view name, absl::string_view where);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_MULTIPART_H_
