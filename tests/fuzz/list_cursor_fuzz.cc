// Fuzzes DecodeListCursor: a GetAll resume_cursor comes back from the client,
// so any text must decode to a cursor or be refused with INVALID_ARGUMENT --
// never crash or throw.
//
// The input is used twice: as the cursor text itself, and as the JSON inside
// a cursor (web-safe base64 of it), where the text "HASH" stands for the
// right request hash so that mutations get past the hash check. An accepted
// cursor must encode and decode to itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/lists/list_cursor.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void Check(const std::string& text, uint64_t hash) {
  absl::StatusOr<b24gate::ListCursor> cursor = b24gate::DecodeListCursor(text, hash);
  if (!cursor.ok()) {
    FUZZ_CHECK(cursor.status().code() == absl::StatusCode::kInvalidArgument,
               "refusal is not INVALID_ARGUMENT: " + cursor.status().ToString());
    return;
  }
  FUZZ_CHECK(cursor->delivered >= 0, "negative count accepted");
  absl::StatusOr<b24gate::ListCursor> again =
      b24gate::DecodeListCursor(b24gate::EncodeListCursor(*cursor, hash), hash);
  FUZZ_CHECK(again.ok() && again->strategy == cursor->strategy &&
                 again->delivered == cursor->delivered && again->state == cursor->state,
             "cursor does not survive encode/decode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const uint64_t hash = b24gate::ListRequestHash(
      "crm.lead.list", b24gate::Json{{"select", {"ID"}}}, "");
  const std::string input(reinterpret_cast<const char*>(data), size);
  Check(input, hash);
  std::string json = absl::StrReplaceAll(input, {{"HASH", absl::StrCat(absl::Hex(hash))}});
  Check(absl::WebSafeBase64Escape(json), hash);
  return 0;
}
