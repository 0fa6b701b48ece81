// Takes the portal's authorization out of every file link in a result
// before it leaves the gateway (engine/files/url_credentials.h says which
// links carry it and why). Every RPC that hands a portal's answer to a
// caller -- Call, CallBatch, CallMany, GetById, GetAll -- passes it through
// here; callers download files through FilesService.DownloadFile.
//
// Thread-safety: pure function.
#ifndef B24GATE_SERVICE_RESULT_LINKS_H_
#define B24GATE_SERVICE_RESULT_LINKS_H_

#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <nlohmann/json.hpp>

namespace b24gate {

// Strips auth parameters from every link in `value`, at any depth.
void StripLinkCredentials(google::protobuf::Value* value);
void StripLinkCredentials(nlohmann::ordered_json* value);

// `items` as one JSON array, each stripped as above, keys in the portal's
// order. Text that is not UTF-8 is replaced (U+FFFD), as a protobuf string
// must be UTF-8.
std::string ItemsJsonText(std::vector<nlohmann::ordered_json>& items);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_RESULT_LINKS_H_
