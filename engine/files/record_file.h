// A file in a CRM record's field (a user field of type "file"): how the
// gateway writes one and finds one again (docs/bitrix24-protocol.md,
// "Files", "A file in a record's field").
//
// Writing: crm.<entity>.update with the field's value
// {"fileData": [name, base64]}, a JSON body whose base64 text is far too
// large to hold. FieldUploadCall builds that call with a placeholder where
// the text goes; SplitAtPlaceholder cuts the request the portal encoded
// around it, so the file's bytes can be streamed into the gap, encoded on
// the way.
//
// Reading: crm.<entity>.get gives the field's value, {"id", "showUrl",
// "downloadUrl"} (a list of them for a multiple field); `downloadUrl` (or
// `urlMachine`, where a portal gives one) carries the caller's
// authorization, like a Drive DOWNLOAD_URL.
//
// A record of the universal API (entity type "item": smart processes and
// the other types by entityTypeId) is written with crm.item.update
// (entityTypeId, id, fields: {field: [name, base64]}) and read with
// crm.item.get, whose answer wraps it in {"item": ...} and gives a file as
// {"id", "url", "urlMachine"}.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_FILES_RECORD_FILE_H_
#define B24GATE_ENGINE_FILES_RECORD_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace b24gate {

// A file field of one CRM record.
struct RecordField {
  std::string entity_type;  // "deal", "lead", "contact", "company" or "item"
  int64_t record_id = 0;
  std::string field;        // the field's code, e.g. UF_CRM_1638795037
  int index = 0;            // a multiple field: which of its files (reading)
  int64_t entity_type_id = 0;  // "item" only: the record's entityTypeId
  // Writing a multiple field: keep its files and add the new one (else the
  // field holds only the new one).
  bool append = false;

  bool set() const {
    return !entity_type.empty() || record_id != 0 || !field.empty() || entity_type_id != 0 ||
           append;
  }
};

// INVALID_ARGUMENT naming `where` (e.g. "header.record_field") unless the
// entity type is known (with an entityTypeId exactly for "item"), the id
// positive and the field a plain field code.
absl::Status CheckRecordField(const RecordField& record, absl::string_view where);

// "crm.deal.update", "crm.item.get", ... REQUIRES: CheckRecordField ok.
std::string UpdateMethodOf(const RecordField& record);
std::string GetMethodOf(const RecordField& record);

// The params of GetMethodOf's call that reads the record.
nlohmann::ordered_json GetParamsOf(const RecordField& record);

// The update's params that put file `name` into the field, with
// `placeholder` where its base64 text goes. With record.append the value
// is a list: {"id": N} for each of `kept` (the field's files, which the
// portal deletes unless the update names them), then the new file.
nlohmann::ordered_json FieldUploadParams(const RecordField& record, const std::string& name,
                                         const std::string& placeholder,
                                         const std::vector<int64_t>& kept = {});

// The ids of the files a multiple field holds, in the answer of
// GetMethodOf's call (none when it is empty); NOT_FOUND when the record
// has no such field, FAILED_PRECONDITION when it holds a single file's
// value (not a multiple field: appending cannot keep its file).
absl::StatusOr<std::vector<int64_t>> FileIdsOf(const nlohmann::ordered_json& answer,
                                              const RecordField& record);

// The value in a multiple field whose id is not one of `kept`: the file an
// append added. NOT_FOUND when there is none.
absl::StatusOr<nlohmann::ordered_json> AddedFileValueOf(const nlohmann::ordered_json& answer,
                                                       const RecordField& record,
                                                       const std::vector<int64_t>& kept);

// `body` (JSON) cut around the one string "<placeholder>": `head` ends with
// its opening quote, `tail` starts with its closing one. Nullopt when it is
// not there exactly once.
struct SplitBody {
  std::string head;
  std::string tail;
};
absl::StatusOr<SplitBody> SplitAtPlaceholder(absl::string_view body,
                                             absl::string_view placeholder);

// The field's file value in the answer of GetMethodOf's call (the entry at
// record.index of a multiple field's list), or NOT_FOUND naming the field.
absl::StatusOr<nlohmann::ordered_json> FileValueOf(const nlohmann::ordered_json& answer,
                                                  const RecordField& record);

// The link a file value's bytes are read from: urlMachine, else
// downloadUrl (a URL, or a path on the portal). Empty when it has neither.
std::string FileLinkOf(const nlohmann::ordered_json& value);

// `value` with the authorization taken out of its links
// (url_credentials.h): what a caller may see.
nlohmann::ordered_json WithoutLinkCredentials(nlohmann::ordered_json value);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_RECORD_FILE_H_
