// Reads what Bitrix24 POSTs to an event handler: a form-encoded body
// (`event=ONCRMDEALUPDATE&event_handler_id=7&data[FIELDS][ID]=42&ts=...&
// auth[domain]=...&auth[member_id]=...&auth[application_token]=...`), the
// same for online events, ONOFFLINEEVENT and the application's install and
// uninstall events. The body comes from the internet: it is checked for
// size and shape before it is decoded, and anything odd is refused.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_EVENTS_INBOUND_POST_H_
#define B24GATE_ENGINE_EVENTS_INBOUND_POST_H_

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace b24gate {

struct InboundPost {
  std::string event;       // upper case, 1 to 64 of A-Z 0-9 _
  std::string handler_id;  // event_handler_id; "" when absent
  std::string ts;          // as sent; "" when absent
  std::string domain;             // auth[domain]
  std::string member_id;          // auth[member_id]
  std::string application_token;  // auth[application_token]; a secret
  // data[...] as an object ({} when absent); FIELDS.ID is the record.
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  // Every auth[...] field as text (tokens included: never log it).
  nlohmann::ordered_json auth = nlohmann::ordered_json::object();
};

struct InboundPostLimits {
  size_t max_bytes = 64 * 1024;
  size_t max_fields = 256;  // name=value pairs
  size_t max_depth = 6;     // [..] levels in one name
};

// INVALID_ARGUMENT naming what is wrong (never quoting a token) when the
// body is too large, has too many fields or levels, is not form encoding,
// or lacks a valid `event`.
absl::StatusOr<InboundPost> ParseInboundPost(absl::string_view body,
                                             const InboundPostLimits& limits = {});

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_INBOUND_POST_H_
