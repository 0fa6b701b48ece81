// The idle limit a server announces in its `Keep-Alive` answer header
// (RFC 9112's predecessor RFC 2068 section 19.7.1; sent by Apache, by nginx
// when keepalive_timeout has its second, header_timeout, parameter, and by
// cpp-httplib, so by the emulator): "timeout=5, max=100". The server closes
// a connection idle that many seconds.
#ifndef B24GATE_ENGINE_HTTP_KEEP_ALIVE_HEADER_H_
#define B24GATE_ENGINE_HTTP_KEEP_ALIVE_HEADER_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace b24gate {

// The `timeout` parameter of a Keep-Alive header's value, in whole seconds
// (1 to 86400); nullopt when there is none that parses. Given the header
// twice (joined with ", "), the smaller: the server closes at the first.
std::optional<absl::Duration> KeepAliveTimeout(absl::string_view value);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_KEEP_ALIVE_HEADER_H_
