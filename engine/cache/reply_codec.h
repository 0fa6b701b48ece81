// A CallReply as the text a cache store keeps (JSON; the result keeps its key
// order) and back.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_CACHE_REPLY_CODEC_H_
#define B24GATE_ENGINE_CACHE_REPLY_CODEC_H_

#include <optional>
#include <string>

#include "engine/bitrix/bitrix_response.h"

namespace b24gate {

std::string EncodeReply(const CallReply& reply);
// nullopt when `text` is not what EncodeReply makes (e.g. written by another
// version): the entry is then treated as absent.
std::optional<CallReply> DecodeReply(const std::string& text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_REPLY_CODEC_H_
