// Building the gateway's protobuf descriptors and message types at start-up
// instead of on a first call.
//
// The generated descriptor pool builds a .proto file's descriptors (and
// those of the files it imports, google/protobuf/struct.proto among them)
// the first time anything asks for one, and each message type's reflection
// on its first use: work a fresh gateway's first call would otherwise do on
// its path.
//
// Thread-safety: thread-safe (the generated pool and factory are).
#ifndef B24GATE_SERVICE_PROTO_WARMTH_H_
#define B24GATE_SERVICE_PROTO_WARMTH_H_

#include <string>
#include <vector>

namespace b24gate {

// The gRPC services the gateway serves, by full name.
std::vector<std::string> ServedServiceNames();

// For each service named (full names; unknown ones are skipped): looks it up
// in the generated pool, and makes, serializes and parses an empty message
// of each of its methods' request and response types.
void WarmMessageTypes(const std::vector<std::string>& services);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_PROTO_WARMTH_H_
